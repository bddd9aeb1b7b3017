#!/usr/bin/env bash
# Builds the Kubernetes binaries a single-node test cluster needs
# (kube-apiserver, kube-controller-manager, kube-scheduler, kubelet, and kubectl to drive it) from
# the Go module proxy, once per machine, into the cluster cache:
#   scripts/cluster/build-kubernetes.sh   -> $cache/kubernetes/$version/
# `go install k8s.io/kubernetes/cmd/...` fails (its go.mod replaces every
# staging module with a folder), so a throwaway module requires
# k8s.io/kubernetes and maps each of those folders to its published
# module at the matching v0 release.
set -euo pipefail
version=${DRACON_KUBERNETES_VERSION:-v1.34.4}
cache=${DRACON_CLUSTER_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/dracon/cluster}
out="$cache/kubernetes/$version"
bins=(kube-apiserver kube-controller-manager kube-scheduler kubelet kubectl)
have=1
for b in "${bins[@]}"; do [ -x "$out/$b" ] || have=0; done
[ "$have" = 1 ] && exit 0

echo "kubernetes $version: building ${bins[*]} (once per machine, about 20 minutes on 2 cores)" >&2
staging="v0.${version#v1.}"
mod=$(mktemp -d)
trap 'rm -rf "$mod"' EXIT
export GOFLAGS=-mod=mod GONOSUMDB=k8s.io CGO_ENABLED=0
cd "$mod"
go mod init dracon.local/k8sbuild >/dev/null 2>&1
gomod=$(go mod download -json "k8s.io/kubernetes@$version" | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')
{
  echo "require k8s.io/kubernetes $version"
  # kubernetes' own replace block: k8s.io/X => ./staging/src/k8s.io/X
  sed -n 's#^\s*\(k8s.io/[^ ]*\) => ./staging/src/.*#replace \1 => \1 '"$staging"'#p' "$gomod"
} >> go.mod
minor=${version#v1.}; minor=${minor%%.*}
ldflags="-s -w -X k8s.io/component-base/version.gitVersion=$version -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=$minor"
mkdir -p "$out"
for b in "${bins[@]}"; do
  [ -x "$out/$b" ] && continue
  # Two jobs keep the build's peak memory near 2 GB on a small machine.
  go build -p 2 -trimpath -ldflags "$ldflags" -o "$out/$b.tmp" "k8s.io/kubernetes/cmd/$b"
  mv "$out/$b.tmp" "$out/$b"
  echo "kubernetes $version: built $out/$b" >&2
done
