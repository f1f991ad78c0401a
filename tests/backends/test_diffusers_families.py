"""Every model family's call path: tiny random-weight SDXL, SD3 and FLUX pipelines built from
configs, saved to disk and loaded through the backend exactly as a downloaded model would be
(SD 1.5's is tests/backends/test_diffusers_backend.py)."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from pipeline.backends.base import GeneratedImage, ImageRequest
from pipeline.backends.diffusers_config import DiffusersConfig
from pipeline.backends.diffusers_images import DiffusersImageGenerator
from pipeline.testing.tiny_diffusers import build_tiny_flux_pipeline, build_tiny_sd3_pipeline, build_tiny_sdxl_pipeline

pytestmark = pytest.mark.slow  # three pipelines to build and run on CPU: ~30 s

WIDTH, HEIGHT = 64, 48  # multiples of 16, not square
REQUESTS = [ImageRequest("a", "a red door in an alley", 1), ImageRequest("b", "a kitchen at night", 2)]


@pytest.fixture(scope="module")
def tiny_sd3(tmp_path_factory):
    return build_tiny_sd3_pipeline(tmp_path_factory.mktemp("tiny-sd3"))


@pytest.fixture(scope="module")
def tiny_sdxl(tmp_path_factory):
    return build_tiny_sdxl_pipeline(tmp_path_factory.mktemp("tiny-sdxl"))


@pytest.fixture(scope="module")
def tiny_flux(tmp_path_factory):
    return build_tiny_flux_pipeline(tmp_path_factory.mktemp("tiny-flux"))


def generator(model, **overrides) -> DiffusersImageGenerator:
    settings = dict(model=str(model), steps=2, width=WIDTH, height=HEIGHT, batch_size=2,
                    devices=["cpu"], allow_cpu=True)
    return DiffusersImageGenerator(DiffusersConfig(**(settings | overrides)))


def check_images(results, family: str) -> None:
    assert all(isinstance(result, GeneratedImage) for result in results)
    for result in results:
        assert Image.open(io.BytesIO(result.png)).size == (WIDTH, HEIGHT)
        assert result.meta["family"] == family
    assert len({result.meta["sha256"] for result in results}) == len(results)


def test_sdxl_runs_with_negative_prompt_and_its_guidance_default(tiny_sdxl):
    plain = generator(tiny_sdxl)
    assert type(plain.pipelines[0]).__name__ == "StableDiffusionXLPipeline"
    assert plain.config.family == "sdxl" and plain.config.guidance == 5.0  # not SD3's 3.5
    first = plain.generate(REQUESTS)
    check_images(first, "sdxl")
    negative = generator(tiny_sdxl, negative_prompt="blurry").generate(REQUESTS)
    check_images(negative, "sdxl")
    assert negative[0].png != first[0].png


def test_sd3_runs_with_negative_prompt_and_t5_length(tiny_sd3):
    plain = generator(tiny_sd3, max_sequence_length=32)
    assert type(plain.pipelines[0]).__name__ == "StableDiffusion3Pipeline"
    assert plain.config.family == "sd3" and plain.config.guidance == 3.5
    first = plain.generate(REQUESTS)
    check_images(first, "sd3")
    assert [r.png for r in first] == [r.png for r in generator(tiny_sd3, max_sequence_length=32).generate(REQUESTS)]
    negative = generator(tiny_sd3, max_sequence_length=32, negative_prompt="blurry").generate(REQUESTS)
    check_images(negative, "sd3")
    assert negative[0].png != first[0].png
    # The T5 sees 32 tokens, then 8: the long prompt's tail is cut, so the image changes.
    long_prompt = [ImageRequest("c", "a red door in an alley " * 4, 3)]
    assert (generator(tiny_sd3, max_sequence_length=8).generate(long_prompt)[0].png
            != generator(tiny_sd3, max_sequence_length=32).generate(long_prompt)[0].png)


def test_flux_runs_with_guidance_and_t5_length(tiny_flux):
    flux = generator(tiny_flux, max_sequence_length=32, guidance=3.5)
    assert type(flux.pipelines[0]).__name__ == "FluxPipeline"
    results = flux.generate(REQUESTS)
    check_images(results, "flux")
    assert results[0].meta["guidance"] == 3.5
    # FLUX.1-dev embeds the guidance: another value is another image.
    other = generator(tiny_flux, max_sequence_length=32, guidance=1.0).generate(REQUESTS[:1])
    assert other[0].png != results[0].png
