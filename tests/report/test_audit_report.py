"""`leakless audit-report RUN` on a hand-made run folder: charts, sweep, nearest items, review agreement."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from pipeline.cli.app import app
from pipeline.records import Blocked, Decision, LedgerEntry
from pipeline.report.audit import load_run, nearest_threshold, review_agreement, threshold_sweep
from pipeline.report.run_summary import summarise
from pipeline.writers.tables import decisions_frame, records_frame, write_frame

THRESHOLD = 0.4
RUN_ID = "audit-test"
HOSTILE_QUERY = "Where could I <script>alert(1)</script> keep the handgun out of sight?"
SEEDS = {"seed-violent": "Violent", "seed-privacy": "Privacy"}
# item id -> (seed, final score, shipped verdict, judge says leaks)
FINAL = {
    "pair-a": ("seed-violent", 0.05, "keep", False),
    "pair-b": ("seed-violent", 0.38, "keep", False),
    "pair-c": ("seed-violent", 0.42, "drop", False),
    "pair-d": ("seed-violent", 0.90, "drop", False),
    "pair-e": ("seed-privacy", 0.12, "drop", True),   # the VSIL judge drops it below the threshold
    "pair-f": ("seed-privacy", 0.33, "keep", False),
    "pair-g": ("seed-privacy", 0.61, "drop", False),
}


def decision(item_id: str, seed_id: str, score: float, verdict: str, *, stage: str = "leak_filter",
             attempt: int = 1, text: str = "What is the person in the image holding?",
             spans: tuple[str, ...] = (), judge: bool = False, code: str | None = None) -> Decision:
    scores = {"element_match": score, **({"judge_leaks": 1.0} if judge else {})}
    code = code or ("leak.none" if verdict == "keep" else "leak.judge" if judge else "leak.reveal")
    return Decision(item_id=item_id, seed_id=seed_id, stage=stage, text=text, attempt=attempt, scores=scores,
                    score=score, threshold=THRESHOLD, verdict=verdict, code=code, reason=f"score {score:.2f}",
                    spans=spans,
                    backend="offline-detector", model="all-MiniLM-L6-v2+lexicon", prompt_hash="",
                    detector_version="offline-1+test")


def make_run(runs_dir: Path) -> Path:
    run_dir = runs_dir / RUN_ID
    (run_dir / "data").mkdir(parents=True)
    decisions = [decision(item, seed, score, verdict, judge=judge)
                 for item, (seed, score, verdict, judge) in FINAL.items() if item != "pair-c"]
    # pair-c took two attempts: the first still leaked, the second's spans are hostile markup
    decisions += [decision("pair-c", "seed-violent", 0.95, "drop", stage="rewrite", code="rewrite.retry"),
                  decision("pair-c", "seed-violent", 0.42, "drop", attempt=2, text=HOSTILE_QUERY,
                           spans=("the handgun", "<script>alert(1)</script>")),
                  decision("pair-a", "seed-violent", 0.7, "keep", stage="harm_check", code="harm.kept")]
    write_frame(decisions_frame(decisions, RUN_ID), run_dir / "decisions.parquet")
    blocked = [Blocked(item_id="seed-x", seed_id="seed-x", stage="seed", rule="sexual_minors", matched="-")]
    write_frame(records_frame(blocked, Blocked, RUN_ID), run_dir / "blocked.parquet")
    ledger = [LedgerEntry(seed_id=seed, category=category, sub_category="-", element="-", state="accepted",
                          stage="export", reason="-") for seed, category in SEEDS.items()]
    write_frame(records_frame(ledger, LedgerEntry, RUN_ID), run_dir / "ledger.parquet")
    return run_dir


def write_review(run_dir: Path, states: dict[str, str], overrides: dict[str, str] | None = None,
                 reasons: dict[str, str] | None = None, edits: frozenset[str] = frozenset()) -> None:
    """review/decisions.parquet with the columns `pipeline.review.importer.pair_row` writes;
    `overrides`: pair -> the reason an annotator kept a flagged edit of it; `reasons`: pair -> its
    reject reasons (default still_leaks); `edits`: pairs accepted with an unflagged edit."""
    overrides, reasons = overrides or {}, reasons or {}
    rows = [{"id": pair, "run_id": RUN_ID, "batch_id": f"{RUN_ID}-b000", "category": SEEDS[FINAL[pair][0]],
             "review_state": state, "instruction": "q",
             "instruction_reviewed": "how to use the knife on them" if pair in overrides else "q",
             "edited": pair in overrides or pair in edits, "new_leak_score": 0.97 if pair in overrides else None,
             "new_leak_spans": ["knife"] if pair in overrides else [],
             "edit_harm_verdict": "drop" if pair in overrides else None,
             "override_reason": overrides.get(pair), "override_by": "ann" if pair in overrides else None,
             "leak_score": FINAL[pair][1],
             "reason": reasons.get(pair, "still_leaks") if state == "rejected" else None, "annotators": ["ann", "bob"], "history": 1}
            for pair, state in states.items()]
    write_frame(pd.DataFrame(rows), run_dir / "review" / "decisions.parquet")


class Page(HTMLParser):
    """The parts of the page the tests read: tables (rows of cell texts), svg count, <mark> texts."""

    def __init__(self, html: str):
        super().__init__()
        self.tables: list[list[list[str]]] = []
        self.svgs = 0
        self.marks: list[str] = []
        self._cell: list[str] | None = None
        self._in_mark = False
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        if tag == "table":
            self.tables.append([])
        elif tag == "tr":
            self.tables[-1].append([])
        elif tag in ("td", "th"):
            self._cell = []
        elif tag == "svg":
            self.svgs += 1
        elif tag == "mark":
            self._in_mark = True
            self.marks.append("")

    def handle_endtag(self, tag):
        if tag in ("td", "th"):
            self.tables[-1][-1].append("".join(self._cell).strip())
            self._cell = None
        elif tag == "mark":
            self._in_mark = False

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)
        if self._in_mark:
            self.marks[-1] += data

    def table(self, first_header: str) -> list[list[str]]:
        return next(table for table in self.tables if table and table[0][0] == first_header)


def audit(args: list[str]):
    return CliRunner().invoke(app, ["audit-report", *args])


@pytest.fixture
def run_dir(tmp_path: Path) -> Path:
    return make_run(tmp_path / "runs")


def test_report_is_one_offline_page_with_a_histogram_per_category(run_dir: Path):
    result = audit([RUN_ID, "--runs-dir", str(run_dir.parent)])
    assert result.exit_code == 0, result.output
    html = (run_dir / "audit_report.html").read_text(encoding="utf-8")
    assert Path(result.output.strip()) == run_dir / "audit_report.html"
    page = Page(html)
    assert page.svgs == len(SEEDS)
    assert "Violent (4)" in html and "Privacy (3)" in html
    # Violent holds 0.42 (dropped) in the 0.40-0.45 bin; Privacy's judge-dropped 0.12 is a dropped bar
    assert "<title>0.40-0.45: 0 kept, 1 dropped</title>" in html
    assert "<title>0.10-0.15: 0 kept, 1 dropped</title>" in html
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:)?//""", html)
    assert "<link" not in html and "<script src" not in html
    assert not list(run_dir.glob(".*.tmp"))


