package shared // the project's own module, vendored by go mod vendor
