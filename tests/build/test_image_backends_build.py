"""`leakless build` with the real image paths: a tiny diffusers pipeline loaded from disk,
and an image pool feeding image-first seeds."""

from __future__ import annotations

import io
import json

import pandas as pd
import pytest
from PIL import Image, ImageDraw

from pipeline.config import load_config

pytestmark = pytest.mark.slow  # every test here takes more than a few seconds


@pytest.fixture(scope="module")
def tiny_pipeline(tmp_path_factory):
    from pipeline.testing.tiny_diffusers import build_tiny_sd_pipeline

    folder = tmp_path_factory.mktemp("tiny-sd")
    build_tiny_sd_pipeline(folder)
    return folder


def test_build_writes_generated_pngs_into_the_shards(prefect_harness, tiny_pipeline, tmp_path):
    from flows.build import build_flow

    config = load_config(None, [
        "run.size=1", "run.categories=['Privacy']", f"run.runs_dir='{tmp_path}'",
        "backends.images='diffusers'", f"images.diffusers.model='{tiny_pipeline}'",
        "images.diffusers.width=64", "images.diffusers.height=64", "images.diffusers.steps=2",
        "images.diffusers.batch_size=2", "images.diffusers.devices=['cpu']",
        "images.diffusers.allow_cpu=true"])
    result = build_flow(config, "diffusers", show_progress=False)
    rows = pd.read_parquet(f"{result['run_dir']}/data")
    assert len(rows) > 0
    assert (rows["image_backend"] == "diffusers").all() and (rows["image_model"] == str(tiny_pipeline)).all()
    for image in rows["image"]:
        decoded = Image.open(io.BytesIO(image["bytes"]))
        assert decoded.size == (64, 64)
    ledger = pd.read_parquet(f"{result['run_dir']}/ledger.parquet")
    assert len(ledger) == 2 and ledger["seed_id"].is_unique


def make_pool(folder, count: int = 12):
    folder.mkdir()
    captions = []
    for i in range(count):
        image = Image.new("RGB", (96, 96), (20 * i % 255, 90, 160))
        ImageDraw.Draw(image).rectangle((10 + i, 10, 60, 60 + i), fill=(200, 40, 40))
        image.save(folder / f"img{i}.png")
        captions.append({"file": f"img{i}.png", "caption": f"A laptop screen showing a login page, photo {i}",
                         "element": "laptop login page", "category": "Privacy",
                         "sub_category": "Identity Theft and Impersonation"})
    (folder / "broken.png").write_bytes(b"\x89PNG not really")
    captions.append({"file": "broken.png", "caption": "a broken file", "category": "Privacy",
                     "sub_category": "Identity Theft and Impersonation"})
    (folder / "captions.jsonl").write_text("\n".join(json.dumps(c) for c in captions))
    return folder


def test_image_first_seeds_from_a_pool(prefect_harness, tmp_path):
    from flows.build import build_flow

    pool = make_pool(tmp_path / "pool")
    config = load_config(None, [
        "run.size=1", "run.sub_categories=['Identity Theft and Impersonation']", f"run.runs_dir='{tmp_path}/runs'",
        "backends.images='pool'", f"images.pool.folder='{pool}'", "images.pool.name='testpool'",
        "images.pool.image_first=true", "images.pool.min_similarity=0.2"])
    result = build_flow(config, "pool", show_progress=False)
    ledger = pd.read_parquet(f"{result['run_dir']}/ledger.parquet")
    assert len(ledger) == 1 + 12  # one library element, twelve pool images (the broken one skipped)
    rows = pd.read_parquet(f"{result['run_dir']}/data")
    from_pool = rows[rows["source"] == "testpool"]
    assert len(from_pool) > 0 and (from_pool["image_backend"] == "pool:testpool").all()
    # The library element's image was retrieved before rewriting: its pairs carry that image's caption.
    captions = {json.loads(line)["caption"] for line in (pool / "captions.jsonl").read_text().splitlines()}
    assert rows["image_description"].isin(captions).all()
    skipped = json.loads((tmp_path / "runs" / "pool" / "pool_skipped.json").read_text())
    assert [s["file"] for s in skipped] == ["broken.png"] and skipped[0]["reason"]
    summary = (tmp_path / "runs" / "pool" / "summary.md").read_text()
    assert "Pool images or caption rows not used: 1 (each with its reason in `pool_skipped.json`)" in summary
