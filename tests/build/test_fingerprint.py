"""The offline default build still accepts the same rows, with the same ids and scores.

The stored file (tests/data/build_fingerprint.json) was written before the filters became
stages (issue 14), from a small offline build. Regenerating it is only allowed for a named,
intended change (a detector refit, a new offline rewriter), said in the commit message:

    python -m pipeline.testing.fingerprint --write
"""

from __future__ import annotations

import json

import pytest

from pipeline.testing.fingerprint import STORED, differences, fingerprint


@pytest.mark.slow
def test_offline_build_matches_the_stored_fingerprint():
    stored = json.loads(STORED.read_text(encoding="utf-8"))
    current = fingerprint()
    assert current["overrides"] == stored["overrides"]
    assert current["seeds"] == stored["seeds"]
    assert differences(current, stored) == []


def test_a_changed_score_or_verdict_is_a_difference():
    stored = json.loads(STORED.read_text(encoding="utf-8"))
    assert differences(stored, stored) == []
    nudged = json.loads(json.dumps(stored))
    nudged["rows"][0]["leak_score"] += 1e-6  # another CPU's rounding: the same
    assert differences(nudged, stored) == []
    moved = json.loads(json.dumps(stored))
    moved["rows"][0]["leak_score"] += 1e-4
    assert len(differences(moved, stored)) == 1
    flipped = json.loads(json.dumps(stored))
    flipped["decisions"][0][3] = "drop" if flipped["decisions"][0][3] != "drop" else "keep"
    assert len(differences(flipped, stored)) == 1
