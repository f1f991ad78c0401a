"""Compressed data files (`data.jsonl.gz` as Hugging Face dumps ship them, `data.jsonl.zst` as The Pile
does, `.bz2`, `.xz`): read as the file they hold, named after it. Parquet compresses itself, so only
the text formats come compressed."""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
from pathlib import Path

import pyarrow as pa


def _zstd(path: Path, mode: str):
    """pyarrow's zstd codec (no other dependency), buffered so that lines can be read. It is handed an
    open file rather than the path: pyarrow takes no name that is not UTF-8."""
    return io.BufferedReader(pa.input_stream(open(path, mode), compression="zstd"))


OPENERS = {".gz": gzip.open, ".bz2": bz2.open, ".xz": lzma.open, ".zst": _zstd}
COMPRESSIONS = ", ".join(OPENERS)
# What reading a file that is not in its suffix's format, or is cut short, raises (lzma's own error is no OSError).
READ_ERRORS = (OSError, EOFError, lzma.LZMAError)


def is_compressed(path: Path) -> bool:
    return Path(path).suffix.lower() in OPENERS


def data_suffix(path: Path) -> str:
    """The format's suffix: `.jsonl` for `data.jsonl` and `data.jsonl.gz` alike."""
    path = Path(path)
    return Path(path.stem).suffix.lower() if is_compressed(path) else path.suffix.lower()


def data_stem(path: Path) -> str:
    """The name without its format's suffixes: `data` for `data.jsonl` and `data.jsonl.zst`."""
    path = Path(path)
    return Path(path.stem).stem if is_compressed(path) else path.stem


def shown_suffixes(path: Path) -> str:
    """The suffixes a message names: `.parquet.gz` for a compressed file."""
    return "".join(path.suffixes[-2:]) if is_compressed(path) else path.suffix


class Decompressed(type(Path())):
    """A compressed file that opens as the file it holds: every reader here reads through `open`
    (`read_text` and `read_bytes` call it), so each reads a `.jsonl.gz` as it reads a `.jsonl`."""

    def open(self, mode="r", buffering=-1, encoding=None, errors=None, newline=None):
        binary = OPENERS[self.suffix.lower()](self, "rb")
        if "b" in mode:
            return binary
        return io.TextIOWrapper(binary, encoding=encoding, errors=errors, newline=newline)
