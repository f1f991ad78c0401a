"""mut8: an atomic write's machine error is said naming the target (not the temporary file the user never
asked for), and only machine errors are relabelled as the disk refusing."""

from __future__ import annotations

import errno
import os

import pytest

from pipeline import storage


def test_a_full_disk_error_naming_the_temporary_file_names_the_target(tmp_path):
    target = tmp_path / "drafts.json"
    with pytest.raises(storage.WriteRefused) as refused:
        with storage.atomic_path(target) as temporary:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(temporary))
    assert refused.value.filename == str(target) and refused.value.errno == errno.ENOSPC
    assert ".tmp" not in str(refused.value) and not list(tmp_path.iterdir())


def test_a_temporary_file_refused_for_another_reason_is_no_full_disk(tmp_path, monkeypatch):
    def too_long(*args, **kwargs):
        raise OSError(errno.ENAMETOOLONG, os.strerror(errno.ENAMETOOLONG))

    monkeypatch.setattr(storage.tempfile, "mkstemp", too_long)
    with pytest.raises(OSError) as refused:
        storage.atomic_write_text(tmp_path / "out.json", "{}")
    assert refused.value.errno == errno.ENAMETOOLONG
    assert not isinstance(refused.value, storage.WriteRefused), str(refused.value)  # no "the disk mounted at"


def test_a_nested_writes_permission_line_is_kept_whole(tmp_path):
    """A write inside another's block (a checkpoint's side file) that a team member may not make says so in
    its own line (mode, owner, the chmod to run), not relabelled as the outer file's disk refusing."""
    shared = tmp_path / "shared"
    shared.mkdir()
    with pytest.raises(storage.NotWritable) as refused:
        with storage.atomic_path(tmp_path / "outer.json"):
            raise storage.NotWritable(f"cannot write {shared / 'inner.json'}", shared)
    assert not isinstance(refused.value, storage.WriteRefused) and "chmod" in str(refused.value)