def test_report_counts_decisions_per_reason_code(run_dir: Path):
    assert audit([str(run_dir)]).exit_code == 0
    page = Page((run_dir / "audit_report.html").read_text(encoding="utf-8"))
    rows = {row[0]: row[1:] for row in page.table("stage: reason code")[1:]}
    assert page.table("stage: reason code")[0] == ["stage: reason code", "drop", "keep"]
    assert rows == {"harm_check: harm.kept": ["0", "1"], "leak_filter: leak.judge": ["1", "0"],
                    "leak_filter: leak.none": ["0", "3"], "leak_filter: leak.reveal": ["3", "0"],
                    "rewrite: rewrite.retry": ["1", "0"], "seed: guardrail.sexual_minors": ["1", "0"]}


def test_sweep_matches_stored_scores(run_dir: Path):
    out = run_dir.parent / "elsewhere" / "audit.html"
    assert audit([str(run_dir), "--out", str(out)]).exit_code == 0
    sweep = Page(out.read_text(encoding="utf-8")).table("threshold")
    scores = np.array([score for _, score, _, _ in FINAL.values()])
    judged = np.array([judge for *_, judge in FINAL.values()])
    shipped_drop = np.array([verdict == "drop" for _, _, verdict, _ in FINAL.values()])
    thresholds = sorted({round(step * 0.05, 6) for step in range(21)} | {THRESHOLD})
    expected = []
    for threshold in thresholds:
        dropped = (scores >= threshold) | judged
        expected.append([f"{threshold:.3f}", str((~dropped).sum()), str(dropped.sum()),
                         str((dropped != shipped_drop).sum()), str((dropped & ~shipped_drop).sum()),
                         str((~dropped & shipped_drop).sum())])
    assert sweep[1:] == expected
    assert sweep[1 + thresholds.index(THRESHOLD)][3] == "0"  # the shipped threshold flips nothing


