"""New weights copied over a diffusers model folder between a kill and its resume: the batches whose
images stage had finished are made again too, so the run's images all come from one checkpoint
(an audit found 61 old-weight and 4 new-weight images under one `image_model`, and no word of it)."""

from __future__ import annotations

import json

import pytest

from pipeline.batch import make_batches
from pipeline.build import run_stage
from pipeline.cli.image_checks import changed_model_files_note
from pipeline.config import load_config
from pipeline.factory import STAGE_ORDER, _stages, config_key
from pipeline.images.model_files import model_files_fingerprint
from pipeline.plan import plan_seeds
from pipeline.rundir import RunDir

pytestmark = pytest.mark.slow  # a tiny diffusers pipeline loaded and run on the CPU


def build_batches(config, run: RunDir, images_of: int | None = None) -> list:
    """Every stage of the run, one seed per batch (below run.batch_size's floor of 64, so two batches
    stay two images); the images stage only for the first `images_of` batches, as a build killed
    after their images leaves it."""
    seeds = plan_seeds(config)
    run.claim(config, seeds)
    batches, key = make_batches(seeds, 1), config_key(config)
    for stage in STAGE_ORDER:
        todo = batches[:images_of] if stage == "images" and images_of is not None else batches
        batches = [run_stage(stage, batch, key, run) for batch in todo]
    return batches


def made_with(run: RunDir) -> dict[str, str]:
    """seed -> the model_files its saved image's note names."""
    return {note.stem: json.loads(note.read_text())["made_for"]["model_files"]
            for note in (run.path / "images").glob("*.json")}


def test_a_resume_after_new_weights_remakes_the_finished_batches_images_too(tmp_path):
    from pipeline.testing.tiny_diffusers import build_tiny_sd_pipeline

    model = build_tiny_sd_pipeline(tmp_path / "model")
    config = load_config(None, [
        "run.size=1", "run.categories=['Privacy']", f"run.runs_dir='{tmp_path / 'runs'}'",
        "backends.images='diffusers'", f"images.diffusers.model='{model}'", "images.diffusers.width=32",
        "images.diffusers.height=32", "images.diffusers.steps=2", "images.diffusers.batch_size=2",
        "images.diffusers.devices=['cpu']", "images.diffusers.allow_cpu=true"])
    run = RunDir(config.run.runs_dir, "mixed")
    first, *_ = build_batches(config, run, images_of=1)  # killed once the first batch's images were made
    old_files = model_files_fingerprint(str(model))
    assert set(made_with(run).values()) == {old_files} and len(first.images) == 1
    old_png = {seed_id: (run.path / ref).read_bytes() for seed_id, ref in first.images.items()}

    build_tiny_sd_pipeline(model, seed=1)  # new weights in the same folder
    _stages.cache_clear()  # a process loads its model once; the resume is a new process
    new_files = model_files_fingerprint(str(model))
    assert new_files != old_files
    note = changed_model_files_note(config, run)
    assert note == (f"1 of run mixed's images were made from other files of {model} than it holds now "
                    "(new weights copied over the folder?): they are made again with these")

    earlier = {path: path.stat().st_mtime_ns for path in (run.path / "batches").rglob("*.json")
               if path.name != "images.json"}
    batches = build_batches(config, run)  # the resume

    images = {seed_id: ref for batch in batches for seed_id, ref in batch.images.items()}
    assert len(images) == 2
    assert made_with(run) == {seed_id: new_files for seed_id in images}
    assert all((run.path / images[seed_id]).read_bytes() != png for seed_id, png in old_png.items())
    assert changed_model_files_note(config, run) is None
    # resumed as before otherwise: the earlier stages' checkpoints were reused, not computed again
    assert {path: path.stat().st_mtime_ns for path in earlier} == earlier
