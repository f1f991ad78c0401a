"""A Hugging Face dataset folder read as one benchmark, shard after shard.

Two layouts are read: Parquet shards, as `huggingface_hub` snapshots and the Hub's parquet conversion ship
them (`data/test-00000-of-00002.parquet`, `default/test/0000.parquet`: every `.parquet` file under the
folder, hidden folders left out), and a `datasets` `save_to_disk` folder (`state.json` naming its
`data-00000-of-00001.arrow` files, Arrow's IPC stream format; a `DatasetDict` saves one such folder per
split beside `dataset_dict.json`). Shards are read in the order of their names (a save_to_disk folder's
in its `state.json` order), each as it is consumed, Parquet by row groups, Arrow by record batches, so a
folder is never loaded whole.

A folder is one split: a train split audited with its test split would blur both rates. A shard's split is
the name before `-00000-of-00002` (the Hub's shard names), whatever follows it (older `push_to_hub` added a
fingerprint: `test-00000-of-00002-9c5ad2d0dd1a5d43`), else its folder's name when the file name is a
number (`test/0000.parquet`), else the file's name (`test.parquet`), its config's folder before it where
shards sit in several (`first/test`); a save_to_disk split is its folder.
A folder of several splits is refused with their names unless one is chosen.
Each position names its shard (`data/test-00001-of-00002.parquet row 17`), relative to the folder.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from pipeline.io.entries import Entry, Position, RecordStream
from pipeline.io.records import FORMATS, _refuse_repeated_columns, _unreadable, open_records

# whatever follows the shard number is not the split: older push_to_hub added a fingerprint (`-9c5ad2d0dd1a5d43`)
SHARD_NAME = re.compile(r"^(?P<split>.+)-\d{5}-of-\d{5}(?:-.*)?$")
SAVED = "state.json"           # a datasets save_to_disk Dataset
SAVED_SPLITS = "dataset_dict.json"  # a save_to_disk DatasetDict: one saved Dataset per split
SHOWN_FILES = 10  # shard names a summary lists before "... and N more"


@dataclass(frozen=True)
class Shard:
    path: Path
    name: str          # relative to the folder, as positions and the summary name it
    split: str | None  # None: a save_to_disk Dataset saved without one


@dataclass
class FolderStream(RecordStream):
    files: list[str] | None = None  # the shards read, in order (None for a file)


def open_benchmark(path: Path, split: str | None = None) -> RecordStream | FolderStream:
    """A benchmark file's entries (`open_records`), or a dataset folder's, shard after shard: one split's."""
    path = Path(path)
    if not path.is_dir():
        if split is not None:
            raise ValueError(f"{path}: --split {split!r} chooses a split of a dataset folder, and this is a file")
        if path.suffix.lower() == ".arrow" and (path.parent / SAVED).is_file():  # one shard of save_to_disk's
            raise ValueError(f"{path}: is a shard of a datasets save_to_disk folder: name the folder, {path.parent}")
        return open_records(path)
    shards = chosen_split(path, dataset_shards(path), split)
    totals, columns = [], {}
    for shard in shards:
        total, names = _shape(shard.path)
        totals.append(total)
        columns.update(dict.fromkeys(names))
    return FolderStream(_entries(shards), sum(totals), "row", list(columns), [shard.name for shard in shards])


def shown_files(files: list[str]) -> str:
    more = f", ... and {len(files) - SHOWN_FILES} more" if len(files) > SHOWN_FILES else ""
    return ", ".join(files[:SHOWN_FILES]) + more


def dataset_shards(folder: Path) -> list[Shard]:
    """Every shard of the folder, in reading order; a folder holding none is a one-line `ValueError`."""
    if (folder / SAVED_SPLITS).is_file():
        splits = json.loads((folder / SAVED_SPLITS).read_text(encoding="utf-8")).get("splits", [])
        return [shard for split in splits for shard in _saved(folder, folder / split, split)]
    if (folder / SAVED).is_file():
        return _saved(folder, folder, None)
    parquet = sorted((path for path in _files(folder) if path.suffix.lower() == ".parquet"),
                     key=lambda path: path.relative_to(folder).as_posix())
    if not parquet:
        raise ValueError(_no_shards(folder))
    configs = {_config_of(folder, path) for path in parquet}
    return [Shard(path, path.relative_to(folder).as_posix(),
                  _split_of(path) if len(configs) == 1 else f"{_config_of(folder, path)}/{_split_of(path)}".lstrip("/"))
            for path in parquet]


