"""The one rule for tests that need something a machine may lack (a server's venv, the shared
reference data, an optional package, a browser): off CI they skip with the reason; under CI=true
they fail with that same one-line reason, because CI installs all of it and a silent skip there
would hide a test that never ran."""

from __future__ import annotations

import importlib
import os
from types import ModuleType
from typing import NoReturn

import pytest


def on_ci() -> bool:
    return os.environ.get("CI") == "true"


def needed_but_missing(what: str, why: str) -> NoReturn:
    """Skip (off CI) or fail (CI=true) the caller: `what` the tests need, `why` they cannot run here.
    Works in a test, a fixture or at a module's top."""
    if on_ci():
        pytest.fail(f"CI needs {what}: {why}", pytrace=False)
    pytest.skip(why, allow_module_level=True)


def require_module(name: str, install: str) -> ModuleType:
    """The module `name`, imported; where it is not installed, skip or fail as above. A module that
    is there but fails to import (a missing dependency of its own) is an error, not a skip."""
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as error:
        if error.name != name:
            raise
        needed_but_missing(f"the {name} package", f"the {name} package is not installed ({install})")