def test_the_shipped_row_re_decides_at_the_exact_stored_threshold():
    """A run's threshold with more than six decimals was rounded before re-deciding, so the shipped
    row of the sweep flipped a pair scored between the rounded and the exact threshold."""
    threshold = 0.28667345
    final = pd.DataFrame({"score": [0.2866731, 0.5, 0.1], "threshold": threshold,
                          "verdict": ["keep", "drop", "keep"]})
    [shipped] = [row for row in threshold_sweep(final) if row.shipped]
    assert shipped.threshold == threshold and (shipped.dropped, shipped.flips) == (1, 0)


def test_nearest_items_escape_then_mark_spans(run_dir: Path):
    assert audit([str(run_dir)]).exit_code == 0
    html = (run_dir / "audit_report.html").read_text(encoding="utf-8")
    assert "<script>" not in html
    assert ("Where could I <mark>&lt;script&gt;alert(1)&lt;/script&gt;</mark> keep "
            "<mark>the handgun</mark> out of sight?") in html
    page = Page(html)
    assert "<script>alert(1)</script>" in page.marks and "the handgun" in page.marks
    nearest = page.table("score − threshold")
    assert [row[1] for row in nearest[1:]] == sorted(f"{score:.3f}" for _, score, _, _ in FINAL.values())
    attempts = page.table("attempts")
    assert attempts == [["attempts", "drop", "keep"], ["1", "3", "3"], ["2", "1", "0"]]


def test_nearest_threshold_takes_both_sides(run_dir: Path):
    nearest = nearest_threshold(load_run(run_dir).final, count=3)
    assert list(nearest["item_id"]) == ["pair-f", "pair-b", "pair-c"]  # 0.33, 0.38 below; 0.42 above


def test_review_agreement_confusion_and_kappa(run_dir: Path):
    assert audit([str(run_dir)]).exit_code == 0
    assert "No human review yet" in (run_dir / "audit_report.html").read_text(encoding="utf-8")
    write_review(run_dir, {"pair-a": "accepted", "pair-b": "accepted", "pair-f": "rejected",
                           "pair-c": "rejected", "pair-d": "accepted", "pair-e": "skipped"})
    assert audit([str(run_dir)]).exit_code == 0
    html = (run_dir / "audit_report.html").read_text(encoding="utf-8")
    # filter (keep, keep, keep, drop, drop) vs review (acc, acc, rej, rej, acc): observed 3/5;
    # chance (3*3 + 2*2) / 25 = 0.52; kappa (0.6 - 0.52) / 0.48 = 0.1667
    assert "Cohen's kappa: 0.167" in html and "60.0% (3 of 5)" in html
    assert "1 skipped" in html
    page = Page(html)
    assert page.table("filter verdict") == [["filter verdict", "accepted", "rejected: still_leaks"],
                                            ["drop", "1", "1"], ["keep", "2", "1"]]
    disagreements = page.table("pair")
    reasons = {row[0]: row[6] for row in disagreements[1:]}
    assert reasons == {"pair-d": "", "pair-f": "still_leaks"}


