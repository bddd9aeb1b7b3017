#!/usr/bin/env bash
# Builds Dracon's scanner images, one per scanner, from the Containerfile
# of its family (containers/<family>/Containerfile), with podman and no
# container registry:
#   go-scanner    FROM scratch + one static Go scanner (gitleaks, tfsec,
#                 osv-scanner, grype, syft, trivy, nuclei)
#   go-toolchain  FROM scratch + a static Go scanner + the Go toolchain it
#                 runs while it scans (gosec, govulncheck)
#   debian        the debootstrap base localhost/dracon-base:bookworm +
#                 Debian's package at a pinned version (bandit, shellcheck)
# Go scanners are built at the catalogue's pinned versions by
# `dracon tools install`, with CGO_ENABLED=0, into their own cache
# ($XDG_CACHE_HOME/dracon/static-tools) so nothing but the binary goes in.
#
#   scripts/build-scanner-images.sh [SCANNER...]   (default: gitleaks tfsec gosec bandit shellcheck)
#
# Each image is tagged <prefix>/<scanner>:<pinned version>, e.g.
# localhost/dracon-scanner/gitleaks:v8.30.1; an existing tag is kept (set
# REBUILD=1 to build anyway). Builds use --timestamp (SOURCE_DATE_EPOCH,
# else the last commit touching containers/), so the same inputs give the
# same image ID. Standard output has one line per image, the reference
# pinned by digest, ready for a config's producers.<name>.image:
#   gitleaks localhost/dracon-scanner/gitleaks:v8.30.1@sha256:...
# Environment: DRACON_SCANNER_PREFIX (default localhost/dracon-scanner),
# DRACON (a dracon binary; default: built from this checkout),
# DEBIAN_MIRROR, SOURCE_DATE_EPOCH, REBUILD.
set -euo pipefail
cd "$(dirname "$0")/.."
log() { echo "build-scanner-images: $*" >&2; }

if [ $# -eq 0 ]; then set -- gitleaks tfsec gosec bandit shellcheck; fi
prefix=${DRACON_SCANNER_PREFIX:-localhost/dracon-scanner}
cache=${XDG_CACHE_HOME:-$HOME/.cache}/dracon
static=${DRACON_STATIC_TOOLS_DIR:-$cache/static-tools}
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
base=localhost/dracon-base:bookworm
epoch=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct -- containers 2>/dev/null || true)}
epoch=${epoch:-0}
mkdir -p "$cache"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Two builds at once (parallel go test packages) would race on the base
# and on the tags: one at a time.
exec 9>"$cache/scanner-images.lock"
flock 9

# The Debian packages the debian family pins: the versions bookworm ships,
# which `dracon tools list` pins as the scanners' versions.
debian_package() {
  case $1 in
    bandit) echo bandit=1.6.2-2 ;;
    shellcheck) echo shellcheck=0.9.0-1 ;;
    *) return 1 ;;
  esac
}
family_of() {
  case $1 in
    gitleaks | tfsec | osv-scanner | grype | syft | trivy | nuclei) echo go-scanner ;;
    gosec | govulncheck) echo go-toolchain ;;
    bandit | shellcheck) echo debian ;;
    *) return 1 ;;
  esac
}

dracon=${DRACON:-}
if [ -z "$dracon" ]; then
  dracon=$work/dracon
  go build -o "$dracon" ./cmd/dracon
fi
pinned() { "$dracon" tools list | awk -v n="$1" '$1 == n { print $5 }'; }

# The debootstrap base, as scripts/build-image.sh makes it (same tag, same
# recipe): whichever script runs first builds it, once per machine.
ensure_base() {
  podman image exists "$base" && return
  log "debootstrap of Debian bookworm (once per machine)"
  debootstrap --variant=minbase --include=bandit,shellcheck,git,ca-certificates bookworm "$work/rootfs" "$mirror" >"$work/debootstrap.log" 2>&1 ||
    { tail -20 "$work/debootstrap.log" >&2; exit 1; }
  rm -rf "$work/rootfs/var/cache/apt/archives/"*.deb "$work/rootfs/var/lib/apt/lists/"*
  tar -C "$work/rootfs" -c . | podman import --quiet \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'CMD ["/bin/bash"]' - "$base" >/dev/null
  rm -rf "$work/rootfs"
}

