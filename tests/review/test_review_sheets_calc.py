"""Review sheets as LibreOffice Calc 7.4 saves them (tests/data/review_sheets/, see its README.txt): a
notes column at the right, formula error values, sheets filled in place, and the export's time that
travels with a sheet."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.review.test_review_sheets import import_sheet, invoke, passing, recorded, sheet_run, write

from pipeline.review.scoring import EditScorer

CALC = Path(__file__).parents[1] / "data" / "review_sheets"


@pytest.fixture(autouse=True)
def no_detector(monkeypatch):
    """Edits pass their check (the real one loads MiniLM; what is tested here is the sheet)."""
    monkeypatch.setattr(EditScorer, "check", passing)


def calc_file(tmp_path, name: str) -> Path:
    """A Calc-saved sheet, copied (so its time is now, as a file just saved)."""
    return Path(shutil.copyfile(CALC / name, tmp_path / name))


def test_a_notes_column_right_of_ours_is_not_read(tmp_path):
    sheet_run(tmp_path)
    result = import_sheet(tmp_path, calc_file(tmp_path, "calc-notes-column.csv"))
    assert result.exit_code == 0, result.output
    assert "3 decisions recorded, 0 already recorded, 1 not reviewed (blank), 0 skipped" in result.output
    source = "sheet:calc-notes-column.csv"
    assert recorded(tmp_path) == {"pair0000": ("accept", None, None, source),
                                  "pair0001": ("reject", "still_leaks", None, source),
                                  "pair0003": ("edit", None, "How would one, in general, arrange these?", source)}
    result = import_sheet(tmp_path, calc_file(tmp_path, "calc-notes-column-semicolon.csv"), user="bob")
    assert result.exit_code == 0 and "2 decisions recorded" in result.output  # the note holds a quoted ';'
    assert {pair: got[:2] for pair, got in recorded(tmp_path, "bob").items()} == {
        "pair0003": ("accept", None), "pair0001": ("reject", "low_quality")}


def test_a_row_longer_than_the_header_row_is_named(tmp_path):
    sheet_run(tmp_path)
    path = write(tmp_path / "s.csv", "pair_id,verdict,reason,edited_query,notes\n"
                 "pair0000,edit,,how, in general, to arrange them?,ok\npair0001,accept,,,ok\n")
    result = import_sheet(tmp_path, path)
    assert result.exit_code == 1
    assert "s.csv line 2: 2 filled cell(s) right of the header row's last cell (' to arrange them?'...): a cell " \
           "holding the separator must be quoted: skipped" in result.output
    assert set(recorded(tmp_path)) == {"pair0001"}


def test_a_formula_error_value_is_a_bad_row_not_a_verdict_or_an_edit(tmp_path):
    sheet_run(tmp_path)
    result = import_sheet(tmp_path, calc_file(tmp_path, "calc-formula-errors.csv"))
    assert result.exit_code == 1
    for line, cell in ((3, "verdict '#NAME?'"), (4, "reason '#DIV/0!'"), (5, "edited_query 'Err:509'")):
        assert f"calc-formula-errors.csv line {line}: {cell} is a formula's error, not text: type ' before =: " \
               "skipped" in result.output
    assert "1 decisions recorded, 0 already recorded, 0 not reviewed (blank), 3 skipped" in result.output
    assert recorded(tmp_path) == {"pair0003": ("skip", None, None, "sheet:calc-formula-errors.csv")}


def test_export_sheets_again_keeps_a_sheet_filled_in_place(tmp_path):
    sheets = sheet_run(tmp_path) / "review" / "sheets"
    ann, bob = sheets / "fake-b000-ann.csv", sheets / "fake-b000-bob.csv"
    exported_bob = bob.read_bytes()
    again = invoke("export-sheets", "fake", "--runs-dir", str(tmp_path))  # nothing typed yet: all as they were
    assert again.exit_code == 0 and "warning" not in again.output and bob.read_bytes() == exported_bob
    shutil.copyfile(CALC / "calc-notes-column.csv", ann)  # ann filled her sheet where it was, Calc saved it
    bob.unlink()
    again = invoke("export-sheets", "fake", "--runs-dir", str(tmp_path))
    assert again.exit_code == 0, again.output
    assert f"warning: kept {ann}: it changed since the export wrote it (filled in?)" in again.output
    assert ann.read_bytes() == (CALC / "calc-notes-column.csv").read_bytes() and bob.read_bytes() == exported_bob
    assert f"sheet\t{bob}\n" in again.output and f"sheet\t{ann}" not in again.output
    result = import_sheet(tmp_path, ann)
    assert result.exit_code == 0 and "3 decisions recorded" in result.output
