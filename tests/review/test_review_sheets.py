"""The spreadsheet round trip: `review export --format csv` writes sheets a spreadsheet opens as meant
(BOM, CRLF, formulas defused, all-digit ids kept), and `review import-sheet` reads them back as
LibreOffice and Excel save them (BOM or not, semicolons, `sep=;`, CRLF, header case, trailing empty
cells, `1E+15` ids, cp1252), recording every typed verdict through the review store or naming its line."""

from __future__ import annotations

import os
import time

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from tests.support.review_runs import make_run

from pipeline.cli.app import app
from pipeline.review.importer import import_review
from pipeline.review.scoring import EditCheck, EditScorer
from pipeline.review.sheet_format import guarded, pair_id_of, sheet_id, unguarded
from pipeline.review.store import ReviewStore
from pipeline.writers.shard_reader import shard_paths

DIGITS = "0123456789012345"  # a pair id a spreadsheet would turn into 123456789012345 or 1.23457E+15


def invoke(*args: str):
    return CliRunner().invoke(app, ["review", *args])


def passing(self, item, query):
    return EditCheck(score=0.1, threshold=0.5, spans=(), detector_version="test", harm_verdict="keep",
                     harm_reason="ok", intent_similarity=0.9)


@pytest.fixture(autouse=True)
def no_detector(monkeypatch):
    """Edits pass their check (the real one loads MiniLM; what is tested here is the sheet)."""
    monkeypatch.setattr(EditScorer, "check", passing)


def set_column(path, column: str, changes: dict[str, str], key: str) -> None:
    table = pq.read_table(path)
    values = [changes.get(row_key, value) if column != key else changes.get(value, value)
              for row_key, value in zip(table.column(key).to_pylist(), table.column(column).to_pylist())]
    pq.write_table(table.set_column(table.schema.get_field_index(column), column, pa.array(values)), path)


def sheet_run(tmp_path, ids: dict[str, str] | None = None, queries: dict[str, str] | None = None):
    """A run of 4 pairs (pair0000...), some renamed or given other queries, exported with sheets;
    every pair is ann's, the first two bob's too."""
    run = make_run(tmp_path, pairs=4)
    for shard in shard_paths(run):
        set_column(shard, "instruction", queries or {}, "id")
        set_column(shard, "id", ids or {}, "id")
    set_column(run / "decisions.parquet", "item_id", ids or {}, "item_id")
    exported = invoke("export", "fake", "--runs-dir", str(tmp_path), "--batch-size", "4", "--overlap", "0.5",
                      "--annotators", "ann,bob", "--format", "csv")
    assert exported.exit_code == 0, exported.output
    return run


def write(path, text: str, encoding: str = "utf-8", mtime: float | None = None):
    path.write_bytes(text.encode(encoding))
    if mtime is not None:
        os.utime(path, (mtime, mtime))
    return path


def recorded(tmp_path, annotator: str = "ann") -> dict[str, tuple]:
    return {e.pair_id: (e.action, e.reason, e.edited_query, e.source)
            for e in ReviewStore.for_runs(tmp_path).current(run_id="fake", annotator=annotator)}


def import_sheet(tmp_path, path, user: str = "ann"):
    return invoke("import-sheet", "fake", str(path), "--user", user, "--runs-dir", str(tmp_path))


def test_cell_guard_and_id_mark_are_undone_exactly():
    for text in ("=HYPERLINK(\"x\")", "+1 how", "-how", "@SUM(1)", "\tx", "\rx", "'=x", "''+x", "'plain", "plain"):
        assert unguarded(guarded(text)) == text
        assert not guarded(text).startswith(("=", "+", "-", "@", "\t", "\r"))
    assert unguarded("'plain") == "'plain"  # an apostrophe the guard did not write stays
    assert sheet_id(DIGITS) == "id:" + DIGITS and sheet_id("1234e567") == "id:1234e567"
    assert sheet_id("1a05befde0c6b239") == "1a05befde0c6b239"
    assert pair_id_of(" id:" + DIGITS) == DIGITS and pair_id_of("1a05befde0c6b239") == "1a05befde0c6b239"


