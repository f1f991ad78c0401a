"""The offline default build still accepts the same rows, with the same ids and scores.

The stored file (tests/data/build_fingerprint.json) was written before the filters became
stages (issue 14), from a small offline build. Regenerating it is only allowed for a named,
intended change (a detector refit, a new offline rewriter), said in the commit message:

    python -m pipeline.testing.fingerprint --write
"""

from __future__ import annotations

import json

import pytest

from pipeline.testing.fingerprint import STORED, fingerprint


@pytest.mark.slow
def test_offline_build_matches_the_stored_fingerprint():
    stored = json.loads(STORED.read_text(encoding="utf-8"))
    current = fingerprint()
    assert current["overrides"] == stored["overrides"]
    assert current["seeds"] == stored["seeds"]
    assert current["rows"] == stored["rows"]
    assert current["decisions"] == stored["decisions"]
