# Shared by setup_llm_server.sh and setup_labelstudio.sh (sourced, not run): a server's own
# virtualenv, made idempotent by a stamp, and failures as one line with exit 1.
# The caller sets: name (for messages), venv, want (the stamp's content).
set -uo pipefail
PYTHON="${PYTHON:-python3}"
stamp="$venv/.leakless-installed"
log="$venv/install.log"

fail() { echo "error: $name: $*" >&2; exit 1; }

installed() { [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; }

# A venv with a current pip; the install log starts empty.
make_venv() {
    if [ ! -x "$venv/bin/python" ]; then
        "$PYTHON" -m venv "$venv" || fail "could not create $venv with $PYTHON"
    fi
    : > "$log"
    "$venv/bin/python" -m pip install --upgrade pip >>"$log" 2>&1 || fail "pip upgrade in $venv failed; see $log"
}

pip_install() {  # pip_install WHAT ARGS...: one line naming WHAT when it fails
    local what="$1"; shift
    "$venv/bin/python" -m pip install "$@" >>"$log" 2>&1 || fail "pip could not install $what; see $log"
}
