"""A pool from someone else must not ship this machine's files: a link resolving outside the pool folder
was read and its image put in the shards; a file of any size was read whole into memory; a line of
captions.jsonl nested too deep was a RecursionError traceback. Each is now skipped with its reason
(pool_skipped.json in a build), and the rest of the pool is used."""

from __future__ import annotations

import os

import pytest

from pipeline.pool import load_pool
from pipeline.pool.pool import MAX_IMAGE_BYTES
from tests.cli.test_bad_input import create, jsonl, png


def reasons(pool) -> dict[str, str]:
    return {skipped.file: skipped.reason for skipped in pool.skipped}


def captioned(*files: str) -> str:
    return jsonl(*({"file": file, "caption": f"a picture called {file}"} for file in files))


def test_a_link_to_an_image_outside_the_pool_folder_is_skipped_not_read(tmp_path):
    create(tmp_path, {"secret/private.png": png(), "pool/a.png": png(),
                      "pool/captions.jsonl": captioned("a.png", "linked.png")})
    os.symlink(tmp_path / "secret" / "private.png", tmp_path / "pool" / "linked.png")
    pool = load_pool(tmp_path / "pool")
    assert [image.file for image in pool.images] == ["a.png"]
    assert reasons(pool) == {"linked.png": f"link to {tmp_path / 'secret' / 'private.png'}, outside the pool folder "
                                           "(not read; a folder of links into a dataset you trust: "
                                           "images.pool.allow_links_outside = true)"}


def test_a_folder_of_links_into_a_dataset_is_read_when_the_user_allows_it(tmp_path):
    # a review of the change above: `ln -s /data/coco/*.jpg pool/` is a common way to make a pool
    create(tmp_path, {"dataset/a.png": png(), "dataset/captions.jsonl": captioned("a.png")})
    (tmp_path / "pool").mkdir()
    for name in ("a.png", "captions.jsonl"):
        os.symlink(tmp_path / "dataset" / name, tmp_path / "pool" / name)
    with pytest.raises(ValueError, match="captions.jsonl: link to .*outside the pool folder"):
        load_pool(tmp_path / "pool")  # its captions would ship as the images' descriptions
    pool = load_pool(tmp_path / "pool", links_outside=True)
    assert [image.file for image in pool.images] == ["a.png"] and not pool.skipped


def test_a_link_to_a_folder_outside_is_skipped_and_a_link_within_the_folder_is_read(tmp_path):
    create(tmp_path, {"secret/private.png": png(), "pool/sub/a.png": png(),
                      "pool/captions.jsonl": captioned("sub/a.png", "up.png")})
    os.symlink("../secret", tmp_path / "pool" / "elsewhere")
    os.symlink("sub/a.png", tmp_path / "pool" / "up.png")
    os.symlink("pool", tmp_path / "shared")  # "within" is judged from where the pool folder really is
    pool = load_pool(tmp_path / "shared")
    assert sorted(image.file for image in pool.images) == ["sub/a.png", "up.png"]
    assert reasons(pool)["elsewhere"].startswith("link to ../secret, outside the pool folder (not read; ")


def test_an_image_file_over_the_size_cap_is_skipped_unread(tmp_path):
    create(tmp_path, {"pool/a.png": png(), "pool/captions.jsonl": captioned("a.png", "huge.png")})
    with (tmp_path / "pool" / "huge.png").open("wb") as handle:
        handle.truncate(MAX_IMAGE_BYTES + 1)  # sparse: costs no disk
    pool = load_pool(tmp_path / "pool")
    assert [image.file for image in pool.images] == ["a.png"]
    assert reasons(pool) == {"huge.png": "50.0 MiB, over the 50 MiB cap for a pool image (not read)"}


def test_a_pipe_in_the_pool_folder_is_skipped_not_waited_on(tmp_path):
    create(tmp_path, {"pool/a.png": png(), "pool/captions.jsonl": captioned("a.png", "fifo.png")})
    os.mkfifo(tmp_path / "pool" / "fifo.png")
    pool = load_pool(tmp_path / "pool")
    assert [image.file for image in pool.images] == ["a.png"]
    assert reasons(pool) == {"fifo.png": "not a regular file (a pipe, socket or device; not read)"}


def test_a_captions_line_nested_too_deep_is_skipped_by_its_line(tmp_path):
    deep = "[" * 100_000 + "]" * 100_000
    create(tmp_path, {"pool/a.png": png(),
                      "pool/captions.jsonl": captioned("a.png") + f'{{"file": "b.png", "caption": {deep}}}\n'})
    pool = load_pool(tmp_path / "pool")
    assert [image.file for image in pool.images] == ["a.png"]
    assert reasons(pool) == {"captions.jsonl line 2": "nested more than 100 levels deep"}


def test_a_captions_row_that_repeats_a_key_is_skipped_naming_the_key(tmp_path):
    create(tmp_path, {"pool/a.png": png(), "pool/b.png": png(),
                      "pool/captions.jsonl": captioned("a.png")
                      + '{"file": "b.png", "caption": "a knife", "caption": "a spoon"}\n'})
    pool = load_pool(tmp_path / "pool")
    assert reasons(pool) == {"captions.jsonl line 2": "key 'caption' appears 2 times",
                             "b.png": "no caption (and no captioner given)"}
