"""Every column of a run's audit tables is documented, and a missing number is stored as null.

README documented the shard and named some decisions columns in prose; the ledger's, blocked's and
failures' columns, `item_id`, `attempt`, `text`, the harm check's signals, and whether a signal that
does not apply is null or NaN were documented nowhere."""

from __future__ import annotations

import math
import re

import pyarrow.parquet as pq

from pipeline.detect.signals import SIGNALS
from pipeline.records import Blocked, Decision, Failure, LedgerEntry
from pipeline.writers.tables import decisions_frame, write_frame
from tests.support import ROOT

# what the detector adds to its lexicon signals, and what the leak filter puts beside them
DETECTOR_SIGNALS = (*SIGNALS, "text_harm", "text_harm_probability", "text_harm_adapter", "reveal", "reveal_raw",
                    "named_risk_gain", "text_harm_probability_threshold", "reveal_raw_threshold")
HARM_CHECK_SIGNALS = ("harm_cue", "image_shows_element", "intent_similarity")


def audit_trail_section() -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    return readme[readme.index("### Querying the audit trail"):readme.index("## The leak detector")]


def documented_columns(text: str) -> set[str]:
    """The names in backticks at the start of a table row's first cell (`a`, `b` | ...)."""
    names = set()
    for line in text.splitlines():
        if line.startswith("| `"):
            names |= set(re.findall(r"`([a-z_<>]+)`", line.split("|")[1]))
    return names


def test_every_column_of_the_audit_tables_is_in_the_readme():
    documented = documented_columns(audit_trail_section())
    decision_columns = set(Decision.model_fields) - {"scores"} | {"run_id", "signal_<name>"}
    for model in (LedgerEntry, Blocked, Failure):
        missing = (set(model.model_fields) | {"run_id"}) - documented
        assert not missing, (model.__name__, missing)
    assert not decision_columns - documented, decision_columns - documented
    assert all(f"`signal_{name}`" in audit_trail_section() for name in HARM_CHECK_SIGNALS)


def test_every_detector_signal_is_in_the_detector_s_signal_table():
    text = (ROOT / "docs" / "detector.md").read_text(encoding="utf-8")
    table = text[text.index("## Signals kept beside the scores"):]
    assert not set(DETECTOR_SIGNALS) - documented_columns(table)


def test_a_signal_that_is_nan_or_missing_is_stored_as_null(tmp_path):
    """What the README says: a text-only row's NaN `named_risk_gain` and a harm signal on a leak row
    are both Parquet null, never NaN."""
    leak = Decision(item_id="p1", seed_id="s1", stage="leak_filter", scores={"named_risk_gain": math.nan},
                    score=0.1, threshold=0.5, verdict="keep", reason="-", backend="b", model="m", prompt_hash="")
    harm = Decision(item_id="p1", seed_id="s1", stage="harm_check", scores={"harm_cue": 0.0}, verdict="keep",
                    reason="-", backend="rules", model="m", prompt_hash="")
    path = tmp_path / "decisions.parquet"
    write_frame(decisions_frame([leak, harm], "r1"), path)
    table = pq.read_table(path)
    assert table["signal_named_risk_gain"].null_count == 2
    assert table["signal_harm_cue"].null_count == 1
    assert table["score"].null_count == 1  # the harm check's row that no number decided
