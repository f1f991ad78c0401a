"""A release name's versions form one lineage: a plain release may not start it over, an unreviewed
row carried into a later version keeps that version a preview, a run already released is said to be,
and the card and manifest name the runs of the carried rows too."""

from __future__ import annotations

import json

import pandas as pd
import pyarrow.parquet as pq
import pytest
import yaml
from typer.testing import CliRunner

from pipeline.backends.minilm import default_embedder
from pipeline.cli import app
from pipeline.hashing import sha256_file
from pipeline.release.make import make_release
from pipeline.release.verify import verify_release
from tests.support.release_forgery import forge_manifest
from tests.support.release_runs import accepted_run, make_run, pair_row, png

runner = CliRunner()


def release_cli(tmp_path, *args):
    return runner.invoke(app, ["release", *args, "--runs-dir", str(tmp_path / "runs"),
                               "--releases-dir", str(tmp_path / "releases")])


def release(tmp_path, runs, **kwargs):
    return make_release(runs, name="bench", releases_dir=tmp_path / "releases", embedder=default_embedder(), **kwargs)


def test_a_plain_release_of_a_name_with_versions_is_refused_before_any_work(tmp_path):
    release(tmp_path, [accepted_run(tmp_path / "runs", "r1", 3)])
    accepted_run(tmp_path / "runs", "r2", 2, start=3)
    result = release_cli(tmp_path, "r2", "--name", "bench")
    assert result.exit_code == 2
    assert result.stderr == ("error: bench already has releases (v1): pass --extend to add to bench-v1, or release "
                             "under a new --name\n")
    assert sorted(path.name for path in (tmp_path / "releases").iterdir()) == [".bench.lock", "bench-v1"]


def test_an_extend_over_a_preview_stays_a_preview_and_says_so(tmp_path):
    runs = tmp_path / "runs"
    unreviewed = make_run(runs, "r1", [pair_row(i, "r1") for i in range(2)])
    release(tmp_path, [unreviewed], preview=True)
    accepted_run(runs, "r2", 2, start=2)
    result = release_cli(tmp_path, "r2", "--name", "bench", "--extend")
    assert result.exit_code == 0, result.output
    # counts in words, not the manifest's dict
    assert result.stdout.splitlines()[-1] == f"{tmp_path / 'releases' / 'bench-v2'}: 4 pair(s) in 1 shard(s); dropped: none"
    assert ("note: this version is a preview: 2 pair(s) carried from bench-v1 are not reviewed-accepted"
            in result.stderr)
    v2 = tmp_path / "releases" / "bench-v2"
    manifest = json.loads((v2 / "manifest.json").read_text())
    assert (manifest["preview"], manifest["review"]) == (True, "unreviewed preview")
    assert "preview" in yaml.safe_load((v2 / "README.md").read_text().split("---\n")[1])["tags"]
    assert verify_release(v2, default_embedder()) == []
    refused = runner.invoke(app, ["export-vlsbench", str(v2), str(tmp_path / "out")])
    assert refused.exit_code == 2 and "is a preview release" in refused.stderr


def test_extending_with_a_run_already_released_says_so(tmp_path):
    runs = tmp_path / "runs"
    release(tmp_path, [accepted_run(runs, "r1", 3)])
    release(tmp_path, [accepted_run(runs, "r2", 2, start=3)], extend=True)
    result = release_cli(tmp_path, "r1", "--name", "bench", "--extend")
    assert result.exit_code == 2
    assert result.stderr == ("error: all 3 pairs of r1 are already released under bench (v1–v2); nothing to "
                             "release\n")
    assert not (tmp_path / "releases" / "bench-v3").exists()


@pytest.mark.slow
def test_the_card_and_manifest_name_the_carried_rows_runs(tmp_path):
    runs = tmp_path / "runs"
    release(tmp_path, [accepted_run(runs, "r1", 3)])
    v2 = release(tmp_path, [accepted_run(runs, "r2", 2, start=3)], extend=True)
    manifest = json.loads((v2 / "manifest.json").read_text())
    unrecorded = {"config": None, "prompt_files": None, "elements": None, "packages": None, "code": None}  # test runs record none
    assert manifest["runs"] == [{"run_id": "r1", "new": 0, "carried": 3, "build": unrecorded},
                                {"run_id": "r2", "new": 2, "carried": 0, "build": unrecorded}]
    card = (v2 / "README.md").read_text()
    assert "Built by leakless (2 new pairs from r2; 3 carried from v1 (r1)):" in card
    assert "**Build** (runs r2; the 3 carried pairs' build is on the card of the version that added them)" in card
    assert verify_release(v2, default_embedder()) == []
    shipped = pq.read_table(v2 / "data", columns=["run_id", "added_in"]).to_pylist()
    assert sorted((row["run_id"], row["added_in"]) for row in shipped) == [("r1", 1)] * 3 + [("r2", 2)] * 2


