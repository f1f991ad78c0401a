"""Gzipped data files (`data.jsonl.gz`, as Hugging Face dumps ship them): read as the file they hold,
named after it. Parquet compresses itself, so only the text formats come gzipped."""

from __future__ import annotations

import gzip
from pathlib import Path

GZIP = ".gz"


def data_suffix(path: Path) -> str:
    """The format's suffix: `.jsonl` for `data.jsonl` and `data.jsonl.gz` alike."""
    path = Path(path)
    return Path(path.stem).suffix.lower() if path.suffix.lower() == GZIP else path.suffix.lower()


def data_stem(path: Path) -> str:
    """The name without its format's suffixes: `data` for `data.jsonl` and `data.jsonl.gz`."""
    path = Path(path)
    return Path(path.stem).stem if path.suffix.lower() == GZIP else path.stem


def shown_suffixes(path: Path) -> str:
    """The suffixes a message names: `.parquet.gz` for a gzipped file."""
    return "".join(path.suffixes[-2:]) if path.suffix.lower() == GZIP else path.suffix


class Gunzipped(type(Path())):
    """A gzipped file that opens as the file it holds: every reader here reads through `open`
    (`read_text` and `read_bytes` call it), so each reads a `.jsonl.gz` as it reads a `.jsonl`."""

    def open(self, mode="r", buffering=-1, encoding=None, errors=None, newline=None):
        return gzip.open(self, mode if "b" in mode else mode + "t", encoding=encoding, errors=errors, newline=newline)
