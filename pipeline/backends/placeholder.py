"""The offline image backend: a PNG that says what it would show, and that it is a placeholder.

It is deliberately unmistakable (the word PLACEHOLDER across the top, the
description as text), so nobody evaluates a model on it believing it is a real
image. Behind the text sits a coarse colour grid drawn from the item's seed, so
two items' placeholders are not near-duplicates to a perceptual hash.
"""

from __future__ import annotations

import hashlib
import io
import textwrap
from functools import lru_cache

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from pipeline.backends.base import GeneratedImage, ImageGenerator, ImageRequest
from pipeline.contracts import ItemError


@lru_cache(maxsize=4)
def _font(size: int):
    return ImageFont.load_default(size=size)


@lru_cache(maxsize=4)
def _banner(width: int, font_size: int) -> Image.Image:
    """The dark strip with PLACEHOLDER, the same on every image of a size: drawn once, since
    rendering text is most of a small placeholder's cost."""
    strip = Image.new("RGB", (width, font_size + 9), (40, 40, 40))
    ImageDraw.Draw(strip).text((6, 4), "PLACEHOLDER", fill=(255, 220, 0), font=_font(font_size))
    return strip


class PlaceholderImages(ImageGenerator):
    backend = "placeholder"
    model = ""
    prompt_hash = ""

    def __init__(self, width: int = 256, height: int = 256):
        self.width, self.height = width, height

    def _draw(self, request: ImageRequest) -> bytes:
        # Dark or light cells (a luminance pattern is what a perceptual hash sees), tinted.
        rng = np.random.default_rng(request.seed)
        light = rng.integers(0, 2, (8, 8, 1)).astype(bool)
        grid = np.where(light, rng.integers(180, 256, (8, 8, 3)), rng.integers(0, 70, (8, 8, 3)))
        image = Image.fromarray(grid.astype(np.uint8)).resize((self.width, self.height), Image.Resampling.NEAREST)
        banner = max(12, self.height // 10)
        margin = self.width // 16
        body = max(9, self.height // 24)
        chars_per_line = max(10, int((self.width - 2 * margin - 8) / (body * 0.55)))
        lines = textwrap.wrap(request.prompt, chars_per_line)
        lines = lines[:(self.height - banner - 20 - margin) // (body + 3)]
        # A see-through panel only as tall as the text, so the grid still shows through.
        panel = (margin, banner + 10, self.width - margin, banner + 18 + len(lines) * (body + 3))
        white = Image.new("RGB", (panel[2] - panel[0], panel[3] - panel[1]), (255, 255, 255))
        image.paste(Image.blend(image.crop(panel), white, 0.6), panel[:2])
        image.paste(_banner(self.width, banner), (0, 0))
        draw = ImageDraw.Draw(image)
        y = banner + 14
        for line in lines:
            draw.text((margin + 4, y), line, fill=(0, 0, 0), font=_font(body))
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
                "model": "placeholder", "seed": request.seed, "sha256": hashlib.sha256(png).hexdigest(),
                "width": self.width, "height": self.height,
            }))
        return results
