"""What we verify about every image before it is kept: identity hashes and blank output.

A diffusion model fails quietly: an fp16 VAE overflow or a safety checker both
hand back an all-black picture with no exception. These checks turn that into
an explicit reason instead of a silently kept black PNG. A pool image fails
quietly too: Pillow's plain RGB conversion clips 16-bit greyscale to white and
drops an alpha channel, so `upright_rgb` converts such images the way a viewer
shows them.
"""

from __future__ import annotations

import io
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import imagehash
import numpy as np
from PIL import ExifTags, Image, ImageOps

from pipeline.hashing import sha256_bytes

# Brightest channel value still counted as black: JPEG-ish noise and dithering
# in a "black" frame stay in single digits.
BLACK_LEVEL = 8
# Widest spread of one channel's values (on a thumbnail, which averages noise away) still counted
# as one flat colour: the same single-digit noise as BLACK_LEVEL.
BLANK_SPREAD = 8
BLANK_THUMBNAIL = (64, 64)
SIXTEEN_BIT_MODES = {"I;16", "I;16L", "I;16B", "I;16N"}
WIDE_MODES = {"I", "F"}  # 32-bit integer or float pixels: no nominal range, so their own is used
# EXIF orientation -> the turn that shows the photo upright (as `ImageOps.exif_transpose` maps it).
ORIENTATION_TURNS = {
    2: Image.Transpose.FLIP_LEFT_RIGHT, 3: Image.Transpose.ROTATE_180, 4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE, 6: Image.Transpose.ROTATE_270, 7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}


def to_png(image: Image.Image) -> bytes:
    """Encode as PNG without metadata, so equal pixels give equal bytes."""
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def phash_hex(image: Image.Image) -> str:
    return str(imagehash.phash(image))


def is_all_black(image: Image.Image, level: int = BLACK_LEVEL) -> bool:
    return int(np.asarray(image.convert("RGB")).max()) <= level


def is_blank(image: Image.Image, spread: int = BLANK_SPREAD) -> bool:
    """One flat colour (white, black or any other): nothing for a query to point at."""
    thumbnail = image.convert("RGB")
    thumbnail.thumbnail(BLANK_THUMBNAIL, Image.Resampling.BOX)
    values = np.asarray(thumbnail).reshape(-1, 3)
    # Per channel: a flat red or cream page spans R, G and B widely, but each of them is flat.
    return int((values.max(axis=0).astype(int) - values.min(axis=0)).max()) <= spread


def image_identity(image: Image.Image) -> tuple[bytes, dict]:
    """PNG bytes plus the meta every stored image carries (hashes and size)."""
    png = to_png(image)
    return png, {"sha256": sha256_bytes(png), "phash": phash_hex(image),
                 "width": image.width, "height": image.height}


class BytesChanged(Exception):
    """A file no longer holds the bytes it was planned or chosen for."""


def shown_file(path: Path, sha256: str | None = None) -> tuple[bytes, dict]:
    """An image file as a viewer shows it: its PNG bytes and identity (`image_identity`).
    BytesChanged when `sha256` is given and the file's bytes no longer have it."""
    data = Path(path).read_bytes()
    if sha256 is not None and sha256_bytes(data) != sha256:
        raise BytesChanged(str(path))
    with without_bomb_warning(), Image.open(io.BytesIO(data)) as opened:
        return image_identity(upright_rgb(opened))


@contextmanager
def without_bomb_warning() -> Iterator[None]:
    """Pillow warns of a possible decompression bomb from about 89 megapixels and refuses one from
    about 179 (a pool's skip reason). A pool photo in between is used, so the warning, which names
    no file, only alarms. (Threads reading at once may leave it off for the process: harmless.)"""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        yield


def upright_rgb(image: Image.Image) -> Image.Image:
    """As a viewer shows it, in RGB: a phone photo's EXIF orientation applied, 16-bit and
    32-bit greyscale scaled to 8 bits, and transparency laid over white."""
    image = _turned_upright(image)
    if image.mode in SIXTEEN_BIT_MODES | WIDE_MODES:
        return _eight_bit_grey(image).convert("RGB")
    if image.has_transparency_data:
        return _over_white(image)
    return image.convert("RGB")


def _turned_upright(image: Image.Image) -> Image.Image:
    """`exif_transpose` also rewrites the EXIF block, and a phone photo whose tags have odd types
    makes that raise (struct.error, TypeError, ...) though its pixels decode. The PNG keeps no
    EXIF, so such a photo is turned by its orientation tag alone."""
    try:
        return ImageOps.exif_transpose(image)
    except Exception:  # Pillow's EXIF writer raises a different type for each malformed tag
        return _turned_by_tag(image)


def _turned_by_tag(image: Image.Image) -> Image.Image:
    """Turned by its EXIF orientation tag, or as stored when even that tag cannot be read."""
    try:
        turn = ORIENTATION_TURNS.get(image.getexif().get(ExifTags.Base.Orientation))
    except Exception:  # the same malformed block, read rather than written
        return image
    return image.transpose(turn) if turn is not None else image


def _eight_bit_grey(image: Image.Image) -> Image.Image:
    """16-bit pixels by the 16-bit range (as viewers show them); 32-bit ones by their own
    darkest-to-brightest range. Pillow's own conversion clips both at 255."""
    values = np.asarray(image, dtype=np.float64)
    low, high = (0.0, 65535.0) if image.mode in SIXTEEN_BIT_MODES else (values.min(), values.max())
    scaled = (values - low) * (255.0 / (high - low)) if high > low else np.zeros_like(values)
    return Image.fromarray(np.clip(np.rint(scaled), 0, 255).astype(np.uint8))


def _over_white(image: Image.Image) -> Image.Image:
    """Transparent pixels hold arbitrary colour (often black) that viewers never show."""
    background = Image.new("RGBA", image.size, (255, 255, 255, 255))
    return Image.alpha_composite(background, image.convert("RGBA")).convert("RGB")