# The root file system every Go family image is: the scanner at
# /usr/local/bin/<name> (and /entrypoint, a link to it), a passwd and
# group (root, nobody), the CA bundle for scanners that fetch a database,
# and a /tmp anyone can write (HOME, TMPDIR, GOCACHE), all with one time.
go_root() {
  local root=$1 name=$2 bin=$3
  mkdir -p "$root/etc/ssl/certs" "$root/tmp" "$root/usr/local/bin"
  chmod 1777 "$root/tmp"
  printf 'root:x:0:0:root:/tmp:/sbin/nologin\nnobody:x:65534:65534:nobody:/tmp:/sbin/nologin\n' >"$root/etc/passwd"
  printf 'root:x:0:\nnogroup:x:65534:\n' >"$root/etc/group"
  if [ -f /etc/ssl/certs/ca-certificates.crt ]; then
    cp /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/"
  else
    : >"$root/etc/ssl/certs/ca-certificates.crt"
  fi
  cp "$bin" "$root/usr/local/bin/$name"
  chmod 0755 "$root/usr/local/bin/$name"
  ln -s "/usr/local/bin/$name" "$root/entrypoint"
  find "$root" -exec touch -h -d "@$epoch" {} +
}

static_binary() {
  local name=$1 out
  out=$(CGO_ENABLED=0 DRACON_TOOLS_DIR="$static" "$dracon" tools install "$name" 2>&1) ||
    { echo "$out" >&2; exit 1; }
  local bin
  bin=$(echo "$out" | sed -n 's/.*installed at //p' | tail -1)
  # FROM scratch has no libc: the binary must be static.
  if ! go version -m "$bin" | grep 'CGO_ENABLED=0' >/dev/null; then
    log "$bin was not built with CGO_ENABLED=0 (remove $static/$name and run again)"
    exit 1
  fi
  echo "$bin"
}

for name in "$@"; do
  family=$(family_of "$name") || { log "$name: no scanner family (known: gitleaks tfsec osv-scanner grype syft trivy nuclei gosec govulncheck bandit shellcheck)"; exit 2; }
  version=$(pinned "$name")
  if [ -z "$version" ] || [ "$version" = - ]; then log "$name: no pinned version in dracon tools list"; exit 1; fi
  image=$prefix/$name:$version
  if [ "${REBUILD:-}" = 1 ] || ! podman image exists "$image"; then
    old=$(podman image inspect --format '{{.Id}}' "$image" 2>/dev/null || true)
    ctx=$work/$name
    mkdir -p "$ctx"
    args=(--build-arg SCANNER="$name" --build-arg VERSION="$version")
    case $family in
      go-scanner)
        go_root "$ctx/root" "$name" "$(static_binary "$name")"
        ;;
      go-toolchain)
        bin=$(static_binary "$name")
        # The toolchain the host builds with (the one the scanner was
        # built with); its tests, docs and history are not needed to load
        # packages.
        mkdir -p "$ctx/root/usr/local/go"
        tar -C "$(go env GOROOT)" --exclude=./test --exclude=./doc --exclude=./api --exclude=./misc --exclude=./.git -c . |
          tar -C "$ctx/root/usr/local/go" -x
        go_root "$ctx/root" "$name" "$bin"
        args+=(--build-arg GO_VERSION="$(go env GOVERSION)")
        ;;
      debian)
        ensure_base
        ctx=containers/debian
        args+=(--build-arg PACKAGE="$(debian_package "$name")" --build-arg BASE="$base")
        ;;
    esac
    log "building $image ($family)"
    podman build --quiet ${REBUILD:+--no-cache} --timestamp "$epoch" "${args[@]}" -t "$image" -f "containers/$family/Containerfile" "$ctx" >/dev/null
    [ "$ctx" = containers/debian ] || rm -rf "$ctx"
    # A rebuild that changed the image leaves the old one untagged: drop it.
    if [ -n "$old" ] && [ "$old" != "$(podman image inspect --format '{{.Id}}' "$image")" ]; then
      podman rmi "$old" >/dev/null 2>&1 || true
    fi
  else
    log "$image exists (REBUILD=1 to build it again)"
  fi
  digest=$(podman image inspect --format '{{.Digest}}' "$image")
  id=$(podman image inspect --format '{{.Id}}' "$image")
  size=$(podman image inspect --format '{{.Size}}' "$image" | awk '{printf "%.0f MB", $1/1e6}')
  log "$image: digest $digest, id ${id:0:12}, $size"
  echo "$name $image@$digest"
done
