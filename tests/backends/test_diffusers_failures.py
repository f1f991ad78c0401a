"""Diffusers failures a researcher can recover from: a model folder without its weights is refused
before any stage runs, a weight file that cannot be read is one line, a prompt that fails (or runs out
of GPU memory) fails alone, and a resume of the run makes only the failed images again."""

from __future__ import annotations

import json
import shutil

import pandas as pd
import pytest
import torch
import typer
from typer.testing import CliRunner

from pipeline.backends.base import GeneratedImage, ImageRequest, ItemError
from pipeline.backends.diffusers_config import DiffusersConfig
from pipeline.backends.diffusers_families import check_model_files
from pipeline.backends.diffusers_images import DiffusersImageGenerator
from pipeline.cli.errors import user_errors

REQUESTS = [ImageRequest(f"item-{n}", f"a quiet street corner, view {n}", 40 + n) for n in range(4)]

# What save_pretrained writes for a StableDiffusionPipeline: models have a config.json and weights.
SD_FILES = {"scheduler": ["scheduler_config.json"], "tokenizer": ["tokenizer_config.json"],
            "text_encoder": ["config.json", "model.safetensors"],
            "unet": ["config.json", "diffusion_pytorch_model.safetensors"],
            "vae": ["config.json", "diffusion_pytorch_model.safetensors"]}


def model_folder(folder, files=SD_FILES):
    folder.mkdir(parents=True)
    index = {"_class_name": "StableDiffusionPipeline", "safety_checker": [None, None],
             **{name: ["diffusers", "SomeClass"] for name in files}}
    (folder / "model_index.json").write_text(json.dumps(index))
    for name, names in files.items():
        (folder / name).mkdir()
        for file in names:
            (folder / name / file).write_text("{}")
    return folder


def with_weights(unet: list[str], vae: list[str] | None = None) -> dict:
    return SD_FILES | {"unet": ["config.json", *unet]} | ({"vae": ["config.json", *vae]} if vae is not None else {})


# --- the pre-start check reads which weight files are there --------------------------------------

@pytest.mark.parametrize("files, variant, message", [
    (with_weights([]), None, "has no weight files (*.safetensors, *.bin) in unet/ beside its config.json "
                             "(an interrupted download?)"),
    (with_weights([], vae=[]), None, "has no weight files (*.safetensors, *.bin) in unet/, vae/"),
    # an fp16-only download loads only with variant = "fp16": it is told so (test_diffusers_variant_only.py)
    (with_weights(["diffusion_pytorch_model.fp16.safetensors"]), None,
     'no plain weight files (*.safetensors, *.bin) in unet/, only variant \'fp16\' ones '
     '(unet/diffusion_pytorch_model.fp16.safetensors): set images.diffusers.variant = "fp16"'),
    (SD_FILES, "fp16", "has no weight files of variant 'fp16' (names like model.fp16.safetensors): download "
                       "that variant, or leave images.diffusers.variant unset"),
    (with_weights(["diffusion_pytorch_model.fp16.safetensors"], vae=["diffusion_pytorch_model.ema.safetensors"]),
     "fp16", "has no weight files of variant 'fp16' or plain ones (*.safetensors, *.bin) in vae/"),
])
def test_a_folder_without_the_weights_it_would_load_is_refused_in_one_line(tmp_path, files, variant, message):
    folder = model_folder(tmp_path / "model", files)
    with pytest.raises(ValueError) as caught:
        check_model_files(str(folder), local_files_only=True, variant=variant)
    assert str(caught.value).startswith(f"images.diffusers.model: {folder} ")
    assert message in str(caught.value) and "\n" not in str(caught.value)


