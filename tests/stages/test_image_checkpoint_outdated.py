"""`ImageStage.outdated`: a batch whose images stage finished is made again on a resume (`build.run_stage`)
only when its saved images name other files of the model folder than it holds now."""

from __future__ import annotations

import json
import os

from pipeline.backends.placeholder import PlaceholderImages
from pipeline.stages.images import ImageStage
from tests.stages.conftest import drafted_from

WEIGHTS = "unet/diffusion_pytorch_model.safetensors"


def model_folder(tmp_path):
    folder = tmp_path / "model"
    (folder / "unet").mkdir(parents=True)
    (folder / "model_index.json").write_text('{"_class_name": "StableDiffusionPipeline"}')
    (folder / WEIGHTS).write_bytes(b"old weights")
    return folder


def stage_for(model: str, run_dir) -> ImageStage:
    generator = PlaceholderImages(width=64, height=64)
    generator.model = model  # the placeholder named after a model folder, as a diffusers generator is
    return ImageStage(generator, run_dir, save_every=2)


def new_weights(folder) -> None:
    (folder / WEIGHTS).write_bytes(b"new weights")  # the same size: only the time tells
    stat = (folder / WEIGHTS).stat()
    os.utime(folder / WEIGHTS, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))


def test_a_finished_batch_is_outdated_once_new_weights_are_in_its_folder(tmp_path):
    folder = model_folder(tmp_path)
    done = stage_for(str(folder), tmp_path / "run")(drafted_from(4))
    assert len(done.images) == 4 and not stage_for(str(folder), tmp_path / "run").outdated(done)
    (folder / "README.md").write_text("A model.")  # makes no image
    assert not stage_for(str(folder), tmp_path / "run").outdated(done)
    new_weights(folder)
    assert stage_for(str(folder), tmp_path / "run").outdated(done)


def test_notes_saved_before_fingerprints_and_hub_ids_are_never_outdated(tmp_path):
    folder = model_folder(tmp_path)
    done = stage_for(str(folder), tmp_path / "run")(drafted_from(4))
    for note in (tmp_path / "run" / "images").glob("*.json"):
        saved = json.loads(note.read_text())
        del saved["made_for"]["model_files"]
        note.write_text(json.dumps(saved))
    new_weights(folder)
    assert not stage_for(str(folder), tmp_path / "run").outdated(done)
    hub = stage_for("org/some-model", tmp_path / "hub")
    assert not hub.outdated(hub(drafted_from(4)))
