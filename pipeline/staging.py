"""Folders filled in a staging folder beside their target and then renamed into place (a release, a review
export, an export in VLSBench's layout), so that a failed write leaves nothing half-written behind. A staging
folder is named after its process (`.<target>.p<pid>@<host>[~<pid namespace>].<random>`), as a temporary file is
(`pipeline.storage`), so a later write can tell one a killed process left (removed) from one a live writer is
filling (kept)."""

from __future__ import annotations

import os
import re
import shutil
import time
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path

from pipeline.storage import process_alive, process_table, staging_dir


@contextmanager
def filled_then_renamed(staging: Path, target: Path, make_room: Callable[[Path], object] = lambda target: None):
    """Yield `staging` to fill, then rename it to `target` after `make_room(target)` (which may refuse a
    taken target or clear an empty one). Any exception, a refusal or Ctrl-C included, removes the staging
    folder instead."""
    try:
        yield staging
        make_room(target)
        staging.rename(target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


# Staging folders from before they carried their process (`.<target>.<8 random>`) cannot be traced to
# one; such a folder is taken as abandoned only once nothing in it has changed for this long.
UNTRACEABLE_STALE_AFTER_S = 24 * 3600
RANDOM = r"[a-z0-9_]{8}"  # tempfile.mkdtemp's suffix


def owned_staging(parent: Path, target: str) -> Path:
    """A new staging folder for `parent/target`, named after this process and its process table (as a
    temporary file is: a sibling container shares the host's name, not its pids)."""
    return staging_dir(parent, prefix=f".{target}.p{os.getpid()}@{process_table()}.")


def remove_abandoned_staging(parent: Path, target: str, what: str, untraced: str | None = None) -> list[str]:
    """Remove the staging folders in `parent` (made by `owned_staging` for a name the regex `target`
    matches) of processes that died; returns one line per folder removed, naming it an unfinished `what`.
    Safe by construction: a folder is removed only when it names a process on this host that no longer
    runs, or (made on another host or container sharing the folder, or a name the regex `untraced` matches: from
    before staging folders named their process) when nothing in it has changed for a day. A live
    writer's folder is never touched: its process runs, and it writes into its folder as it goes."""
    removed = []
    traced = re.compile(rf"\.{target}\.p(\d+)@([A-Za-z0-9._~-]+)\.{RANDOM}")
    old = re.compile(untraced) if untraced else None
    parent = Path(parent)
    if not parent.is_dir():
        return removed
    for folder in sorted(parent.glob(".*")):
        if not folder.is_dir() or folder.is_symlink():
            continue
        match = traced.fullmatch(folder.name)
        if match and match.group(2) == process_table():
            pid = int(match.group(1))
            if process_alive(pid):
                continue
            why = f"left by process {pid}, which is gone"
        elif match or (old and old.fullmatch(folder.name)):
            idle = time.time() - newest_change(folder)
            if idle < UNTRACEABLE_STALE_AFTER_S:
                continue
            why = f"unchanged for {idle / 3600:.0f} h"
        else:
            continue
        shutil.rmtree(folder, ignore_errors=True)
        if not folder.exists():
            removed.append(f"removed {folder}, the staging folder of an unfinished {what} ({why})")
    return removed


def newest_change(folder: Path) -> float:
    times = [folder.stat().st_mtime]
    for path in folder.rglob("*"):
        try:
            times.append(path.lstat().st_mtime)
        except OSError:
            pass
    return max(times)
