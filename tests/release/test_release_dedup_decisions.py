"""A dedup drop is written in the release's decisions.parquet, as the other release filters' drops are:
one `release_dedup` decision per dropped pair (`release.image_duplicate` / `release.query_duplicate`), its
score the distance to the keeper, its threshold the rule's, its reason the keeper and the version that
shipped it. Before, the dropped pair's last decision there read "keep" (its leak check)."""

from __future__ import annotations

import pandas as pd
import pytest

from pipeline.backends.minilm import default_embedder
from pipeline.release.make import NothingToRelease, make_release
from tests.support.release_runs import make_run, pair_row, png

SCENE = ("image_description", "category", "sub_category", "element")


def release(tmp_path, run, **kwargs):
    return make_release([run], name="bench", releases_dir=tmp_path / "releases", embedder=default_embedder(),
                        **kwargs)


def accepted(tmp_path, run_id, rows):
    return make_run(tmp_path / "runs", run_id, rows, review={row["id"]: "accepted" for row in rows})


def last_decisions(folder) -> pd.DataFrame:
    return pd.read_parquet(folder / "decisions.parquet").drop_duplicates("item_id", keep="last").set_index("item_id")


def test_each_dedup_drop_is_the_dropped_pairs_last_decision(tmp_path):
    rows = [pair_row(i, "r1") for i in range(3)]
    rows.append(pair_row(3, "r1", image=png(1001, brighten=6)))  # near-copy of pair001's picture
    rows.append({**pair_row(4, "r1", query=rows[0]["instruction"].upper()), **{k: rows[0][k] for k in SCENE}})
    folder = release(tmp_path, accepted(tmp_path, "r1", rows))

    clusters = pd.read_parquet(folder / "dedup_clusters.parquet")
    dropped = clusters[~clusters["kept"]].set_index("item_id")
    last = last_decisions(folder)
    assert set(dropped.index) == set(last.index[last["verdict"] == "drop"])  # nothing else drops here
    for item_id, cluster in dropped.iterrows():
        decision = last.loc[item_id]
        assert decision["stage"] == "release_dedup"
        assert decision["code"] == f"release.{cluster['kind']}_duplicate"
        assert decision["score"] == pytest.approx(cluster["distance"])
        assert f"of {cluster['duplicate_of']} (in this release)" in decision["reason"]
    image = last.loc[dropped.index[dropped["kind"] == "image"][0]]
    query = last.loc[dropped.index[dropped["kind"] == "query"][0]]
    assert image["threshold"] == 8 and image["signal_phash_bits"] == image["score"]
    assert query["threshold"] == pytest.approx(0.05) and query["signal_description_distance"] == 0.0
    assert query["backend"] == "minilm" and query["text"] in {rows[0]["instruction"], rows[4]["instruction"]}


def test_a_drop_as_the_twin_of_an_earlier_version_names_that_version(tmp_path):
    first = pair_row(0, "r1")
    release(tmp_path, accepted(tmp_path, "r1", [first]))
    twin = {**pair_row(5, "r2", query=first["instruction"] + "!"), **{k: first[k] for k in SCENE}}
    folder = release(tmp_path, accepted(tmp_path, "r2", [twin, pair_row(6, "r2")]), extend=True)

    decision = last_decisions(folder).loc[twin["id"]]
    assert (decision["stage"], decision["code"], decision["verdict"]) == ("release_dedup", "release.query_duplicate",
                                                                          "drop")
    assert f"of {first['id']} (released in bench-v1): exact-normalised" in decision["reason"]


def test_a_release_dedup_empties_says_so_by_stage_and_code(tmp_path):
    first = pair_row(0, "r1")
    release(tmp_path, accepted(tmp_path, "r1", [first]))
    twin = {**pair_row(5, "r2", query=first["instruction"]), **{k: first[k] for k in SCENE}}
    with pytest.raises(NothingToRelease, match=r"release_dedup: release\.query_duplicate 1"):
        release(tmp_path, accepted(tmp_path, "r2", [twin]), extend=True)
