"""Review sheets as LibreOffice Calc 7.4 saves them (tests/data/review_sheets/, see its README.txt): a
notes column at the right, formula error values, sheets filled in place, and the export's time that
travels with a sheet."""

from __future__ import annotations

import csv
import io
import os
import shutil
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from tests.review.test_review_sheets import import_sheet, invoke, passing, recorded, sheet_run, write

from pipeline.review.decisions import DecisionIn
from pipeline.review.scoring import EditScorer
from pipeline.review.store import ReviewStore

CALC = Path(__file__).parents[1] / "data" / "review_sheets"


@pytest.fixture(autouse=True)
def no_detector(monkeypatch):
    """Edits pass their check (the real one loads MiniLM; what is tested here is the sheet)."""
    monkeypatch.setattr(EditScorer, "check", passing)


def calc_file(tmp_path, name: str) -> Path:
    """A Calc-saved sheet, copied (so its time is now, as a file just saved)."""
    return Path(shutil.copyfile(CALC / name, tmp_path / name))


def without_export_time(sheet: bytes) -> list[list[str]]:
    return [row[:-1] for row in csv.reader(io.StringIO(sheet.decode("utf-8-sig"), newline=""))]


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
    assert ann.read_bytes() == (CALC / "calc-notes-column.csv").read_bytes()
    assert without_export_time(bob.read_bytes()) == without_export_time(exported_bob)  # written anew
    assert f"sheet\t{bob}\n" in again.output and f"sheet\t{ann}" not in again.output
    result = import_sheet(tmp_path, ann)
    assert result.exit_code == 0 and "3 decisions recorded" in result.output


EXPORTED = datetime(2026, 12, 7, 21, 42, 51, tzinfo=timezone.utc)  # calc-exported-at.csv's exported_at


def decide(tmp_path, pair: str, at: datetime | None = None, **decision) -> None:
    """ann's decision in the review app (now, or at `at`)."""
    ReviewStore.for_runs(tmp_path).append(DecisionIn(batch_id="fake-b000", pair_id=pair, **decision), annotator="ann",
                                          run_id="fake", at=at.isoformat(timespec="milliseconds") if at else None)


def test_a_copied_sheet_does_not_replace_an_app_decision_made_after_its_export(tmp_path):
    sheet_run(tmp_path)
    decide(tmp_path, "pair0001", EXPORTED - timedelta(days=1), action="reject", reason="low_quality")  # before
    decide(tmp_path, "pair0000", action="reject", reason="not_harmful")  # after the export: ann changed her mind
    mailed = calc_file(tmp_path, "calc-exported-at.csv")  # a copy: its file time is now, after both
    result = import_sheet(tmp_path, mailed)
    assert result.exit_code == 1 and "no exported_at column" not in result.output
    assert "calc-exported-at.csv line 2: ann decided pair pair0000 in web at " in result.output
    assert "(reject (not_harmful)) after this sheet was exported (2026-12-07T21:42:51Z), and the sheet says " \
           "otherwise: that decision stands (--sheet-wins records the sheet's): skipped" in result.output
    assert "2 decisions recorded, 0 already recorded, 1 not reviewed (blank), 1 skipped" in result.output
    assert {pair: got[:2] for pair, got in recorded(tmp_path).items()} == {
        "pair0000": ("reject", "not_harmful"), "pair0001": ("accept", None), "pair0002": ("reject", "still_leaks")}
    wins = invoke("import-sheet", "fake", str(mailed), "--user", "ann", "--runs-dir", str(tmp_path), "--sheet-wins")
    assert wins.exit_code == 0, wins.output
    assert "note: calc-exported-at.csv line 2: replaced ann's decision on pair pair0000 from web" in wins.output
    assert "made after the sheet was exported (2026-12-07T21:42:51Z), as --sheet-wins says" in wins.output
    assert recorded(tmp_path)["pair0000"][:2] == ("accept", None)


def test_a_sheet_without_its_export_time_is_dated_by_its_file_with_one_warning(tmp_path):
    sheet_run(tmp_path)
    decide(tmp_path, "pair0000", action="reject", reason="not_harmful")
    saved = calc_file(tmp_path, "calc-exported-at-cut.csv")
    hours_ago = time.time() - 3 * 3600
    os.utime(saved, (hours_ago, hours_ago))  # saved before ann's app decision: that one stands
    result = import_sheet(tmp_path, saved)
    assert result.exit_code == 1
    (warning,) = [line for line in result.output.splitlines() if "exported_at" in line]
    assert warning.startswith("warning: calc-exported-at-cut.csv: no exported_at column: dated by the file's time (")
    assert "calc-exported-at-cut.csv line 2: the sheet (saved " in result.output
    assert recorded(tmp_path)["pair0000"][:2] == ("reject", "not_harmful")
    copied = calc_file(tmp_path, "calc-exported-at-cut.csv")  # the file's time is now: it counts, and says so
    result = import_sheet(tmp_path, copied)
    assert result.exit_code == 0, result.output
    assert "note: calc-exported-at-cut.csv line 2: replaced ann's decision on pair pair0000 from web" in result.output
    assert recorded(tmp_path)["pair0000"][:2] == ("accept", None)


def test_calc_workbooks_read_as_their_csv(tmp_path):
    """The same sheets saved by Calc as Excel workbooks (.xlsx) record the same decisions, name the same
    lines, and keep exported_at (text in a cell)."""
    sheet_run(tmp_path)
    result = import_sheet(tmp_path, calc_file(tmp_path, "calc-notes-column.xlsx"))
    assert result.exit_code == 0 and "3 decisions recorded, 0 already recorded, 1 not reviewed" in result.output
    assert {pair: got[:3] for pair, got in recorded(tmp_path).items()} == {
        "pair0000": ("accept", None, None), "pair0001": ("reject", "still_leaks", None),
        "pair0003": ("edit", None, "How would one, in general, arrange these?")}
    result = import_sheet(tmp_path, calc_file(tmp_path, "calc-formula-errors.xlsx"), user="bob")
    assert result.exit_code == 1
    for line, cell in ((3, "verdict '#NAME?'"), (4, "reason '#DIV/0!'"), (5, "edited_query '#VALUE!'")):
        assert f"calc-formula-errors.xlsx line {line}: {cell} is a formula's error" in result.output


def test_a_calc_workbook_keeps_its_export_time_against_a_later_app_decision(tmp_path):
    sheet_run(tmp_path)
    decide(tmp_path, "pair0000", action="reject", reason="not_harmful")  # after the export
    result = import_sheet(tmp_path, calc_file(tmp_path, "calc-exported-at.xlsx"))
    assert result.exit_code == 1 and "calc-exported-at.xlsx line 2: ann decided pair pair0000 in web at " in result.output
    assert recorded(tmp_path)["pair0000"][:2] == ("reject", "not_harmful")
