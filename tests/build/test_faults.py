"""Builds under faults: LLM errors, a full disk, corrupt pool images.

Whatever goes wrong, the accounting holds: every planned seed ends in exactly
one terminal state with its reason, a failure names its error, no pair is
written twice, and every accepted pair is in the shards.
"""

from __future__ import annotations

import errno
import io
import json
import logging
from pathlib import Path

import pandas as pd
import pytest
from PIL import Image, ImageDraw
from typer.testing import CliRunner

from pipeline import storage
from pipeline.batch import Batch
from pipeline.cli.app import app
from pipeline.config import load_config
from pipeline.plan import plan_seeds
from pipeline.testing.openai_server import FAKE_KEY_ENV, FakeOpenAIServer, FaultPlan
from pipeline.testing.openai_server_state import FAULT_KINDS

pytestmark = pytest.mark.slow  # every test here takes more than a few seconds

TERMINAL = {"accepted", "rejected", "blocked", "failed"}
LLM_BACKENDS = ["backends.seed_writer='llm'", "backends.rewriter='llm'", "backends.harm_check='llm'",
                "backends.vsil_judge='llm'", "backends.image_refiner='llm'"]
NO_SPACE = "No space left on device"


def assert_accounted(run_dir: Path, planned: list[str]) -> pd.DataFrame:
    """The accounting invariant of a finished run; returns its ledger."""
    ledger = pd.read_parquet(run_dir / "ledger.parquet")
    assert ledger["seed_id"].is_unique and sorted(ledger["seed_id"]) == sorted(planned)
    assert set(ledger["state"]) <= TERMINAL
    assert (ledger["reason"].str.strip().str.len() > 0).all()

    failures = pd.read_parquet(run_dir / "failures.parquet")
    for row in ledger[ledger["state"] == "failed"].itertuples():
        errors = failures.loc[failures["seed_id"] == row.seed_id, "error"]
        assert len(errors) and errors.iloc[0] and errors.iloc[0] in row.reason, row.reason

    shards = pd.read_parquet(run_dir / "data")
    assert shards["id"].is_unique
    accepted = ledger[ledger["state"] == "accepted"]
    assert shards.groupby("seed_id").size().to_dict() == dict(zip(accepted["seed_id"], accepted["accepted_pairs"]))
    final_pairs = {pair.id for path in run_dir.glob("batches/*/images.json")
                   for pair in Batch.model_validate_json(path.read_text()).pairs}
    assert set(shards["id"]) == final_pairs  # every pair that survived the last stage, once
    assert not list(run_dir.rglob(".*.tmp"))
    return ledger


def planned_ids(config) -> list[str]:
    return [seed.id for seed in plan_seeds(config)]


# -- 1. LLM faults -------------------------------------------------------------------------------

def test_llm_faults_on_every_role_leave_every_seed_accounted_for(prefect_harness, monkeypatch, tmp_path):
    from flows.build import build_flow

    monkeypatch.setenv(FAKE_KEY_ENV, "sk-faults")
    with FakeOpenAIServer(faults=FaultPlan(rate=0.2, hang_s=2.0)) as server:
        config = load_config(None, ["run.size=2", f"run.runs_dir='{tmp_path / 'runs'}'", *LLM_BACKENDS])
        config = config.model_copy(update={"llm": server.llm_settings(
            cache_path=tmp_path / "llm.sqlite", timeout_s=0.5, max_retries=2, backoff_s=0.01)})
        warned = []  # Prefect's run loggers do not propagate to the root, where caplog listens
        handler = logging.Handler(logging.WARNING)
        handler.emit = lambda record: warned.append(record.getMessage())
        logging.getLogger("prefect.flow_runs").addHandler(handler)
        try:
            result = build_flow(config, "llm-faults", show_progress=False)
        finally:
            logging.getLogger("prefect.flow_runs").removeHandler(handler)

    assert set(server.state.faults_sent) == set(FAULT_KINDS)  # each kind was dealt, in turn
    planned = planned_ids(config)
    assert len(planned) == 38
    ledger = assert_accounted(Path(result["run_dir"]), planned)
    assert (ledger["state"] == "accepted").any()
    failures = pd.read_parquet(Path(result["run_dir"]) / "failures.parquet")
    assert failures["error"].str.contains("refused").any()  # refusals are recorded, not retried away
    failed = int((ledger["state"] == "failed").sum())
    assert failed
    # the flow run completes, and its log (the Prefect UI's Logs tab) says what failed
    assert f"{failed} of 38 seeds failed (failures.parquet has each error)" in warned


