"""A phone photo whose EXIF block has a tag of an unexpected type decodes, but Pillow's
`exif_transpose` raises rewriting that block (struct.error, TypeError): it once stopped the
build with a traceback naming no file. It is now turned upright by its orientation tag alone."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from pipeline.images.checks import shown_file, upright_rgb
from pipeline.pool.pool import load_pool

MAKE_AS_ASCII = b"\x01\x0f\x00\x02"  # the Make tag (0x010F) stored as ASCII
# The same ASCII value under a tag Pillow writes as a number: RowsPerStrip (a LONG: struct.error)
# or XResolution (a RATIONAL: TypeError), as a fuzzed phone EXIF block had them.
ODD_TAGS = {"struct.error": b"\x01\x16\x00\x02", "TypeError": b"\x01\x1a\x00\x02"}


def odd_exif_jpeg(odd_tag: bytes) -> bytes:
    """A 120x90 JPEG with orientation 6 (shown turned: 90x120), red on its left half as stored."""
    exif = Image.Exif()
    exif[0x010F], exif[0x0112] = "Phone", 6
    image = Image.new("RGB", (120, 90), (20, 20, 200))
    image.paste((220, 30, 30), (0, 0, 60, 90))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", exif=exif)
    assert MAKE_AS_ASCII in buffer.getvalue()
    return buffer.getvalue().replace(MAKE_AS_ASCII, odd_tag, 1)


@pytest.mark.parametrize("odd_tag", ODD_TAGS.values(), ids=ODD_TAGS.keys())
def test_a_photo_with_an_odd_exif_tag_is_turned_upright_by_its_orientation(odd_tag):
    with Image.open(io.BytesIO(odd_exif_jpeg(odd_tag))) as image:
        shown = upright_rgb(image)
    assert shown.size == (90, 120)
    red, green, blue = shown.getpixel((45, 10))  # the stored left half is on top once turned
    assert red > 150 and blue < 100


def test_the_pool_uses_such_a_photo_and_shown_file_reads_it(tmp_path):
    (tmp_path / "IMG_2041.jpg").write_bytes(odd_exif_jpeg(ODD_TAGS["struct.error"]))
    (tmp_path / "captions.csv").write_text("file,caption\nIMG_2041.jpg,A machete on a car seat.\n")
    pool = load_pool(tmp_path)
    assert [image.file for image in pool.images] == ["IMG_2041.jpg"] and not pool.skipped
    _, meta = shown_file(tmp_path / "IMG_2041.jpg")
    assert (meta["width"], meta["height"]) == (90, 120)
