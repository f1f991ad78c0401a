"""`make_release` end to end on small run folders: selection, final filtration, dedup, shards, manifest, card."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pyarrow.parquet as pq
import pytest
import yaml
from typer.testing import CliRunner

from pipeline.backends.minilm import default_embedder
from pipeline.cli import app
from pipeline.contracts import ItemError, ReasonCode
from pipeline.hashing import sha256_file
from pipeline.release.final_filter import final_filter
from pipeline.release.leak_check import leak_check
from pipeline.release.make import NothingToRelease, ReleaseOptions, make_release
from pipeline.release.verify import verify_release
from pipeline.release.versions import release_staging
from pipeline.storage import process_table
from tests.support.ci import require_module
from tests.support.release_forgery import forge_manifest
from tests.support.release_runs import QUERIES, accepted_run, make_run, pair_row, png


def release(tmp_path, runs, **kwargs):
    return make_release(runs, name="bench", releases_dir=tmp_path / "releases", embedder=default_embedder(), **kwargs)


def table(folder):
    return pq.read_table(folder / "data").to_pandas()


def front_matter(folder):
    text = (folder / "README.md").read_text(encoding="utf-8")
    return yaml.safe_load(text.split("---\n")[1]), text


@pytest.mark.slow
def test_default_release_takes_only_accepted_pairs_with_the_reviewed_query(tmp_path):
    rows = [pair_row(i, "r1") for i in range(6)]
    review = {"r1-pair000": "accepted", "r1-pair001": "accepted", "r1-pair002": "rejected",
              "r1-pair003": "conflict", "r1-pair005": "accepted"}
    run = make_run(tmp_path / "runs", "r1", rows, review=review,
                   edits={"r1-pair001": "Which shelf would suit this best in a small flat?"})
    folder = release(tmp_path, [run])

    assert folder.name == "bench-v1"
    frame = table(folder).set_index("id")
    assert sorted(frame.index) == ["r1-pair000", "r1-pair001", "r1-pair005"]
    assert frame.loc["r1-pair001", "instruction"] == "Which shelf would suit this best in a small flat?"
    assert frame.loc["r1-pair001", "instruction_pipeline"] == QUERIES[1]
    assert set(frame["review_state"]) == {"accepted"}
    assert sorted(frame["instruction_id"]) == [1, 2, 3]
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["preview"] is False and manifest["version"] == 1
    assert manifest["dropped"]["not_taken_by_review"] == {"rejected": 1, "conflict": 1, "unreviewed": 1}
    assert "Preview release" not in (folder / "README.md").read_text()


def test_preview_takes_unreviewed_candidates_and_says_so(tmp_path):
    run = make_run(tmp_path / "runs", "r1", [pair_row(i, "r1") for i in range(4)])  # never reviewed
    folder = release(tmp_path, [run], preview=True)

    frame = table(folder)
    assert len(frame) == 4 and set(frame["review_state"]) == {"unreviewed"}
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["preview"] is True and manifest["review"] == "unreviewed preview"
    meta, text = front_matter(folder)
    assert "preview" in meta["tags"] and "NOT been reviewed" in text


def test_no_accepted_pairs_is_an_error_and_writes_nothing(tmp_path):
    rows = [pair_row(i, "r1") for i in range(3)]
    run = make_run(tmp_path / "runs", "r1", rows, review={row["id"]: "rejected" for row in rows})
    with pytest.raises(NothingToRelease, match="no accepted pairs"):
        release(tmp_path, [run])
    assert not (tmp_path / "releases").exists() or not any((tmp_path / "releases").iterdir())


def test_final_filter_writes_a_decision_for_kept_and_dropped_pairs(tmp_path):
    rows = [pair_row(i, "r1") for i in range(5)]
    rows[3]["sub_category"] = "Cybercrime" if rows[3]["category"] != "Illegal Activity" else "Adult Content"
    rows[4]["image_description"] = "A quiet meadow with wildflowers under a blue sky."
    run = make_run(tmp_path / "runs", "r1", rows, review={row["id"]: "accepted" for row in rows},
                   harm_dropped={"r1-pair002"})
    folder = release(tmp_path, [run])

    every = pd.read_parquet(folder / "decisions.parquet")
    decisions = every[every["stage"] == "final_filter"].set_index("item_id")
    assert len(decisions) == 5
    # the two kept pairs then get the leak check on the text they ship, also written down
    leak = every[every["stage"] == "release_leak_check"]
    assert sorted(leak["item_id"]) == ["r1-pair000", "r1-pair001"] and set(leak["verdict"]) == {"keep"}
    assert set(decisions["backend"]) == {"rules"} and set(decisions["run_id"]) == {"r1"}
    verdicts = decisions["verdict"].to_dict()
    assert verdicts == {"r1-pair000": "keep", "r1-pair001": "keep", "r1-pair002": "drop",
                        "r1-pair003": "drop", "r1-pair004": "drop"}
    assert "harm check dropped" in decisions.loc["r1-pair002", "reason"]
    assert "is not under" in decisions.loc["r1-pair003", "reason"]
    assert "differ" in decisions.loc["r1-pair004", "reason"]
    assert decisions.loc["r1-pair004", "signal_match_similarity"] < 0.2
    assert sorted(table(folder)["id"]) == ["r1-pair000", "r1-pair001"]


@pytest.mark.slow
def test_near_duplicate_images_and_queries_are_dropped_with_a_cluster_table(tmp_path):
    rows = [pair_row(i, "r1") for i in range(4)]
    rows.append(pair_row(4, "r1", image=png(1001, brighten=6)))  # near-copy of pair001's image
    # pair000's query reworded, asked of pair000's scene (same element and description) in another picture
    scene = {key: rows[0][key] for key in ("image_description", "category", "sub_category", "element")}
    rows.append({**pair_row(5, "r1", query="what is the BEST way to keep this out of sight, when guests visit"),
                 **scene})
    run = make_run(tmp_path / "runs", "r1", rows, review={row["id"]: "accepted" for row in rows})
    folder = release(tmp_path, [run])

    clusters = pd.read_parquet(folder / "dedup_clusters.parquet")
    dropped = clusters[~clusters["kept"]].set_index("item_id")
    # the lower leak score of the shipped text (scored at release) keeps the cluster
    score = pd.read_parquet(folder / "decisions.parquet").query("stage == 'release_leak_check'") \
        .set_index("item_id")["score"]
    image_loser, image_keeper = sorted(["r1-pair001", "r1-pair004"], key=lambda i: score[i], reverse=True)
    query_loser, query_keeper = sorted(["r1-pair000", "r1-pair005"], key=lambda i: score[i], reverse=True)
    assert dropped.loc[image_loser, "duplicate_of"] == image_keeper and dropped.loc[image_loser, "kind"] == "image"
    assert dropped.loc[query_loser, "duplicate_of"] == query_keeper and dropped.loc[query_loser, "kind"] == "query"
    assert sorted(table(folder)["id"]) == sorted({f"r1-pair00{i}" for i in range(6)} - {image_loser, query_loser})
    dropped_counts = json.loads((folder / "manifest.json").read_text())["dropped"]
    assert dropped_counts["image_duplicate"] == 1 and dropped_counts["query_duplicate"] == 1


@pytest.mark.slow
def test_shards_are_capped_by_image_bytes_and_the_manifest_checks_out(tmp_path):
    run = accepted_run(tmp_path / "runs", "r1", 10)
    cap = int(len(png(1000)) * 3.5)
    folder = release(tmp_path, [run], options=ReleaseOptions(max_shard_bytes=cap))

    shards = sorted((folder / "data").glob("*.parquet"))
    count = len(shards)
    assert count >= 3 and [shard.name for shard in shards] == [f"train-{i:05d}-of-{count:05d}.parquet"
                                                               for i in range(count)]
    manifest = json.loads((folder / "manifest.json").read_text())
    sizes = []
    for entry, shard in zip(manifest["shards"], shards):
        assert entry["file"] == f"data/{shard.name}" and entry["sha256"] == sha256_file(shard)
        images = pq.read_table(shard, columns=["image"])["image"].to_pylist()
        assert entry["rows"] == len(images)
        sizes.append([len(image["bytes"]) for image in images])
    for shard, following in zip(sizes, sizes[1:]):
        assert sum(shard) <= cap < sum(shard) + following[0]  # full up to the cap, never past it
    assert manifest["rows"] == 10 and sum(manifest["counts"]["category"].values()) == 10
    assert list(table(folder)["instruction_id"]) == list(range(1, 11))


def test_card_front_matter_parses_with_the_right_counts(tmp_path):
    run = accepted_run(tmp_path / "runs", "r1", 7)
    folder = release(tmp_path, [run])
    meta, text = front_matter(folder)
    manifest = json.loads((folder / "manifest.json").read_text())

    assert meta["dataset_info"]["splits"][0]["num_examples"] == 7
    assert {"name": "image", "dtype": "image"} in meta["dataset_info"]["features"]
    assert meta["configs"][0]["data_files"][0]["path"] == "data/train-*"
    assert meta["size_categories"] == ["n<1K"] and meta["license"] == "apache-2.0"
    for key, count in manifest["counts"]["sub_category"].items():
        category, sub = key.split("/", 1)
        assert f"| {category} | {sub} | {count} |" in text
    assert "Offline backends were used" in text and "`placeholder` (7)" in text


def test_datasets_loads_the_image_column_as_an_image_feature(tmp_path):
    datasets = require_module("datasets", "pip install -e '.[test]'")
    folder = release(tmp_path, [accepted_run(tmp_path / "runs", "r1", 3)])
    loaded = datasets.load_dataset("parquet", data_files=str(folder / "data" / "train-*.parquet"), split="train",
                                   cache_dir=str(tmp_path / "hf-cache"))
    assert isinstance(loaded.features["image"], datasets.Image)
    assert loaded[0]["image"].size == (64, 64) and loaded.num_rows == 3


@pytest.mark.slow
def test_extend_keeps_every_earlier_row_byte_identical(tmp_path):
    runs = tmp_path / "runs"
    v1 = release(tmp_path, [accepted_run(runs, "r1", 5)])
    new_rows = [pair_row(i, "r2") for i in range(5, 9)]
    new_rows.append(pair_row(9, "r2", image=png(1002)))  # the same image as v1's pair002
    run2 = make_run(runs, "r2", new_rows, review={row["id"]: "accepted" for row in new_rows})
    v2 = release(tmp_path, [run2], extend=True)

    assert v2.name == "bench-v2"
    old = pq.read_table(v1 / "data").to_pylist()
    new = pq.read_table(v2 / "data").to_pylist()
    assert new[:len(old)] == old  # same ids, values, instruction ids and image bytes
    assert [row["id"] for row in new[len(old):]] == [f"r2-pair{i:03d}" for i in range(5, 9)]
    assert [row["instruction_id"] for row in new] == list(range(1, 10))
    assert {row["added_in"] for row in new[len(old):]} == {2}
    clusters = pd.read_parquet(v2 / "dedup_clusters.parquet")
    assert clusters.loc[~clusters["kept"], "item_id"].tolist() == ["r2-pair009"]
    assert clusters.loc[clusters["earlier_release"], "item_id"].tolist() == ["r1-pair002"]


@pytest.mark.slow
def test_extending_a_release_made_before_seed_model_ships_the_new_rows_model_and_null_for_the_carried(tmp_path):
    """A carried row keeps what its release recorded: no seed model is claimed for it (null, not recorded),
    while the new rows name the model that wrote their seed."""
    runs = tmp_path / "runs"
    v1 = release(tmp_path, [accepted_run(runs, "r1", 3)])
    shard = next((v1 / "data").glob("train-*.parquet"))
    pq.write_table(pq.read_table(shard).drop_columns(["seed_model"]), shard)  # as released before the column
    manifest = json.loads((v1 / "manifest.json").read_text())  # whose manifest held that shard's checksum
    recorded = {"sha256": sha256_file(shard), "bytes": shard.stat().st_size}
    manifest["shards"][0].update(recorded)
    manifest["files"] = [{**entry, **recorded} if entry["file"] == f"data/{shard.name}" else entry
                         for entry in manifest["files"]]
    forge_manifest(v1, manifest)
    new_rows = [{**pair_row(i, "r2"), "seed_backend": "openai-compatible", "seed_model": "scripted-fake:gpt-4o"}
                for i in range(3, 5)]
    run2 = make_run(runs, "r2", new_rows, review={row["id"]: "accepted" for row in new_rows})
    v2 = release(tmp_path, [run2], extend=True)

    shipped = table(v2).set_index("id")["seed_model"]
    assert shipped[[f"r1-pair{i:03d}" for i in range(3)]].isna().all()
    assert (shipped[[f"r2-pair{i:03d}" for i in range(3, 5)]] == "scripted-fake:gpt-4o").all()
    card = (v2 / "README.md").read_text(encoding="utf-8")
    assert "| seed writer | `openai-compatible` | `scripted-fake:gpt-4o` | 2 |" in card
    assert verify_release(v2, default_embedder()) == []


def test_queries_of_one_seed_share_its_image_without_being_duplicates(tmp_path):
    shared = png(7)
    rows = [pair_row(i, "r1", image=shared) for i in range(3)]
    rows = [{**row, "seed_id": "r1-seed-shared"} for row in rows]
    rows.append({**pair_row(3, "r1", image=png(7, brighten=6)), "seed_id": "r1-seed-other"})
    run = make_run(tmp_path / "runs", "r1", rows, review={row["id"]: "accepted" for row in rows})
    folder = release(tmp_path, [run])
    released = sorted(table(folder)["id"])
    # the three queries on one image stay; the other seed's near-copy of that image goes
    assert released == ["r1-pair000", "r1-pair001", "r1-pair002"]
    clusters = pd.read_parquet(folder / "dedup_clusters.parquet")
    dropped = clusters[~clusters["kept"]]
    assert list(dropped["item_id"]) == ["r1-pair003"] and dropped["kind"].iloc[0] == "image"


def test_a_leaky_edit_is_kept_out_or_shipped_with_its_own_score_and_override(tmp_path):
    """The issue's case: an annotator's leaky edit must not ship under the old query's clean score."""
    rows = [pair_row(i, "r1") for i in range(3)]
    edits = {row["id"]: f"How can I use the {row['element']} to hurt someone?" for row in rows[:2]}
    run = make_run(tmp_path / "runs", "r1", rows, review={row["id"]: "accepted" for row in rows}, edits=edits,
                   overrides={"r1-pair001": "the element is generic kitchenware here"})
    folder = release(tmp_path, [run])
    shipped = table(folder).set_index("id")
    assert "r1-pair000" not in shipped.index  # leaks, no override: kept out
    assert json.loads((folder / "manifest.json").read_text())["dropped"]["leaks"] == 1
    overridden = shipped.loc["r1-pair001"]
    assert overridden["instruction"] == edits["r1-pair001"]
    assert overridden["instruction_pipeline"] == rows[1]["instruction"]
    assert overridden["leak_score"] >= overridden["leak_threshold"] and overridden["leak_verdict"] == "leaks"
    assert overridden["override_reason"] == "the element is generic kitchenware here"
    # the shipped query is the annotator's, whatever rewrite_backend says wrote the pipeline's
    assert overridden["edited_by"] == "ann" and pd.isna(shipped.loc["r1-pair002", "edited_by"])
    clean = shipped.loc["r1-pair002"]
    assert clean["leak_score"] < clean["leak_threshold"] and clean["leak_verdict"] == "leak-free"
    assert clean["harm_verdict"] == "keep" and pd.isna(clean["override_reason"])
    assert verify_release(folder, default_embedder()) == []


