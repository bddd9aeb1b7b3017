#!/usr/bin/env bash
# Runs helm at the version Dracon pins, building it once into Dracon's
# tool cache (no download site is needed, only the Go module proxy).
#   scripts/helm.sh ARGS...
set -euo pipefail
version=v3.22.0
dir="${DRACON_TOOLS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/dracon/tools}/helm/$version"
if [ ! -x "$dir/helm" ]; then
  echo "helm $version: building helm.sh/helm/v3/cmd/helm (once per machine)" >&2
  mkdir -p "$dir"
  GOBIN="$dir" CGO_ENABLED=0 go install -trimpath -ldflags "-s -w" "helm.sh/helm/v3/cmd/helm@$version" >&2
fi
exec "$dir/helm" "$@"
