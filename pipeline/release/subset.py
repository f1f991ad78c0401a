"""A new release version holding a subset of an earlier one (`leakless select`), each kept row
unchanged (same ids, values and image bytes) plus why it was kept (`selection_reason`).

Written into a temporary folder and renamed into place, like every release.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from pipeline.release.card import render_card
from pipeline.release.schema import LATER_COLUMNS, META_SCHEMA, SELECTED_SCHEMA
from pipeline.release.integrity import check_release_unchanged
from pipeline.release.provenance import run_builds
from pipeline.release.versions import check_free, next_version, release_folder, release_lock, release_staging
from pipeline.release.writer import INDEX_FILE, ShardWriter, release_manifest, run_entries, seal
from pipeline.storage import atomic_write_text
from pipeline.writers.shard_reader import shard_paths
from pipeline.writers.tables import write_frame


def write_subset_release(source: Path, reasons: dict[str, str], *, selection: dict, decisions=None,
                         max_shard_bytes: int = 500_000_000) -> Path:
    """`<name>-v<N+1>/` beside `source` with the rows whose id is in `reasons`; returns it.
    `selection` goes into the manifest; `decisions` (a frame) into decisions.parquet."""
    source = Path(source)
    manifest = check_release_unchanged(source)  # a changed source would be sealed anew in the next version
    name, releases_dir = manifest["name"], source.parent
    with release_lock(releases_dir, name):  # as `release`: a second writer of the name is refused at once
        version = next_version(releases_dir, name)
        keep = pa.array(sorted(reasons), pa.string())
        target = check_free(release_folder(releases_dir, name, version))
        staging = release_staging(releases_dir, name, version)
        try:
            writer = ShardWriter(staging / "data", max_shard_bytes, schema=SELECTED_SCHEMA)
            rows = []
            for shard in shard_paths(source):
                table = pq.read_table(shard)
                table = table.filter(pc.is_in(table["id"], value_set=keep))
                for later in LATER_COLUMNS:  # a release made before the column: not recorded, so null
                    if later not in table.column_names:
                        table = table.append_column(later, pa.nulls(table.num_rows, pa.string()))
                if "selection_reason" in table.column_names:  # selecting from a selected release: the new reason
                    table = table.drop_columns(["selection_reason"])
                table = table.append_column("selection_reason", pa.array(
                    [reasons[pair_id] for pair_id in table["id"].to_pylist()], pa.string()))
                writer.write(table.select(SELECTED_SCHEMA.names).cast(SELECTED_SCHEMA))
                rows += table.select(META_SCHEMA.names).to_pylist()
            shards = writer.finish()
            index = pq.read_table(source / INDEX_FILE)
            pq.write_table(index.filter(pc.is_in(index["id"], value_set=keep)), staging / INDEX_FILE,
                           compression="zstd")
            if decisions is not None:
                write_frame(decisions, staging / "decisions.parquet")
            carried = {key: manifest[key] for key in ("preview", "license", "runs", "final_filter", "options", "review")
                       if key in manifest}
            # every row is carried: its runs from the rows, what made them from the source
            carried["runs"] = run_entries(rows, [], version, run_builds([], manifest.get("runs") or []))
            new_manifest = release_manifest(
                rows, shards, name=name, version=version, **carried, extends=manifest["version"],
                carried_rows=len(rows),
                earlier_releases=[*manifest.get("earlier_releases", []), source.name],
                dropped={"not_selected": manifest["rows"] - len(rows), "final_filter": 0, "image_duplicate": 0,
                         "query_duplicate": 0, "same_id": 0},
                selection=selection)
            new_manifest["schema"] = {field.name: str(field.type) for field in SELECTED_SCHEMA}
            atomic_write_text(staging / "README.md", render_card(new_manifest, rows) + selection_note(selection))
            seal(staging, new_manifest)
            staging.rename(check_free(target))
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        return target


def selection_note(selection: dict) -> str:
    return (f"\n## Selection\n\nThis version keeps the pairs of {selection['source']} that best separate "
            f"{len(selection['models'])} evaluated models ({', '.join(selection['models'])}), at most "
            f"{selection['per_sub_category']} per sub-category; `selection_reason` says why each pair was kept. "
            f"Kendall's tau between the models' safe rates on the full and the selected set: "
            f"{selection['kendall_tau']:.3f}.\n")
