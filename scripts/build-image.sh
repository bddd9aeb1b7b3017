#!/usr/bin/env bash
# Builds the Containerfile's image on a machine that reaches no container
# registry, only Debian's packages and the Go module proxy:
#   1. a Debian bookworm base from debootstrap (with bandit, shellcheck,
#      git), imported into podman once and kept as localhost/dracon-base;
#   2. the dracon binary and the pinned scanners built on the host
#      (`dracon tools install`, cached), with the host's Go toolchain,
#      imported as localhost/dracon-built;
#   3. `podman build` of the Containerfile with both passed as build
#      arguments (BASE_IMAGE, BUILT), so the image is the one the
#      Containerfile describes, minus its Go build stage.
# Where a registry is reachable, `podman build -f Containerfile .` alone
# does the same from source.
#
#   scripts/build-image.sh [IMAGE]      (default localhost/dracon:dev)
# Environment: TOOLS (the scanners to put in), DEBIAN_MIRROR.
set -euo pipefail
cd "$(dirname "$0")/.."
image=${1:-localhost/dracon:dev}
tools=${TOOLS:-gosec gitleaks govulncheck osv-scanner tfsec}
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
base=localhost/dracon-base:bookworm
built=localhost/dracon-built:dev
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

if ! podman image exists "$base"; then
  echo "build-image: debootstrap of Debian bookworm (once per machine)"
  debootstrap --variant=minbase --include=bandit,shellcheck,git,ca-certificates bookworm "$work/rootfs" "$mirror" >"$work/debootstrap.log" 2>&1 ||
    { tail -20 "$work/debootstrap.log"; exit 1; }
  rm -rf "$work/rootfs/var/cache/apt/archives/"*.deb "$work/rootfs/var/lib/apt/lists/"*
  tar -C "$work/rootfs" -c . | podman import --quiet \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'CMD ["/bin/bash"]' - "$base" >/dev/null
  rm -rf "$work/rootfs"
fi

make --no-print-directory build >/dev/null
mkdir -p "$work/built/out" "$work/built/opt/dracon/tools"
cp bin/dracon "$work/built/out/dracon"
# shellcheck disable=SC2086 # TOOLS is a list
./bin/dracon tools install $tools
cache=${DRACON_TOOLS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/dracon/tools}
for t in $tools; do cp -a "$cache/$t" "$work/built/opt/dracon/tools/"; done
# The Go toolchain, for gosec and govulncheck (they run the go command).
goroot=$(go env GOROOT)
mkdir -p "$work/built/usr/local"
cp -a "$goroot" "$work/built/usr/local/go"
tar -C "$work/built" -c . | podman import --quiet - "$built" >/dev/null

podman build --quiet --build-arg BASE_IMAGE="$base" --build-arg BUILT="$built" \
  --build-arg VERSION="$(git describe --tags --always --dirty 2>/dev/null || echo dev)" \
  -t "$image" -f Containerfile . >/dev/null
echo "build-image: built $image ($(podman image inspect --format '{{.Size}}' "$image" | awk '{printf "%.0f MB", $1/1e6}'))"
