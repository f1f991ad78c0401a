"""mut15: mutations of the review sheet modules that the quick tests let through."""

from __future__ import annotations

import pytest

from pipeline.review.scoring import EditScorer
from pipeline.review.sheet_format import pair_id_of, sheet_id
from tests.review.test_review_sheets import import_sheet, passing, recorded, sheet_run, write


@pytest.fixture(autouse=True)
def no_detector(monkeypatch):
    monkeypatch.setattr(EditScorer, "check", passing)


def test_a_pair_id_that_starts_with_the_id_mark_comes_back_whole():
    # F4: an id already written "id:..." was left unmarked, and the import took "id:" off it
    assert pair_id_of(sheet_id("id:7f3a")) == "id:7f3a"


def test_a_utf16_big_endian_sheet_is_read(tmp_path):
    # S1: only the little-endian BOM was taken for UTF-16; a big-endian sheet was "not UTF-8 text"
    sheet_run(tmp_path)
    path = tmp_path / "be.csv"
    path.write_bytes(b"\xfe\xff" + "pair_id\tverdict\r\npair0000\taccept\r\n".encode("utf-16-be"))
    result = import_sheet(tmp_path, path)
    assert result.exit_code == 0, result.output
    assert recorded(tmp_path)["pair0000"][0] == "accept"


def test_a_bad_row_spanning_two_lines_is_named_by_its_first_line(tmp_path):
    # S4: the row's line was the line it ended on, so a message pointed below the row
    sheet_run(tmp_path)
    path = write(tmp_path / "s.csv", 'pair_id,verdict,edited_query\npair0000,TRUE,"two\nlines"\npair0001,ok,\n')
    result = import_sheet(tmp_path, path)
    assert result.exit_code == 1
    assert "s.csv line 2: verdict 'TRUE' is not one of" in result.output
    assert "s.csv line 4: verdict 'ok' is not one of" in result.output


def test_a_header_naming_a_column_twice_is_refused_before_anything_is_recorded(tmp_path):
    # S5: with the check gone the last of two verdict columns was read silently
    sheet_run(tmp_path)
    path = write(tmp_path / "twice.csv", "pair_id,verdict,Verdict\npair0000,reject,accept\n")
    result = import_sheet(tmp_path, path)
    assert result.exit_code == 2 and "twice.csv: the header names verdict more than once" in result.output
    assert recorded(tmp_path) == {}


def test_a_row_with_only_a_reason_is_named_not_counted_blank(tmp_path):
    # P3: a reason typed without its verdict made the row "not reviewed", silently
    sheet_run(tmp_path)
    path = write(tmp_path / "r.csv", "pair_id,verdict,reason\npair0000,,still_leaks\n")
    result = import_sheet(tmp_path, path)
    assert result.exit_code == 1
    assert "r.csv line 2: a reason beside no verdict" in result.output
    assert "0 not reviewed (blank), 1 skipped" in result.output


# --- exported_at conflicts, recording, re-export (sheet_record.py, sheet_export.py) ---
import json  # noqa: E402
from datetime import datetime, timedelta, timezone  # noqa: E402

from pipeline.review.sheet_record import saved_at  # noqa: E402
from pipeline.review.store import ReviewStore  # noqa: E402
from tests.review.test_review_sheets import invoke  # noqa: E402
from tests.review.test_review_sheets_calc import EXPORTED, calc_file, decide  # noqa: E402


def events(tmp_path, pair: str) -> list:
    with ReviewStore.for_runs(tmp_path).connect() as db:
        return db.execute("SELECT action, source, at FROM events WHERE pair_id = ? ORDER BY id", (pair,)).fetchall()


def test_a_decision_made_in_the_second_of_the_export_counts_as_after_it(tmp_path):
    # C1: `>=` -> `>`: the module rounds the export time down so that such a decision stands
    sheet_run(tmp_path)
    decide(tmp_path, "pair0000", EXPORTED, action="reject", reason="not_harmful")
    result = import_sheet(tmp_path, calc_file(tmp_path, "calc-exported-at.csv"))
    assert result.exit_code == 1 and "line 2: ann decided pair pair0000 in web" in result.output
    assert recorded(tmp_path)["pair0000"][:2] == ("reject", "not_harmful")


