"""`leakless build` with a diffusers model or device that cannot work stops before any stage runs,
with one line on stderr and exit 2, instead of failing at the images stage after every text stage
(with pages of Prefect tracebacks)."""

from __future__ import annotations

import json

import pytest
import torch
from typer.testing import CliRunner

COMPONENTS = ("scheduler", "text_encoder", "tokenizer", "unet", "vae")


def fake_model(folder, components=COMPONENTS):
    """A folder shaped like a saved StableDiffusionPipeline; preflight reads no weights."""
    folder.mkdir(parents=True)
    index = {"_class_name": "StableDiffusionPipeline", "safety_checker": [None, None],
             **{name: ["diffusers", "SomeClass"] for name in COMPONENTS}}
    (folder / "model_index.json").write_text(json.dumps(index))
    for name in components:
        (folder / name).mkdir()
        (folder / name / "config.json").write_text("{}")
        (folder / name / "model.safetensors").write_text("")  # the preflight reads names, not weights
    return folder


@pytest.fixture
def build(tmp_path, monkeypatch):
    """Runs `leakless build` for one small category with diffusers images and these overrides."""
    import huggingface_hub.constants

    from pipeline.cli.app import app

    monkeypatch.chdir(tmp_path)
    (tmp_path / "hf-cache").mkdir()
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(tmp_path / "hf-cache"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 0)  # as here, on a GPU machine too

    def run(*overrides: str):
        args = ["build", "--size", "1", "--no-progress", "--set", "run.categories=['Privacy']",
                "--set", f"run.runs_dir='{tmp_path / 'runs'}'", "--set", "backends.images='diffusers'",
                "--set", "images.diffusers.width=64", "--set", "images.diffusers.height=64",
                "--set", "images.diffusers.allow_cpu=true"]
        for override in overrides:
            args += ["--set", override]
        return CliRunner().invoke(app, args)
    return run


@pytest.mark.parametrize("overrides, message", [
    (["images.diffusers.model='{tmp}/nope'", "images.diffusers.family='sd'"],
     "error: images.diffusers.model: {tmp}/nope does not exist"),
    (["images.diffusers.model='{tmp}/nounet'"],
     "error: images.diffusers.model: {tmp}/nounet lacks the component folder(s) unet/"),
    (["images.diffusers.model='stabilityai/stable-diffusion-3.5-large'"],
     "error: images.diffusers.model: stabilityai/stable-diffusion-3.5-large is not in the local Hugging "
     "Face cache"),
    (["images.diffusers.model='{tmp}/sd'", "images.diffusers.variant='fp16'"],
     "error: images.diffusers.model: {tmp}/sd has no weight files of variant 'fp16'"),
    (["images.diffusers.model='{tmp}/sd'", "images.diffusers.devices=['cuda:0']"],
     "error: images.diffusers.devices names 'cuda:0', but this machine has no CUDA device"),
    (["images.diffusers.model='{tmp}/sd'", "images.diffusers.devices=['gpu0']"],
     "error: images.diffusers.devices: 'gpu0' is not a device torch knows"),
    (["images.diffusers.model='{tmp}/sd'", "images.diffusers.devices=[]"],
     "error: override images.diffusers.devices: an empty list names no device"),
    (["images.diffusers.model='{tmp}/sd'", "images.diffusers.width=100000"],
     "error: override images.diffusers.width: Input should be less than or equal to 4096"),
])
def test_a_model_or_device_that_cannot_work_stops_the_build_before_it_starts(build, tmp_path, overrides,
                                                                             message):
    fake_model(tmp_path / "sd")
    fake_model(tmp_path / "nounet", components=[name for name in COMPONENTS if name != "unet"])
    result = build(*(override.replace("{tmp}", str(tmp_path)) for override in overrides))
    assert result.exit_code == 2, result.output
    assert result.output.startswith(message.replace("{tmp}", str(tmp_path))), result.output
    assert len(result.output.strip().splitlines()) == 1
    assert not (tmp_path / "runs").exists()  # no run was started, no stage ran


def test_a_model_and_devices_that_can_work_pass_preflight(tmp_path, monkeypatch):
    from pipeline.cli.image_checks import check_image_model
    from pipeline.config import load_config

    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    model = fake_model(tmp_path / "sd")
    settings = load_config(None, ["backends.images='diffusers'", f"images.diffusers.model='{model}'",
                                  "images.diffusers.devices=['cuda:0', 'cuda:1']"])
    check_image_model(settings)
    with pytest.raises(ValueError, match="this machine has 2 CUDA device"):
        check_image_model(settings.model_copy(update={"images": settings.images.model_copy(update={
            "diffusers": settings.images.diffusers.model_copy(update={"devices": ["cuda:2"]})})}))