@pytest.mark.parametrize("files, variant", [
    (SD_FILES, None),
    (with_weights(["diffusion_pytorch_model-00001-of-00002.safetensors",
                   "diffusion_pytorch_model-00002-of-00002.safetensors"]), None),  # sharded
    # diffusers loads the variant where a component has it, and the plain weights elsewhere
    (with_weights(["diffusion_pytorch_model.fp16.safetensors"]), "fp16"),
    (with_weights(["diffusion_pytorch_model.fp16-00001-of-00002.safetensors"]), "fp16"),
    (with_weights(["diffusion_pytorch_model.bin"]), None),
])
def test_a_folder_with_the_weights_it_would_load_passes(tmp_path, files, variant):
    check_model_files(str(model_folder(tmp_path / "model", files)), local_files_only=True, variant=variant)


def test_a_cached_hub_id_without_its_weights_is_refused(tmp_path, monkeypatch):
    import huggingface_hub.constants

    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(tmp_path))
    repo = tmp_path / "models--someone--sd-model"
    (repo / "refs").mkdir(parents=True)
    (repo / "refs" / "main").write_text("0" * 40)
    model_folder(repo / "snapshots" / ("0" * 40), with_weights([]))
    with pytest.raises(ValueError, match=r"\(in the local Hugging Face cache, .*\) has no weight files .* in unet/"):
        check_model_files("someone/sd-model", local_files_only=True)


def test_leakless_build_refuses_a_model_without_weights_before_any_stage(tmp_path, monkeypatch):
    from pipeline.cli.app import app

    monkeypatch.chdir(tmp_path)
    model = model_folder(tmp_path / "sd", with_weights([]))
    result = CliRunner().invoke(app, [
        "build", "--size", "1", "--no-progress", "--set", "run.categories=['Privacy']",
        "--set", f"run.runs_dir='{tmp_path / 'runs'}'", "--set", "backends.images='diffusers'",
        "--set", f"images.diffusers.model='{model}'", "--set", "images.diffusers.width=64",
        "--set", "images.diffusers.height=64", "--set", "images.diffusers.devices=['cpu']",
        "--set", "images.diffusers.allow_cpu=true"])
    assert result.exit_code == 2, result.output
    assert result.output.startswith(f"error: images.diffusers.model: {model} has no weight files")
    assert len(result.output.strip().splitlines()) == 1
    assert not (tmp_path / "runs").exists()  # no run was started, no stage ran


# --- on a tiny real model ------------------------------------------------------------------------

@pytest.fixture(scope="module")
def tiny_sd(tmp_path_factory):
    from pipeline.testing.tiny_diffusers import build_tiny_sd_pipeline

    return build_tiny_sd_pipeline(tmp_path_factory.mktemp("tiny-sd"))


def tiny_generator(model, **settings) -> DiffusersImageGenerator:
    return DiffusersImageGenerator(DiffusersConfig(**({"model": str(model), "steps": 2, "width": 64, "height": 64,
                                                       "batch_size": 4, "devices": ["cpu"], "allow_cpu": True}
                                                      | settings)))


@pytest.mark.slow
def test_a_weight_file_that_cannot_be_read_is_one_line_and_exit_2(tiny_sd, tmp_path, capsys):
    broken = tmp_path / "truncated"
    shutil.copytree(tiny_sd, broken)
    weights = broken / "unet" / "diffusion_pytorch_model.safetensors"
    weights.write_bytes(weights.read_bytes()[:1000])  # passes the pre-start check, fails to load
    generator = tiny_generator(broken)
    with pytest.raises(typer.Exit) as stopped, user_errors():
        generator.pipelines
    assert stopped.value.exit_code == 2
    said = capsys.readouterr().err  # after diffusers' own progress bar
    assert said.endswith("\n") and "Traceback" not in said
    assert said.splitlines()[-1].startswith(f"error: images.diffusers.model: {broken} cannot be loaded: "
                                            f"Unable to load weights")


class FailsOn:
    """A real pipeline that raises `error` for any call whose prompts include `word`."""

    def __init__(self, pipe, word: str, error: Exception):
        self.pipe, self.word, self.error, self.calls = pipe, word, error, []

    def __call__(self, prompt, **arguments):
        self.calls.append(len(prompt))
        if any(self.word in text for text in prompt):
            raise self.error
        return self.pipe(prompt=prompt, **arguments)


