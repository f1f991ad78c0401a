"""A very wide or tiny image was only scaled to the column width (a 12000x300 panorama a strip 14 px
tall), with no way to open it full size to check `image_mismatch`. The item page now links the image
to its own URL and caps its height, keeping it whole (`object-fit: contain`)."""

from __future__ import annotations

import re


def test_the_items_image_links_to_itself_at_full_size(review):
    client, _, _ = review
    page = client.get("/batch/fake-b000/0")
    assert page.status_code == 200
    link = re.search(r'<a id="image-link" href="([^"]+)"[^>]*><img src="([^"]+)"', page.text)
    assert link and link.group(1) == link.group(2) and link.group(1).startswith("/image/")
    assert client.get(link.group(1)).content.startswith(b"\x89PNG")
    style = re.search(r"\.pair img \{([^}]*)\}", page.text).group(1)
    assert "max-height:" in style and "object-fit: contain" in style
