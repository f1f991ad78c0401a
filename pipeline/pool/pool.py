"""A local image pool: a folder of images plus a captions file (CSV or JSONL; JSON and
Parquet are read too).

Captions file columns: `file` (path relative to the folder) and `caption`, and
optionally `id`, `source`, `category`, `sub_category`, `element`. Files that
cannot be used (no caption, unreadable, blank, of a type we do not read, listed
but absent, a link whose target is gone or lies outside the folder, larger than
MAX_IMAGE_BYTES, not a regular file, a caption or source the hard block stops) and
caption rows that cannot be read (named by their line) are skipped with a reason, never
silently and never with a crash.
"""

from __future__ import annotations

import io
import os
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image, UnidentifiedImageError

from pipeline.contracts import ItemError
from pipeline.hashing import sha256_bytes
from pipeline.images.checks import is_blank, upright_rgb, without_bomb_warning
from pipeline.pool.hard_block import hard_block_reason
from pipeline.io.records import open_records
from pipeline.settings import with_its_base

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".bmp", ".gif", ".tif", ".tiff")
CAPTION_FILES = ("captions.jsonl", "captions.csv")
OPTIONAL_COLUMNS = ("id", "source", "category", "sub_category", "element")
# A pool image is read whole into memory: no photo a benchmark shows needs more than this, and a
# pool from someone else may hold anything (a disk image named .png).
MAX_IMAGE_BYTES = 50 * 2**20
# Pillow names the in-memory file it could not read ("<_io.BytesIO object at 0x7f...>"): an
# address that differs run to run, so two runs' skip lists would differ for no reason.
_OBJECT_REPR = re.compile(r"\s*<[\w.]+ object at 0x[0-9a-fA-F]+>")

# Batch of image paths -> one caption (or an error) per path; a VLM captioner plugs in here.
Captioner = Callable[[list[Path]], list["str | ItemError"]]


@dataclass(frozen=True)
class PoolImage:
    file: str  # relative to the pool folder, with forward slashes
    path: Path
    sha256: str  # of the file's bytes: the key of the caption index
    caption: str
    caption_by: str  # "captions-file" or the captioner that wrote it
    id: str
    source: str
    category: str | None = None
    sub_category: str | None = None
    element: str | None = None


@dataclass(frozen=True)
class Skipped:
    file: str
    reason: str


@dataclass
class Pool:
    name: str
    folder: Path
    images: list[PoolImage] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)

    def require_images(self) -> None:
        if not self.images:
            first = f"; first: {self.skipped[0].file}: {self.skipped[0].reason}" if self.skipped else ""
            raise ValueError(f"pool {self.name!r} at {self.folder} has no usable images "
                             f"({len(self.skipped)} skipped{first})")


def read_captions(path: Path) -> tuple[dict[str, dict], list[Skipped]]:
    """Rows of a CSV or JSONL captions file keyed by `file`, and its unreadable rows, each named
    by its line and skipped. A file that cannot be read at all is a one-line `ValueError`."""
    if not path.is_file():
        raise ValueError(f"captions file not found: {with_its_base(path)}")
    rows, first_at, bad = {}, {}, []
    records = open_records(path)
    _check_columns(path, records.columns)
    for position, entry in records.entries:
        if isinstance(entry, str):
            bad.append(Skipped(f"{path.name} {position}", entry))
            continue
        entry = {column_name(key): value for key, value in entry.items()}
        if not str(entry.get("file") or "").strip():
            bad.append(Skipped(f"{path.name} {position}", "no `file`"))
        elif (file := same_name(str(entry["file"]).strip())) in rows:
            bad.append(Skipped(f"{path.name} {position}", f"`{file}` again: {first_at[file]} captions it, and is used"))
        else:
            rows[file], first_at[file] = entry, position
    if not rows:
        first = f" ({bad[0].file}: {bad[0].reason})" if bad else ""
        raise ValueError(f"{path}: no readable captions{first}")
    if not any("caption" in row for row in rows.values()):
        raise ValueError(f"{path}: captions file lacks column(s) caption")
    return rows, bad


def column_name(name: str) -> str:
    """A captions column as the pool names it: spreadsheet users write `File` or ` caption`."""
    return name.strip().lower()


