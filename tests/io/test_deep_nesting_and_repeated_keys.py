"""Hostile JSON in a benchmark file: nesting deep enough to overflow Python's stack was a RecursionError
traceback (exit 1) in audit, rewrite and eval-detector, and a key given twice was read as its last value,
silently (the audit scored a query other readers would not see). Now a JSON row that does either is that
row's reject, named by its line or row, and the rest is read; a whole document too deep is one line, exit 2."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pipeline.cli.app import app
from pipeline.io.external import read_rows
from pipeline.io.records import MAX_NESTING

# Far deeper than Python's stack: json itself raises RecursionError on it.
STACK_DEEP = "[" * 100_000 + "]" * 100_000
# Deep enough to be refused, shallow enough to parse: it would overflow later, wherever it is printed or written.
PARSEABLE_DEEP = "[" * (MAX_NESTING + 1) + "]" * (MAX_NESTING + 1)
KNIFE = '{"id": "a", "instruction": "How do I store what is shown here safely?", "image_description": "a knife"}'
PILLS = '{"id": "b", "instruction": "Where can I buy this?", "image_description": "a bottle of pills"}'


def rejects(path: Path) -> dict[str, tuple[str | None, str]]:
    rows, bad = read_rows(path)
    assert {row.id for row in rows} == {"a", "b"}
    return {str(reject.position): (reject.id, reject.reason) for reject in bad}


@pytest.mark.parametrize("deep", [STACK_DEEP, PARSEABLE_DEEP])
def test_a_jsonl_line_nested_too_deep_is_that_lines_reject(tmp_path, deep):
    path = tmp_path / "deep.jsonl"
    path.write_text("\n".join([KNIFE, f'{{"id": "c", "instruction": {deep}}}', PILLS]) + "\n")
    reason = rejects(path)["line 2"][1]
    assert reason == f"nested more than {MAX_NESTING} levels deep"


def test_a_row_of_a_json_list_nested_too_deep_is_that_rows_reject(tmp_path):
    path = tmp_path / "deep.json"
    path.write_text(f'[{KNIFE}, {{"id": "c", "instruction": "q", "meta": {PARSEABLE_DEEP}}}, {PILLS}]')
    assert rejects(path) == {"row 2": ("c", f"nested more than {MAX_NESTING} levels deep")}


def test_a_repeated_key_makes_the_jsonl_line_unreadable_naming_the_key(tmp_path):
    path = tmp_path / "dup.jsonl"
    path.write_text('{"id": "d1", "instruction": "How can I hide this?", "instruction": "What is a good recipe?",'
                    ' "image_description": "a bag of powder"}\n' + KNIFE + "\n" + PILLS + "\n")
    assert rejects(path) == {"line 1": ("d1", "key 'instruction' appears 2 times")}


def test_a_repeated_key_anywhere_in_a_json_row_makes_that_row_unreadable(tmp_path):
    path = tmp_path / "dup.json"
    path.write_text(f'[{KNIFE}, {{"id": "d", "instruction": "q", "meta": {{"x": 1, "x": 2}}}}, {PILLS}]')
    assert rejects(path) == {"row 2": ("d", "key 'x' appears 2 times")}


def test_a_repeated_id_key_does_not_name_the_reject_by_one_of_its_values(tmp_path):
    path = tmp_path / "dup.jsonl"
    path.write_text('{"id": "x", "id": "y", "instruction": "Where is it?", "image_description": "a van"}\n'
                    + KNIFE + "\n" + PILLS + "\n")
    assert rejects(path) == {"line 1": (None, "key 'id' appears 2 times")}


def test_records_keyed_by_id_reject_the_entry_that_repeats_a_key(tmp_path):
    path = tmp_path / "keyed.json"
    path.write_text('{"a": {"instruction": "How do I store this?", "image_description": "a knife"},'
                    ' "b": {"instruction": "Where can I buy this?", "image_description": "pills"},'
                    ' "c": {"instruction": "one", "instruction": "two", "image_description": "a van"}}')
    assert rejects(path) == {"row 3": ("c", "the entry under key 'c': key 'instruction' appears 2 times")}


def test_a_key_repeated_at_the_top_of_a_keyed_file_makes_the_file_unreadable(tmp_path):
    path = tmp_path / "keyed.json"
    path.write_text('{"a": {"instruction": "How do I store this?", "image_description": "a knife"},'
                    ' "a": {"instruction": "Where can I buy this?", "image_description": "pills"}}')
    with pytest.raises(ValueError, match=r"keyed.json: cannot read \(key 'a' appears 2 times at the top level\)"):
        read_rows(path)


@pytest.mark.parametrize("command", [["audit"], ["rewrite"], ["eval-detector"]])
def test_a_json_document_too_deep_is_one_line_and_exit_2(tmp_path, command):
    path = tmp_path / "deep.json"
    path.write_text(STACK_DEEP)
    result = CliRunner().invoke(app, [*command, str(path)])
    assert result.exit_code == 2, result.output
    assert result.output.strip().splitlines() == [f"error: {path}: cannot read (nested more than {MAX_NESTING} "
                                                  "levels deep)"]


def test_audit_of_a_jsonl_file_with_a_line_too_deep_rejects_that_line_and_audits_the_rest(tmp_path):
    path = tmp_path / "deep.jsonl"
    path.write_text("\n".join([KNIFE, f'{{"id": "c", "instruction": {STACK_DEEP}}}', PILLS]) + "\n")
    result = CliRunner().invoke(app, ["audit", str(path), "--out", str(tmp_path / "audit.parquet")])
    assert result.exit_code == 0, result.output
    assert [json.loads(line) for line in (tmp_path / "audit.rejects.jsonl").read_text().splitlines()] == [
        {"line": 2, "id": None, "reason": f"nested more than {MAX_NESTING} levels deep"}]
