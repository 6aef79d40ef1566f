#!/usr/bin/env bash
# Build the pinned Weaviate server from the Go module proxy and put it where textcart looks:
#   $TEXTCART_HOME/bin/weaviate-server-<version>   (TEXTCART_HOME defaults to ~/.cache/textcart)
#
# weaviate-client's own embedded mode downloads a release binary from GitHub at run time, which
# fails offline; `go install` needs only the Go module proxy. The build takes ~4 minutes on
# 2 cores and is skipped when a working binary is already in place.
# Needs Go on PATH (weaviate v1.35.2 declares go 1.25; older Go fetches that toolchain).
set -euo pipefail

WEAVIATE_VERSION="v1.35.2"
TEXTCART_HOME="${TEXTCART_HOME:-$HOME/.cache/textcart}"
target="$TEXTCART_HOME/bin/weaviate-server-$WEAVIATE_VERSION"

if [[ -x "$target" ]] && "$target" --help >/dev/null 2>&1; then
    echo "weaviate-server $WEAVIATE_VERSION already installed: $target"
    exit 0
fi

if ! command -v go >/dev/null 2>&1; then
    echo "error: Go is not on PATH; install Go (>= 1.25) and run this again" >&2
    exit 1
fi

build_dir="$(mktemp -d)"
trap 'rm -rf "$build_dir"' EXIT

echo "building weaviate-server $WEAVIATE_VERSION with $(go version | cut -d' ' -f3) (takes a few minutes)"
# A static, cgo-free binary does not depend on the build machine's libc.
start=$SECONDS
CGO_ENABLED=0 GOBIN="$build_dir" \
    go install "github.com/weaviate/weaviate/cmd/weaviate-server@$WEAVIATE_VERSION"
echo "built in $((SECONDS - start)) s"

"$build_dir/weaviate-server" --help >/dev/null
mkdir -p "$(dirname "$target")"
# Copy then rename so a reader never sees a half-written binary.
cp "$build_dir/weaviate-server" "$target.partial"
chmod 755 "$target.partial"
mv -f "$target.partial" "$target"
echo "installed $target"
