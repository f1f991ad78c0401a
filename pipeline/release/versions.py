"""Where releases live: `<releases_dir>/<name>-v<N>/`, N counting up from 1.

A release is written into a hidden staging folder beside it and renamed into
place when whole. The staging folder's name says which process made it,
`.<name>-v<N>.p<pid>@<host>.<random>`, so a later release of the name can tell
a folder left by a killed release (its process is gone) from one still being
written, and remove only the first kind.
"""

from __future__ import annotations

import os
import re
import shutil
import time
from pathlib import Path

from pipeline.storage import host_name, process_alive, staging_dir

NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")


def check_name(name: str) -> str:
    if not NAME.fullmatch(name) or re.search(r"-v\d+$", name):
        raise ValueError(f"bad release name {name!r}: use letters, digits, '.', '_', '-' (no -vN suffix)")
    return name


def release_versions(releases_dir: Path, name: str) -> list[tuple[int, Path]]:
    """Every finished release of `name`, oldest first."""
    pattern = re.compile(rf"{re.escape(name)}-v(\d+)")
    found = []
    for folder in Path(releases_dir).glob(f"{name}-v*"):
        match = pattern.fullmatch(folder.name)
        if match and (folder / "manifest.json").is_file():
            found.append((int(match.group(1)), folder))
    return sorted(found)


def next_version(releases_dir: Path, name: str) -> int:
    versions = release_versions(releases_dir, name)
    return versions[-1][0] + 1 if versions else 1


def release_folder(releases_dir: Path, name: str, version: int) -> Path:
    return Path(releases_dir) / f"{name}-v{version}"


def check_free(folder: Path) -> Path:
    """Refuse a target that exists but is not a release: renaming onto it would fail after all the
    work (a folder with files) or silently replace it (an empty one)."""
    if folder.exists() or folder.is_symlink():
        raise ValueError(f"{folder} already exists and is not a release (no manifest.json): "
                         "move it away or release under another --name")
    return folder


# Staging folders from before they carried their process (`.<name>-v<N>.<8 random>`) cannot be traced to
# one; such a folder is taken as abandoned only once nothing in it has changed for this long.
UNTRACEABLE_STALE_AFTER_S = 24 * 3600
_RANDOM = r"[a-z0-9_]{8}"  # tempfile.mkdtemp's suffix


def release_staging(releases_dir: Path, name: str, version: int) -> Path:
    """A new staging folder for `<name>-v<version>`, named after this process."""
    return staging_dir(releases_dir, prefix=f".{name}-v{version}.p{os.getpid()}@{host_name()}.")


def remove_stale_staging(releases_dir: Path, name: str) -> list[str]:
    """Remove staging folders of `name` left by releases that died (a kill -9, a power cut); returns one
    line per folder removed. Safe by construction: a folder is removed only when it names a process on
    this host that no longer runs, or (a folder from before staging folders named their process, or
    one made on another host sharing the folder) when nothing in it has changed for a day. A live
    release's folder is never touched: its process runs, and it writes into its folder as it goes."""
    removed = []
    traced = re.compile(rf"\.{re.escape(name)}-v\d+\.p(\d+)@([A-Za-z0-9._-]+)\.{_RANDOM}")
    untraced = re.compile(rf"\.{re.escape(name)}-v\d+\.{_RANDOM}")
    parent = Path(releases_dir)
    if not parent.is_dir():
        return removed
    for folder in sorted(parent.glob(f".{name}-v*")):
        if not folder.is_dir() or folder.is_symlink():
            continue
        match = traced.fullmatch(folder.name)
        if match and match.group(2) == host_name():
            pid = int(match.group(1))
            if process_alive(pid):
                continue
            why = f"left by process {pid}, which is gone"
        elif match or untraced.fullmatch(folder.name):
            idle = time.time() - newest_change(folder)
            if idle < UNTRACEABLE_STALE_AFTER_S:
                continue
            why = f"unchanged for {idle / 3600:.0f} h"
        else:
            continue
        shutil.rmtree(folder, ignore_errors=True)
        if not folder.exists():
            removed.append(f"removed {folder}, the staging folder of an unfinished release ({why})")
    return removed


def newest_change(folder: Path) -> float:
    times = [folder.stat().st_mtime]
    for path in folder.rglob("*"):
        try:
            times.append(path.lstat().st_mtime)
        except OSError:
            pass
    return max(times)
