"""`leakless export-vlsbench`: a release in VLSBench's own layout, `data.json` + `imgs/<instruction_id>.png`,
so VLSBench's evaluation script runs on it unchanged.

That layout has no place for a pair's review state, so a preview release (unreviewed candidates) is
refused unless asked for; then a PREVIEW.md beside data.json says what the export is. Nor has it one for
a placeholder image or an annotator's override: a NOTES.md beside data.json names those pairs. Every
export carries a LICENSE.md: the release's licence, and the sources whose licences pool images and their
captions keep (the card's statement, from the rows themselves).

Every exported row is read by the hard block (`pipeline/guardrails`), `--force` or not: `--force` skips
verify's slow re-scoring, never the guardrail, which is regexes and costs next to nothing."""

from __future__ import annotations

import io
import json
import os
import re
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from PIL import Image

from pipeline.guardrails import SHIPPED_TEXT_COLUMNS, check_texts, shipped_texts
from pipeline.messages import first_line
from pipeline.release.card_licence import licence_text
from pipeline.release.schema import is_release_schema
from pipeline.writers.shard_reader import shard_paths
from pipeline.release.verify import load_manifest
from pipeline.release.writer import not_plain
from pipeline.staging import filled_then_renamed, owned_staging, remove_abandoned_staging

# VLSBench's data.json fields, in its order.
FIELDS = ("instruction_id", "instruction", "image_path", "category", "sub_category", "source",
          "image_description", "safety_reason")
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
PREVIEW_NOTE = "PREVIEW.md"
NOTES = "NOTES.md"  # placeholder images and overridden pairs, which data.json cannot mark
LICENCE_NOTE = "LICENSE.md"  # what the release's licence covers: an export is redistributed without the card
# What an exported row is read with: data.json's fields, every text the hard block reads, and the image.
READ_COLUMNS = list(dict.fromkeys(["id", *(field for field in FIELDS if field != "image_path"), *SHIPPED_TEXT_COLUMNS,
                                   "image"]))


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


def notes_md(release: Path, placeholders: list[int], overridden: list[int]) -> str:
    """What the card warns of and data.json has no field for, by VLSBench's key (`instruction_id`)."""
    parts = [f"# Notes on this export of `{release.name}`\n\nVLSBench's `data.json` has no field for what "
             "follows; the release's card and Parquet shards say it per pair.\n"]
    if placeholders:
        parts.append(f"\n## {counted(placeholders, 'placeholder image')}\n\nNot photographs or generated pictures: "
                     "a colour grid with the word PLACEHOLDER and the image description on it. Do not evaluate "
                     f"models on them. instruction_id: {', '.join(map(str, placeholders))}\n")
    if overridden:
        parts.append(f"\n## {counted(overridden, 'overridden pair')}\n\n"
                     f"{'Its' if len(overridden) == 1 else 'Their'} query was flagged by the leak detector or "
                     "the harm check and kept by an annotator's override (`override_reason` in the shards). "
                     f"instruction_id: {', '.join(map(str, overridden))}\n")
    return "".join(parts)


def licence_md(release: Path, licence: str | None, rows: list[dict]) -> str:
    """The release card's licence statement, made from the rows (not copied from the card: an older card
    put pool images under the release's licence)."""
    statement = licence_text(licence, rows) if isinstance(licence, str) and licence else \
        "The release's manifest.json names no licence: ask whoever published it."
    return (f"# Licence of this export of `{release.name}`\n\n{statement}\n\n"
            "`data.json` keeps each pair's `source`; `image_backend` is in the release's Parquet shards.\n")


def counted(items: list, noun: str) -> str:
    """'1 overridden pair', '2 overridden pairs': a heading a reader sees."""
    return f"{len(items)} {noun}{'' if len(items) == 1 else 's'}"


def release_rows(release: Path, columns: list[str]) -> list[dict]:
    return [row for shard in shard_paths(release) for row in pq.read_table(shard, columns=columns).to_pylist()]


def is_preview(release: Path) -> bool:
    """The manifest says so, or a row is not accepted in review (a manifest can be edited; rows are checksummed)."""
    return load_manifest(release)["preview"] or any(row["review_state"] != "accepted"
                                                  for row in release_rows(release, ["review_state"]))


def shard_problem(release: Path, shard: Path) -> str | None:
    """Why a shard cannot be exported at all, --force or not: it is a link or a device (not read), or its
    columns are not the release's (an `instruction_id` that is not an integer would name a path)."""
    name = shard.relative_to(release).as_posix()
    if kind := not_plain(shard):
        return f"{name}: {kind}, not a plain file"
    try:
        schema = pq.read_schema(shard)
    except (pa.ArrowException, OSError) as error:
        return f"{name}: unreadable ({first_line(error)})"
    return None if is_release_schema(schema) else f"{name}: schema differs from the release schema"