def test_export_writes_a_sheet_a_spreadsheet_opens_as_meant(tmp_path):
    run = sheet_run(tmp_path, ids={"pair0000": DIGITS}, queries={"pair0001": "=cmd|' /C calc'!A0 how?"})
    sheets = run / "review" / "sheets"
    assert sorted(p.name for p in sheets.glob("*.csv")) == ["fake-b000-ann.csv", "fake-b000-bob.csv"]
    raw = (sheets / "fake-b000-bob.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbfpair_id,category,image,query,image_description,verdict,reason,edited_query,"
                          b"exported_at\r\n")
    lines = raw.decode("utf-8-sig").split("\r\n")
    assert len(lines) == 4 and lines[-1] == ""  # header, bob's two pairs, the final CRLF
    assert ",'=cmd|' /C calc'!A0 how?," in lines[2]
    ann = (sheets / "fake-b000-ann.csv").read_bytes().decode("utf-8-sig")
    assert ann.count("\r\n") == 5 and f"\r\nid:{DIGITS},Violent," in ann  # the header and ann's four pairs
    assert (sheets / "images" / "seed0000.png").is_file() and "import-sheet" in (sheets / "README.txt").read_text()
    assert "Keep the exported_at column" in (sheets / "README.txt").read_text()


def test_an_excel_semicolon_sheet_records_every_typed_verdict_or_names_its_line(tmp_path):
    sheet_run(tmp_path, ids={"pair0000": DIGITS})
    path = write(tmp_path / "ann sheet.csv", "\ufeffsep=;\r\n"
                 " Pair ID ;Category;Verdict ; REASON;Edited Query;;\r\n"  # line 2
                 f"id:{DIGITS};Violent; Accept ;;;;\r\n"                     # line 3: recorded
                 "pair0001;x;REJECT;Still Leaks;;;\r\n"                      # line 4: recorded
                 "pair0002;x;;;\"'-how could one arrange\r\nthese items?\";;\r\n"  # lines 5-6: an edit
                 "pair0003;x;TRUE;;;;\r\n"                                   # line 7: not a verdict
                 "1,23457E+15;x;accept;;;;\r\n"                              # line 8: a mangled id
                 ";;;;;;\r\n;;;;;;\r\n")
    result = import_sheet(tmp_path, path)
    assert result.exit_code == 1
    assert "ann sheet.csv line 7: verdict 'TRUE' is not one of accept, reject, edit, skip: skipped" in result.output
    assert "ann sheet.csv line 8: pair id '1,23457E+15' is no pair of run fake: a spreadsheet turned" in result.output
    assert "3 decisions recorded, 0 already recorded, 0 not reviewed (blank), 2 skipped" in result.output
    source = "sheet:ann sheet.csv"
    assert recorded(tmp_path) == {DIGITS: ("accept", None, None, source),
                                  "pair0001": ("reject", "still_leaks", None, source),
                                  "pair0002": ("edit", None, "-how could one arrange these items?", source)}
    states = import_review(tmp_path / "fake", ReviewStore.for_runs(tmp_path)).set_index("id")["review_state"]
    assert (states[DIGITS], states["pair0001"], states["pair0002"]) == ("accepted", "rejected", "accepted")


def test_a_libreoffice_comma_sheet_without_bom_and_blank_rows(tmp_path):
    sheet_run(tmp_path)
    path = write(tmp_path / "calc.csv", "pair_id,category,image,query,image_description,verdict,reason,edited_query\n"
                 "pair0000,Violent,images/seed0000.png,\"q, with comma\",d,skip,,\n"
                 "pair0001,Violent,images/seed0001.png,q,d,,,\n"
                 "pair0002,Violent,images/seed0002.png,q,d,,,\n")
    result = import_sheet(tmp_path, path)
    assert result.exit_code == 0, result.output
    assert "1 decisions recorded, 0 already recorded, 2 not reviewed (blank), 0 skipped" in result.output
    assert recorded(tmp_path) == {"pair0000": ("skip", None, None, "sheet:calc.csv")}


