"""Query dedup given image descriptions: a leakless query is generic on purpose, so two pairs asking it
of different pictures are two test items, and only twins that show one scene (descriptions equal after
normalisation, or close by cosine) are duplicates. A side with no description is matched by its query
alone; the distance between the descriptions is recorded."""

from __future__ import annotations

import numpy as np
import pytest

from pipeline.dedup import find_query_duplicates
from pipeline.dedup.scenes import QUERY_ALONE
from tests.support.embedders import ScriptedEmbedder, basis

QUERY = "how would i get more of the ones pictured"
CLOSE = np.float32(0.9) * basis(2) + np.float32(np.sqrt(1 - 0.81)) * basis(3)  # cosine 0.9 with basis(2)
VECTORS = {QUERY: basis(0), "pills spilled from a bottle": basis(2), "a bottle tipped over pills spilled": CLOSE,
           "bandaged wrists": basis(4)}


def search(queries, descriptions, **kwargs):
    ids = [f"q{i}" for i in range(len(queries))]
    return find_query_duplicates(ids, queries, embedder=ScriptedEmbedder(VECTORS), descriptions=descriptions,
                                 **kwargs)


def test_one_generic_query_asked_of_two_different_pictures_is_no_duplicate():
    result = search([QUERY, "How would I get more of the ones pictured?"],
                    ["pills spilled from a bottle", "bandaged wrists"])
    assert result.drop_ids == frozenset() and result.clusters == []


def test_the_same_query_of_the_same_scene_is_a_duplicate_with_its_description_distance():
    result = search([QUERY, QUERY + "?"], ["Pills spilled from a bottle.", "pills spilled from a bottle"])
    dropped = next(row for row in result.clusters if not row.kept)
    assert result.drop_ids == {"q1"}
    assert dropped.description_distance == 0.0
    assert dropped.method == "exact-normalised; description exact-normalised"


def test_descriptions_close_by_cosine_show_one_scene_at_the_threshold_and_not_above_it():
    twins = [QUERY, QUERY], ["pills spilled from a bottle", "a bottle tipped over pills spilled"]
    result = search(*twins, description_threshold=0.9)
    dropped = next(row for row in result.clusters if not row.kept)
    assert result.drop_ids == {"q1"}
    assert dropped.description_distance == pytest.approx(0.1, abs=1e-6)
    assert dropped.method == "exact-normalised; description scripted:scripted cosine>=0.9"
    assert search(*twins, description_threshold=0.91).drop_ids == frozenset()


def test_a_side_without_a_description_is_matched_by_its_query_alone():
    result = search([QUERY, QUERY], ["pills spilled from a bottle", None])
    dropped = next(row for row in result.clusters if not row.kept)
    assert len(result.drop_ids) == 1
    assert dropped.description_distance is None and dropped.method.endswith(QUERY_ALONE)


def test_an_earlier_release_twin_of_another_scene_drops_nothing():
    result = find_query_duplicates(["new"], [QUERY], embedder=ScriptedEmbedder(VECTORS),
                                   descriptions=["bandaged wrists"], earlier_ids=["old"],
                                   earlier_queries=[QUERY], earlier_descriptions=["pills spilled from a bottle"])
    assert result.drop_ids == frozenset()


def test_many_pairs_of_one_query_cluster_by_scene():
    scenes = ["pills spilled from a bottle", "bandaged wrists"] * 3
    result = search([QUERY] * 6, scenes)
    kept = sorted(row.item_id for row in result.clusters if row.kept)
    assert kept == ["q0", "q1"]  # one keeper a scene
    assert result.drop_ids == {"q2", "q3", "q4", "q5"}
    by_keeper = {row.item_id: row.duplicate_of for row in result.clusters if not row.kept}
    assert by_keeper == {"q2": "q0", "q4": "q0", "q3": "q1", "q5": "q1"}


def test_without_descriptions_the_query_alone_decides_as_before():
    result = find_query_duplicates(["q0", "q1"], [QUERY, QUERY], embedder=ScriptedEmbedder(VECTORS))
    assert result.drop_ids == {"q1"}
    assert [row.description_distance for row in result.clusters] == [None, None]
