#!/usr/bin/env bash
# Headless Chromium from Debian and the playwright package, for tests/test_review_browser.py.
# Idempotent: each is installed only if missing. Never `playwright install`: it cannot download
# its own browser here, and the test launches Debian's /usr/lib/chromium/chromium instead.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh   # the project .venv first (a no-op when it is up to date)

if [ ! -x /usr/lib/chromium/chromium ]; then
    sudo=""
    if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium
fi
if ! .venv/bin/python -c "import playwright" 2>/dev/null; then
    .venv/bin/python -m pip install --quiet "playwright>=1.50"
fi
