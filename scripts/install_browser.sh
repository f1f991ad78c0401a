#!/usr/bin/env bash
# Headless Chromium from Debian, for tests/review/test_review_browser.py. Installed only if
# missing. Never `playwright install`: it cannot download its own browser here, and the
# test launches Debian's /usr/lib/chromium/chromium instead.
# Without root or sudo, or when apt-get fails: a warning on a developer's machine (the
# browser tests then skip, saying why), but under CI=true a one-line error and exit 1,
# so CI never passes with the browser tests skipped.
set -uo pipefail

CHROMIUM=${LEAKLESS_CHROMIUM:-/usr/lib/chromium/chromium}
[ -x "$CHROMIUM" ] && exit 0

give_up() {
    if [ "${CI:-}" = "true" ]; then
        echo "error: $1; CI needs $CHROMIUM for the browser tests" >&2
        exit 1
    fi
    echo "warning: $1; the browser tests will be skipped" >&2
    exit 0
}

sudo=""
if [ "$(id -u)" -ne 0 ]; then
    if ! command -v sudo >/dev/null || ! sudo -n true 2>/dev/null; then
        give_up "cannot install chromium (no root, no password-less sudo)"
    fi
    sudo="sudo -n"
fi
if ! { $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium; } >&2; then
    give_up "apt-get could not install chromium"
fi
[ -x "$CHROMIUM" ] || give_up "apt-get installed chromium but $CHROMIUM is missing"
exit 0
