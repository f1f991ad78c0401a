"""The placeholder backend: labelled as such, reproducible, and no two items alike to the release's dedup."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from pipeline.backends.base import ImageRequest
from pipeline.backends.placeholder import PlaceholderImages
from pipeline.dedup.hamming_index import pairs_within
from pipeline.dedup.images import image_hashes
from pipeline.stages.images import image_seed

pytestmark = pytest.mark.slow  # every test here takes more than a few seconds

DESCRIPTION = "A person holding a black handgun at waist height in a dim alley."


def test_placeholders_are_reproducible_labelled_and_decodable():
    generator = PlaceholderImages(width=320, height=200)
    first, again = (generator.generate([ImageRequest("a", DESCRIPTION, 42)])[0] for _ in range(2))
    assert first.png == again.png
    image = Image.open(io.BytesIO(first.png))
    assert image.size == (320, 200) and image.format == "PNG"
    assert generator.provenance.backend == "placeholder" and first.meta["model"] == "placeholder"


def test_distinct_items_are_not_near_duplicates():
    generator = PlaceholderImages()
    requests = [ImageRequest(f"item{i}", DESCRIPTION, image_seed(f"item{i}")) for i in range(300)]
    hashes = image_hashes([result.png for result in generator.generate(requests)])
    close, other, _ = pairs_within(hashes[:, 0], 8)
    both = np.bitwise_count(hashes[close, 1] ^ hashes[other, 1]) <= 8
    assert both.sum() == 0
