"""The README's example pairs are those `scripts/readme_examples.py` draws from a fresh default
build, and the script's own build leaves nothing in the repository's artifacts/."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "readme_examples.py"


def load_script():
    spec = importlib.util.spec_from_file_location("readme_examples", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_build_keeps_its_prefect_database_with_its_temporary_runs(tmp_path, monkeypatch):
    script = load_script()
    calls = []
    monkeypatch.setattr(script.subprocess, "run", lambda command, **options: calls.append(options))
    assert script.build(tmp_path) == tmp_path / "readme"
    (options,) = calls
    assert Path(options["env"]["PREFECT_HOME"]).is_relative_to(tmp_path)


@pytest.mark.slow
def test_the_readme_examples_are_those_of_a_fresh_build():
    """A default build and the draw: 20 to 40 s on two cores."""
    result = subprocess.run([sys.executable, str(SCRIPT), "--check"], cwd=ROOT, capture_output=True, text=True,
                            timeout=600)
    assert result.returncode == 0, ("README.md's example pairs are stale: run `python scripts/readme_examples.py`"
                                    f"\n{result.stderr[-2000:]}")
