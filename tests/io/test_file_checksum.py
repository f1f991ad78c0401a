"""A file's checksum (release shards, leaderboard files, detector weights) covers every byte of it,
not only the first block read."""

from __future__ import annotations

import hashlib

from pipeline.hashing import sha256_file


def test_a_files_checksum_covers_bytes_past_the_first_mebibyte(tmp_path):
    head = b"x" * (1 << 20)
    first, second = tmp_path / "a.parquet", tmp_path / "b.parquet"
    first.write_bytes(head + b"tail one")
    second.write_bytes(head + b"tail two")
    assert sha256_file(first) == hashlib.sha256(head + b"tail one").hexdigest()
    assert sha256_file(first) != sha256_file(second)
