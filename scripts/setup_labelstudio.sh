#!/usr/bin/env bash
# Creates .venv-labelstudio: a real Label Studio for the slow live round-trip test
# (tests talk to it over its REST API; the project's venv stays as it is). About
# 1 GB, under a minute with a warm pip cache. Idempotent by a stamp; any failure
# prints one line and exits 1, never a skip.
cd "$(dirname "$0")/.."
name=setup_labelstudio
venv="${LEAKLESS_LABELSTUDIO_VENV:-.venv-labelstudio}"
want="label-studio==1.23.2"
source scripts/server_venv.sh

installed && [ -x "$venv/bin/label-studio" ] && exit 0
make_venv
pip_install "$want" "$want"
[ -x "$venv/bin/label-studio" ] || fail "$want installed but $venv/bin/label-studio is missing"
echo "$want" > "$stamp"
