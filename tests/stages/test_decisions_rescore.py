"""A leak decision can be rescored from decisions.parquet alone, and names who wrote the text it judged.

A dropped pair's image description was in no documented file (the shard holds accepted pairs only),
and every row's `prompt_hash` was empty with nothing to say which rewriter wrote the judged query."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pipeline.backends.minilm import default_embedder
from pipeline.backends.offline_text import RulesRewriter
from pipeline.backends.template_seeds import TemplateSeedWriter
from pipeline.batch import Batch
from pipeline.detect.detector import LeakInput
from pipeline.factory import default_detector
from pipeline.records import Seed
from pipeline.stages.drafts import DraftStage
from pipeline.stages.harm_check import HarmCheckStage
from pipeline.stages.leak_filter import LeakFilterStage
from pipeline.stages.rewrite import RewriteStage
from pipeline.taxonomy import load_elements
from pipeline.writers.tables import decisions_frame, write_frame

STRICT = 0.05  # drops and retries many pairs, so every kind of leak row is written


@pytest.fixture(scope="module")
def written(tmp_path_factory) -> tuple[pd.DataFrame, Batch]:
    picked = {}
    for element in load_elements():
        picked.setdefault(element.sub_category, element)
    seeds = [Seed(category=e.category, sub_category=e.sub_category, element=e) for e in list(picked.values())[:4]]
    leak_filter = LeakFilterStage(default_detector(), threshold=STRICT)
    batch = DraftStage(TemplateSeedWriter())(Batch(seeds=seeds))
    batch = RewriteStage(RulesRewriter(), leak_filter, max_attempts=3)(batch)
    batch = HarmCheckStage(default_embedder(), min_intent_similarity=0.35)(leak_filter(batch))
    path = tmp_path_factory.mktemp("run") / "decisions.parquet"
    write_frame(decisions_frame(batch.decisions, "r1"), path)
    return pd.read_parquet(path), batch


def test_every_leak_decision_rescores_from_its_row(written):
    frame, _ = written
    leak = frame[frame["stage"].isin(["leak_filter", "rewrite"])]
    assert {"leak_filter", "rewrite"} <= set(leak["stage"]) and (leak["verdict"] == "drop").any()
    assert (leak["image_description"] != "").all() and leak["element_terms"].map(len).gt(0).all()
    rescored = default_detector().score([
        LeakInput(query=row.text, image_description=row.image_description, element_terms=tuple(row.element_terms))
        for row in leak.itertuples()])
    # within a batch's float32 noise (a score does not depend on its batch beyond it)
    assert np.allclose([s.score for s in rescored], leak["score"], rtol=0, atol=1e-6)


def test_the_terms_and_description_are_the_seed_s(written):
    frame, batch = written
    seeds = {seed.id: seed.element for seed in batch.seeds}
    descriptions = {draft.seed_id: draft.image_description for draft in batch.drafts}
    judged = frame[frame["stage"].isin(["leak_filter", "rewrite", "harm_check"])]
    # the detector reads every term; the harm check holds the description to the name and synonyms
    given = [list(seeds[row.seed_id].own_terms if row.stage == "harm_check" else seeds[row.seed_id].terms)
             for row in judged.itertuples()]
    assert [list(t) for t in judged["element_terms"]] == given
    assert list(judged["image_description"]) == [descriptions[seed] for seed in judged["seed_id"]]


def test_a_leak_row_names_the_rewriter_that_wrote_its_text(written):
    frame, _ = written
    rewriter = RulesRewriter()
    judged = frame[frame["stage"].isin(["leak_filter", "rewrite", "harm_check"])]
    assert (judged["text_backend"] == rewriter.backend).all()
    assert (judged["text_prompt_hash"] == rewriter.prompt_hash).all() and rewriter.prompt_hash
    assert (judged["text_model"] == "").all()
    # the offline detector reads no prompt: its lexicon, calibration and library are in detector_version
    assert (judged.loc[judged["stage"] != "harm_check", "prompt_hash"] == "").all()
