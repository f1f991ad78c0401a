"""The pool's size cap is inclusive: an image of exactly MAX_IMAGE_BYTES is read, one byte more is skipped
(mutation round 3: `>` turned `>=` skipped an image at the cap as "over" it)."""

from __future__ import annotations

from pipeline.pool import load_pool
from pipeline.pool.pool import MAX_IMAGE_BYTES
from tests.cli.test_bad_input import create, png
from tests.pool.test_pool import draw
from tests.pool.test_pool_links_outside_and_size_cap import captioned, reasons


def test_an_image_of_exactly_the_cap_is_read(tmp_path):
    create(tmp_path, {"pool/a.png": png(), "pool/captions.jsonl": captioned("a.png", "big.png")})
    draw(7).save(tmp_path / "pool" / "big.png")
    with (tmp_path / "pool" / "big.png").open("r+b") as handle:
        handle.truncate(MAX_IMAGE_BYTES)  # zeros after the PNG's end, which decoders ignore; sparse on disk
    pool = load_pool(tmp_path / "pool")
    assert sorted(image.file for image in pool.images) == ["a.png", "big.png"] and reasons(pool) == {}