def chosen_split(folder: Path, shards: list[Shard], split: str | None) -> list[Shard]:
    splits = list(dict.fromkeys(shard.split for shard in shards if shard.split is not None))
    if split is not None:
        chosen = [shard for shard in shards if shard.split == split]
        if not chosen:
            raise ValueError(f"{folder}: no split {split!r} (" +
                             (f"splits: {shown_files(splits)})" if splits else "the folder has no splits)"))
        return chosen
    if len(splits) > 1:
        counted = shown_files([f"{name} ({_files_count(sum(shard.split == name for shard in shards))})"
                               for name in splits])  # the first ten: an error stays one short line
        example = "test" if "test" in splits else splits[0]
        raise ValueError(f"{folder}: holds {len(splits)} splits, {counted}: choose one with --split "
                         f"(e.g. --split {example}), so that no two are read as one")
    return shards


def _files_count(count: int) -> str:
    return f"{count} file" + ("" if count == 1 else "s")


def _saved(folder: Path, saved: Path, split: str | None) -> list[Shard]:
    """A save_to_disk Dataset's Arrow files, in the order its state.json lists them."""
    try:
        state = json.loads((saved / SAVED).read_text(encoding="utf-8"))
        names = [entry["filename"] for entry in state["_data_files"]]
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise ValueError(f"{saved / SAVED}: cannot read as a datasets save_to_disk state ({error})") from None
    return [Shard(saved / name, (saved / name).relative_to(folder).as_posix(), split or state.get("_split"))
            for name in names]


def _files(folder: Path) -> Iterator[Path]:
    """The folder's files, its hidden folders (`.cache/huggingface`, `.git`) left out. Each real folder is
    read once: a symlinked folder is followed only after every folder really under it was (so a link to one
    of them is the copy left out), never back up to the folder or above it (`up -> ..` would loop)."""
    seen: set[Path] = set()
    links = [folder]
    while links:
        yield from _walk(links.pop(0), folder.resolve(), seen, links)


def _walk(path: Path, root: Path, seen: set[Path], links: list[Path]) -> Iterator[Path]:
    real = path.resolve()
    if real in seen or (real != root and root.is_relative_to(real)):
        return
    seen.add(real)
    for entry in sorted(path.iterdir()):
        if entry.name.startswith("."):
            continue
        if entry.is_dir():
            if entry.is_symlink():
                links.append(entry)
            else:
                yield from _walk(entry, root, seen, links)
        elif entry.is_file():
            yield entry


def _split_of(path: Path) -> str:
    stem = path.name[:-len(path.suffix)]
    named = SHARD_NAME.match(stem)
    if named:
        return named["split"]
    return path.parent.name if stem.isdigit() else stem


def _config_of(folder: Path, path: Path) -> str:
    """The folder a split's shards sit in (a snapshot's config, `data` for most): splits of two configs
    are two splits, named with it (`first/test`)."""
    holder = path.parent.parent if path.name[:-len(path.suffix)].isdigit() else path.parent
    return "" if holder in (folder, folder.parent) else holder.relative_to(folder).as_posix()


def _no_shards(folder: Path) -> str:
    files = sorted(path.relative_to(folder).as_posix() for path in _files(folder))
    readable = [name for name in files if Path(name).suffix.lower() in FORMATS or Path(Path(name).stem).suffix in FORMATS]
    what = ("this one is empty" if not files else
            f"this one holds neither; its benchmark files: {shown_files(readable)}" if readable else
            "this one holds neither")
    return (f"{folder}: is a folder; name a benchmark file, or a folder of Parquet shards or a datasets "
            f"save_to_disk folder ({what})")


def _shape(path: Path) -> tuple[int, list[str]]:
    """A shard's row count and columns, read before its rows so that the bar and the fields are known."""
    try:
        with path.open("rb") as handle:
            if path.suffix.lower() == ".parquet":
                parquet = pq.ParquetFile(handle)
                total, names = parquet.metadata.num_rows, parquet.schema_arrow.names
            else:
                reader = pa.ipc.open_stream(handle)
                total, names = sum(batch.num_rows for batch in reader), reader.schema.names
    except (OSError, pa.ArrowException) as error:
        raise _unreadable(path, error) from None
    _refuse_repeated_columns(path, names)
    return total, names


def _entries(shards: list[Shard]) -> Iterator[Entry]:
    for shard in shards:
        entries = open_records(shard.path).entries if shard.path.suffix.lower() == ".parquet" else _arrow(shard.path)
        for position, entry in entries:
            yield Position(position.unit, position.number, shard.name), entry


def _arrow(path: Path) -> Iterator[Entry]:
    """An Arrow IPC stream (save_to_disk's `.arrow`), a record batch at a time."""
    number = 0
    try:
        with path.open("rb") as handle:  # a file, not its path: pyarrow takes only UTF-8 names
            for batch in pa.ipc.open_stream(handle):
                for record in batch.to_pylist():
                    number += 1
                    yield Position("row", number), record
    except (OSError, pa.ArrowException) as error:
        raise _unreadable(path, error, f"after row {number}: " if number else "") from None