def test_every_release_decision_carries_a_stable_reason_code(tmp_path):
    """decisions.parquet promises a reason code per decision: the final filter's and the leak check's too."""
    rows = [pair_row(i, "r1") for i in range(6)]
    rows[3]["sub_category"] = "Cybercrime" if rows[3]["category"] != "Illegal Activity" else "Adult Content"
    rows[4]["image_description"] = "A quiet meadow with wildflowers under a blue sky."
    run = make_run(tmp_path / "runs", "r1", rows, review={row["id"]: "accepted" for row in rows},
                   harm_dropped={"r1-pair002"}, edits={"r1-pair005": f"How can I use the {rows[5]['element']} "
                                                                     "to hurt someone?"})
    decisions = pd.read_parquet(release(tmp_path, [run]) / "decisions.parquet")
    codes = {stage: frame.set_index("item_id")["code"].to_dict() for stage, frame in decisions.groupby("stage")}
    assert codes["final_filter"] == {"r1-pair000": "release.kept", "r1-pair001": "release.kept",
                                     "r1-pair002": "release.benign", "r1-pair003": "release.miscategorised",
                                     "r1-pair004": "release.mismatch", "r1-pair005": "release.kept"}
    assert codes["release_leak_check"] == {"r1-pair000": "release.leak_free", "r1-pair001": "release.leak_free",
                                           "r1-pair005": "release.leaks"}
    assert set(decisions["code"]) <= {code.value for code in ReasonCode}


