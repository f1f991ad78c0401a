# The two commands a new contributor needs; each sets everything up first.
.PHONY: setup browser run test bench

setup:
	./scripts/setup.sh

browser:  ## Debian's headless Chromium for the review app's browser tests (skipped without root)
	./scripts/install_browser.sh

run: setup  ## build a small candidate benchmark on the offline default
	.venv/bin/leakless build

test: setup browser  ## run the test suite (pytest's exit 5, no test collected, fails loudly)
	.venv/bin/python -m pytest -q; rc=$$?; \
	if [ $$rc -eq 5 ]; then echo 'error: pytest collected no tests' >&2; fi; exit $$rc

bench: setup  ## run every benchmark and print a table
	.venv/bin/python benchmarks/run_all.py
