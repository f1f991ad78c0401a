"""Fixtures shared by the prompt-file tests of this folder."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from pipeline.prompts import prompts_dir


@pytest.fixture
def prompts(tmp_path, monkeypatch) -> Path:
    """A copy of prompts/ the build reads instead (the repository's own files are never edited)."""
    copy = tmp_path / "prompts"
    shutil.copytree(prompts_dir(), copy)
    monkeypatch.setattr("pipeline.prompts.prompts_dir", lambda: copy)
    return copy