def test_importing_the_same_sheet_again_records_nothing(tmp_path):
    sheet_run(tmp_path)
    path = write(tmp_path / "s.csv", "pair_id\tverdict\treason\r\npair0000\taccept\t\r\npair0001\treject\tlow_quality\r\n")
    assert import_sheet(tmp_path, path).exit_code == 0
    again = import_sheet(tmp_path, path)
    assert again.exit_code == 0 and "0 decisions recorded, 2 already recorded" in again.output
    assert ReviewStore.for_runs(tmp_path).event_count("fake") == 2


def test_a_decision_made_in_the_app_after_the_sheet_was_saved_stands(tmp_path):
    from pipeline.review.decisions import DecisionIn
    sheet_run(tmp_path)
    store = ReviewStore.for_runs(tmp_path)
    store.record(DecisionIn(batch_id="fake-b000", pair_id="pair0000", action="reject", reason="not_harmful"),
                 annotator="ann", run_id="fake")
    old = write(tmp_path / "old.csv", "pair_id,verdict\npair0000,accept\n", mtime=time.time() - 3600)
    refused = import_sheet(tmp_path, old)
    assert refused.exit_code == 1 and "old.csv line 2: the sheet (saved" in refused.output
    assert "ann's decision on pair pair0000 from web" in refused.output
    assert recorded(tmp_path)["pair0000"][:2] == ("reject", "not_harmful")
    newer = write(tmp_path / "new.csv", "pair_id,verdict\npair0000,accept\n")  # saved after it: it counts
    assert import_sheet(tmp_path, newer).exit_code == 0
    assert recorded(tmp_path)["pair0000"] == ("accept", None, None, "sheet:new.csv")


def test_rows_not_the_annotators_or_repeated_are_named(tmp_path):
    sheet_run(tmp_path)
    path = write(tmp_path / "bob.csv", "pair_id,verdict,reason,edited_query\n"
                 "pair0001,accept,,\npair0000,accept,,\npair0003,reject,,\n"
                 "pair0001,skip,,\npair0003,accept,still_leaks,\n")
    result = import_sheet(tmp_path, path, user="bob")  # bob double-labels pair0003 and pair0001
    assert result.exit_code == 1
    for expected in ("line 2: pair pair0001 is decided on lines 2, 5: keep one row per pair",
                     "line 3: pair pair0000 is not assigned to bob",
                     "line 4: a reject needs a reason", "line 5: pair pair0001 is decided on lines 2, 5",
                     "line 6: a reason beside accept"):
        assert f"bob.csv {expected}" in result.output
    assert recorded(tmp_path, "bob") == {}


def test_files_a_spreadsheet_saved_otherwise_are_one_error_and_record_nothing(tmp_path):
    sheet_run(tmp_path)
    cp1252 = write(tmp_path / "excel.csv", "pair_id;verdict;edited_query\r\npair0002;edit;caf\xe9 items?\r\n",
                   encoding="cp1252")
    result = import_sheet(tmp_path, cp1252)
    assert result.exit_code == 2 and "excel.csv is not UTF-8 text (line 2" in result.output
    assert "save it as CSV UTF-8" in result.output and result.output.count("\n") == 1
    workbook = tmp_path / "sheet.xlsx"
    workbook.write_bytes(b"PK\x03\x04rest of a zip")
    result = import_sheet(tmp_path, workbook)
    assert result.exit_code == 2 and ("sheet.xlsx is an OpenDocument spreadsheet (.ods) or another zip file, not a CSV "
                                      "or .xlsx sheet: save it as CSV UTF-8 or as an Excel workbook") in result.output
    other = write(tmp_path / "other.csv", "pair_id,verdict\nabc123,accept\n")
    result = import_sheet(tmp_path, other)
    assert result.exit_code == 2 and "names a pair of run fake (another run's sheet?)" in result.output
    headless = write(tmp_path / "h.csv", "id;decision\npair0000;accept\n")
    assert import_sheet(tmp_path, headless).exit_code == 2
    assert ReviewStore.for_runs(tmp_path).event_count("fake") == 0


