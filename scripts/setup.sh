#!/usr/bin/env bash
# Creates .venv and installs leakless with its test extras. Idempotent: skips pip
# when pyproject.toml has not changed since the last successful install.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"

if [ ! -x .venv/bin/python ]; then
    "$PYTHON" -m venv .venv
    .venv/bin/python -m pip install --quiet --upgrade pip
fi

stamp=.venv/.leakless-installed
want="$(sha256sum pyproject.toml | cut -d' ' -f1)"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
    exit 0
fi

# A torch that is already installed (say a CUDA build on a GPU machine) is kept.
# Otherwise pin the CPU wheel: unpinned, diffusers and sentence-transformers pull
# a newer CUDA build and several GB of nvidia wheels.
torch_pin=()
if ! .venv/bin/python -c "import torch" 2>/dev/null; then
    torch_pin=("torch==2.13.0")
fi
.venv/bin/python -m pip install --quiet "${torch_pin[@]}" -e ".[test]"
echo "$want" > "$stamp"
