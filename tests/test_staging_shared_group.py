"""A staging folder (a release, a review batch, an export) made in a group-shared folder keeps the
setgid bit and group a plain mkdir would give it: without them, colleagues in the group could not read it."""

from __future__ import annotations

import os
import stat

from pipeline.storage import atomic_write_text, staging_dir


def shared_folder(path):
    """`path` as a setgid folder of another group where this user may make one (root), else its own."""
    path.mkdir()
    if os.geteuid() == 0:
        os.chown(path, -1, os.getgid() + 4242)
    path.chmod(0o2775)
    return path


def test_a_staging_folder_keeps_the_shared_parents_setgid_bit_and_group(tmp_path):
    parent = shared_folder(tmp_path / "shared")
    staging = staging_dir(parent, prefix=".release.")
    atomic_write_text(staging / "manifest.json", "{}")
    assert staging.stat().st_mode & stat.S_ISGID
    assert staging.stat().st_gid == parent.stat().st_gid
    assert (staging / "manifest.json").stat().st_gid == parent.stat().st_gid


def test_a_staging_folder_in_a_plain_folder_gets_no_setgid_bit(tmp_path):
    assert not staging_dir(tmp_path, prefix=".release.").stat().st_mode & stat.S_ISGID
