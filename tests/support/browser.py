"""The browser tests' one check for Debian's Chromium and the playwright package.

Off CI a missing browser skips the calling module with its reason; under CI=true it fails the run with
one line (CI installs it with scripts/install_browser.sh). Never runs `playwright install`.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import pytest

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
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI needs the browser tests: {missing}", pytrace=False)
        pytest.skip(missing, allow_module_level=True)
