"""Writes that never leave a half-written file: write beside the target, then rename."""

from __future__ import annotations

import json
import os
import tempfile
from contextlib import contextmanager
from pathlib import Path


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


# Read once: os.umask can only be read by setting it, which is not safe beside other threads.
# mkstemp and mkdtemp create 0600 and 0700 for privacy; what we publish gets the user's usual modes.
FILE_MODE = 0o666 & ~_umask()
FOLDER_MODE = 0o777 & ~_umask()


def staging_dir(parent: Path, prefix: str, suffix: str = "") -> Path:
    """A new folder to fill and then rename into place, with the modes a plain mkdir would give it."""
    folder = Path(tempfile.mkdtemp(dir=parent, prefix=prefix, suffix=suffix))
    folder.chmod(FOLDER_MODE)
    return folder


@contextmanager
def atomic_path(target: Path):
    """Yields a temporary path in the target's folder; renamed onto the target only on success."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    os.close(handle)
    try:
        yield Path(temporary)
        os.chmod(temporary, FILE_MODE)
        os.replace(temporary, target)
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)


def atomic_write_bytes(target: Path, data: bytes) -> None:
    with atomic_path(target) as temporary:
        temporary.write_bytes(data)


def atomic_write_text(target: Path, text: str) -> None:
    atomic_write_bytes(target, text.encode("utf-8"))


def atomic_write_json(target: Path, value) -> None:
    atomic_write_text(target, json.dumps(value, indent=2, ensure_ascii=False, default=str) + "\n")
