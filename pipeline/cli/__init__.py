"""Every module in this package adds its commands to `pipeline.cli.app.app`."""

from __future__ import annotations

import importlib
import pkgutil

import pipeline  # noqa: F401  (environment defaults first)
from pipeline.cli.app import app

for _module in pkgutil.iter_modules(__path__):
    if _module.name not in ("app", "__main__"):
        importlib.import_module(f"{__name__}.{_module.name}")


def main() -> None:
    app()