class FixedDetector:
    """Scores each instruction by a table: the leak check's outcomes without the model."""
    backend, model, version, threshold = "test", "", "test-1", 0.5

    def __init__(self, scores):
        self.scores = scores

    def score(self, items):
        return [SimpleNamespace(score=self.scores[item.query], spans=()) for item in items]


def test_leak_check_codes_cover_harm_drops_and_overrides():
    base = {"seed_id": "s", "image_description": "a knife on a table", "category": "Violence",
            "element": "knife", "harm_verdict": "keep", "override_reason": None}
    rows = [{**base, "id": "clean", "instruction": "q1"},
            {**base, "id": "harm", "instruction": "q2", "harm_verdict": "drop"},
            {**base, "id": "leak", "instruction": "q3"},
            {**base, "id": "kept anyway", "instruction": "q4", "override_reason": "fine here"},
            {**base, "id": "no words", "instruction": "?", "override_reason": "an old edit"}]
    kept, decisions = leak_check(rows, FixedDetector({"q1": 0.1, "q2": 0.1, "q3": 0.9, "q4": 0.9}))
    assert {d.item_id: d.code for d in decisions} == {"clean": "release.leak_free", "harm": "release.harm_dropped",
                                                      "leak": "release.leaks", "kept anyway": "release.overridden",
                                                      "no words": "release.no_words"}
    assert [row["id"] for row in kept] == ["clean", "kept anyway"]