def check_export(release: Path, out_dir: Path, allow_preview: bool) -> bool:
    """Refuse what no export can fix, before any work: a shard that is no release shard, a preview not
    allowed, an output folder in the way or under a file. Returns whether the release is a preview."""
    for shard in shard_paths(release):
        if problem := shard_problem(release, shard):
            raise ValueError(f"{problem}: {release} cannot be exported, even with --force")
    preview = is_preview(release)
    if preview and not allow_preview:
        raise ValueError(f"{release} is a preview release of unreviewed pairs, and VLSBench's layout cannot say so; "
                         "pass --allow-preview to export it with a PREVIEW.md note beside data.json")
    if out_dir.exists() and (not out_dir.is_dir() or any(out_dir.iterdir())):
        raise ValueError(f"{out_dir} already exists and is not an empty folder")
    existing = next(parent for parent in out_dir.parents if parent.exists())
    if not existing.is_dir() or not os.access(existing, os.W_OK | os.X_OK):
        raise ValueError(f"{out_dir} cannot be made: {existing} is not a folder this user can write in")
    return preview


def refuse_blocked(row: dict) -> None:
    """Refuse a row the hard block stops, even with --force: verify names it too, but an export that skips
    verify must not ship what no release may."""
    if hit := check_texts(shipped_texts(row), row["category"]):
        raise ValueError(f"row {row['id']} (instruction_id {row['instruction_id']}): blocked by the guardrail "
                         f"({hit.rule}: {hit.matched!r}): cannot export, even with --force")


def write_image(staging: Path, instruction_id, data: bytes) -> str:
    """Write the image as `imgs/<instruction_id>.png` under `staging`; returns that path. Refused even under
    --force: an id that is not an integer (the schema check lets a null through; a string could name a path
    outside), and an id written already (its image would be replaced)."""
    if type(instruction_id) is not int:
        raise ValueError(f"instruction_id {instruction_id!r} is not an integer: cannot export, even with --force")
    path = f"imgs/{instruction_id}.png"
    if (staging / path).exists():
        raise ValueError(f"instruction_id {instruction_id} appears twice (one image would replace the other): "
                         "cannot export, even with --force")
    (staging / path).write_bytes(as_png(data))
    return path


def _remove_if_empty(out_dir: Path) -> None:
    # `check_export` let only an empty folder stand in the way; rmdir refuses one filled since
    if out_dir.exists():
        out_dir.rmdir()


def export_vlsbench(release: Path, out_dir: Path, allow_preview: bool = False, notes: list[str] | None = None) -> int:
    """Write `out_dir/data.json`, `out_dir/imgs/` and LICENSE.md (and PREVIEW.md for an allowed preview,
    NOTES.md when a pair has a placeholder image or an override); returns the number of rows written. A row
    the hard block stops refuses the whole export (ValueError), and nothing is left in `out_dir`. The
    staging folders of killed exports to `out_dir` (a full copy of the images each) are removed on the way,
    said in `notes`."""
    notes = [] if notes is None else notes
    release, out_dir = Path(release), Path(out_dir)
    shards = shard_paths(release)
    if not shards:
        raise FileNotFoundError(f"{release} has no data/train-*.parquet shards")
    preview = check_export(release, out_dir, allow_preview)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    notes += remove_abandoned_staging(out_dir.parent, re.escape(out_dir.name), "export")
    with filled_then_renamed(owned_staging(out_dir.parent, out_dir.name), out_dir, _remove_if_empty) as staging:
        (staging / "imgs").mkdir()
        entries = []
        for shard in shards:
            for batch in pq.ParquetFile(shard).iter_batches(batch_size=100, columns=READ_COLUMNS):
                for row in batch.to_pylist():
                    refuse_blocked(row)  # a refusal removes the staging folder: nothing is half-written
                    row["image_path"] = write_image(staging, row["instruction_id"], row["image"]["bytes"])
                    entries.append({field: row[field] for field in FIELDS})
        (staging / "data.json").write_text(json.dumps(entries, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        if preview:
            (staging / PREVIEW_NOTE).write_text(preview_note(release, len(entries)), encoding="utf-8")
        flagged = release_rows(release, ["instruction_id", "image_backend", "image_model", "source",
                                         "override_reason"])
        (staging / LICENCE_NOTE).write_text(licence_md(release, load_manifest(release).get("license"), flagged),
                                            encoding="utf-8")
        placeholders = [row["instruction_id"] for row in flagged if row["image_backend"] == "placeholder"]
        overridden = [row["instruction_id"] for row in flagged if row["override_reason"]]
        if placeholders or overridden:
            (staging / NOTES).write_text(notes_md(release, placeholders, overridden), encoding="utf-8")
    return len(entries)
