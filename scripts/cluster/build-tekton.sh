#!/usr/bin/env bash
# Builds Tekton Pipelines' controller and the helper binaries its pods run
# (entrypoint, nop, workingdirinit, sidecarlogresults) from the Go module
# proxy, once per machine, into the cluster cache:
#   scripts/cluster/build-tekton.sh   -> $cache/tekton/$version/
# The version is the one go.mod pins for Dracon's Tekton client, so the
# cluster runs exactly the API the client was built against.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
version=${DRACON_TEKTON_VERSION:-$(cd "$root" && go list -m -f '{{.Version}}' github.com/tektoncd/pipeline)}
cache=${DRACON_CLUSTER_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/dracon/cluster}
out="$cache/tekton/$version"
bins=(controller entrypoint nop workingdirinit sidecarlogresults)
have=1
for b in "${bins[@]}"; do [ -x "$out/$b" ] || have=0; done
[ -d "$out/config" ] || have=0
[ "$have" = 1 ] && exit 0

echo "tekton $version: building ${bins[*]} (once per machine)" >&2
mod=$(mktemp -d)
trap 'rm -rf "$mod"' EXIT
export GOFLAGS=-mod=mod CGO_ENABLED=0
cd "$mod"
go mod init dracon.local/tektonbuild >/dev/null 2>&1
go mod edit -require "github.com/tektoncd/pipeline@$version"
mkdir -p "$out"
for b in "${bins[@]}"; do
  [ -x "$out/$b" ] && continue
  go build -trimpath -ldflags "-s -w" -o "$out/$b.tmp" "github.com/tektoncd/pipeline/cmd/$b"
  mv "$out/$b.tmp" "$out/$b"
  echo "tekton $version: built $out/$b" >&2
done
# The CRDs and the controller's ConfigMaps ship in the module.
src=$(go list -m -f '{{.Dir}}' github.com/tektoncd/pipeline)
rm -rf "$out/config.tmp" && mkdir -p "$out/config.tmp"
cp "$src"/config/300-crds/*.yaml "$src"/config/config-*.yaml "$out/config.tmp/"
chmod -R u+w "$out/config.tmp"
rm -rf "$out/config" && mv "$out/config.tmp" "$out/config"
