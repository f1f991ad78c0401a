"""Helpers shared by the tests: small run folders written by the pipeline's own writers, and paths."""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]  # the repository
DATA = ROOT / "tests" / "data"
