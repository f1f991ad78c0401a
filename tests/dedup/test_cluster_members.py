"""What a dedup cluster records and keeps: every earlier-release member is kept (a release never drops
what is published), a cluster of earlier items alone is not reported, the priority chooses the keeper
before the id, an exact twin and a cosine twin say which rule linked them, and a cluster table that
fails mid-write leaves the one already there whole. A single new query is
searched against the earlier releases by cosine too."""

from __future__ import annotations

import pandas as pd
import pytest

from pipeline.dedup import clusters, find_query_duplicates, write_clusters
from tests.support.embedders import ScriptedEmbedder, basis

VECTORS = {"a": basis(0), "b": basis(1), "c": basis(2)}


def test_every_earlier_release_member_of_a_cluster_is_kept():
    result = find_query_duplicates(["q1"], ["a"], embedder=ScriptedEmbedder(VECTORS),
                                   earlier_ids=["r1", "r2"], earlier_queries=["a", "A!"])
    assert result.drop_ids == {"q1"}
    assert {row.item_id: row.kept for row in result.clusters} == {"r1": True, "r2": True, "q1": False}


def test_one_new_query_reworded_from_an_earlier_release_is_dropped():
    near_a = 0.99 * basis(0) + 0.141 * basis(1)
    result = find_query_duplicates(["q1"], ["near a"], embedder=ScriptedEmbedder({**VECTORS, "near a": near_a}),
                                   earlier_ids=["r1"], earlier_queries=["a"], threshold=0.9)
    assert result.drop_ids == {"q1"}


def test_a_cluster_of_earlier_release_items_alone_is_not_reported():
    result = find_query_duplicates(["q1"], ["b"], embedder=ScriptedEmbedder(VECTORS),
                                   earlier_ids=["r1", "r2"], earlier_queries=["a", "a"])
    assert result.drop_ids == frozenset() and result.clusters == []


def test_the_priority_chooses_the_keeper_before_the_id():
    result = find_query_duplicates(["q1", "q2"], ["a", "a"], embedder=ScriptedEmbedder(VECTORS),
                                   priority=[1.0, 0.0])
    assert result.drop_ids == {"q1"}


def test_each_duplicate_records_the_rule_that_linked_it():
    near_a = 0.99 * basis(0) + 0.141 * basis(1)
    result = find_query_duplicates(["q1", "q2", "q3"], ["a", "a.", "near a"],
                                   embedder=ScriptedEmbedder({**VECTORS, "near a": near_a}), threshold=0.9)
    methods = {row.item_id: row.method for row in result.clusters}
    assert methods == {"q1": None, "q2": "exact-normalised", "q3": "scripted:scripted cosine>=0.9"}


def test_a_cluster_table_that_fails_mid_write_leaves_the_earlier_one_whole(tmp_path, monkeypatch):
    rows = find_query_duplicates(["q1", "q2"], ["a", "a"], embedder=ScriptedEmbedder(VECTORS)).clusters
    path = write_clusters(rows, tmp_path / "query_clusters.parquet")

    def half_written(table, where):
        open(where, "wb").write(b"PAR1 half")
        raise OSError("disk full")

    monkeypatch.setattr(clusters.pq, "write_table", half_written)
    with pytest.raises(OSError):
        write_clusters(rows, path)
    assert len(pd.read_parquet(path)) == 2
    assert [p.name for p in tmp_path.iterdir()] == ["query_clusters.parquet"]
