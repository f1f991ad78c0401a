"""A local model folder's fingerprint: it changes with any file that makes the images (the
pipeline's model_index.json included, which names the scheduler and component classes), and not
with a README or a download's hidden cache."""

from __future__ import annotations

import json
import os

from pipeline.images.model_files import model_files_fingerprint


def model_folder(tmp_path):
    folder = tmp_path / "model"
    (folder / "unet").mkdir(parents=True)
    (folder / "scheduler").mkdir()
    write_index(folder, "PNDMScheduler")
    (folder / "unet" / "diffusion_pytorch_model.safetensors").write_bytes(b"weights")
    (folder / "scheduler" / "scheduler_config.json").write_text("{}")
    return folder


def write_index(folder, scheduler: str) -> None:
    index = {"_class_name": "StableDiffusionPipeline", "unet": ["diffusers", "UNet2DConditionModel"],
             "scheduler": ["diffusers", scheduler]}
    (folder / "model_index.json").write_text(json.dumps(index))


def touch_later(path) -> None:
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))


def test_another_scheduler_named_in_model_index_changes_the_fingerprint(tmp_path):
    folder = model_folder(tmp_path)
    before = model_files_fingerprint(str(folder))

    write_index(folder, "EulerDiscreteScheduler")
    touch_later(folder / "model_index.json")

    assert model_files_fingerprint(str(folder)) != before


def test_a_readme_or_a_downloads_hidden_cache_leaves_the_fingerprint(tmp_path):
    folder = model_folder(tmp_path)
    before = model_files_fingerprint(str(folder))

    (folder / "README.md").write_text("A model.")
    (folder / ".cache" / "huggingface").mkdir(parents=True)
    (folder / ".cache" / "huggingface" / "unet.metadata").write_text("etag")
    (folder / "unet" / ".lock").write_text("")

    assert model_files_fingerprint(str(folder)) == before


def test_a_hub_id_or_no_model_has_no_fingerprint(tmp_path):
    assert model_files_fingerprint("stabilityai/stable-diffusion-3.5-large") is None
    assert model_files_fingerprint("") is None
