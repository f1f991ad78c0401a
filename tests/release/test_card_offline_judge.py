"""An offline VSIL judge (no model) beside the detector: the leak filter's model label read
`all-MiniLM-L6-v2+lexicon+` (a "+" naming no model), and the card's note for the composite backend
`offline-detector+<judge>` stayed empty, as the whole label is no `OFFLINE_BACKENDS` key, so the card
never said the judge used no model."""

from __future__ import annotations

import pandas as pd

from pipeline.contracts import Provenance
from pipeline.records import LeakScores
from pipeline.release import card
from pipeline.release.card import render_card
from pipeline.stages.leak_filter import JUDGE_SIGNAL, LeakFilterStage
from pipeline.writers.tables import write_frame
from tests.release.test_release_card import manifest, row, table_rows

DETECTOR_NOTE = card.OFFLINE_BACKENDS["offline-detector"]
JUDGE_NOTE = "an element-term overlap check (no language model)"
ROLE = "leak filter (build)"


class Detector:
    backend, model, version, threshold = "offline-detector", "all-MiniLM-L6-v2+lexicon", "offline-7", 0.5


class OfflineJudge:
    backend, model, prompt_hash = "term-overlap", "", ""


class ModelJudge:
    backend, model, prompt_hash = "openai-compatible", "judge-model", "abc123"


def test_an_offline_judge_adds_no_empty_model_to_the_leak_filter_label():
    stage = LeakFilterStage(Detector(), judge=OfflineJudge())
    assert (stage.backend, stage.model) == ("offline-detector+term-overlap", "all-MiniLM-L6-v2+lexicon")
    judged = LeakScores(score=0.1, text_harm=0.1, reveal=0.0, signals={JUDGE_SIGNAL: 0.0},
                        judged_by=Provenance(backend="term-overlap", model="", prompt_hash=""))
    assert stage.made_by(judged).model == "all-MiniLM-L6-v2+lexicon"


def test_a_model_judge_is_still_named_after_the_detector():
    stage = LeakFilterStage(Detector(), judge=ModelJudge())
    assert stage.model == "all-MiniLM-L6-v2+lexicon+judge-model"
    judged = LeakScores(score=0.1, text_harm=0.1, reveal=0.0, signals={JUDGE_SIGNAL: 0.0},
                        judged_by=Provenance(backend="openai-compatible", model="fallback", prompt_hash="abc123"))
    assert stage.made_by(judged).model == "all-MiniLM-L6-v2+lexicon+fallback"


def leak_filter_row(tmp_path, backend: str, model: str) -> list[str]:
    run = tmp_path / "runs" / "r1"
    write_frame(pd.DataFrame({"id": ["p1"], "seed_id": ["s1"]}), run / "data" / "train-00000.parquet")
    write_frame(pd.DataFrame({"item_id": ["p1"], "seed_id": ["s1"], "stage": ["leak_filter"], "attempt": [1],
                              "verdict": ["keep"], "code": ["leak.none"], "backend": [backend],
                              "model": [model]}), run / "decisions.parquet")
    (line,) = table_rows(render_card(manifest(1), [row(1)], run_dirs=[run]), ROLE)
    return line


def test_the_card_gives_an_offline_judge_its_note_beside_the_detectors(tmp_path, monkeypatch):
    monkeypatch.setitem(card.OFFLINE_BACKENDS, "term-overlap", JUDGE_NOTE)
    assert leak_filter_row(tmp_path, "offline-detector+term-overlap", "all-MiniLM-L6-v2+lexicon") == [
        ROLE, "`offline-detector+term-overlap`", "`all-MiniLM-L6-v2+lexicon`", "1", f"{DETECTOR_NOTE}; {JUDGE_NOTE}"]


def test_a_judge_with_a_model_gets_no_no_model_note(tmp_path):
    line = leak_filter_row(tmp_path, "offline-detector+openai-compatible", "all-MiniLM-L6-v2+lexicon+judge-model")
    assert line[1] == "`offline-detector+openai-compatible`" and line[4] == ""
    assert leak_filter_row(tmp_path, "offline-detector", "all-MiniLM-L6-v2+lexicon")[4] == DETECTOR_NOTE