@pytest.mark.slow
@pytest.mark.parametrize("error, message, transient", [
    (RuntimeError("simulated failure on one prompt"), "diffusers failed on this prompt: simulated failure", False),
    (torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB"),
     "out of GPU memory even for a batch of one: CUDA out of memory", True),
])
def test_a_failing_prompt_fails_alone_and_only_out_of_memory_is_retried(tiny_sd, error, message, transient):
    generator = tiny_generator(tiny_sd)
    failing = FailsOn(generator.pipelines[0], "view 2", error)
    generator._pipelines = [failing]
    results = generator.generate(REQUESTS)
    assert failing.calls == [4, 2, 2, 1, 1]  # halved down to the offending prompt
    # the images of the halves that ran: [0 1] together, [3] alone (a batch's size can change a few pixels)
    halves = tiny_generator(tiny_sd, batch_size=2).generate(REQUESTS[:2]) + generator.generate(REQUESTS[3:])
    assert [r.png for n, r in enumerate(results) if n != 2] == [r.png for r in halves]
    assert isinstance(results[2], ItemError) and results[2].error.startswith(message)
    # out of memory: a resume makes it again (`pipeline.build.run_stage`); another error would repeat on
    # every resume, reopening the batch's images stage each time
    assert results[2].transient is transient


@pytest.mark.slow
def test_each_image_names_the_precision_and_prompt_length_it_was_made_with(tiny_sd):
    image, = tiny_generator(tiny_sd).generate(REQUESTS[:1])
    assert isinstance(image, GeneratedImage)
    assert (image.meta["dtype"], image.meta["max_sequence_length"]) == ("float32", None)
    sd3 = DiffusersImageGenerator(DiffusersConfig(model="stabilityai/stable-diffusion-3.5-large", dtype="float16",
                                                  devices=["cpu"], allow_cpu=True))
    assert sd3.settings_meta("cpu") == {"dtype": "float16", "max_sequence_length": 256}


# --- a build that ran out of memory, resumed with a smaller batch -------------------------------

@pytest.mark.slow
def test_a_resume_with_a_smaller_batch_makes_only_the_images_that_failed(tiny_sd, tmp_path, monkeypatch):
    """The README's advice after running out of GPU memory: rerun the run id with a smaller batch_size.
    Before, the failures were not transient, so the images stage was not run again."""
    from pipeline.build import build_without_orchestration
    from pipeline.config import load_config

    load, prompts, failing = DiffusersImageGenerator._load, [], []

    def out_of_memory_on_the_first_prompt(self, device):
        pipe = load(self, device)

        def call(prompt, **arguments):
            prompts.extend(prompt)
            failing[:] = failing or prompt[:1]  # one prompt (its seed) runs out of memory, every time
            if self.config.batch_size > 1 and failing[0] in prompt:
                raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")
            return pipe(prompt=prompt, **arguments)
        return call

    monkeypatch.setattr(DiffusersImageGenerator, "_load", out_of_memory_on_the_first_prompt)

    def build(batch_size: int) -> pd.DataFrame:
        config = load_config(None, [
            "run.size=1", "run.categories=['Privacy']", f"run.runs_dir='{tmp_path}'", "backends.images='diffusers'",
            f"images.diffusers.model='{tiny_sd}'", "images.diffusers.width=64", "images.diffusers.height=64",
            "images.diffusers.steps=2", f"images.diffusers.batch_size={batch_size}",
            "images.diffusers.devices=['cpu']", "images.diffusers.allow_cpu=true"])
        build_without_orchestration(config, "oom")
        return pd.read_parquet(tmp_path / "oom" / "ledger.parquet")

    first = build(batch_size=2)
    assert (first["state"] == "failed").sum() == 1 and (first["state"] == "accepted").any()
    made_first = len(set(prompts))
    prompts.clear()
    again = build(batch_size=1)
    assert prompts == failing  # only the failed seed's image was made again
    assert (again["state"] == "accepted").sum() == (first["state"] == "accepted").sum() + 1
    assert (again["state"] != "failed").all() and made_first > 1
