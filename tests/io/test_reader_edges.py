"""Reading benchmark files at the edges: labels that are numbers but not 0 or 1, nesting at the limit."""

from __future__ import annotations

import json

import pytest

from pipeline.io.external import read_rows
from pipeline.io.records import MAX_NESTING, TOO_DEEP


@pytest.mark.parametrize("label", ["2", "0.5", "-1"])
def test_a_number_other_than_0_or_1_is_no_label(tmp_path, label):
    """A calibration file's label is 0 or 1; "0.5" or "2" truncated to 0 or 2 would be scored as a label."""
    path = tmp_path / "labelled.csv"
    path.write_text(f"id,query,label\n1,How do I hide this?,{label}\n2,Where do I buy it?,1.0\n3,What is it?,0\n")
    rows, rejects = read_rows(path, require_label=True, require_description=False)
    assert [(row.id, row.label) for row in rows] == [("2", 1), ("3", 0)]
    assert [reject.reason for reject in rejects] == [f"`label` is not 0 or 1: '{label}'"]


def nested(levels: int) -> dict:
    """A record whose containers, itself included, nest `levels` deep."""
    value = "x"
    for _ in range(levels - 1):
        value = [value]
    return {"query": "What is this?", "description": "a cup", "extra": value}


def test_a_record_exactly_max_nesting_deep_is_read_and_one_level_more_is_not(tmp_path):
    path = tmp_path / "deep.jsonl"
    path.write_text("".join(json.dumps(record) + "\n" for record in (nested(MAX_NESTING), nested(MAX_NESTING + 1))))
    rows, rejects = read_rows(path)
    assert [str(row.position) for row in rows] == ["line 1"]
    assert [(str(reject.position), reject.reason) for reject in rejects] == [("line 2", TOO_DEEP)]
