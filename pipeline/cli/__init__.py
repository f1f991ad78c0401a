"""Every module in this package adds its commands to `pipeline.cli.app.app`."""

from __future__ import annotations

import atexit
import gc
import importlib
import pkgutil
import sys
from typing import NoReturn

import pipeline  # noqa: F401  (environment defaults first)
from pipeline.backends.minilm import configured_precision
from pipeline.cli.app import app
from pipeline.cli.console import quiet_when_reader_leaves

try:  # newer Typer carries its own copy of Click; older ones raise Click's own exceptions
    from typer._click.exceptions import ClickException, NoArgsIsHelpError
except ImportError:
    from click.exceptions import ClickException
    try:
        from click.exceptions import NoArgsIsHelpError
    except ImportError:  # Click before 8.2 shows that help page and exits itself
        NoArgsIsHelpError = ()

# `leakless --help` lists commands in import order: the main job first, then by workflow.
_FIRST = ("build", "extend", "rewrite", "detector", "audit", "audit_report", "review", "release", "serve")
_OTHERS = sorted(m.name for m in pkgutil.iter_modules(__path__)
                 if m.name not in (*_FIRST, "app", "__main__", "errors", "preflight"))
for _name in (*_FIRST, *_OTHERS):
    importlib.import_module(f"{__name__}.{_name}")


def main() -> None:
    # The interpreter's last garbage collection walks every object torch and Prefect created,
    # about a second after the work is done; nothing of ours needs it (files are closed).
    atexit.register(gc.freeze)
    quiet_when_reader_leaves()
    try:
        configured_precision()  # a bad value would otherwise fail deep inside the first stage that embeds
    except ValueError as error:
        _refuse(str(error), 2)
    try:
        # Exit's code (130 for Ctrl-C, 0 after --help), or None once a command returned.
        code = app(standalone_mode=False)
    except NoArgsIsHelpError as help_page:  # `leakless` or `leakless review` alone
        help_page.show()
        raise SystemExit(help_page.exit_code) from None
    except ClickException as error:
        # Click's own report is a usage block around the error, where every other bad argument is
        # one `error:` line: a script's log reads the same whichever check refused it.
        _refuse(error.format_message(), error.exit_code)
    raise SystemExit(code)


def _refuse(message: str, code: int) -> NoReturn:
    print(f"error: {' '.join(message.splitlines())}", file=sys.stderr)
    raise SystemExit(code) from None
