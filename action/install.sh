#!/usr/bin/env bash
# The Dracon action's install step (action.yml): puts a dracon binary for
# the runner's OS and architecture in place and writes its path (bin) and
# the scanners' tool cache (tools-dir) to the step's outputs.
#
#   DRACON_INSTALL            auto | download | build | path
#   DRACON_VERSION_INPUT      the release to download ("" : the action's ref, when it is a version tag)
#   DRACON_ACTION_REF         github.action_ref (v1.2.3, v1, a branch or a commit SHA)
#   DRACON_ACTION_REPOSITORY  github.action_repository (owner/name)
#   DRACON_BUILD_DIR          the Dracon source install: build builds (default: the action's own, GITHUB_ACTION_PATH)
#   DRACON_TOOLS_DIR          where the scanners go (default: RUNNER_TOOL_CACHE/dracon/tools)
#
# download fetches dracon_<os>_<arch>.tar.gz and checksums.txt from the
# action repository's release and checks the archive's SHA-256 against it;
# a mismatch stops the step (auto does not fall back to a build then).
# build runs go build with the runner's Go (GOTOOLCHAIN=auto fetches the
# Go that go.mod names when the runner's is older).
set -euo pipefail

mode="${DRACON_INSTALL:-auto}"
case "$mode" in
  auto | download | build | path) ;;
  *)
    echo "::error title=Dracon%3A bad input::input install: \"$mode\": want auto, download, build or path"
    exit 2
    ;;
esac

case "${RUNNER_OS:-$(uname -s)}" in
  Linux) os=linux ;;
  macOS | Darwin) os=darwin ;;
  Windows | MINGW* | MSYS* | CYGWIN*) os=windows ;;
  *)
    echo "::error title=Dracon::unsupported runner OS: ${RUNNER_OS:-$(uname -s)}"
    exit 2
    ;;
esac
case "${RUNNER_ARCH:-$(uname -m)}" in
  X64 | x86_64 | amd64) arch=amd64 ;;
  ARM64 | arm64 | aarch64) arch=arm64 ;;
  *)
    echo "::error title=Dracon::unsupported runner architecture: ${RUNNER_ARCH:-$(uname -m)}"
    exit 2
    ;;
esac
exe=""
if [ "$os" = windows ]; then exe=".exe"; fi

cache_root="${RUNNER_TOOL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}}/dracon"
tools_dir="${DRACON_TOOLS_DIR:-$cache_root/tools}"
action_dir="${GITHUB_ACTION_PATH:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}"
build_dir="${DRACON_BUILD_DIR:-$action_dir}"
repo="${DRACON_ACTION_REPOSITORY:-}"
if [ -z "$repo" ]; then repo=draconsec/dracon; fi
server="${GITHUB_SERVER_URL:-https://github.com}"

# The release: the version input, else the action's ref if it is a tag
# like v1.2.3 or v1 (a moving major tag names a release too).
version="${DRACON_VERSION_INPUT:-}"
if [ -z "$version" ] && [[ "${DRACON_ACTION_REF:-}" =~ ^v[0-9]+(\.[0-9]+){0,2}([-+][0-9A-Za-z.-]+)?$ ]]; then
  version="$DRACON_ACTION_REF"
fi
if [ -n "$version" ] && ! [[ "$version" =~ ^[0-9A-Za-z._+-]+$ ]]; then
  echo "::error title=Dracon%3A bad input::input version: \"$version\" is not a release tag"
  exit 2
fi

sha256() {
  if command -v sha256sum >/dev/null 2>&1; then
    sha256sum "$1" | cut -d' ' -f1
  else
    shasum -a 256 "$1" | cut -d' ' -f1
  fi
}

bin=""

