#!/usr/bin/env bash
# The production server's own virtualenv: Aegra (`aegra-api`, Apache-2.0) needs Python 3.12,
# while the project's main venv is 3.11. Installs textcart and the pinned Aegra stack into
# $AEGRA_VENV (default .venv-aegra) and checks that pip found a consistent set.
#
#   scripts/install_aegra.sh            # idempotent: does nothing when already installed
#
# Python 3.12 is taken from $PYTHON312, else `python3.12` on PATH, else pyenv's 3.12.x.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=${AEGRA_VENV:-.venv-aegra}
stamp=$venv/.installed
requirements=scripts/aegra-requirements.txt
if [[ -f $stamp && $stamp -nt $requirements && $stamp -nt scripts/aegra-constraints.txt && $stamp -nt pyproject.toml ]]; then
    exit 0
fi
python=${PYTHON312:-}
if [[ -z $python ]] && python3.12 --version >/dev/null 2>&1; then
    python=$(command -v python3.12)  # a pyenv shim that names no 3.12 fails the check
fi
if [[ -z $python ]]; then
    for candidate in "${PYENV_ROOT:-$HOME/.pyenv}"/versions/3.12*/bin/python3.12; do
        [[ -x $candidate ]] && python=$candidate
    done
fi
if [[ -z $python ]]; then
    echo "Aegra needs Python 3.12: set PYTHON312 or install it (pyenv install 3.12)" >&2
    exit 1
fi
test -x "$venv/bin/python" || "$python" -m venv "$venv"
"$venv/bin/pip" install -q --upgrade pip
"$venv/bin/pip" install -q -r "$requirements" -c scripts/aegra-constraints.txt -e .
"$venv/bin/pip" check
touch "$stamp"
