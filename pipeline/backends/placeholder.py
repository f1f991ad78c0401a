"""The offline image backend: a PNG that says what it would show, and that it is a placeholder.

It is deliberately unmistakable (grey card, the word PLACEHOLDER across the
top), so nobody evaluates a model on it believing it is a real image.
"""

from __future__ import annotations

import io
import textwrap
from functools import lru_cache

from PIL import Image, ImageDraw, ImageFont

from pipeline.backends.base import GeneratedImage, ImageGenerator, ImageRequest, ItemError


@lru_cache(maxsize=4)
def _font(size: int):
    return ImageFont.load_default(size=size)


class PlaceholderImages(ImageGenerator):
    backend = "placeholder"
    model = ""
    prompt_hash = ""

    def __init__(self, width: int = 256, height: int = 256):
        self.width, self.height = width, height

    def _draw(self, request: ImageRequest) -> bytes:
        # The tint comes from the seed, so distinct items do not hash alike.
        tint = 150 + request.seed % 60
        image = Image.new("RGB", (self.width, self.height), (tint, tint, tint + 20))
        draw = ImageDraw.Draw(image)
        banner = max(12, self.height // 10)
        draw.rectangle((0, 0, self.width, banner + 8), fill=(40, 40, 40))
        draw.text((6, 4), "PLACEHOLDER", fill=(255, 220, 0), font=_font(banner))
        body = max(9, self.height // 24)
        chars_per_line = max(10, int(self.width / (body * 0.55)))
        lines = textwrap.wrap(request.prompt, chars_per_line)
        max_lines = (self.height - banner - 20) // (body + 3)
        y = banner + 14
        for line in lines[:max_lines]:
            draw.text((6, y), line, fill=(20, 20, 20), font=_font(body))
            y += body + 3
        buffer = io.BytesIO()
        image.save(buffer, format="PNG", optimize=False, compress_level=1)
        return buffer.getvalue()

    def generate(self, requests: list[ImageRequest]) -> list[GeneratedImage | ItemError]:
        results: list[GeneratedImage | ItemError] = []
        for request in requests:
            try:
                png = self._draw(request)
            except (OSError, ValueError) as error:
                results.append(ItemError(f"placeholder drawing failed: {error}"))
                continue
            results.append(GeneratedImage(png=png, meta={
                "model": "placeholder", "seed": request.seed,
                "width": self.width, "height": self.height,
            }))
        return results
