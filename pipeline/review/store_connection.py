"""Opening the review store's SQLite file for a team that shares it.

A user who may write the store gets a WAL connection (many annotators write at once); one who may
not (another member's 0644 store) gets a read-only one that leaves no file behind, and a refusal
names the file that refused.
"""

from __future__ import annotations

import errno
import os
import sqlite3
import time
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

from pipeline.storage import permissions


class StoreNotWritable(PermissionError):
    """The store (or its folder) this user may not write: the user's to fix, one line naming the file
    that refused (the store, a -wal or -shm file another user left, or the folder)."""

    def __init__(self, path: Path):
        super().__init__(errno.EACCES, f"cannot write the review store {path} ({permissions(unwritable(path))}); "
                                       f"a team that shares it needs group write access to it and its folder")

    def __str__(self) -> str:
        return self.strerror


class StoreChangedWhileRead(ValueError):
    """A read of a store this user may not write, which a writer checkpointed into meanwhile."""

    def __init__(self, path: Path):
        super().__init__(f"the review store {path} changed while it was read (a decision or import was "
                         "recorded meanwhile): run the command again")


class StoreNeedsWriter(ValueError):
    """A -wal file without its -shm (a writer stopped mid-way, or a copy that left -shm behind): its
    changes are in no other file, and a reader who may not write cannot fold them in."""

    def __init__(self, path: Path):
        wal, shm = sidecars(path)
        super().__init__(f"the review store {path} has changes only in {wal.name} (no {shm.name}: a writer was "
                         "stopped, or the store was copied without it): open it once as a user who may write it "
                         "(any `leakless review` command), then run this again")


def sidecars(path: Path) -> tuple[Path, Path]:
    """SQLite's files beside a WAL-mode database while it is open."""
    return Path(f"{path}-wal"), Path(f"{path}-shm")


def unwritable(path: Path) -> Path:
    """The first of the store, its -wal and -shm files and its folder this user may not write; the
    store itself where none says so (root may write anything)."""
    present = [candidate for candidate in (path, *sidecars(path), path.parent) if candidate.exists()]
    return next((candidate for candidate in present if not os.access(candidate, os.W_OK)), present[0])


def file_state(path: Path) -> tuple[int, int, int]:
    status = path.stat()
    return status.st_ino, status.st_size, status.st_mtime_ns


def create_with_umask(path: Path) -> None:
    """SQLite creates a store 0644 whatever the umask (and its -wal and -shm files like it), so a
    group-shared runs folder's store would be writable by its creator alone: it is made here first
    (an empty file is an empty database)."""
    try:
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o666))
    except FileExistsError:
        pass
    except PermissionError:
        raise StoreNotWritable(path) from None


@contextmanager
def connection(path: Path):
    """A connection to the store at `path`, rows by name: a writer's where this user may write it."""
    try:
        opened = _writer(path) if _may_write(path) else _reader(path)
        with opened as db:
            db.row_factory = sqlite3.Row
            db.execute("PRAGMA busy_timeout=30000")
            yield db
    except sqlite3.OperationalError as error:
        if (error.sqlite_errorcode or 0) & 0xFF not in (sqlite3.SQLITE_READONLY, sqlite3.SQLITE_CANTOPEN):
            raise
        raise StoreNotWritable(path) from None


def _may_write(path: Path) -> bool:
    return os.access(path, os.W_OK) and os.access(path.parent, os.W_OK)


@contextmanager
def _writer(path: Path):
    db = sqlite3.connect(path, timeout=30, isolation_level=None)
    try:
        db.execute("PRAGMA journal_mode=WAL")
        yield db
    finally:
        db.close()


def _wal_left_alone(wal: Path, shm: Path, waits: int = 20) -> bool:
    """A non-empty -wal without its -shm that stays so: a closing writer passes through that state
    for a moment (SQLite removes -shm first), so it is looked at again for up to a second."""
    for attempt in range(waits):
        try:
            if shm.exists() or wal.stat().st_size == 0:
                return False
        except FileNotFoundError:  # no -wal, or it went between the checks: its writer closed
            return False
        time.sleep(0.05)
    return True


@contextmanager
def _reader(path: Path):
    """A connection for a user who may not write the store (another member's 0644 store). SQLite
    would create -wal and -shm files for it, with the store's mode and this user as owner, and,
    unable to checkpoint, leave them: the store's owner could then no longer write it. Where a
    writer has the store open (both files there), it reads through them; otherwise the store file
    holds everything (the last writer to close checkpointed), read as `immutable` (no files, no
    locks). A writer that checkpoints into it meanwhile changes it under the read: that read is
    refused (StoreChangedWhileRead). A -wal file alone holds changes the store file lacks, which
    `immutable` would not read: refused (StoreNeedsWriter)."""
    wal, shm = sidecars(path)
    if _wal_left_alone(wal, shm):
        raise StoreNeedsWriter(path)
    in_use = wal.exists() and shm.exists()
    before = None if in_use else file_state(path)
    uri = f"file:{quote(str(path))}?mode=ro" + ("" if in_use else "&immutable=1")
    db = sqlite3.connect(uri, uri=True, timeout=30, isolation_level=None)
    try:
        yield db
    except sqlite3.DatabaseError:
        if before is not None and file_state(path) != before:
            raise StoreChangedWhileRead(path) from None
        raise
    finally:
        db.close()
    if before is not None and file_state(path) != before:
        raise StoreChangedWhileRead(path)
