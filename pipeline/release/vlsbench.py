"""`leakless export-vlsbench`: a release in VLSBench's own layout, `data.json` + `imgs/<instruction_id>.png`,
so VLSBench's evaluation script runs on it unchanged.

That layout has no place for a pair's review state, so a preview release (unreviewed candidates) is
refused unless asked for; then a PREVIEW.md beside data.json says what the export is."""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path

import pyarrow.parquet as pq
from PIL import Image

from pipeline.release.select import shard_paths
from pipeline.storage import staging_dir

# VLSBench's data.json fields, in its order.
FIELDS = ("instruction_id", "instruction", "image_path", "category", "sub_category", "source",
          "image_description", "safety_reason")
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
PREVIEW_NOTE = "PREVIEW.md"


def as_png(data: bytes) -> bytes:
    """The image as PNG bytes (VLSBench's paths end in .png); PNGs pass through untouched."""
    if data.startswith(PNG_SIGNATURE):
        return data
    buffer = io.BytesIO()
    with Image.open(io.BytesIO(data)) as image:
        image.save(buffer, format="PNG")
    return buffer.getvalue()


def preview_note(release: Path, rows: int) -> str:
    return (f"# Preview: not a reviewed benchmark\n\n"
            f"This export of `{release.name}` comes from a preview release: its {rows} pairs are the candidates "
            "the review had not rejected, reviewed or not (each pair's `review_state` is in the release's "
            "Parquet shards; VLSBench's `data.json` has no field for it). Do not report results on it as a "
            "reviewed benchmark.\n")


def is_preview(release: Path) -> bool:
    manifest = json.loads((release / "manifest.json").read_text(encoding="utf-8"))
    return bool(manifest.get("preview"))


def export_vlsbench(release: Path, out_dir: Path, allow_preview: bool = False) -> int:
    """Write `out_dir/data.json` and `out_dir/imgs/` (and PREVIEW.md for an allowed preview); returns
    the number of rows written."""
    release, out_dir = Path(release), Path(out_dir)
    shards = shard_paths(release)
    if not shards:
        raise FileNotFoundError(f"{release} has no data/train-*.parquet shards")
    preview = is_preview(release)
    if preview and not allow_preview:
        raise ValueError(f"{release} is a preview release of unreviewed pairs, and VLSBench's layout cannot say so; "
                         "pass --allow-preview to export it with a PREVIEW.md note beside data.json")
    if out_dir.exists() and (not out_dir.is_dir() or any(out_dir.iterdir())):
        raise ValueError(f"{out_dir} already exists and is not an empty folder")
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = staging_dir(out_dir.parent, prefix=f".{out_dir.name}.")
    try:
        (staging / "imgs").mkdir()
        entries = []
        for shard in shards:
            columns = [field for field in FIELDS if field != "image_path"] + ["image"]
            for batch in pq.ParquetFile(shard).iter_batches(batch_size=100, columns=columns):
                for row in batch.to_pylist():
                    row["image_path"] = f"imgs/{row['instruction_id']}.png"
                    (staging / row["image_path"]).write_bytes(as_png(row["image"]["bytes"]))
                    entries.append({field: row[field] for field in FIELDS})
        (staging / "data.json").write_text(json.dumps(entries, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        if preview:
            (staging / PREVIEW_NOTE).write_text(preview_note(release, len(entries)), encoding="utf-8")
        if out_dir.exists():
            out_dir.rmdir()
        staging.rename(out_dir)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return len(entries)
