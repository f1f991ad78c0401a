"""Which files a local image model was, so new weights at the same path are not taken for the old.

A model is named by its path on every record; replacing the weights under that path would let
one run mix two checkpoints under one name. The fingerprint reads only sizes and modification
times (hashing the weights of a large model would take minutes on every build).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

MODEL_INDEX = "model_index.json"


def model_files_fingerprint(model: str) -> str | None:
    """A hash of the size and modification time of `model_index.json` and of every file in the
    component folders (weights, configs, tokenizers); None for a hub id, which names its weights.

    Other top-level files (a README, sample pictures, a single-file checkpoint diffusers does not
    load) and hidden ones (a download's .cache) are left out: changing them changes no image."""
    folder = Path(model) if model else None
    if folder is None or not folder.is_dir():
        return None
    lines = [_stat_line(folder, path) for path in _files_that_make_images(folder)]
    return hashlib.sha256("\n".join(sorted(lines)).encode("utf-8")).hexdigest()[:16]


def _files_that_make_images(folder: Path) -> list[Path]:
    files = [folder / MODEL_INDEX] if (folder / MODEL_INDEX).is_file() else []
    for component in folder.iterdir():
        if component.is_dir() and not component.name.startswith("."):
            files += [path for path in component.rglob("*")
                      if path.is_file() and not any(part.startswith(".") for part in path.relative_to(folder).parts)]
    return files


def _stat_line(folder: Path, path: Path) -> str:
    status = path.stat()  # follows links, as a hub cache's snapshot folder holds them
    return f"{path.relative_to(folder).as_posix()}\t{status.st_size}\t{status.st_mtime_ns}"
