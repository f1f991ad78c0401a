"""Any one flat colour is blank, as `is_blank`'s docstring and the skip reason say: the spread
was once taken over R, G and B together, so a flat red page, a scanner's cream page or a
single red pixel passed as a benchmark image. No offline placeholder becomes blank."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from pipeline.backends.base import ImageRequest
from pipeline.backends.placeholder import PlaceholderImages
from pipeline.images.checks import is_blank
from pipeline.pool.pool import load_pool

FLAT_COLOURS = [(128, 128, 128), (220, 30, 30), (30, 60, 200), (240, 230, 200), (0, 0, 0), (255, 255, 255)]


@pytest.mark.parametrize("colour", FLAT_COLOURS)
def test_one_flat_colour_is_blank_at_any_size(colour):
    assert is_blank(Image.new("RGB", (300, 200), colour))
    assert is_blank(Image.new("RGB", (1, 1), colour))


def test_a_flat_red_pixel_is_skipped_from_the_pool(tmp_path):
    Image.new("RGB", (1, 1), (220, 30, 30)).save(tmp_path / "pixel.png")
    Image.new("RGB", (64, 64), (240, 230, 200)).save(tmp_path / "scan.png")
    (tmp_path / "captions.csv").write_text("file,caption\npixel.png,A single red pixel.\nscan.png,A page.\n")
    pool = load_pool(tmp_path)
    assert not pool.images
    assert {(skip.file, skip.reason) for skip in pool.skipped} == {
        ("pixel.png", "blank image (one flat colour as shown)"), ("scan.png", "blank image (one flat colour as shown)")}


@pytest.mark.parametrize("size", [(256, 256), (64, 64), (512, 128)])
def test_no_offline_placeholder_is_blank(size):
    generator = PlaceholderImages(*size)
    for seed in range(40):
        [made] = generator.generate([ImageRequest(f"item-{seed}", "a knife on a kitchen table", seed=seed)])
        assert not is_blank(Image.open(io.BytesIO(made.png)))
