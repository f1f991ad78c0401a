"""Where releases live: `<releases_dir>/<name>-v<N>/`, N counting up from 1."""

from __future__ import annotations

import re
from pathlib import Path

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
