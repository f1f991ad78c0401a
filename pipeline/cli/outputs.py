"""Output paths checked before any work: `audit`, `eval-detector` and `rewrite` refuse the same ones."""

from __future__ import annotations

import tempfile
from pathlib import Path

from pipeline.cli.errors import fail


def refuse_non_parquet(outputs: dict[str, Path | None]) -> None:
    """A table output named for another format (`--out fixed.jsonl`) would get Parquet bytes under
    that name, which a JSON reader then fails on: say so before the work."""
    for option, path in outputs.items():
        if path is not None and path.suffix.lower() != ".parquet":
            raise fail(f"{option} {path}: this file is written as Parquet; name it .parquet "
                       "(pandas.read_parquet(path).to_json(orient='records', lines=True) gives JSON lines)")


def refuse_unwritable_outputs(file: Path, outputs: dict[str, Path | None]) -> None:
    """Before any scoring: an output that is a folder, the input file or another output, or one in
    a folder that cannot be written, would fail, or destroy the input, only once the work is done."""
    taken = {file.resolve(): "the input file"}
    for option, path in outputs.items():
        if path is None:
            continue
        if path.is_dir():
            raise fail(f"{option} {path}: is a folder; name a file")
        if path.resolve() in taken:
            raise fail(f"{option} {path}: is {taken[path.resolve()]}; name another file")
        if not path.parent.is_dir():
            raise fail(f"{path.parent}: no such folder")
        _refuse_unwritable_folder(option, path)
        taken[path.resolve()] = f"the {option} file"


def _refuse_unwritable_folder(option: str, path: Path) -> None:
    """Outputs are written to a temporary file beside them, so the folder must take a new file."""
    try:
        with tempfile.TemporaryFile(dir=path.parent):
            pass
    except OSError as error:
        raise fail(f"{option} {path}: cannot write in {path.parent} ({error.strerror or error})") from None
