"""The token limiter charges each image what the model's family charges for its size."""

from __future__ import annotations

import base64
import io

import pytest
from PIL import Image

from pipeline.llm.limits import estimate_tokens, image_tokens


def image_message(width: int, height: int) -> list[dict]:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (90, 20, 20)).save(buffer, format="PNG")
    url = "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")
    return [{"role": "user", "content": [{"type": "text", "text": "x" * 400},
                                         {"type": "image_url", "image_url": {"url": url}}]}]


@pytest.mark.parametrize("model, width, height, tokens", [
    ("gpt-4o", 1024, 1024, 765),          # OpenAI's worked example
    ("gpt-4o", 2048, 4096, 1105),         # fit 2048, shortest side 768: 768x1536 = 6 tiles
    ("gpt-4o-mini", 512, 512, 255),       # one tile
    ("Qwen/Qwen2-VL-72B-Instruct", 1024, 1024, 37 * 37 + 2),
    ("qwen2.5-vl-7b-instruct", 448, 448, 16 * 16 + 2),
    ("llava-hf/llava-1.5-7b-hf", 1024, 1024, 576),
    ("llava-hf/llava-v1.6-mistral-7b-hf", 1024, 1024, 2880),
])
def test_per_image_tokens_by_model_family(model, width, height, tokens):
    assert image_tokens(model, width, height) == tokens


def test_the_estimate_reads_the_size_from_the_png_it_sends():
    for model, size, image in (("gpt-4o", 1024, 765), ("Qwen/Qwen2-VL-72B-Instruct", 1024, 1371),
                               ("Qwen/Qwen2-VL-72B-Instruct", 256, 83)):
        assert estimate_tokens(image_message(size, size), 100, model) == 400 // 4 + image + 100