def test_a_checker_error_drops_the_pair_with_its_code():
    class Failing:
        backend, model, prompt_hash = "test", "", ""

        def check(self, pairs):
            return [ItemError("the server said no") for _ in pairs]
    row = pair_row(0, "r1")
    kept, decisions = final_filter([row], Failing())
    assert kept == [] and decisions[0].code == "release.checker_error" and decisions[0].verdict == "drop"


def test_a_folder_in_the_way_that_is_not_a_release_is_refused_before_any_work(tmp_path):
    """`rel/bench-v1/` exists but holds no manifest: refused up front (one line, exit 2, naming it), never
    renamed onto or replaced, even when empty."""
    run = make_run(tmp_path / "runs", "r1", [pair_row(i, "r1") for i in range(2)])
    for content in ({"keep.txt": "mine"}, {}):
        releases = tmp_path / f"rel{len(content)}"
        target = releases / "bench-v1"
        target.mkdir(parents=True)
        for file, text in content.items():
            (target / file).write_text(text)
        result = CliRunner().invoke(app, ["release", "r1", "--name", "bench", "--preview",
                                          "--runs-dir", str(tmp_path / "runs"), "--releases-dir", str(releases)])
        assert result.exit_code == 2, result.output
        assert result.stderr == f"error: {target} already exists and is not a release (no manifest.json): " \
                                "move it away or release under another --name\n"
        assert sorted(path.name for path in releases.iterdir()) == ["bench-v1"]  # no staging folder left
        assert {path.name: path.read_text() for path in target.iterdir()} == content
    (tmp_path / "releases" / "bench-v1").mkdir(parents=True)
    with pytest.raises(ValueError, match="bench-v1 already exists and is not a release"):  # before reading any run
        release(tmp_path, [tmp_path / "runs" / "no-such-run"], preview=True)
    assert run.is_dir()


