"""The card's count of annotator-edited queries: a row that stores no pipeline query (carried from a release
made before it was stored) is not an edit."""

from __future__ import annotations

from pipeline.release.card_sources import annotator_edited


def test_only_a_query_that_differs_from_the_stored_pipeline_query_is_an_edit():
    rows = [{"instruction": "carried", "instruction_pipeline": None},
            {"instruction": "edited", "instruction_pipeline": "the pipeline's"},
            {"instruction": "same", "instruction_pipeline": "same"}]

    assert annotator_edited(rows) == 1
