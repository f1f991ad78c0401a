"""Release code the suite let change unseen (mutation round 7): verify's index checks, the card's
selection note and release-check lines, the release decisions' provenance columns."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.parquet as pq

from pipeline.release.verify import index_problems
from pipeline.release.writer import INDEX_FILE


def test_an_index_with_no_instruction_agrees_with_a_row_whose_instruction_is_empty(tmp_path):
    # verify reads a shard row's null instruction as "" (`row["instruction"] or ""`); the index keeps it null
    pq.write_table(pa.table({"id": ["a"], "phash": pa.array([1], pa.uint64()), "dhash": pa.array([2], pa.uint64()),
                             "instruction": pa.array([None], pa.string())}), tmp_path / INDEX_FILE)
    rows = [{"id": "a", "_phash": 1, "_dhash": 2, "instruction": ""}]

    assert index_problems(tmp_path, {"files": []}, rows) == []


def test_a_final_filter_decision_records_the_seed_synonyms_the_rules_checker_matched():
    # the release's decisions.parquet is the only record of a dropped pair: its element_terms must be the
    # terms the checker was given (the name and the run's synonyms), not the name alone
    from pipeline.release.final_filter import RulesPairChecker, final_filter
    from tests.support.embedders import ScriptedEmbedder, basis
    from tests.support.release_runs import named_elements

    element = named_elements()[0]
    seeded = element.model_copy(update={"synonyms": ("gizmo",)})
    row = {"id": "p1", "seed_id": "s1", "instruction": "the query", "image_description": "a gizmo on a bench",
           "category": element.category, "sub_category": element.sub_category, "element": element.element}
    checker = RulesPairChecker(ScriptedEmbedder({"the query": basis(0), "a gizmo on a bench": basis(1)}),
                               {"p1": True}, seed_elements={"s1": seeded})

    _, [decision] = final_filter([row], checker)

    assert decision.scores["element_in_description"] == 1.0  # named by its synonym
    assert tuple(decision.element_terms) == (element.element, "gizmo")


class RecordingDetector:
    backend, model, version, threshold = "stub", "stub-model", "stub-1", 0.5

    def __init__(self):
        self.inputs = []

    def score(self, inputs):
        from types import SimpleNamespace
        self.inputs += list(inputs)
        return [SimpleNamespace(score=0.1, spans=(), english=True) for _ in inputs]


def test_a_release_leak_check_decision_records_every_term_the_detector_was_given():
    # a row dropped by the release leak check is in no shard: its decision row must give back the element
    # terms it was scored with (here the library's name and synonyms), or a rescore from it differs
    from pipeline.elements.terms import library_terms
    from pipeline.release.leak_check import leak_check
    from pipeline.taxonomy import load_elements

    element = next(e for e in load_elements() if len(library_terms(e.category, e.element).terms) > 1)
    row = {"id": "p1", "seed_id": "s1", "run_id": "r1", "instruction": "How is it used?",
           "image_description": "a picture", "category": element.category, "element": element.element,
           "harm_verdict": "keep", "override_reason": None}
    detector = RecordingDetector()

    _, [decision] = leak_check([row], detector)

    assert tuple(decision.element_terms) == tuple(detector.inputs[0].element_terms)
    assert len(decision.element_terms) > 1


def test_a_wordless_edit_dropped_by_the_release_leak_check_names_its_annotator():
    from pipeline.release.leak_check import leak_check

    row = {"id": "p1", "seed_id": "s1", "run_id": "r1", "instruction": "?", "instruction_pipeline": "How is it used?",
           "edited_by": "ann", "image_description": "a picture", "category": "c", "element": "knife",
           "harm_verdict": "keep", "override_reason": None}

    kept, [decision] = leak_check([row], RecordingDetector())

    assert kept == [] and decision.code == "release.no_words"
    assert (decision.text_backend, decision.text_model) == ("review", "ann")


def test_a_judge_served_under_its_own_name_is_not_said_to_be_served_as_itself():
    from pipeline.release.subset import judge_sentence

    assert judge_sentence("gpt-4o", ["gpt-4o"]) == "The models' answers were labelled by the judge gpt-4o."
    assert judge_sentence("gpt-4o", ["gpt-4o", "gpt-4o-2024-08-06"]) == \
        "The models' answers were labelled by the judge gpt-4o (served as gpt-4o-2024-08-06)."


def test_a_row_of_this_version_not_read_for_the_card_is_not_sent_to_its_own_card():
    from pipeline.release.card_sources import unread

    rows = [{"id": "a", "added_in": 2}, {"id": "b", "added_in": 3}, {"id": "c", "added_in": 3}]

    assert unread(rows, {"c"}, 3) == [("carried from v2: its card says", 1), ("not read for this card", 1)]
