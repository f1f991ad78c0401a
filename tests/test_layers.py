"""The import layers declared in pyproject.toml ([tool.importlinter]) hold: no upward import."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def lint_imports(root: Path) -> subprocess.CompletedProcess:
    """`lint-imports` over the tree at `root`, with that tree first on the import path."""
    code = "import sys; from importlinter.cli import lint_imports; sys.exit(lint_imports(no_cache=True))"
    return subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True,
                          env={"PYTHONPATH": str(root), "PATH": "/usr/bin:/bin"})


def test_the_layer_contracts_are_kept():
    done = lint_imports(ROOT)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Contracts: 1 kept, 0 broken." in done.stdout


def test_an_upward_import_breaks_them(tmp_path):
    for part in ("pipeline", "flows"):
        shutil.copytree(ROOT / part, tmp_path / part, ignore=shutil.ignore_patterns("__pycache__", "*.npz", "*.json"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    contracts = tmp_path / "pipeline" / "contracts.py"
    contracts.write_text(contracts.read_text() + "\nfrom pipeline.stages.base import Stage  # upward\n")
    done = lint_imports(tmp_path)
    assert done.returncode == 1
    assert "pipeline.contracts -> pipeline.stages.base" in done.stdout