# -- 2. full disk --------------------------------------------------------------------------------

def full_disk_for(hit):
    """atomic_write_bytes as on a full disk for the targets `hit` picks: half the bytes reach
    the temporary file, then the write fails the way write(2) does (no file name)."""
    real = storage.atomic_write_bytes

    def write(target: Path, data: bytes) -> None:
        if not hit(Path(target)):
            return real(target, data)
        with storage.atomic_path(target) as temporary:
            temporary.write_bytes(data[: len(data) // 2])
            raise OSError(errno.ENOSPC, NO_SPACE)

    return write


def build_args(tmp_path: Path, run_id: str) -> list[str]:
    return ["build", "--size", "1", "--set", "run.categories=['Privacy']", "--set", f"run.runs_dir='{tmp_path}'",
            "--run-id", run_id, "--no-progress"]


def test_image_write_on_a_full_disk_stops_the_build_and_the_rerun_makes_the_images(
        prefect_harness, monkeypatch, tmp_path):
    """Not a seed failed for good in a checkpoint the rerun reuses, while the build exits 0."""
    run_dir = tmp_path / "disk-images"
    full_for_images = full_disk_for(lambda path: path.parent.name == "images")
    # images are written as they are made (a diffusers wave) or by the stage after: both writers stop
    monkeypatch.setattr("pipeline.stages.images.atomic_write_bytes", full_for_images)
    monkeypatch.setattr("pipeline.stages.base.atomic_write_bytes", full_for_images)
    stopped = CliRunner().invoke(app, build_args(tmp_path, "disk-images"))
    assert stopped.exit_code == 2, stopped.output
    [line] = [line for line in stopped.output.splitlines() if line.startswith("error:")]
    assert line.startswith(f"error: cannot write {run_dir / 'images'}/") and f": {NO_SPACE} (the disk mounted" in line
    assert list(run_dir.glob("batches/*/harm_check.json")) and not list(run_dir.glob("batches/*/images.json"))
    assert not (run_dir / "manifest.json").exists() and not list(run_dir.rglob(".*.tmp"))

    monkeypatch.undo()  # the disk has room again
    rerun = CliRunner().invoke(app, build_args(tmp_path, "disk-images"))
    assert rerun.exit_code == 0, rerun.output
    config = load_config(None, ["run.size=1", "run.categories=['Privacy']", f"run.runs_dir='{tmp_path}'"])
    ledger = assert_accounted(run_dir, planned_ids(config))
    assert not ledger["reason"].str.contains(NO_SPACE).any() and (ledger["state"] == "accepted").any()


def test_checkpoint_on_a_full_disk_leaves_no_partial_file_and_a_rerun_completes(
        prefect_harness, monkeypatch, tmp_path):
    run_dir = tmp_path / "disk-full"
    monkeypatch.setattr(storage, "atomic_write_bytes",
                        full_disk_for(lambda path: path.match("batches/*/harm_check.json")))
    stopped = CliRunner().invoke(app, build_args(tmp_path, "disk-full"))
    assert stopped.exit_code != 0
    assert list(run_dir.glob("batches/*/rewrite.json")) and not list(run_dir.glob("batches/*/harm_check.json"))
    assert not list(run_dir.rglob(".*.tmp")) and not (run_dir / "ledger.parquet").exists()

    monkeypatch.undo()  # the disk has room again
    rerun = CliRunner().invoke(app, build_args(tmp_path, "disk-full"))
    assert rerun.exit_code == 0, rerun.output
    config = load_config(None, ["run.size=1", "run.categories=['Privacy']", f"run.runs_dir='{tmp_path}'"])
    assert_accounted(run_dir, planned_ids(config))


def test_full_disk_stops_the_build_with_one_line_error(prefect_harness, monkeypatch, tmp_path):
    monkeypatch.setattr(storage, "atomic_write_bytes",
                        full_disk_for(lambda path: path.match("batches/*/drafts.json")))
    stopped = CliRunner().invoke(app, build_args(tmp_path, "disk-full-cli"))
    assert stopped.exit_code == 2 and isinstance(stopped.exception, SystemExit)
    # Prefect logs the task's failure above it; ours is the one `error:` line, and the last
    [line] = [line for line in stopped.output.splitlines() if line.startswith("error:")]
    # the checkpoint that did not fit, and where its disk is mounted (the run, Prefect's home and TMPDIR
    # may be on three)
    assert line.startswith(f"error: cannot write {tmp_path / 'disk-full-cli' / 'batches'}/")
    assert line.endswith(f"/drafts.json: {NO_SPACE} (the disk mounted at {storage.mount_point(tmp_path)})")
    assert stopped.output.strip().splitlines()[-1].startswith("error:")


# -- 3. corrupt pool images ----------------------------------------------------------------------

SUB = "Identity Theft and Impersonation"


def png_bytes(n: int) -> bytes:
    image = Image.new("RGB", (64, 64), (30 * n % 255, 120, 200))
    ImageDraw.Draw(image).rectangle((5 + n % 30, 5, 50, 20 + n % 40), fill=(220, 30, 30))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def jpeg_bytes() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (128, 128), (90, 90, 90)).save(buffer, format="JPEG")
    return buffer.getvalue()


CORRUPT = {"truncated.png": png_bytes(99)[:60], "garbage.jpg": b"\xff\xd8 not a jpeg at all",
           "empty.png": b"", "truncated.jpg": jpeg_bytes()[:200]}


def make_pool(folder: Path, good: int = 6) -> Path:
    folder.mkdir()
    rows = []
    for n in range(good):
        (folder / f"good{n}.png").write_bytes(png_bytes(n))
        rows.append({"file": f"good{n}.png", "caption": f"A laptop screen showing a stranger's login page, photo {n}"})
    for name, data in CORRUPT.items():
        (folder / name).write_bytes(data)
        rows.append({"file": name, "caption": "a photo that will not open"})
    rows = [{**row, "category": "Privacy", "sub_category": SUB, "element": "laptop login page"} for row in rows]
    (folder / "captions.jsonl").write_text("".join(json.dumps(row) + "\n" for row in rows))
    return folder


def test_corrupt_pool_images_are_skipped_with_reasons_and_the_build_completes(prefect_harness, tmp_path):
    from flows.build import build_flow
    from pipeline.factory import open_pool

    folder = make_pool(tmp_path / "pool")
    config = load_config(None, [
        "run.size=1", f"run.sub_categories=['{SUB}']", f"run.runs_dir='{tmp_path / 'runs'}'",
        "backends.images='pool'", f"images.pool.folder='{folder}'", "images.pool.name='corrupt-pool'",
        "images.pool.image_first=true", "images.pool.min_similarity=0.1"])
    pool = open_pool(config.images.pool)  # loaded (and cached) now: good0.png breaks after loading
    assert sorted(skip.file for skip in pool.skipped) == sorted(CORRUPT)
    assert all("unreadable image" in skip.reason for skip in pool.skipped)
    (folder / "good0.png").write_bytes(png_bytes(0)[:50])

    result = build_flow(config, "corrupt-pool", show_progress=False)
    run_dir = Path(result["run_dir"])
    planned = planned_ids(config)
    assert len(planned) == 1 + 6  # one library element, the six images that loaded
    ledger = assert_accounted(run_dir, planned)
    broken = ledger[ledger["reason"].str.contains("cannot read pool image")]
    assert len(broken) >= 1 and (broken["state"] == "failed").all()
    assert (ledger["state"] == "accepted").any()
    skipped = json.loads((run_dir / "pool_skipped.json").read_text())
    assert {entry["file"] for entry in skipped} == set(CORRUPT) and all(entry["reason"] for entry in skipped)


def test_pool_image_broken_after_loading_is_an_item_error_not_a_crash(tmp_path):
    from pipeline.backends.base import ImageRequest
    from pipeline.contracts import ItemError
    from pipeline.backends.minilm import default_embedder
    from pipeline.pool import PoolRetriever, RetrievalConfig, load_pool

    folder = make_pool(tmp_path / "pool", good=2)
    retriever = PoolRetriever(load_pool(folder), tmp_path / "index", default_embedder(),
                              RetrievalConfig(min_similarity=-1.0, max_uses=2))
    for n in range(2):
        (folder / f"good{n}.png").write_bytes(b"")
    [result] = retriever.generate([ImageRequest("item", "a laptop showing a login page", 0)])
    assert isinstance(result, ItemError) and "cannot read pool image good" in result.error
