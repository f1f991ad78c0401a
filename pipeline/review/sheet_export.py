"""Review batches as sheets: one CSV per batch and annotator, for a lab that reviews in a spreadsheet.

`<run>/review/sheets/` holds `<batch>-<annotator>.csv` (or `<batch>.csv` for a batch assigned to
anyone), README.txt (how to fill them) and images/ (a copy of each pair's image, so the folder can be
sent on its own). The CSV is UTF-8 with a BOM (Excel reads UTF-8 only with it) and CRLF line ends;
one row per pair the annotator is assigned, in the batch's order, each with the time the sheet was
exported (`exported_at`: a copy keeps it, whatever its file's time). Decisions come back with
`review import-sheet` (`sheet_record.py`), which records them in the review store.

Writing the sheets again never overwrites one a person may have typed into: `<run>/review/
sheets-exported.json` keeps the SHA-256 and export time of each sheet as the export wrote it, and a
sheet whose file differs from that (filled in place, or written before the hashes were kept) is kept as
it is and named. A sheet whose rows are as they were keeps its export time.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import shutil
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from pipeline.review.batches import ReviewBatch, ReviewItem, review_dir
from pipeline.review.sheet_format import COLUMNS, FILL_COLUMNS, export_time, guarded, guide_lines, sheet_id
from pipeline.storage import atomic_write_json, atomic_write_text

SHEETS = "sheets"
EXPORTED = "sheets-exported.json"  # sheet name -> {sha256: of the bytes the export wrote, exported_at}


def sheets_dir(run_dir: Path) -> Path:
    return review_dir(run_dir) / SHEETS


def sheet_row(item: ReviewItem, exported_at: str) -> list[str]:
    shown = [sheet_id(item.pair_id), item.category, item.image, item.instruction, item.image_description]
    return [guarded(cell) for cell in shown] + [""] * len(FILL_COLUMNS) + [exported_at]


def sheet_text(items: list[ReviewItem], exported_at: str) -> str:
    """The sheet; every row carries the export time, so that sorting or cutting rows keeps it."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    writer.writerows(sheet_row(item, exported_at) for item in items)
    return "\ufeff" + buffer.getvalue()


def sheet_names(batch: ReviewBatch) -> dict[str, list[ReviewItem]]:
    """File name -> the rows it holds: one sheet per assigned annotator, or one for anyone."""
    batch_id = batch.manifest.batch_id
    if not batch.manifest.assignment:
        return {f"{batch_id}.csv": batch.items_for("")}
    return {f"{batch_id}-{name}.csv": batch.items_for(name) for name in batch.manifest.assignment}


@dataclass
class SheetsWritten:
    written: list[Path] = field(default_factory=list)  # new, or rewritten where the export's copy was untouched
    unchanged: list[Path] = field(default_factory=list)  # as the export would write it already
    kept: list[Path] = field(default_factory=list)  # changed since the export wrote it: not overwritten


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def exported_sheets(run_dir: Path) -> dict[str, dict[str, str]]:
    path = review_dir(run_dir) / EXPORTED
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}


def write_sheet(path: Path, items: list[ReviewItem], exported: dict[str, dict[str, str]], now: str,
                done: SheetsWritten) -> None:
    """Write a sheet unless its file holds what a person may have typed (it differs from what the export
    last wrote there); such a file is kept, and only its name is reported. A sheet whose rows are as the
    export wrote them keeps its export time (a copy sent before carries it too)."""
    before = exported.get(path.name, {})
    if path.is_file():
        there = path.read_bytes()
        if there == sheet_text(items, before.get("exported_at", now)).encode("utf-8"):
            exported.setdefault(path.name, {"sha256": digest(there), "exported_at": now})
            done.unchanged.append(path)
            return
        if before.get("sha256") != digest(there):
            done.kept.append(path)
            return
    text = sheet_text(items, now)
    atomic_write_text(path, text)
    exported[path.name] = {"sha256": digest(text.encode("utf-8")), "exported_at": now}
    done.written.append(path)


def write_sheets(run_dir: Path, batches: list[ReviewBatch]) -> SheetsWritten:
    """Write the run's sheets (again: a sheet filled in place is kept, see the module's note). The
    images are copied first and each sheet is written whole (atomically), so a sheet that is there is
    complete."""
    folder = sheets_dir(run_dir)
    (folder / "images").mkdir(parents=True, exist_ok=True)
    for batch in batches:
        for item in batch.items.values():
            shutil.copyfile(Path(run_dir) / item.image, folder / "images" / Path(item.image).name)
    atomic_write_text(folder / "README.txt", "\r\n".join(guide_lines()) + "\r\n")
    exported, done, now = exported_sheets(run_dir), SheetsWritten(), export_time(datetime.now(timezone.utc))
    for batch in batches:
        for name, items in sheet_names(batch).items():
            write_sheet(folder / name, items, exported, now, done)
    atomic_write_json(review_dir(run_dir) / EXPORTED, exported)
    return done
