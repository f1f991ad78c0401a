"""`leakless release ... --dedup-against FILE` (and `verify REL --dedup-against FILE`): a release can be
checked against an outside benchmark. A new pair asking one of its rows' queries of the same scene is
dropped (a `release.benchmark_duplicate` decision, a cluster row `FILE#ROW`), a text-only row by its query
alone; the manifest and the card name each file by name and sha256, never its path."""

from __future__ import annotations

import json

import pandas as pd
from typer.testing import CliRunner

from pipeline.backends.minilm import default_embedder
from pipeline.cli import app
from pipeline.hashing import sha256_file
from pipeline.release.make import make_release
from pipeline.release.outside import read_outside
from pipeline.release.verify import verify_release
from tests.support.release_runs import make_run, pair_row


def write_jsonl(path, rows):
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    return path


def accepted(tmp_path, rows):
    return make_run(tmp_path / "runs", "r1", rows, review={row["id"]: "accepted" for row in rows})


def released(tmp_path, rows, files=()):
    return make_release([accepted(tmp_path, rows)], name="bench", releases_dir=tmp_path / "releases",
                        embedder=default_embedder(), outside=read_outside(list(files)))


def test_a_pair_that_repeats_a_benchmark_row_of_its_scene_is_dropped_and_named(tmp_path):
    rows = [pair_row(i, "r1") for i in range(3)]
    other = pair_row(1, "r1")["image_description"]
    file = write_jsonl(tmp_path / "outside.jsonl", [
        {"id": "vb-7", "instruction": rows[0]["instruction"].upper(), "image_description": rows[0]["image_description"]},
        {"id": "vb-8", "instruction": rows[2]["instruction"], "image_description": other},  # another scene: no twin
    ])
    folder = released(tmp_path, rows, [file])

    assert set(pd.read_parquet(folder / "data")["id"]) == {rows[1]["id"], rows[2]["id"]}
    decision = pd.read_parquet(folder / "decisions.parquet").drop_duplicates("item_id", keep="last") \
        .set_index("item_id").loc[rows[0]["id"]]
    assert (decision["stage"], decision["code"]) == ("release_dedup", "release.benchmark_duplicate")
    assert "of outside.jsonl#vb-7 (a row of --dedup-against outside.jsonl)" in decision["reason"]
    clusters = pd.read_parquet(folder / "dedup_clusters.parquet").set_index("item_id")
    assert clusters.loc["outside.jsonl#vb-7", ["kept", "earlier_release", "released_in"]].tolist() == \
        [True, True, "outside.jsonl"]
    assert clusters.loc[rows[0]["id"], "duplicate_of"] == "outside.jsonl#vb-7"

    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["dropped"]["benchmark_duplicate"] == 1 and manifest["dropped"]["query_duplicate"] == 0
    assert manifest["dedup_against"] == [{"file": "outside.jsonl", "sha256": sha256_file(file), "rows": 2,
                                          "unreadable": 0}]
    card = (folder / "README.md").read_text()
    assert f"`outside.jsonl` (sha256 `{sha256_file(file)}`, 2 rows)" in card
    assert "--dedup-against outside.jsonl" in card
    assert str(tmp_path) not in card + (folder / "manifest.json").read_text()
    assert verify_release(folder, default_embedder()) == []


def test_a_text_only_row_is_matched_by_its_query_alone(tmp_path):
    rows = [pair_row(i, "r1") for i in range(3)]
    file = write_jsonl(tmp_path / "advbench.jsonl", [{"goal": rows[1]["instruction"]}])  # no description, no id
    folder = released(tmp_path, rows, [file])
    clusters = pd.read_parquet(folder / "dedup_clusters.parquet")
    dropped = clusters[~clusters["kept"]]
    assert dropped["item_id"].tolist() == [rows[1]["id"]]
    assert dropped["duplicate_of"].tolist() == ["advbench.jsonl#1"]  # the row's position stands for its id
    assert dropped["method"].iloc[0].endswith("no description: query alone")


def test_verify_dedup_against_names_a_shipped_twin_of_a_benchmark_row(tmp_path):
    rows = [pair_row(i, "r1") for i in range(2)]
    folder = released(tmp_path, rows)
    file = write_jsonl(tmp_path / "outside.jsonl", [
        {"id": "x1", "instruction": rows[1]["instruction"], "image_description": rows[1]["image_description"]}])

    done = CliRunner().invoke(app, ["verify", str(folder), "--dedup-against", str(file)])
    assert done.exit_code == 1, done.output
    assert f"query near-duplicate: {rows[1]['id']} ~ outside.jsonl#x1" in done.output
    assert CliRunner().invoke(app, ["verify", str(folder)]).exit_code == 0


def test_a_file_release_cannot_read_is_refused_before_any_work(tmp_path):
    run = accepted(tmp_path, [pair_row(0, "r1")])
    bad = tmp_path / "notes.json"
    bad.write_text('{"title": "no rows here"}', encoding="utf-8")
    done = CliRunner().invoke(app, ["release", str(run), "--name", "bench", "--releases-dir",
                                    str(tmp_path / "releases"), "--dedup-against", str(bad)])
    assert done.exit_code == 2 and "notes.json" in done.output
    assert not (tmp_path / "releases").exists() or not any((tmp_path / "releases").iterdir())


def test_rows_sharing_an_id_are_each_checked_against(tmp_path):
    """A dataset folder whose shards each count from 0, or a file that repeats an id: only the first row of
    an id was kept, with no note, and a pair copying a later one shipped (review40b)."""
    rows = [pair_row(i, "r1") for i in range(3)]
    file = write_jsonl(tmp_path / "bench.jsonl", [{"id": 0, "goal": "an unrelated question about tea?"},
                                                  {"id": 0, "goal": rows[2]["instruction"]}])
    assert len(read_outside([file])[0].rows) == 2
    folder = released(tmp_path, rows, [file])
    clusters = pd.read_parquet(folder / "dedup_clusters.parquet")
    assert clusters[~clusters["kept"]]["duplicate_of"].tolist() == ["bench.jsonl#0 (line 2)"]
