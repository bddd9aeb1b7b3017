GO ?= go

.PHONY: test build
build:
	$(GO) build -o bin/dracon ./cmd/dracon

test:
	$(GO) test ./...
