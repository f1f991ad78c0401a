"""A lock file in a folder a team shares: one member's lock file, made under umask 022, blocked everyone
else's release of that name with a bare "[Errno 13] Permission denied: 'releases/.team.lock'" (lab audit #7).

A root process (CI) opens any file, so a read-only file cannot show the refusal: the lock's `os.open`
is refused write access the way the kernel refuses another member's 0644 file."""

from __future__ import annotations

import errno
import fcntl
import os
import stat

import pytest

from pipeline import storage
from pipeline.storage import exclusive_lock


def refuse(monkeypatch, *, read_too: bool = False) -> None:
    """The lock file is another member's: opening it for writing (or, `read_too`, at all) is EACCES."""
    real_open = os.open

    def as_another_member(path, flags, *args, **kwargs):
        if str(path).endswith(".lock") and (read_too or flags & (os.O_WRONLY | os.O_RDWR)):
            raise PermissionError(errno.EACCES, "Permission denied", str(path))
        return real_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(storage.os, "open", as_another_member)


def test_another_member_s_lock_file_that_is_not_group_writable_still_locks(tmp_path, monkeypatch):
    lock = tmp_path / ".team.lock"
    lock.write_text("4242")
    lock.chmod(0o644)
    refuse(monkeypatch)
    with exclusive_lock(lock, RuntimeError):
        with open(lock) as other, pytest.raises(BlockingIOError):  # flock needs no write access
            fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)
    with open(lock) as after:
        fcntl.flock(after, fcntl.LOCK_EX | fcntl.LOCK_NB)  # and is let go after


def test_a_lock_file_that_cannot_be_opened_is_one_line_naming_it_its_owner_and_the_fix(tmp_path, monkeypatch):
    lock = tmp_path / ".team.lock"
    lock.write_text("4242")
    lock.chmod(0o600)
    refuse(monkeypatch, read_too=True)
    with pytest.raises(PermissionError) as refused:
        with exclusive_lock(lock, RuntimeError):
            pass
    message = str(refused.value)
    assert message.startswith(f"cannot open the lock file {lock} (.team.lock is -rw------- ")
    assert "umask 002" in message and "chmod g+rw" in message and "\n" not in message
    assert storage.is_machine_error(refused.value)  # the commands' one `error:` line, exit 2


def test_a_lock_file_made_in_a_group_writable_folder_is_group_writable(tmp_path):
    """Whatever its maker's umask: the colleagues who may write the folder may take the lock."""
    shared = tmp_path / "releases"
    shared.mkdir()
    shared.chmod(0o2775)
    old = os.umask(0o022)
    try:
        with exclusive_lock(shared / ".team.lock", RuntimeError):
            pass
        with exclusive_lock(tmp_path / ".private.lock", RuntimeError):  # a folder of one's own: the umask's mode
            pass
    finally:
        os.umask(old)
    assert stat.S_IMODE((shared / ".team.lock").stat().st_mode) == 0o664
    assert stat.S_IMODE((tmp_path / ".private.lock").stat().st_mode) == 0o644
