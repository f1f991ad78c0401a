"""Review batches as sheets: one CSV per batch and annotator, for a lab that reviews in a spreadsheet.

`<run>/review/sheets/` holds `<batch>-<annotator>.csv` (or `<batch>.csv` for a batch assigned to
anyone), README.txt (how to fill them) and images/ (a copy of each pair's image, so the folder can be
sent on its own). The CSV is UTF-8 with a BOM (Excel reads UTF-8 only with it) and CRLF line ends;
one row per pair the annotator is assigned, in the batch's order. Decisions come back with
`review import-sheet` (`sheet_import.py`), which records them in the review store.
"""

from __future__ import annotations

import csv
import io
import shutil
from pathlib import Path

from pipeline.review.batches import ReviewBatch, ReviewItem, review_dir
from pipeline.review.sheet_format import COLUMNS, FILL_COLUMNS, guarded, guide_lines, sheet_id
from pipeline.storage import atomic_write_text

SHEETS = "sheets"


def sheets_dir(run_dir: Path) -> Path:
    return review_dir(run_dir) / SHEETS


def sheet_row(item: ReviewItem) -> list[str]:
    shown = [sheet_id(item.pair_id), item.category, item.image, item.instruction, item.image_description]
    return [guarded(cell) for cell in shown] + [""] * len(FILL_COLUMNS)


def sheet_text(items: list[ReviewItem]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    writer.writerows(sheet_row(item) for item in items)
    return "\ufeff" + buffer.getvalue()


def sheet_names(batch: ReviewBatch) -> dict[str, list[ReviewItem]]:
    """File name -> the rows it holds: one sheet per assigned annotator, or one for anyone."""
    batch_id = batch.manifest.batch_id
    if not batch.manifest.assignment:
        return {f"{batch_id}.csv": batch.items_for("")}
    return {f"{batch_id}-{name}.csv": batch.items_for(name) for name in batch.manifest.assignment}


def write_sheets(run_dir: Path, batches: list[ReviewBatch]) -> list[Path]:
    """Write (or write again: a sheet holds no decision) the run's sheets; returns their paths.
    The images are copied first and each sheet is written whole (atomically), so a sheet that is
    there is complete."""
    folder = sheets_dir(run_dir)
    (folder / "images").mkdir(parents=True, exist_ok=True)
    for batch in batches:
        for item in batch.items.values():
            shutil.copyfile(Path(run_dir) / item.image, folder / "images" / Path(item.image).name)
    atomic_write_text(folder / "README.txt", "\r\n".join(guide_lines()) + "\r\n")
    written = []
    for batch in batches:
        for name, items in sheet_names(batch).items():
            atomic_write_text(folder / name, sheet_text(items))
            written.append(folder / name)
    return written