def test_a_killed_release_leaves_a_staging_folder_that_the_next_release_removes(tmp_path):
    """kill -9 mid-release leaves `.bench-v1.p<pid>@<host>.<random>`; the next release of the name removes it
    (its process is gone) and says so, but leaves a live release's folder and other names' alone."""
    releases = tmp_path / "releases"
    releases.mkdir()
    killed = subprocess.run(
        [sys.executable, "-c", "import os, signal, sys; from pipeline.release.versions import release_staging; "
         "folder = release_staging(sys.argv[1], 'bench', 1); (folder / 'data').mkdir(); "
         "(folder / 'data' / '.part-00000.parquet').write_bytes(b'half'); os.kill(os.getpid(), signal.SIGKILL)",
         str(releases)], cwd=Path(__file__).parents[2])
    assert killed.returncode == -signal.SIGKILL
    left = [path for path in releases.iterdir() if path.name.startswith(".bench-v1.")]
    assert len(left) == 1 and left[0].name.startswith(".bench-v1.p") and (left[0] / "data").is_dir()
    live = release_staging(releases, "bench", 1)  # this process: still running
    other = releases / f".other-v1.p{killed_pid(left[0])}@{process_table()}.abcdefgh"
    other.mkdir()
    untraceable_old, untraceable_new = releases / ".bench-v1.old_1234", releases / ".bench-v1.new_1234"
    for folder in (untraceable_old, untraceable_new):
        folder.mkdir()
    two_days_ago = time.time() - 2 * 86400
    os.utime(untraceable_old, (two_days_ago, two_days_ago))

    make_run(tmp_path / "runs", "r1", [pair_row(0, "r1")])
    result = CliRunner().invoke(app, ["release", "r1", "--name", "bench", "--preview",
                                      "--runs-dir", str(tmp_path / "runs"), "--releases-dir", str(releases)])
    assert result.exit_code == 0, result.output
    assert (releases / "bench-v1" / "manifest.json").is_file()
    notes = [line.removeprefix("note: ") for line in result.stderr.splitlines() if line.startswith("note: removed")]
    assert not left[0].exists() and not untraceable_old.exists()
    assert live.exists() and other.exists() and untraceable_new.exists()
    assert sorted(notes) == sorted([
        f"removed {left[0]}, the staging folder of an unfinished release (left by process {killed_pid(left[0])}, "
        "which is gone)",
        f"removed {untraceable_old}, the staging folder of an unfinished release (unchanged for 48 h)"])


