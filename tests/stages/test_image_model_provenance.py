"""What made an image, written down: a saved image's note names the model folder's files, so new
weights at the same path make the images again (an audit found one run's PNGs from two
checkpoints under one name); refined images get their note too; and an image check's decision
names the model that answered, a fallback included (it named the configured one)."""

from __future__ import annotations

import json
import os
import shutil

import pytest

from pipeline.backends.llm_text import LLMImageChecker
from pipeline.backends.placeholder import PlaceholderImages
from pipeline.batch import Batch
from pipeline.contracts import CheckResult
from pipeline.llm.client import LLMClient
from pipeline.stages.images import ImageStage, image_seed
from tests.stages.conftest import drafted_from
from pipeline.testing.openai_server import FAKE_KEY_ENV, FakeOpenAIServer

WEIGHTS = "unet/diffusion_pytorch_model.safetensors"


class FolderModelImages(PlaceholderImages):
    """The placeholder generator named after a model folder; it counts what it is asked for."""

    def __init__(self, model: str):
        super().__init__(width=64, height=64)
        self.model = model
        self.asked: list[str] = []

    def generate(self, requests):
        self.asked += [request.item_id for request in requests]
        return super().generate(requests)


@pytest.fixture()
def drafted() -> Batch:
    return drafted_from(4)


@pytest.fixture()
def model_folder(tmp_path):
    folder = tmp_path / "model"
    (folder / "unet").mkdir(parents=True)
    (folder / "model_index.json").write_text('{"_class_name": "StableDiffusionPipeline"}')
    (folder / WEIGHTS).write_bytes(b"old weights")
    (folder / "README.md").write_text("A model.")
    return folder


def run_images(folder, run_dir, drafted) -> FolderModelImages:
    generator = FolderModelImages(str(folder))
    ImageStage(generator, run_dir, save_every=2)(drafted)
    return generator


def test_new_weights_at_the_same_path_make_every_image_again(model_folder, tmp_path, drafted):
    run_images(model_folder, tmp_path / "run", drafted)
    (model_folder / WEIGHTS).write_bytes(b"new weights")  # the same size: only the time tells
    stat = (model_folder / WEIGHTS).stat()
    os.utime(model_folder / WEIGHTS, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    assert len(run_images(model_folder, tmp_path / "run", drafted).asked) == 4


def test_an_unchanged_folder_or_a_changed_readme_reuses_the_saved_images(model_folder, tmp_path, drafted):
    run_images(model_folder, tmp_path / "run", drafted)
    assert run_images(model_folder, tmp_path / "run", drafted).asked == []
    (model_folder / "README.md").write_text("A model, described at more length.")
    assert run_images(model_folder, tmp_path / "run", drafted).asked == []


def test_an_image_saved_before_folders_were_fingerprinted_is_reused_not_remade(model_folder, tmp_path, drafted):
    run_images(model_folder, tmp_path / "run", drafted)
    for note in (tmp_path / "run" / "images").glob("*.json"):
        saved = json.loads(note.read_text())
        del saved["made_for"]["model_files"]
        note.write_text(json.dumps(saved))
    assert run_images(model_folder, tmp_path / "run", drafted).asked == []


def test_a_hub_id_keeps_the_note_it_had(tmp_path, drafted):
    run_images("org/some-model", tmp_path / "run", drafted)
    note = json.loads(next((tmp_path / "run" / "images").glob("*.json")).read_text())
    assert set(note["made_for"]) == {"prompt", "seed", "backend", "model"}


class RejectsFirstImages:
    """A checker that rejects each seed's first image with a refined prompt and accepts the next."""

    backend, model, prompt_hash = "stub", "stub-vlm", "abc"

    def __init__(self):
        self.checked: set[str] = set()

    def check(self, requests):
        results = []
        for request in requests:
            first = request.description not in self.checked
            self.checked.add(request.description)
            results.append(CheckResult(shows_element=not first, refined_prompt="A closer photo." if first else None))
        return results


def test_refined_images_are_saved_with_a_note_of_the_round_that_made_them(model_folder, tmp_path, drafted):
    done = ImageStage(FolderModelImages(str(model_folder)), tmp_path, checker=RejectsFirstImages(),
                      save_every=2)(drafted)
    assert len(done.images) == 4
    for seed_id in done.images:
        note = json.loads((tmp_path / "images" / f"{seed_id}.json").read_text())
        assert note["made_for"]["prompt"] == "A closer photo."
        assert note["made_for"]["seed"] == image_seed(seed_id) + 1  # the second round's seed
        assert note["made_for"]["model_files"] and len(note["meta"]["rounds"]) == 2


@pytest.fixture()
def fake_server(monkeypatch):
    monkeypatch.setenv(FAKE_KEY_ENV, "sk-test")
    with FakeOpenAIServer(refusing_models=frozenset({"qwen-vl-primary"})) as server:
        yield server


@pytest.mark.parametrize(("role", "answered"), [
    ({"model": "qwen-vl-primary", "fallback_models": ["qwen-vl-backup"]}, "scripted-fake:qwen-vl-backup"),
    ({"model": "qwen-vl-fake"}, "scripted-fake:qwen-vl-fake")])
def test_an_image_check_decision_names_the_model_that_answered(fake_server, tmp_path, drafted, role, answered):
    checker = LLMImageChecker(LLMClient(fake_server.llm_settings(roles={"image_refiner": role}, timeout_s=5.0)))
    done = ImageStage(PlaceholderImages(width=64, height=64), tmp_path, checker=checker, max_rounds=1)(drafted)
    checks = [d for d in done.decisions if d.stage == "image_check"]
    assert len(checks) == 4
    assert {(d.backend, d.model, d.prompt_hash) for d in checks} == {(checker.backend, answered, checker.prompt_hash)}


@pytest.mark.slow
def test_two_tiny_models_swapped_at_one_path_do_not_share_a_run(tmp_path, drafted):
    from pipeline.backends.diffusers_images import DiffusersConfig, DiffusersImageGenerator
    from pipeline.testing.tiny_diffusers import build_tiny_sd_pipeline

    folder = tmp_path / "cur"

    def images_from(seed: int) -> tuple[dict[str, bytes], int]:
        shutil.rmtree(folder, ignore_errors=True)
        build_tiny_sd_pipeline(folder, seed=seed)
        generator = DiffusersImageGenerator(DiffusersConfig(
            model=str(folder), family="sd", steps=2, width=64, height=64, batch_size=2, devices=["cpu"],
            allow_cpu=True))
        asked = []
        generate = generator.generate
        generator.generate = lambda requests: asked.extend(requests) or generate(requests)
        done = ImageStage(generator, tmp_path / "run", save_every=2)(drafted)
        return {seed_id: (tmp_path / "run" / path).read_bytes() for seed_id, path in done.images.items()}, len(asked)

    old, _ = images_from(seed=0)
    new, asked = images_from(seed=1)
    assert asked == 4 and len(new) == 4
    assert all(new[seed_id] != old[seed_id] for seed_id in new)