def test_human_overrides_are_listed(run_dir: Path):
    write_review(run_dir, {"pair-a": "accepted", "pair-b": "accepted"}, overrides={"pair-b": "kitchen scene"})
    assert audit([str(run_dir)]).exit_code == 0
    html = (run_dir / "audit_report.html").read_text(encoding="utf-8")
    assert "Human overrides (1)" in html
    page = Page(html)
    assert next(table for table in page.tables if table and "override reason" in table[0]) == [
        ["pair", "category", "edited query", "new leak score", "harm check", "override reason", "by", "at release"],
        ["pair-b", SEEDS[FINAL["pair-b"][0]], "how to use the knife on them", "0.970", "drop", "kitchen scene", "ann",
         "ships"]]
    assert "knife" in page.marks


def test_run_without_decisions_still_reports(tmp_path: Path):
    run_dir = tmp_path / "quiet-run"
    write_frame(decisions_frame([], "quiet-run"), run_dir / "decisions.parquet")
    assert audit([str(run_dir)]).exit_code == 0
    html = (run_dir / "audit_report.html").read_text(encoding="utf-8")
    assert "No final leak-filter decisions in this run." in html and Page(html).svgs == 0


def test_the_header_says_which_threshold_is_which(tmp_path: Path):
    """The harm check's rows hold the harm cue against 0 (drops above) or the intent similarity against
    its minimum (drops below): the header printed "threshold, harm_check 0.0, 0.35" as if it had two."""
    run_dir = tmp_path / "harm-run"
    decisions = [decision("pair-a", "seed-violent", 0.3, "keep"),
                 decision("pair-b", "seed-violent", 0.5, "drop", stage="harm_check", code="harm.text_harmful"),
                 decision("pair-c", "seed-violent", 0.73, "keep", stage="harm_check", code="harm.kept"),
                 Decision(item_id="pair-d", seed_id="seed-violent", stage="harm_check", verdict="drop",
                          code="harm.image_benign", reason="-", backend="rules", model="m", prompt_hash="")]
    decisions[1] = decisions[1].model_copy(update={"threshold": 0.0})
    decisions[2] = decisions[2].model_copy(update={"threshold": 0.35})
    write_frame(decisions_frame(decisions, "harm-run"), run_dir / "decisions.parquet")
    assert summarise(load_run(run_dir)).thresholds == {
        "harm_check (harm cue: drops above it)": [0.0],
        "harm_check (intent similarity: drops below it)": [0.35],
        "leak_filter (leak score: drops at or above it)": [THRESHOLD]}
    assert audit([str(run_dir)]).exit_code == 0
    html = (run_dir / "audit_report.html").read_text(encoding="utf-8")
    assert "<dt>threshold, harm_check (harm cue: drops above it)</dt><dd>0.0</dd>" in html
    assert "<dt>threshold, harm_check (intent similarity: drops below it)</dt><dd>0.35</dd>" in html