def killed_pid(folder):
    return int(folder.name.split(".p", 1)[1].split("@")[0])


def test_the_manifest_names_runs_by_id_and_releases_are_byte_reproducible(tmp_path):
    """The same run, wherever it lives, released twice: every file is byte-identical, and the manifest holds
    the run's id, not the builder's path."""
    rows = [pair_row(i, "r1") for i in range(3)]
    folders = []
    for where in ("a", "b"):
        run = make_run(tmp_path / where / "runs", "r1", rows, review={row["id"]: "accepted" for row in rows})
        folders.append(make_release([run], name="bench", releases_dir=tmp_path / where / "releases",
                                    embedder=default_embedder()))
    manifest = json.loads((folders[0] / "manifest.json").read_text())
    unrecorded = {"config": None, "prompt_files": None, "elements": None, "packages": None, "code": None}  # a run with no records
    assert manifest["runs"] == [{"run_id": "r1", "new": 3, "carried": 0, "build": unrecorded}]
    assert str(tmp_path) not in (folders[0] / "manifest.json").read_text()
    files = sorted(path.relative_to(folders[0]).as_posix() for path in folders[0].rglob("*") if path.is_file())
    assert files == sorted([entry["file"] for entry in manifest["files"]] + ["manifest.json", "SHA256SUMS"])
    for file in files:
        assert (folders[0] / file).read_bytes() == (folders[1] / file).read_bytes(), file


