#!/usr/bin/env bash
# Creates .venv-labelstudio: a real Label Studio for the slow live round-trip test
# (tests talk to it over its REST API; the project's venv stays as it is). About
# 1 GB, under a minute with a warm pip cache. Idempotent by a stamp; any failure
# prints one line and exits 1, never a skip.
set -uo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"
venv="${LEAKLESS_LABELSTUDIO_VENV:-.venv-labelstudio}"
spec="label-studio==1.23.2"
stamp="$venv/.leakless-installed"
log="$venv/install.log"

fail() { echo "error: setup_labelstudio: $*" >&2; exit 1; }

if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$spec" ] && [ -x "$venv/bin/label-studio" ]; then
    exit 0
fi
if [ ! -x "$venv/bin/python" ]; then
    "$PYTHON" -m venv "$venv" || fail "could not create $venv with $PYTHON"
fi
: > "$log"
"$venv/bin/python" -m pip install --upgrade pip >>"$log" 2>&1 || fail "pip upgrade in $venv failed; see $log"
"$venv/bin/python" -m pip install "$spec" >>"$log" 2>&1 || fail "pip could not install $spec; see $log"
[ -x "$venv/bin/label-studio" ] || fail "$spec installed but $venv/bin/label-studio is missing"
echo "$spec" > "$stamp"
