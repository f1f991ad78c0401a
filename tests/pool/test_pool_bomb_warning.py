"""A pool photo between Pillow's decompression-bomb warning (about 89 MP) and its refusal (about 179 MP)
is used, yet Pillow's raw DecompressionBombWarning, naming no file, was printed on every command.
Where the pool reads images it is now silenced (docs/images.md). The limit is lowered here so that a
small picture stands for a 90 MP photo."""

from __future__ import annotations

import warnings

from PIL import Image

from pipeline.images.checks import shown_file
from pipeline.pool import load_pool
from tests.pool.test_pool_audit import picture


def test_a_picture_over_the_warning_limit_is_used_without_the_warning(tmp_path, monkeypatch):
    picture(3, size=(40, 40)).save(tmp_path / "big.png")  # 1,600 pixels: over 1,000, under twice it
    (tmp_path / "captions.csv").write_text("file,caption\nbig.png,A knife.\n", encoding="utf-8")
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        pool = load_pool(tmp_path)
        shown_file(tmp_path / "big.png")
    assert [image.file for image in pool.images] == ["big.png"]
    assert not [warning for warning in caught if issubclass(warning.category, Image.DecompressionBombWarning)]


def test_release_and_verify_hash_such_a_picture_without_the_warning(monkeypatch):
    """Release and verify hash the shipped image again (image_hashes): the warning was printed there too."""
    import io

    from pipeline.dedup import image_hashes

    buffer = io.BytesIO()
    picture(3, size=(40, 40)).save(buffer, format="PNG")
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        hashes = image_hashes([buffer.getvalue()])
    assert hashes.shape == (1, 2) and hashes[0].any()
    assert not [warning for warning in caught if issubclass(warning.category, Image.DecompressionBombWarning)]
