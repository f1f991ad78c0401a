"""Where releases live: `<releases_dir>/<name>-v<N>/`, N counting up from 1.

A release holds `<releases_dir>/.<name>.lock` while it runs, so a second release of the name is
refused at once rather than after all its work. It is written into a hidden staging folder beside it
and renamed into place when whole. The staging folder's name says which process made it,
`.<name>-v<N>.p<pid>@<host>~<pid namespace>.<random>`, so a later release of the name can tell a folder left by a
killed release (its process is gone) from one still being written, and remove only the first kind.
Exports (`export-vlsbench`, `review export`) name and sweep their staging folders the same way
(`pipeline.staging.owned_staging`).
"""

from __future__ import annotations

import re
from contextlib import contextmanager
from pathlib import Path

from pipeline.staging import RANDOM, owned_staging, remove_abandoned_staging
from pipeline.storage import exclusive_lock

NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")


class ReleaseRunning(ValueError):
    """Another release of the name holds its lock: the user's to wait for."""


def check_name(name: str) -> str:
    if not NAME.fullmatch(name) or re.search(r"-v\d+$", name):
        raise ValueError(f"bad release name {name!r}: use letters, digits, '.', '_', '-' (no -vN suffix)")
    return name


@contextmanager
def release_lock(releases_dir: Path, name: str):
    """Held while a release of `name` (plain, --extend or `select`) does its work: a second one started
    meanwhile would do all of it too, then find its version taken (`storage.exclusive_lock`)."""
    releases_dir = Path(releases_dir)
    if releases_dir.exists() and not releases_dir.is_dir():
        raise NotADirectoryError(f"{releases_dir}: not a folder (--releases-dir)")
    path = releases_dir / f".{name}.lock"

    def busy(holder: str) -> ReleaseRunning:
        return ReleaseRunning(f"another release of {name} is running in {releases_dir} (it holds {path}): "
                              "wait for it to end, then rerun")

    with exclusive_lock(path, busy):
        yield


def release_versions(releases_dir: Path, name: str) -> list[tuple[int, Path]]:
    """Every finished release of `name`, oldest first."""
    pattern = re.compile(rf"{re.escape(name)}-v(\d+)")
    found = []
    for folder in Path(releases_dir).glob(f"{name}-v*"):
        match = pattern.fullmatch(folder.name)
        if match and (folder / "manifest.json").is_file():
            found.append((int(match.group(1)), folder))
    return sorted(found)


def release_names(releases_dir: Path) -> list[str]:
    """The names with a finished release under `releases_dir`, sorted."""
    versions = (re.fullmatch(r"(.+)-v\d+", folder.name) for folder in Path(releases_dir).glob("*-v*")
                if (folder / "manifest.json").is_file())
    return sorted({match.group(1) for match in versions if match and NAME.fullmatch(match.group(1))})


def next_version(releases_dir: Path, name: str) -> int:
    versions = release_versions(releases_dir, name)
    return versions[-1][0] + 1 if versions else 1


def release_folder(releases_dir: Path, name: str, version: int) -> Path:
    return Path(releases_dir) / f"{name}-v{version}"


def released_meanwhile(folder: Path) -> ValueError:
    return ValueError(f"{folder} was released meanwhile, by another process; nothing of this release was "
                      "written: rerun it")


def check_unreleased_meanwhile(releases_dir: Path, name: str, earlier: list[tuple[int, Path]]) -> None:
    """Refuse if a version of `name` was finished since `earlier` was read (before the lock was taken)."""
    taken = [folder for number, folder in release_versions(releases_dir, name) if (number, folder) not in earlier]
    if taken:
        raise released_meanwhile(taken[-1])


def check_free(folder: Path) -> Path:
    """Refuse a target that exists: renaming onto it would fail after all the work (a folder with
    files) or silently replace it (an empty one). A release there was made since this one chose its
    version, by a process the lock does not reach (another host sharing the folder)."""
    if (folder / "manifest.json").is_file():
        raise released_meanwhile(folder)
    if folder.exists() or folder.is_symlink():
        raise ValueError(f"{folder} already exists and is not a release (no manifest.json): "
                         "move it away or release under another --name")
    return folder


def release_staging(releases_dir: Path, name: str, version: int) -> Path:
    """A new staging folder for `<name>-v<version>`, named after this process."""
    return owned_staging(releases_dir, f"{name}-v{version}")


def remove_stale_staging(releases_dir: Path, name: str) -> list[str]:
    """Remove staging folders of `name` left by releases that died (a kill -9, a power cut); returns one
    line per folder removed."""
    target = rf"{re.escape(name)}-v\d+"
    return remove_abandoned_staging(releases_dir, target, "release", untraced=rf"\.{target}\.{RANDOM}")