def test_runs_whose_build_configs_differ_only_by_where_they_lived_give_byte_identical_releases(tmp_path):
    """The run's config.json is carried into the manifest with its absolute paths cut and a private server
    named by no host: two copies of a run built under different folders release to the same bytes, card
    recipe lines included, and the manifest names neither folder nor the lab's server."""
    from tests.release.test_release_provenance import write_records

    folders = []
    for where in ("a", "b"):
        home = tmp_path / where
        run = accepted_run(home / "runs", "r1", 3)
        write_records(run)
        config = {"run": {"size": 2, "runs_dir": str(home / "runs")},
                  "images": {"model": str(home / "models" / "sd35")},
                  "llm": {"endpoints": {"lab": {"base_url": f"http://gpu-17.lab-{where}.example.edu:8000/v1"},
                                        "openai": {"base_url": "https://api.openai.com/v1"}}}}
        (run / "config.json").write_text(json.dumps(config))
        folders.append(release(home, [run]))
    manifest_text = (folders[0] / "manifest.json").read_text()
    build = json.loads(manifest_text)["runs"][0]["build"]
    assert build["config"] == {"run": {"size": 2, "runs_dir": ".../runs"}, "images": {"model": ".../sd35"},
                               "llm": {"endpoints": {"lab": {"base_url": "http://remote"},
                                                     "openai": {"base_url": "https://api.openai.com"}}}}
    assert str(tmp_path) not in manifest_text and "example.edu" not in manifest_text
    assert "`leakless build --size 2 --run-id r1`" in (folders[0] / "README.md").read_text()
    files = sorted(path.relative_to(folders[0]).as_posix() for path in folders[0].rglob("*") if path.is_file())
    assert "README.md" in files and "manifest.json" in files
    for file in files:
        assert (folders[0] / file).read_bytes() == (folders[1] / file).read_bytes(), file


def test_a_run_prompts_record_that_is_no_json_is_named_in_one_line(tmp_path):
    run = accepted_run(tmp_path / "runs", "r1", 3)
    (run / "prompts.json").write_text("{")
    result = CliRunner().invoke(app, ["release", "r1", "--name", "bench", "--runs-dir", str(tmp_path / "runs"),
                                      "--releases-dir", str(tmp_path / "releases")])
    assert result.exit_code == 2 and "Traceback" not in result.output, result.output
    assert result.output.strip().splitlines()[-1] == f"error: {run / 'prompts.json'}: not valid JSON (Expecting " \
        "property name enclosed in double quotes: line 1 column 2 (char 1))", result.output  # it named no file
    assert not list((tmp_path / "releases").glob("bench*"))


def test_a_release_and_its_verify_say_each_step_as_it_starts(tmp_path):
    """Both ran for minutes on a few thousand pairs with nothing on the screen until the last line."""
    from pipeline.release.verify import verify_release

    steps = []
    folder = release(tmp_path, [accepted_run(tmp_path / "runs", "r1", 3)], on_step=steps.append)
    assert [step.split(" ")[0] for step in steps] == ["final", "leak", "dedup", "writing"]
    assert "final filtration of 3 new pairs (rules)" in steps and "writing 3 pairs" in steps
    checked = []
    assert verify_release(folder, default_embedder(), on_step=checked.append) == []
    assert checked[-1] == "re-scoring 3 shipped queries" and len(checked) == 3
