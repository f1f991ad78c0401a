"""An animated GIF or a multi-page TIFF ships its first frame or page only (docs/images.md says so)."""

from __future__ import annotations

import pytest
from PIL import Image

from pipeline.images.checks import image_identity, shown_file
from tests.pool.test_pool_audit import picture


@pytest.mark.parametrize("name", ["anim.gif", "pages.tif"])
def test_the_first_frame_or_page_is_what_ships(tmp_path, name):
    frames = [picture(n, size=(40, 30)) for n in (1, 2, 3)]
    frames[0].save(tmp_path / name, save_all=True, append_images=frames[1:])
    with Image.open(tmp_path / name) as saved:
        assert saved.n_frames == 3
        first = saved.convert("RGB")  # frame 0 as stored (the GIF's palette applied)
        saved.seek(2)
        last = saved.convert("RGB")
    shown = shown_file(tmp_path / name)[1]["sha256"]
    assert shown == image_identity(first)[1]["sha256"] != image_identity(last)[1]["sha256"]
