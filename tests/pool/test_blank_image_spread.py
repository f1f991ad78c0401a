"""A pool image counts as blank (skipped: nothing for a query to point at) up to BLANK_SPREAD inclusive,
on the thumbnail the check reads (mutation round 3: `<=` turned `<` passed a flat image into the pool)."""

from __future__ import annotations

from PIL import Image

from pipeline.images.checks import BLANK_SPREAD, is_blank


def two_tone(spread: int) -> Image.Image:
    image = Image.new("RGB", (64, 64), (100, 100, 100))
    image.paste((100 + spread, 100, 100), (0, 0, 32, 64))  # half the picture: survives the thumbnail's averaging
    return image


def test_a_spread_exactly_at_blank_spread_is_blank_and_one_more_is_not():
    assert is_blank(two_tone(BLANK_SPREAD))
    assert not is_blank(two_tone(BLANK_SPREAD + 1))
