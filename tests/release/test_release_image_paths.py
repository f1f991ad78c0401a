"""A release's `image.path` was the build run's `images/<seed>.png`, a file the release does not ship, so a
reader following it (`decode=False`, tools that prefer paths) found nothing. It is null now, the card says
so, and `datasets` still decodes every image from its bytes."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.parquet as pq

from pipeline.release.card_columns import COLUMN_MEANINGS
from pipeline.release.writer import without_paths
from tests.release.test_card_licence_metadata import released


def shard_images(folder) -> list[dict]:
    return [image for shard in sorted((folder / "data").glob("*.parquet"))
            for image in pq.read_table(shard, columns=["image"])["image"].to_pylist()]


def test_released_images_keep_their_bytes_and_name_no_file(tmp_path):
    folder = released(tmp_path, pooled=0)  # its runs' rows say `images/<i>.png`
    images = shard_images(folder)
    assert len(images) == 3
    assert all(image["path"] is None and image["bytes"].startswith(b"\x89PNG") for image in images)
    card = (folder / "README.md").read_text(encoding="utf-8")
    assert COLUMN_MEANINGS["image"] in card and "`path` is null" in COLUMN_MEANINGS["image"]


def test_a_missing_image_stays_missing():
    image_type = pa.struct([("bytes", pa.binary()), ("path", pa.string())])
    images = pa.chunked_array([pa.array([{"bytes": b"x", "path": "images/a.png"}, None], image_type)])
    assert without_paths(images).to_pylist() == [{"bytes": b"x", "path": None}, None]


def test_datasets_decodes_every_image_of_a_release(tmp_path):
    from datasets import load_dataset

    folder = released(tmp_path, pooled=0)
    ds = load_dataset(str(folder), split="train", cache_dir=str(tmp_path / "cache"))  # the card's `configs`
    assert len(ds) == 3 and all(image.size[0] > 0 for image in ds["image"])