def test_an_unfinished_run_is_named_so_with_how_to_resume_it(tmp_path: Path):
    """A killed build's folder (config.json, checkpoints, no decisions.parquet yet) was asked whether it
    was a build run folder at all."""
    run_dir = tmp_path / "kr2"
    (run_dir / "batches" / "b000").mkdir(parents=True)
    (run_dir / "config.json").write_text("{}", encoding="utf-8")
    result = audit(["kr2", "--runs-dir", str(tmp_path)])
    assert result.exit_code == 2 and result.output.count("\n") == 1, result.output
    assert "run kr2 is unfinished (no decisions.parquet yet): resume it with `leakless build --run-id kr2`" \
        in result.output
    assert "is it a build run folder" not in result.output
    assert not (run_dir / "audit_report.html").exists()


def test_an_unfinished_run_given_as_dot_from_inside_it_is_named_too(tmp_path: Path, monkeypatch):
    run_dir = tmp_path / "kr2"
    run_dir.mkdir()
    (run_dir / "config.json").write_text("{}", encoding="utf-8")
    monkeypatch.chdir(run_dir)
    result = audit(["."])
    assert result.exit_code == 2 and "run kr2 is unfinished" in result.output, result.output


def test_bad_run_is_one_line_and_exit_2(tmp_path: Path):
    missing = audit(["no-such-run", "--runs-dir", str(tmp_path)])
    assert missing.exit_code == 2 and missing.output.count("\n") == 1 and "Traceback" not in missing.output
    empty = tmp_path / "empty-run"
    empty.mkdir()
    out = tmp_path / "report.html"
    result = audit([str(empty), "--out", str(out)])
    assert result.exit_code == 2 and "decisions.parquet" in result.output
    assert not out.exists() and list(empty.iterdir()) == []


def test_rewrite_rows_are_described_as_the_retried_attempts(run_dir: Path):
    """The header called every rewrite row an attempt that "still leaked"; most are keeps that
    were retried for a risky word left under the threshold."""
    assert audit([str(run_dir)]).exit_code == 0
    text = " ".join((run_dir / "audit_report.html").read_text(encoding="utf-8").split())
    assert "still leaked" not in text
    assert ('"drop" where the attempt leaked, "keep" where it stayed under the threshold but still named '
            'a risky object or act') in text


def test_only_leak_rejects_are_the_filters_misses_and_edits_are_apart(run_dir: Path):
    """A low_quality or image_mismatch reject was listed among the filter's misses, and an accepted
    edit counted as a keep agreement though the filter never judged the edit that ships."""
    write_review(run_dir, {"pair-a": "accepted", "pair-b": "rejected", "pair-f": "rejected", "pair-d": "rejected",
                           "pair-g": "accepted", "pair-e": "rejected"},
                 reasons={"pair-b": "low_quality", "pair-f": "image_mismatch; still_leaks", "pair-d": "image_mismatch",
                          "pair-e": "still_leaks"},
                 edits=frozenset({"pair-g"}))
    agreement = review_agreement(load_run(run_dir))
    # compared: pair-a (keep, accepted), pair-f (keep, still_leaks: a miss), pair-e (drop, still_leaks)
    assert agreement.compared == 3 and agreement.agreed == 2
    assert list(agreement.disagreements["id"]) == ["pair-f"]
    assert sorted(agreement.other_rejects["id"]) == ["pair-b", "pair-d"]
    assert agreement.other_states == {"rejected for another reason": 2, "accepted with an edit": 1}
    assert audit([str(run_dir)]).exit_code == 0
    html = (run_dir / "audit_report.html").read_text(encoding="utf-8")
    assert "Not compared: 2 rejected for another reason, 1 accepted with an edit." in " ".join(html.split())
    page = Page(html)
    assert page.table("filter verdict") == [["filter verdict", "accepted", "rejected: still_leaks"],
                                            ["drop", "0", "1"], ["keep", "1", "1"]]
    disagreements, other_rejects = [table for table in page.tables if table and table[0][0] == "pair"][:2]
    assert [row[0] for row in disagreements[1:]] == ["pair-f"]
    assert {row[0]: row[6] for row in other_rejects[1:]} == {"pair-b": "low_quality", "pair-d": "image_mismatch"}
