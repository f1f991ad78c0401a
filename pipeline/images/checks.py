"""What we verify about every image before it is kept: identity hashes and blank output.

A diffusion model fails quietly: an fp16 VAE overflow or a safety checker both
hand back an all-black picture with no exception. These checks turn that into
an explicit reason instead of a silently kept black PNG.
"""

from __future__ import annotations

import hashlib
import io

import imagehash
import numpy as np
from PIL import Image, ImageOps

# Brightest channel value still counted as black: JPEG-ish noise and dithering
# in a "black" frame stay in single digits.
BLACK_LEVEL = 8


def to_png(image: Image.Image) -> bytes:
    """Encode as PNG without metadata, so equal pixels give equal bytes."""
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def phash_hex(image: Image.Image) -> str:
    return str(imagehash.phash(image))


def is_all_black(image: Image.Image, level: int = BLACK_LEVEL) -> bool:
    return int(np.asarray(image.convert("RGB")).max()) <= level


def image_identity(image: Image.Image) -> tuple[bytes, dict]:
    """PNG bytes plus the meta every stored image carries (hashes and size)."""
    png = to_png(image)
    return png, {"sha256": sha256_hex(png), "phash": phash_hex(image),
                 "width": image.width, "height": image.height}


def upright_rgb(image: Image.Image) -> Image.Image:
    """As a viewer shows it (a phone photo's EXIF orientation applied), in RGB."""
    return ImageOps.exif_transpose(image).convert("RGB")
