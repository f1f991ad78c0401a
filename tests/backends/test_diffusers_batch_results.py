"""What the diffusers backend makes of one pipeline call, behind a stand-in pipeline (no weights load):
each request gets the image of its own prompt and seed, a flagged image is no image, only running out
of memory is worth a resume, and every image's meta names the seed and model that made it."""

from __future__ import annotations

import io
import json
import zlib
from types import SimpleNamespace

import pytest
import torch
from PIL import Image

from pipeline.backends.base import GeneratedImage, ImageRequest
from pipeline.backends.diffusers_config import DiffusersConfig
from pipeline.backends.diffusers_images import DiffusersImageGenerator
from pipeline.contracts import ItemError

REQUESTS = [ImageRequest(f"item-{n}", f"a quiet street corner, view {n}", 40 + n) for n in range(5)]


def expected_colour(prompt: str, seed: int) -> tuple[int, int, int]:
    """What `Painter` paints for a prompt whose generator was seeded with `seed`."""
    return _colour(prompt, torch.Generator("cpu").manual_seed(seed))


def _colour(prompt: str, generator: torch.Generator) -> tuple[int, int, int]:
    red, green = (20 + int(value) for value in torch.randint(0, 200, (2,), generator=generator))
    return red, green, 20 + zlib.crc32(prompt.encode()) % 200


class Painter:
    """Stands in for a loaded pipeline: paints each prompt's image from the prompt and the first draw
    of the generator handed in beside it; flags prompts naming `flag`, and fails a call with a prompt
    naming `fail` by raising `error`."""

    def __init__(self, error: Exception | None = None):
        self.error, self.calls = error, []

    def __call__(self, prompt, generator, **arguments):
        self.calls.append(len(prompt))
        if self.error is not None and any("fail" in text for text in prompt):
            raise self.error
        images = [Image.new("RGB", (16, 16), _colour(text, gen)) for text, gen in zip(prompt, generator)]
        return SimpleNamespace(images=images, nsfw_content_detected=["flag" in text for text in prompt])


@pytest.fixture
def model_folder(tmp_path):
    folder = tmp_path / "tiny-sd"
    folder.mkdir()
    (folder / "model_index.json").write_text(json.dumps({"_class_name": "StableDiffusionPipeline"}))
    return folder


def painted(model_folder, painter: Painter, batch_size: int = 2) -> DiffusersImageGenerator:
    generator = DiffusersImageGenerator(DiffusersConfig(
        model=str(model_folder), steps=2, guidance=5.0, width=64, height=48, batch_size=batch_size,
        devices=["cpu"], allow_cpu=True))
    generator._pipelines = [painter]
    return generator


def colour_of(result: GeneratedImage) -> tuple[int, int, int]:
    return Image.open(io.BytesIO(result.png)).convert("RGB").getpixel((0, 0))


def test_each_request_gets_the_image_of_its_own_prompt_and_seed(model_folder):
    results = painted(model_folder, Painter()).generate(REQUESTS)

    assert [colour_of(result) for result in results] == [
        expected_colour(request.prompt, request.seed) for request in REQUESTS]


def test_a_rerun_makes_the_same_bytes(model_folder):
    first = painted(model_folder, Painter()).generate(REQUESTS)
    again = painted(model_folder, Painter(), batch_size=3).generate(REQUESTS)

    assert [result.png for result in first] == [result.png for result in again]


def test_every_image_names_the_seed_and_model_that_made_it(model_folder):
    results = painted(model_folder, Painter()).generate(REQUESTS)

    assert [result.meta["seed"] for result in results] == [request.seed for request in REQUESTS]
    assert {(result.meta["model"], result.meta["family"], result.meta["steps"], result.meta["guidance"])
            for result in results} == {(str(model_folder), "sd", 2, 5.0)}


def test_a_flagged_image_is_an_item_error_and_its_batch_neighbours_are_kept(model_folder):
    requests = REQUESTS[:1] + [ImageRequest("bad", "flag this one", 7)] + REQUESTS[1:3]

    results = painted(model_folder, Painter()).generate(requests)

    assert isinstance(results[1], ItemError) and "nsfw_content_detected" in results[1].error
    kept = [results[0], *results[2:]]
    assert [colour_of(result) for result in kept] == [
        expected_colour(request.prompt, request.seed) for request in REQUESTS[:3]]


@pytest.mark.parametrize("error, transient", [
    (ValueError("the prompt is too long"), False),
    (torch.cuda.OutOfMemoryError("CUDA out of memory"), True),
])
def test_a_failing_prompt_fails_alone_and_only_out_of_memory_is_worth_a_resume(model_folder, error, transient):
    requests = REQUESTS[:2] + [ImageRequest("bad", "fail on this one", 7)] + REQUESTS[2:4]
    painter = Painter(error)

    results = painted(model_folder, painter, batch_size=5).generate(requests)

    assert len(results) == len(requests)
    assert isinstance(results[2], ItemError) and results[2].transient is transient
    kept = results[:2] + results[3:]
    assert [colour_of(result) for result in kept] == [
        expected_colour(request.prompt, request.seed) for request in REQUESTS[:4]]