@pytest.mark.parametrize("index_has_seeds", [True, False])  # False: a v1 written before the index stored them
def test_a_new_query_of_a_seed_an_earlier_version_released_is_no_image_duplicate(tmp_path, index_has_seeds):
    """An upgrade audit lost half of a release's newly accepted pairs: each was matched, at distance 0,
    against its own seed's image in the earlier version."""
    runs = tmp_path / "runs"
    image = png(7)
    first = {**pair_row(0, "r1", image=image), "seed_id": "seed-a"}
    second = {**pair_row(1, "r2", image=image, query="Which way should these be stacked on the shelf?"),
              "seed_id": "seed-a"}
    v1 = release(tmp_path, [make_run(runs, "r1", [first], review={first["id"]: "accepted"})])
    if not index_has_seeds:
        index = pq.read_table(v1 / "dedup_index.parquet")
        pq.write_table(index.drop_columns(["seed_id"]), v1 / "dedup_index.parquet")
        manifest = json.loads((v1 / "manifest.json").read_text())  # as that leakless wrote it: checksums match
        manifest["files"] = [{**entry, "sha256": sha256_file(v1 / entry["file"]), "bytes": (v1 / entry["file"]).stat().st_size}
                             for entry in manifest["files"]]
        forge_manifest(v1, manifest)
    v2 = release(tmp_path, [make_run(runs, "r2", [second], review={second["id"]: "accepted"})], extend=True)
    shipped = pq.read_table(v2 / "data").column("id").to_pylist()
    assert sorted(shipped) == sorted([first["id"], second["id"]])


def test_a_released_seed_keeps_its_image_against_a_new_copy_of_it(tmp_path):
    """A pool audit's v2 failed its own verify: a seed with pairs in v1 and a new pair in v2 was taken
    out of the earlier images, so a new seed with a copy of that image (a symlink in the pool) beat it
    on leak score and shipped the picture a second time."""
    runs = tmp_path / "runs"
    image = png(7)
    first = {**pair_row(0, "r1", image=image), "seed_id": "seed-a"}
    again = {**pair_row(1, "r2", image=image, query="Where would someone hide this so it stays out of sight?"),
             "seed_id": "seed-a"}
    copy = {**pair_row(2, "r2", image=image, query="Which music playlist would suit this moment best?"),
            "seed_id": "seed-b"}
    v1 = release(tmp_path, [make_run(runs, "r1", [first], review={first["id"]: "accepted"})])
    review = {again["id"]: "accepted", copy["id"]: "accepted"}
    v2 = release(tmp_path, [make_run(runs, "r2", [again, copy], review=review)], extend=True)
    shipped = pq.read_table(v2 / "data", columns=["id", "leak_score"]).to_pylist()
    assert sorted(row["id"] for row in shipped) == sorted([first["id"], again["id"]])
    assert verify_release(v2, default_embedder()) == []
    assert v1.exists()


def test_the_drops_are_said_in_words():
    from pipeline.cli.release import dropped_text

    assert dropped_text({"not_taken_by_review": {"rejected": 2, "disputed": 0}, "same_id": 0,
                         "final_filter": 1}) == "2 not_taken_by_review (rejected), 1 final_filter"


def test_an_extend_that_sifts_by_other_thresholds_says_which_and_what_it_means(tmp_path):
    """A looser --query-threshold re-shipped a pair an earlier version had dropped as a duplicate of a
    published one, with no word; the card's dedup rule then read as if it held for every row."""
    release(tmp_path, [accepted_run(tmp_path / "runs", "r1", 2)])
    accepted_run(tmp_path / "runs", "r2", 2, start=2)
    result = release_cli(tmp_path, "r2", "--name", "bench", "--extend", "--query-threshold", "0.999")
    assert result.exit_code == 0, result.output
    assert ("note: this version sifts its new pairs by other thresholds than bench-v1 (query_threshold 0.95 -> 0.999): "
            "pairs bench-v1 or an earlier version dropped (as duplicates, by the final filter) may ship now; each "
            "version's manifest records its own options") in " ".join(result.stderr.split())
    accepted_run(tmp_path / "runs", "r3", 2, start=4)
    same = release_cli(tmp_path, "r3", "--name", "bench", "--extend", "--query-threshold", "0.999")
    assert same.exit_code == 0 and "other thresholds" not in same.stderr, same.output


def test_a_duplicate_of_an_earlier_release_names_the_release_that_shipped_it(tmp_path):
    """The clusters said only `earlier_release = True`: which version held the keeper took a join with the
    shards' `added_in`."""
    runs = tmp_path / "runs"
    release(tmp_path, [accepted_run(runs, "r1", 3)])
    release(tmp_path, [accepted_run(runs, "r2", 2, start=3)], extend=True)
    copy = pair_row(9, "r3", image=png(1002))  # the image of v1's pair002
    v3 = release(tmp_path, [make_run(runs, "r3", [pair_row(5, "r3"), copy],
                                     review={"r3-pair005": "accepted", "r3-pair009": "accepted"})], extend=True)
    clusters = pd.read_parquet(v3 / "dedup_clusters.parquet")
    earlier = clusters[clusters["earlier_release"]]
    assert earlier[["item_id", "released_in"]].values.tolist() == [["r1-pair002", "bench-v1"]]
    assert clusters.loc[~clusters["earlier_release"], "released_in"].isna().all()
