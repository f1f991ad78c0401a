"""Every module in this package adds its commands to `pipeline.cli.app.app`."""

from __future__ import annotations

import atexit
import gc
import importlib
import pkgutil
import sys

import pipeline  # noqa: F401  (environment defaults first)
from pipeline.backends.minilm import configured_precision
from pipeline.cli.app import app

# `leakless --help` lists commands in import order: the main job first, then by workflow.
_FIRST = ("build", "extend", "rewrite", "detector", "audit_report", "review", "release", "serve")
_OTHERS = sorted(m.name for m in pkgutil.iter_modules(__path__)
                 if m.name not in (*_FIRST, "app", "__main__", "errors", "preflight"))
for _name in (*_FIRST, *_OTHERS):
    importlib.import_module(f"{__name__}.{_name}")


def main() -> None:
    # The interpreter's last garbage collection walks every object torch and Prefect created,
    # about a second after the work is done; nothing of ours needs it (files are closed).
    atexit.register(gc.freeze)
    try:
        configured_precision()  # a bad value would otherwise fail deep inside the first stage that embeds
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        raise SystemExit(2) from None
    app()
