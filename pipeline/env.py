"""Environment defaults the project sets for itself, so users don't have to.

Imported first by the CLI and the flows: Prefect reads its settings at import,
so these must be in place before `import prefect`. A value the user already
exported always wins.
"""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
# Installed from a wheel, PROJECT_ROOT is site-packages, where another distribution's top-level
# `prompts/` may sit: the checkout's prompt folder is read only from a checkout (the team sets of
# tests/data are looked up by their own names, and refused where none is found).
IN_CHECKOUT = (PROJECT_ROOT / "pyproject.toml").is_file()


def artifacts_dir() -> Path:
    return Path(os.environ.get("LEAKLESS_ARTIFACTS", Path.cwd() / "artifacts")).resolve()


DEFAULTS = {
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "DO_NOT_TRACK": "1",
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "TOKENIZERS_PARALLELISM": "false",
    "HF_HUB_DISABLE_PROGRESS_BARS": "1",  # the weight-loading bar would interleave with ours
    "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "120",
    "PREFECT_LOGGING_LEVEL": "WARNING",
}


def apply_defaults() -> None:
    for key, value in DEFAULTS.items():
        os.environ.setdefault(key, value)
    os.environ.setdefault("PREFECT_HOME", str(artifacts_dir() / "prefect"))


def ensure_prefect_home() -> None:
    """Made when a flow is about to run, not at import: `audit` or `verify` in a folder of
    one's own should leave no artifacts/ behind."""
    try:
        Path(os.environ["PREFECT_HOME"]).mkdir(parents=True, exist_ok=True)
    except OSError:
        pass  # said before a build (`check_prefect_home`), or in the log of the server that cannot start


apply_defaults()