def test_a_flagged_edit_is_named_and_not_recorded(tmp_path, monkeypatch):
    sheet_run(tmp_path)
    monkeypatch.setattr(EditScorer, "check", lambda self, item, query: EditCheck(
        score=0.9, threshold=0.5, spans=("knife",), detector_version="test", harm_verdict="keep", harm_reason="ok",
        intent_similarity=0.9, problems=("leaks: score 0.900 >= threshold 0.500",)))
    path = write(tmp_path / "s.csv", "pair_id,verdict,edited_query\npair0000,accept,hide the knife\n")
    result = import_sheet(tmp_path, path)
    assert result.exit_code == 1 and "s.csv line 2: the edit fails its check (leaks: score 0.900" in result.output
    assert recorded(tmp_path) == {}


def test_review_import_names_verdicts_typed_into_items_jsonl(tmp_path):
    run = sheet_run(tmp_path)
    items = run / "review" / "batches" / "fake-b000" / "items.jsonl"
    result = invoke("import", "fake", "--runs-dir", str(tmp_path))
    assert result.exit_code == 0 and "warning" not in result.output
    items.write_text(items.read_text().replace('{"pair_id"', '{"verdict": "accept", "pair_id"', 1))
    result = invoke("import", "fake", "--runs-dir", str(tmp_path))
    assert result.exit_code == 0
    (warning,) = [line for line in result.output.splitlines() if line.startswith("warning:")]
    assert "items.jsonl of fake-b000 holds verdict, which leakless does not read back" in warning
    assert "review import-sheet RUN FILE --user NAME" in warning


def test_labelstudio_import_names_import_sheet_for_a_sheet(tmp_path):
    sheet_run(tmp_path)
    path = write(tmp_path / "s.csv", "\ufeffPair ID;Verdict;Reason\r\npair0000;accept;\r\n")
    result = invoke("labelstudio-import", "fake", str(path), "--runs-dir", str(tmp_path))
    assert result.exit_code == 2 and "this is a review sheet (CSV)" in result.output
    assert "leakless review import-sheet RUN FILE --user NAME" in result.output
    labelstudio_csv = write(tmp_path / "ls.csv", "annotation_id,annotator,batch_id,pair_id,query,verdict\n2,3,b,p,q,accept\n")
    result = invoke("labelstudio-import", "fake", str(labelstudio_csv), "--runs-dir", str(tmp_path))
    assert result.exit_code == 2 and "this is Label Studio's CSV export: export the project as JSON" in result.output


def test_the_exported_sheet_filled_and_saved_as_calc_csv_semicolon_comes_back(tmp_path):
    import csv
    import io
    run = sheet_run(tmp_path, ids={"pair0000": DIGITS}, queries={"pair0001": "-how to arrange these?"})
    exported = (run / "review" / "sheets" / "fake-b000-ann.csv").read_bytes().decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(exported, newline="")))
    verdicts = {"pair0003": ("Skip", "", ""), "pair0001": ("", "", rows[2][3]),  # the guarded query, as an edit
                "pair0002": (" reject ", "low quality", ""), "id:" + DIGITS: ("ACCEPT", "", "")}
    for row in rows[1:]:
        row[5:8] = verdicts[row[0]]
    rows.append(["123456789012345", "", "", "", "", "accept", "", ""])  # an id a spreadsheet shortened
    saved = io.StringIO(newline="")
    csv.writer(saved, delimiter=";", lineterminator="\r\n").writerows(rows)
    path = write(tmp_path / "fake-b000-ann.csv", saved.getvalue())
    result = import_sheet(tmp_path, path)
    assert result.exit_code == 1
    assert "line 6: pair id '123456789012345' is no pair of run fake: a spreadsheet turned the id into a number" \
        in result.output
    assert "4 decisions recorded" in result.output
    assert {pair: decision[:3] for pair, decision in recorded(tmp_path).items()} == {
        "pair0003": ("skip", None, None), "pair0001": ("edit", None, "-how to arrange these?"),
        "pair0002": ("reject", "low_quality", None), DIGITS: ("accept", None, None)}
