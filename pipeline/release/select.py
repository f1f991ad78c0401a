"""Which rows a release starts from: a run's reviewed-accepted pairs (or, for a
preview, its unreviewed candidates) and the rows of the release it extends.

Rows are held without their image bytes: each keeps a pointer (`_source`, `_row`)
to the shard its image lives in, so a release of many GB is never in memory at
once. The images are hashed here, one source shard at a time, for dedup.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from pipeline.dedup import image_hashes
from pipeline.release.integrity import check_release_unchanged, check_run_shards
from pipeline.release.schema import META_SCHEMA
from pipeline.release.writer import INDEX_FILE
from pipeline.review.importer import reviewed_pairs
from pipeline.review.store import ReviewStore
from pipeline.writers.shard_reader import shard_paths


@dataclass
class Candidates:
    rows: list[dict] = field(default_factory=list)  # META_SCHEMA columns + _source, _row, _phash, _dhash
    sources: list[Path] = field(default_factory=list)  # shard files holding the images
    left_out: Counter = field(default_factory=Counter)  # review state -> pairs not taken

    def add_source(self, path: Path, rows: list[dict], row_numbers: list[int], hashes: np.ndarray) -> None:
        source = len(self.sources)
        self.sources.append(path)
        for row, number, (phash, dhash) in zip(rows, row_numbers, np.asarray(hashes, np.uint64).reshape(-1, 2)):
            self.rows.append({**{name: row.get(name) for name in META_SCHEMA.names},
                              "_source": source, "_row": number, "_phash": int(phash), "_dhash": int(dhash)})


def add_run(candidates: Candidates, run_dir: Path, *, preview: bool) -> None:
    """Take a run's accepted pairs, the reviewed query in `instruction`.

    A preview takes every candidate the review has not rejected, each marked
    with its review state ("unreviewed" when nobody has looked at it). A shard that is not what the
    run's manifest recorded, or an image that does not decode, refuses the release.
    """
    check_run_shards(run_dir)
    review = _review_states(run_dir, required=not preview)
    for path in shard_paths(run_dir):
        table = pq.read_table(path)
        taken, numbers = [], []
        for number, row in enumerate(table.drop_columns(["image"]).to_pylist()):
            state, reviewed, edit = review.get(row["id"], ("unreviewed", row["instruction"], {}))
            if state != "accepted" and (not preview or state == "rejected"):
                candidates.left_out[state] += 1
                continue
            taken.append({**row, "instruction": reviewed, "instruction_pipeline": row["instruction"],
                          "review_state": state, **edit})
            numbers.append(number)
        images = table["image"].take(pa.array(numbers, pa.int64())).combine_chunks().field("bytes").to_pylist()
        candidates.add_source(path, taken, numbers, decoded_hashes(images, taken, f"run {Path(run_dir).name}"))


def decoded_hashes(images: list[bytes], rows: list[dict], where: str) -> np.ndarray:
    """`image_hashes` of the images, one at a time so that one that does not decode is named by its row."""
    hashes = np.zeros((len(images), 2), dtype=np.uint64)
    for number, (row, image) in enumerate(zip(rows, images)):
        try:
            hashes[number] = image_hashes([image])[0]
        except Exception as error:  # Pillow raises many kinds for a broken image
            raise ValueError(f"{where}: row {row['id']}: image does not decode ({type(error).__name__})") from None
    return hashes


def add_release(candidates: Candidates, release_dir: Path) -> dict:
    """Carry every row of an earlier release over as it is (hashes from its index), once its files are
    checked against its manifest and SHA256SUMS (`check_release_unchanged`); returns its manifest."""
    manifest = check_release_unchanged(release_dir)
    index = pq.read_table(Path(release_dir) / INDEX_FILE).to_pandas().set_index("id")
    for path in shard_paths(release_dir):
        present = set(pq.read_schema(path).names)  # a release made before a column was added lacks it
        rows = pq.read_table(path, columns=[name for name in META_SCHEMA.names if name in present]).to_pylist()
        hashes = index.loc[[row["id"] for row in rows], ["phash", "dhash"]].to_numpy(np.uint64)
        candidates.add_source(path, rows, list(range(len(rows))), hashes)
    return manifest


def _review_states(run_dir: Path, *, required: bool) -> dict[str, tuple[str, str, dict]]:
    """id -> (review state, reviewed query, the edit's harm verdict and override reason if edited);
    empty for a preview of an unreviewed run."""
    try:
        frame = reviewed_pairs(run_dir)
    except FileNotFoundError:
        if required:
            raise
        return {}
    check_snapshot_current(run_dir, frame)
    return {row.id: (row.review_state, row.instruction_reviewed, edit_fields(row)) for row in frame.itertuples()}


class StaleReview(ValueError):
    """The review store holds decisions the run's imported snapshot does not."""


def check_snapshot_current(run_dir: Path, frame) -> None:
    """Refuse a snapshot older than the store: a decision recorded after `review import` (in the app,
    by a Label Studio import, an adjudication) would otherwise not count. Events are append-only and
    each snapshot row's `history` counts its pair's events, so fewer in the snapshot means stale."""
    run_dir = Path(run_dir)
    stored = ReviewStore.events_in(run_dir.parent, run_dir.name)
    taken = int(frame["history"].sum()) if "history" in frame else 0
    if "edited_by" not in frame and frame.get("edited", pd.Series(dtype=bool)).any():
        raise StaleReview(f"{run_dir.name}: review/decisions.parquet was imported before it named who wrote "
                          f"each edit: run `leakless review import {run_dir.name}` again")
    if stored > taken:
        raise StaleReview(f"{run_dir.name}: the review store holds {stored - taken} decision(s) newer than "
                          f"review/decisions.parquet: run `leakless review import {run_dir.name}` first")


def edit_fields(row) -> dict:
    """What an annotator's edit brings to a release row (nothing for an unedited pair)."""
    if not getattr(row, "edited", False):
        return {}
    fields = {"harm_verdict": getattr(row, "edit_harm_verdict", None),
              "override_reason": getattr(row, "override_reason", None),
              "edited_by": getattr(row, "edited_by", None)}
    return {key: value if isinstance(value, str) else None for key, value in fields.items()}  # pandas: NaN
