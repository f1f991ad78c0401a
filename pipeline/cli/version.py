"""`leakless --version`: what a bug report needs to say which leakless ran."""

from __future__ import annotations

import platform
from importlib import metadata

from pipeline.backends.minilm import configured_precision
from pipeline.detect.calibration import detector_version
from pipeline.run_records import code_version

LIBRARIES = ("torch", "transformers", "sentence-transformers", "prefect", "diffusers", "openai")


def version_lines() -> list[str]:
    return [f"leakless {metadata.version('leakless')}", f"code: {_code()}",
            f"detector: {detector_version()} ({configured_precision()})",
            f"python {platform.python_version()}, " + ", ".join(_library(name) for name in LIBRARIES)]


def _code() -> str:
    # The package version stays 0.1.0 across commits: the commit says which code it is.
    record = code_version()
    if record is None:
        return "installed package (no git checkout)"
    if not record["uncommitted_changes"]:
        return f"git {record['commit']}"
    return f"git {record['commit']} with uncommitted changes (digest {record['changes_digest']})"


def _library(name: str) -> str:
    try:
        return f"{name} {metadata.version(name)}"
    except metadata.PackageNotFoundError:
        return f"{name} not installed"