# download: 0 installed, 1 not possible (fall back), 3 a bad checksum (stop).
download() {
  if [ -z "$version" ]; then
    echo "dracon: no release to download: the action's ref (${DRACON_ACTION_REF:-none}) is not a version tag; set the version input"
    return 1
  fi
  local dest="$cache_root/$version/${os}_${arch}"
  if [ -x "$dest/dracon$exe" ]; then
    bin="$dest/dracon$exe"
    echo "dracon: $version from the tool cache ($bin)"
    return 0
  fi
  command -v curl >/dev/null 2>&1 || {
    echo "dracon: curl is not installed"
    return 1
  }
  local asset="dracon_${os}_${arch}.tar.gz"
  local base="$server/$repo/releases/download/$version"
  local tmp
  tmp="$(mktemp -d)"
  echo "dracon: downloading $base/$asset"
  if ! curl -fsSL --retry 3 -o "$tmp/$asset" "$base/$asset" || ! curl -fsSL --retry 3 -o "$tmp/checksums.txt" "$base/checksums.txt"; then
    echo "dracon: no $asset in release $version of $repo"
    rm -rf "$tmp"
    return 1
  fi
  local want got
  want="$(awk -v a="$asset" '$2 == a || $2 == "*" a { print $1; exit }' "$tmp/checksums.txt")"
  got="$(sha256 "$tmp/$asset")"
  if [ -z "$want" ] || [ "$want" != "$got" ]; then
    echo "::error title=Dracon%3A checksum mismatch::$asset of $repo $version has SHA-256 $got; its checksums.txt says ${want:-nothing}. Not installed."
    rm -rf "$tmp"
    return 3
  fi
  tar -xzf "$tmp/$asset" -C "$tmp"
  if [ ! -f "$tmp/dracon$exe" ]; then
    echo "dracon: $asset holds no dracon$exe"
    rm -rf "$tmp"
    return 1
  fi
  mkdir -p "$dest"
  chmod +x "$tmp/dracon$exe"
  mv -f "$tmp/dracon$exe" "$dest/dracon$exe"
  rm -rf "$tmp"
  bin="$dest/dracon$exe"
  echo "dracon: $version installed ($bin, SHA-256 of $asset $got)"
}

build() {
  if ! command -v go >/dev/null 2>&1; then
    echo "dracon: install: build needs Go on the runner (actions/setup-go before this step)"
    return 1
  fi
  if [ ! -f "$build_dir/go.mod" ] || [ ! -d "$build_dir/cmd/dracon" ]; then
    echo "dracon: no Dracon source to build in $build_dir"
    return 1
  fi
  local ver="${version:-${DRACON_ACTION_REF:-dev}}"
  ver="${ver//[^0-9A-Za-z._+-]/}"
  local dest="${RUNNER_TEMP:-$(mktemp -d)}/dracon-bin"
  mkdir -p "$dest"
  echo "dracon: building $build_dir with $(go version)"
  (cd "$build_dir" && GOTOOLCHAIN="${GOTOOLCHAIN:-auto}" CGO_ENABLED=0 go build -buildvcs=false -trimpath \
    -ldflags "-s -w -X github.com/draconsec/dracon/internal/cli.Version=${ver:-dev}" -o "$dest/dracon$exe" ./cmd/dracon) || return 1
  bin="$dest/dracon$exe"
}

status=0
case "$mode" in
  download) download || status=$? ;;
  build) build || status=$? ;;
  path)
    if p="$(command -v "dracon$exe" 2>/dev/null || command -v dracon 2>/dev/null)"; then
      bin="$p"
    else
      echo "dracon: install: path, but dracon is not on PATH"
      status=1
    fi
    ;;
  auto)
    download || status=$?
    if [ "$status" -eq 1 ]; then
      echo "dracon: building from the action's source instead"
      status=0
      build || status=$?
    fi
    ;;
esac
if [ "$status" -ne 0 ] || [ -z "$bin" ]; then
  echo "::error title=Dracon::could not install dracon (install: $mode); see the log above"
  exit 2
fi

mkdir -p "$tools_dir"
"$bin" version
{
  echo "bin=$bin"
  echo "tools-dir=$tools_dir"
} >>"${GITHUB_OUTPUT:-/dev/stdout}"
