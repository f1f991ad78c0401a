"""The browser tests' one check for Debian's Chromium and the playwright package.

Off CI a missing browser skips the calling module with its reason; under CI=true it fails the run with
one line (CI installs it with scripts/install_browser.sh). Never runs `playwright install`.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

from tests.support.ci import needed_but_missing

CHROMIUM = Path(os.environ.get("LEAKLESS_CHROMIUM", "/usr/lib/chromium/chromium"))


def missing_browser() -> str | None:
    if importlib.util.find_spec("playwright") is None:
        return "the playwright package is not installed (pip install -e '.[test]')"
    if not CHROMIUM.exists():
        return f"{CHROMIUM} is not installed (scripts/install_browser.sh)"
    return None


def require_browser() -> None:
    """Call at a browser test module's top, before it imports playwright."""
    if (missing := missing_browser()) is not None:
        needed_but_missing("the browser tests", missing)
