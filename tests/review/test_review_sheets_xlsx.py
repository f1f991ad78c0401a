"""A review sheet an annotator saved as an Excel workbook (.xlsx: Excel's Save, a Google Sheets download)
is read as its CSV would be: before, every such file was refused with "save it as CSV"."""

from __future__ import annotations

import csv
from datetime import datetime

import openpyxl
import pytest

from pipeline.review.scoring import EditScorer
from tests.review.test_review_sheets import DIGITS, import_sheet, passing, recorded, sheet_run


@pytest.fixture(autouse=True)
def edits_pass(monkeypatch):
    """Edits pass their check (the real one loads MiniLM; what is tested here is the workbook)."""
    monkeypatch.setattr(EditScorer, "check", passing)


def exported_rows(run) -> list[list[str]]:
    with open(run / "review" / "sheets" / "fake-b000-ann.csv", encoding="utf-8-sig", newline="") as sheet:
        return list(csv.reader(sheet))


def saved_as_workbook(path, rows: list[list], extra_sheets: dict[str, list[list]] | None = None):
    book = openpyxl.Workbook()
    book.active.title = "fake-b000-ann"
    for row in rows:
        book.active.append(row)
    for title, more in (extra_sheets or {}).items():
        sheet = book.create_sheet(title)
        for row in more:
            sheet.append(row)
    book.save(path)
    return path


def filled(run, fills: dict[str, tuple]) -> list[list]:
    """The exported sheet's rows with `fills[pair]` = (verdict, reason, edited_query) typed in."""
    header, *rows = exported_rows(run)
    at = {name: header.index(name) for name in ("pair_id", "verdict", "reason", "edited_query", "exported_at")}
    for row in rows:
        pair = row[at["pair_id"]].removeprefix("id:")
        for name, value in zip(("verdict", "reason", "edited_query"), fills.get(pair, ("", "", ""))):
            row[at[name]] = value
    return [header, *rows]


def test_an_excel_workbook_records_its_verdicts_and_names_its_bad_rows(tmp_path):
    run = sheet_run(tmp_path, ids={"pair0000": DIGITS})
    rows = filled(run, {DIGITS: ("Accept", "", ""), "pair0001": ("reject", "still leaks", ""),
                        "pair0002": ("edit", "", "'-how could one arrange these items?"),
                        "pair0003": ("edit", "", "#NAME?")})  # a formula typed into the cell, saved as its error
    exported_at = rows[0].index("exported_at")
    rows[1][exported_at] = datetime.fromisoformat(rows[1][exported_at].removesuffix("Z"))  # taken for a date
    rows.append([None] * len(rows[0]))  # an empty row at the end
    path = saved_as_workbook(tmp_path / "ann sheet.xlsx", rows, {"my notes": [["todo"], ["ask bob about row 4"]]})
    result = import_sheet(tmp_path, path)
    assert result.exit_code == 1, result.output
    line = next(number for number, row in enumerate(rows, start=1) if row[0] == "pair0003")  # its row number
    assert f"ann sheet.xlsx line {line}: edited_query '#NAME?' is a formula's error" in result.output
    assert "3 decisions recorded" in result.output
    source = "sheet:ann sheet.xlsx"
    assert recorded(tmp_path) == {DIGITS: ("accept", None, None, source),
                                  "pair0001": ("reject", "still_leaks", None, source),
                                  "pair0002": ("edit", None, "-how could one arrange these items?", source)}
    assert import_sheet(tmp_path, path).output.count("0 decisions recorded, 3 already recorded") == 1


def test_a_workbook_with_two_review_sheets_or_none_is_one_error_and_records_nothing(tmp_path):
    run = sheet_run(tmp_path)
    rows = filled(run, {"pair0001": ("accept", "", "")})
    two = saved_as_workbook(tmp_path / "two.xlsx", rows, {"copy": rows})
    result = import_sheet(tmp_path, two)
    assert result.exit_code == 2 and "two.xlsx holds 2 review sheets (fake-b000-ann, copy): keep one" in result.output
    none = saved_as_workbook(tmp_path / "none.xlsx", [["id", "decision"], ["pair0001", "accept"]])
    result = import_sheet(tmp_path, none)
    assert result.exit_code == 2 and "none.xlsx: no pair_id or verdict column in its header" in result.output
    assert recorded(tmp_path) == {}


def test_cells_read_as_the_spreadsheet_shows_them():
    from pipeline.review.sheet_workbook import cell_text

    assert cell_text(datetime(2026, 12, 7, 18, 34, 6)) == "2026-12-07T18:34:06Z"  # exported_at taken for a date
    assert (cell_text(None), cell_text(3.0), cell_text(2.5), cell_text(True), cell_text(" x ")) == ("", "3", "2.5",
                                                                                                     "TRUE", " x ")


def test_a_formula_with_no_saved_result_is_refused_not_read_as_blank(tmp_path):
    """A workbook a script wrote holds formulas without the value a spreadsheet would show: its verdicts read
    as blank ("not reviewed") and the import exited 0 (a review of this session's changes)."""
    run = sheet_run(tmp_path)
    rows = filled(run, {"pair0000": ("accept", "", "")})
    verdict = rows[0].index("verdict")
    rows[2][verdict] = '=LOWER("ACCEPT")'
    result = import_sheet(tmp_path, saved_as_workbook(tmp_path / "scripted.xlsx", rows))
    assert result.exit_code == 2 and "scripted.xlsx row 3: a formula with no saved result" in result.output
    assert recorded(tmp_path) == {}