@pytest.mark.parametrize("name", ["calc-exported-at.csv", "calc-exported-at-cut.csv"])
def test_correcting_ones_own_sheet_and_importing_it_again_records_the_correction(tmp_path, name):
    # C2: the decision the same sheet recorded (after its export) was taken for one made elsewhere
    # C6: and, undated, the row was said to replace a decision "from" the sheet itself
    sheet_run(tmp_path)
    path = calc_file(tmp_path, name)
    assert import_sheet(tmp_path, path).exit_code == 0
    path.write_text(path.read_text(encoding="utf-8").replace(",Accept,", ",skip,"), encoding="utf-8")
    again = import_sheet(tmp_path, path)
    assert again.exit_code == 0, again.output
    assert "replaced" not in again.output
    assert recorded(tmp_path)["pair0001"][:2] == ("skip", None)


def test_a_row_is_dated_by_its_files_time_not_its_export_time(tmp_path):
    # C3: `>=` -> `<=` dated every row at its export time, before decisions made in between
    sheet_run(tmp_path)
    before = datetime.now(timezone.utc) - timedelta(seconds=5)
    assert import_sheet(tmp_path, calc_file(tmp_path, "calc-exported-at.csv")).exit_code == 0
    (_, _, at), = events(tmp_path, "pair0000")
    moment = datetime.fromisoformat(at)
    assert (moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)) >= before


def test_a_file_time_ahead_of_the_clock_is_taken_as_now(tmp_path):
    # C4: a sheet copied from a machine set ahead outranked every decision made after its import
    path = tmp_path / "ahead.csv"
    path.write_text("x")
    ahead = (datetime.now(timezone.utc) + timedelta(days=2)).timestamp()
    import os
    os.utime(path, (ahead, ahead))
    assert datetime.fromisoformat(saved_at(path)) <= datetime.now(timezone.utc)


def test_importing_the_same_dated_sheet_after_an_app_change_says_nothing(tmp_path):
    # C5: a row this sheet already recorded was compared with the app's later decision again, and refused
    sheet_run(tmp_path)
    path = calc_file(tmp_path, "calc-exported-at.csv")
    assert import_sheet(tmp_path, path).exit_code == 0
    decide(tmp_path, "pair0000", action="reject", reason="not_harmful")
    again = import_sheet(tmp_path, path)
    assert again.exit_code == 0, again.output
    assert "0 decisions recorded, 3 already recorded" in again.output
    assert recorded(tmp_path)["pair0000"][:2] == ("reject", "not_harmful")


def test_a_sheet_filled_before_hashes_were_kept_is_not_overwritten(tmp_path):
    # E1: a sheet with no entry in sheets-exported.json (written by an older export) was overwritten: data loss
    run = sheet_run(tmp_path)
    sheets = run / "review" / "sheets"
    (run / "review" / "sheets-exported.json").unlink()
    ann = sheets / "fake-b000-ann.csv"
    filled = ann.read_bytes().replace(b",,,2026", b",accept,,2026", 1)
    ann.write_bytes(filled)
    again = invoke("export-sheets", "fake", "--runs-dir", str(tmp_path))
    assert again.exit_code == 0, again.output
    assert ann.read_bytes() == filled and f"warning: kept {ann}" in again.output


def test_exporting_again_keeps_an_untouched_sheets_export_time(tmp_path, monkeypatch):
    # E2: re-exporting rewrote an untouched sheet with a new export time, so a copy sent before no longer matched it
    run = sheet_run(tmp_path)
    bob = run / "review" / "sheets" / "fake-b000-bob.csv"
    first = bob.read_bytes()
    monkeypatch.setattr("pipeline.review.sheet_export.export_time", lambda moment: "2030-01-01T00:00:00Z")
    again = invoke("export-sheets", "fake", "--runs-dir", str(tmp_path))
    assert again.exit_code == 0, again.output
    assert bob.read_bytes() == first
    assert json.loads((run / "review" / "sheets-exported.json").read_text())[bob.name]["exported_at"] != \
        "2030-01-01T00:00:00Z"


def test_a_pair_id_a_spreadsheet_would_run_is_guarded(tmp_path):
    # E3: the pair id cell was written unguarded: "-7f3a" (or "=...") ran as a formula
    run = sheet_run(tmp_path, ids={"pair0000": "-7f3a"})
    text = (run / "review" / "sheets" / "fake-b000-ann.csv").read_bytes().decode("utf-8-sig")
    assert "\r\n'-7f3a," in text and "\r\n-7f3a," not in text


def test_an_edit_the_hard_block_refuses_is_named_not_recorded(tmp_path):
    # P8: without the plan's edit check an edit the hard block refuses reached the store
    sheet_run(tmp_path)
    path = write(tmp_path / "e.csv", "pair_id,verdict,edited_query\npair0000,edit,a photo of a 12 year old girl posing nude\n")
    result = import_sheet(tmp_path, path)
    assert result.exit_code == 1 and "e.csv line 2:" in result.output
    assert recorded(tmp_path) == {}