def _check_columns(path: Path, columns: list[str]) -> None:
    """A header without `file` (in any case) is refused naming the header as read, since each row
    would otherwise be blamed on its own; so are two columns that differ only in case or spaces."""
    names = [column_name(column) for column in columns]
    if twice := sorted({column for column, name in zip(columns, names) if names.count(name) > 1}):
        raise ValueError(f"{path}: columns {', '.join(map(repr, twice))} are one column to the pool "
                         "(names are read without case or surrounding spaces): keep one")
    if columns and "file" not in names:
        raise ValueError(f"{path}: no `file` column: the header reads {', '.join(map(repr, columns))}; "
                         "a captions file needs `file` and `caption`")


def one_line(caption: str) -> str:
    """A caption with each run of whitespace as one space: a spreadsheet cell's line break
    (`\r\n`) would ship in a description, which VLSBench keeps on one line."""
    return " ".join(caption.split())


def same_name(file: str) -> str:
    """A file name as one form of its characters: macOS writes "café" decomposed, most editors composed."""
    return unicodedata.normalize("NFC", file)


def _unusable(data: bytes) -> str | None:
    """Why the bytes are not a usable image (they do not decode, or show one flat colour), or None."""
    try:
        with without_bomb_warning(), Image.open(io.BytesIO(data)) as image:
            # Decode every byte (truncated files pass `verify()`), but let JPEG decode
            # at 1/8 scale: far faster on big photos, and truncation still raises.
            image.draft("RGB", (max(1, image.width // 8), max(1, image.height // 8)))
            image.load()
            shown = upright_rgb(image)
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError) as error:
        return f"unreadable image ({type(error).__name__}: {_OBJECT_REPR.sub('', str(error))})"
    if is_blank(shown):
        return "blank image (one flat colour as shown)"
    return None


def unsupported_type(file: str) -> str:
    suffix = Path(file).suffix or "(no extension)"
    return f"unsupported file type {suffix} (supported: {' '.join(IMAGE_SUFFIXES)})"


def _visible(folder: Path, captions_path: Path | None) -> list[Path]:
    """Every path under the folder but hidden ones (.DS_Store, .git/) and the captions file itself."""
    captions = captions_path.resolve() if captions_path else None
    return [path for path in folder.rglob("*")
            if not any(part.startswith(".") for part in path.relative_to(folder).parts)
            and not (path.exists() and path.resolve() == captions)]  # a link loop does not exist: no resolve


def _folder_files(folder: Path, captions_path: Path | None, links_outside: bool
                  ) -> tuple[list[str], list[Skipped]]:
    """The files to read, and the paths that are not read with why (skipped, not silently dropped)."""
    inside, files, skipped = folder.resolve(), [], []
    for path in sorted(_visible(folder, captions_path), key=str):
        file = path.relative_to(folder).as_posix()
        if reason := _not_read(path, None if links_outside else inside):
            skipped.append(Skipped(file, reason))
        elif path.is_file():
            files.append(file)
    return sorted(files), skipped


def _not_read(path: Path, inside: Path | None) -> str | None:
    """Why a path of the pool folder is not read, or None (a folder is None: its files are listed).
    A link is read only where it stays `inside` the folder (None: wherever it leads, by the user's
    choice): a pool from someone else must not ship whatever its links point to on this machine."""
    if path.is_symlink():
        target = os.readlink(path)
        if not path.exists():
            return f"broken link (its target {target} does not exist)"
        if inside is not None and not path.resolve().is_relative_to(inside):
            return (f"link to {target}, outside the pool folder (not read; a folder of links into a dataset "
                    "you trust: images.pool.allow_links_outside = true)")
    if not (path.is_file() or path.is_dir()):
        return "not a regular file (a pipe, socket or device; not read)"
    return None


def _file_bytes(path: Path) -> bytes | str:
    """The file's bytes, or why they are not read: over MAX_IMAGE_BYTES, or the file cannot be opened.
    At most one byte past the cap is read, should the file grow after its size was taken."""
    cap = f"the {MAX_IMAGE_BYTES // 2**20} MiB cap for a pool image (not read)"
    try:
        if (size := path.stat().st_size) > MAX_IMAGE_BYTES:
            return f"{size / 2**20:.1f} MiB, over {cap}"
        with path.open("rb") as handle:
            data = handle.read(MAX_IMAGE_BYTES + 1)
    except OSError as error:
        return f"cannot be read ({error.strerror or type(error).__name__})"
    return data if len(data) <= MAX_IMAGE_BYTES else f"grew past {cap}"


def _captions_in(folder: Path) -> Path | None:
    """The folder's own captions file; two of them would caption one image two ways, so that is refused."""
    found = [folder / name for name in CAPTION_FILES if (folder / name).exists()]
    if len(found) > 1:
        raise ValueError(f"pool folder {folder} holds both {' and '.join(path.name for path in found)}: "
                         f"remove one, or name the one to read as the captions file (images.pool.captions_file)")
    return found[0] if found else None


def load_pool(folder: str | Path, captions_file: str | Path | None = None, name: str | None = None,
              captioner: Captioner | None = None, links_outside: bool = False) -> Pool:
    """`links_outside`: also read links that lead out of the folder (a folder of links into a dataset
    the user trusts); by default they are skipped with their reason."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ValueError(f"pool folder not found: {with_its_base(folder)}")
    captions_path = Path(captions_file) if captions_file else _captions_in(folder)
    if captions_path and not captions_file and not links_outside and _not_read(captions_path, folder.resolve()):
        raise ValueError(f"{captions_path}: {_not_read(captions_path, folder.resolve())}")
    rows, unreadable_rows = read_captions(captions_path) if captions_path else ({}, [])
    pool = Pool(name=name or folder.name, folder=folder, skipped=unreadable_rows)
    files, not_read = _folder_files(folder, captions_path, links_outside)
    present = {same_name(file) for file in files} | {same_name(path.file) for path in not_read}
    pool.skipped += not_read + [Skipped(file, "listed in the captions file but not in the folder")
                                for file in sorted(set(rows) - present)]
    to_caption: list[tuple[str, str]] = []  # (file, sha256) of readable images lacking a caption
    for file in files:
        if file in CAPTION_FILES:  # only a captions file given by path leaves one of these in `files`
            pool.skipped.append(Skipped(file, f"a second captions file, not read (the captions come from "
                                              f"{captions_path})"))
            continue
        if Path(file).suffix.lower() not in IMAGE_SUFFIXES:
            pool.skipped.append(Skipped(file, unsupported_type(file)))
            continue
        data = _file_bytes(folder / file)
        if reason := data if isinstance(data, str) else _unusable(data):
            pool.skipped.append(Skipped(file, reason))
            continue
        row = rows.get(same_name(file)) or {}
        caption = one_line(str(row.get("caption") or ""))
        if caption:
            pool.images.append(_pool_image(pool, file, sha256_bytes(data), caption, "captions-file", row))
        elif captioner is None:
            pool.skipped.append(Skipped(file, "no caption (and no captioner given)"))
        else:
            to_caption.append((file, sha256_bytes(data)))
    if to_caption:
        _caption_with(pool, to_caption, captioner, rows)
    _leave_out_hard_blocked(pool)
    return pool


def _leave_out_hard_blocked(pool: Pool) -> None:
    """Skip each image whose shipped texts the hard block stops, once here rather than at every
    seed that would retrieve it (`hard_block.py`)."""
    reasons = {image.file: hard_block_reason(image) for image in pool.images}
    pool.skipped += [Skipped(file, reason) for file, reason in reasons.items() if reason]
    pool.images = [image for image in pool.images if not reasons[image.file]]


def _caption_with(pool: Pool, files: list[tuple[str, str]], captioner: Captioner,
                  rows: dict[str, dict]) -> None:
    captions = captioner([pool.folder / file for file, _ in files])
    made_by = getattr(captioner, "model", None) or getattr(captioner, "__name__", type(captioner).__name__)
    for (file, sha), caption in zip(files, captions):
        if isinstance(caption, ItemError) or not caption.strip():
            reason = caption.error if isinstance(caption, ItemError) else "empty caption"
            pool.skipped.append(Skipped(file, f"captioner failed: {reason}"))
        else:
            pool.images.append(_pool_image(pool, file, sha, one_line(caption), str(made_by),
                                           rows.get(same_name(file)) or {}))


def default_id(file: str, sha: str) -> str:
    """Unique per file: byte-identical copies under two names get two ids (and share `sha256`,
    which is how a duplicate shows)."""
    return sha256_bytes(f"{same_name(file)}\n{sha}".encode())[:16]


def _pool_image(pool: Pool, file: str, sha: str, caption: str, caption_by: str, row: dict) -> PoolImage:
    extras = {column: (str(row[column]) if row.get(column) not in (None, "") else None)
              for column in OPTIONAL_COLUMNS}
    return PoolImage(
        file=file, path=pool.folder / file, sha256=sha, caption=caption, caption_by=caption_by,
        id=extras["id"] or default_id(file, sha), source=extras["source"] or pool.name,
        category=extras["category"], sub_category=extras["sub_category"], element=extras["element"],
    )
