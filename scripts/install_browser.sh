#!/usr/bin/env bash
# Headless Chromium from Debian, for tests/test_review_browser.py. Installed only if
# missing. Never `playwright install`: it cannot download its own browser here, and the
# test launches Debian's /usr/lib/chromium/chromium instead. Without root or sudo the
# install is skipped with a warning, and the browser tests skip themselves.
set -uo pipefail

[ -x /usr/lib/chromium/chromium ] && exit 0
sudo=""
if [ "$(id -u)" -ne 0 ]; then
    if ! command -v sudo >/dev/null || ! sudo -n true 2>/dev/null; then
        echo "warning: cannot install chromium (no root); browser tests will be skipped" >&2
        exit 0
    fi
    sudo="sudo -n"
fi
if ! { $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium; }; then
    echo "warning: apt-get could not install chromium; browser tests will be skipped" >&2
fi
exit 0
