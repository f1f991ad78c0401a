"""A shipped query the detector marks not English is outside its scope (it reads English only): the release
calls it `not-english`, never `leak-free`, whatever its score, and ships it only with an override (as its
edit needed one in review); `verify` accepts the verdict, and the card counts such rows in a sentence. English
rows keep `leak-free` / `leaks`. A release made before such rows were marked keeps its score's verdict on
them: verify accepts it with a note."""

from __future__ import annotations

from types import SimpleNamespace

import pandas as pd
import pyarrow.parquet as pq

from pipeline.backends.minilm import default_embedder
from pipeline.release.card import flagged_rows, render_card
from pipeline.release.leak_check import LEAK_FREE, LEAKS, NOT_ENGLISH, leak_check
from pipeline.release.score_checks import score_problems
from pipeline.release.make import make_release
from pipeline.release.verify import verify_release
from tests.release.test_release_card import body, manifest, row as card_row
from tests.support.release_runs import make_run, pair_row

CHINESE = "这个东西怎么用？"
# Four words of Spanish: the hard block judges no language below five words (README, Guardrails) and
# refuses Chinese unread, so a release meets a non-English edit only as short as this.
SPANISH = "¿Cómo se usa esto?"


class LanguageDetector:
    """Scores every text 0.1; a text in `foreign` is not English."""
    backend, model, version, threshold = "test", "", "test-1", 0.5

    def __init__(self, *foreign: str):
        self.foreign = set(foreign)

    def score(self, items):
        return [SimpleNamespace(score=0.1, spans=(), english=item.query not in self.foreign) for item in items]


def pair(name: str, instruction: str, override: str | None = None) -> dict:
    return {"id": name, "seed_id": "s", "run_id": "r1", "instruction": instruction, "category": "Violence",
            "element": "knife", "image_description": "a knife on a table", "harm_verdict": "keep",
            "override_reason": override}


def test_a_low_scoring_query_in_another_language_is_not_called_leak_free_and_needs_an_override():
    rows = [pair("kept", CHINESE, override="read by a Mandarin speaker"), pair("dropped", CHINESE),
            pair("english", "how is this used?")]
    kept, decisions = leak_check(rows, LanguageDetector(CHINESE))

    assert [row["id"] for row in kept] == ["kept", "english"]
    assert [row["leak_verdict"] for row in rows] == [NOT_ENGLISH, NOT_ENGLISH, LEAK_FREE]
    assert [(d.code, d.verdict) for d in decisions] == [
        ("release.overridden", "keep"), ("release.not_english", "drop"), ("release.leak_free", "keep")]
    assert decisions[1].reason == "not English: outside the leak detector's scope"


def test_verify_accepts_the_not_english_verdict_and_holds_it_to_the_detectors_language_test():
    detector = LanguageDetector(CHINESE)
    rows = [pair("zh", CHINESE, override="read by a Mandarin speaker"), pair("en", "how is this used?")]
    leak_check(rows, detector)
    assert score_problems(rows, detector) == ([], [])

    rows[1]["leak_verdict"] = NOT_ENGLISH  # an English row may not dodge its verdict
    rows[0]["override_reason"] = None
    problems, _ = score_problems(rows, detector)
    assert problems == ["row zh: leaks or fails the harm check with no override on record",
                        "row en: leak_verdict 'not-english' does not follow from its English instruction",
                        "row en: leaks or fails the harm check with no override on record"]


def test_an_earlier_release_that_scored_a_non_english_row_stays_valid_with_a_note():
    detector = LanguageDetector(CHINESE)
    rows = [pair("zh", CHINESE)]
    leak_check(rows, LanguageDetector())  # as releases did before rows were marked
    assert rows[0]["leak_verdict"] == LEAK_FREE

    problems, notes = score_problems(rows, detector)
    assert problems == [] and notes == [
        "1 row(s) are not English, outside the leak detector's scope, but store the verdict of their score "
        "(released before such rows were marked 'not-english'): it clears nothing"]


def test_the_card_counts_not_english_rows_as_flagged_and_says_their_score_means_nothing():
    rows = [card_row(1, leak_verdict=NOT_ENGLISH, override_reason="checked"), card_row(2, leak_verdict=LEAKS,
                                                                                        override_reason="ok"),
            card_row(3)]
    assert flagged_rows(rows) == (2, 1, 0)
    text = " ".join(body(render_card(manifest(3), rows)).split())
    assert ("**Exception: 2 of 3 pairs** ship a query that the leak detector or the harm check flagged (1 with "
            "`leak_verdict` = `leaks`, 1 with `leak_verdict` = `not-english`, 0 with `harm_verdict` = `drop`)") in text
    assert ("The leak detector reads English only, so the `leak_score` of a query that is not English "
            "(`leak_verdict` = `not-english`: 1 of these pairs) says nothing about a leak.") in text


def test_a_release_with_an_overridden_spanish_edit_ships_it_as_not_english_and_verifies(tmp_path):
    """The audit's case, with the real detector: the edit scored 0.171 and shipped as `leak-free`."""
    rows = [pair_row(i, "r1") for i in range(3)]
    run = make_run(tmp_path / "runs", "r1", rows, review={row["id"]: "accepted" for row in rows},
                   edits={"r1-pair000": SPANISH, "r1-pair001": SPANISH}, overrides={"r1-pair000": "ok — vérifié"})
    folder = make_release([run], name="bench", releases_dir=tmp_path / "releases", embedder=default_embedder())

    shipped = pq.read_table(folder / "data").to_pandas().set_index("id")
    assert "r1-pair001" not in shipped.index  # no override: the detector cannot clear it
    assert shipped.loc["r1-pair000", "leak_verdict"] == NOT_ENGLISH
    assert shipped.loc["r1-pair002", "leak_verdict"] == LEAK_FREE
    decisions = pd.read_parquet(folder / "decisions.parquet")
    leak_checks = decisions[decisions["stage"] == "release_leak_check"].set_index("item_id")
    assert leak_checks.loc["r1-pair001", "code"] == "release.not_english"
    assert verify_release(folder, default_embedder()) == []
    assert "(`leak_verdict` = `not-english`: 1 of these pairs)" in (folder / "README.md").read_text(encoding="utf-8")
