"""The offline default build still accepts the same rows, with the same ids and scores.

The stored file (tests/data/build_fingerprint.json) was written before the filters became
stages (issue 14), from a small offline build. Regenerating it is only allowed for a named,
intended change (a detector refit, a new offline rewriter, a new stage: docs/architecture.md,
"Adding a stage"), said in the commit message:

    python -m pipeline.testing.fingerprint --write
"""

from __future__ import annotations

import json
from collections import Counter

import pytest

from pipeline.testing.fingerprint import STORED, differences, fingerprint


@pytest.mark.slow
def test_offline_build_matches_the_stored_fingerprint():
    stored = json.loads(STORED.read_text(encoding="utf-8"))
    current = fingerprint()
    assert current["overrides"] == stored["overrides"]
    assert current["seeds"] == stored["seeds"]
    found = differences(current, stored)
    assert not found, "\n".join([*decision_counts_that_differ(current, stored), *found[:20]])


def decision_counts_that_differ(current: dict, stored: dict) -> list[str]:
    """Whose decisions were added or lost, by stage and verdict: a new stage writes one for every
    pair it judges, even at a setting that keeps them all. The fingerprint holds no reason codes."""
    def counts(fingerprint: dict) -> Counter:
        return Counter((stage, verdict) for _, stage, _, verdict, _ in fingerprint["decisions"])

    now, then = counts(current), counts(stored)
    differ = [f"{stage} {verdict}: {now[stage, verdict]} decisions against {then[stage, verdict]} stored"
              for stage, verdict in sorted(now.keys() | then.keys()) if now[stage, verdict] != then[stage, verdict]]
    hint = ("for an intended change (a new stage), regenerate the file as docs/architecture.md "
            "('Adding a stage') says")
    return [*differ, hint] if differ else []


def test_added_or_lost_decisions_are_named_by_stage_and_verdict():
    stored = json.loads(STORED.read_text(encoding="utf-8"))
    changed = json.loads(json.dumps(stored))
    item = stored["decisions"][0][0]
    changed["decisions"] = [d for d in changed["decisions"] if d[1] != "harm_check" or d[3] != "drop"]
    changed["decisions"] += [[item, "query_length", 1, "keep", None]] * 3
    dropped = len(stored["decisions"]) + 3 - len(changed["decisions"])
    message = decision_counts_that_differ(changed, stored)
    assert message[:2] == [f"harm_check drop: 0 decisions against {dropped} stored",
                           "query_length keep: 3 decisions against 0 stored"], message
    assert decision_counts_that_differ(stored, stored) == []


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
