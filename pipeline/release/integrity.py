"""Is what a release reads what was written? A run's shards against the sha256 its manifest recorded, and
an earlier release version against its own manifest and SHA256SUMS, checked before a release reads them:
a changed or damaged file would otherwise be carried into a new version and sealed with fresh checksums.
"""

from __future__ import annotations

import json
from pathlib import Path

from pipeline.hashing import sha256_file
from pipeline.release.verify import load_manifest
from pipeline.release.writer import MANIFEST, SUMS, SUMS_FORMAT, plain_file, read_sums
from pipeline.writers.shard_reader import shard_paths

CHANGED = "the data was changed or damaged since it was written; nothing was released"


def check_run_shards(run_dir: Path) -> None:
    """Refuse a run whose shards are not those its manifest lists with their sha256 (a run manifest
    without `shards` has nothing to check against)."""
    run_dir = Path(run_dir)
    path = run_dir / MANIFEST
    listed = json.loads(path.read_text(encoding="utf-8")).get("shards") if path.is_file() else None
    if not isinstance(listed, list):
        return
    recorded = {f"data/{entry['file']}": entry["sha256"] for entry in listed}
    present = {path.relative_to(run_dir).as_posix() for path in shard_paths(run_dir)}
    for file in sorted(recorded.keys() | present):
        if file not in present:
            raise ValueError(f"run {run_dir.name}: {file} is listed in its {MANIFEST} but missing")
        if file not in recorded:
            raise ValueError(f"run {run_dir.name}: {file} is not in its {MANIFEST} ({CHANGED})")
        if sha256_file(run_dir / file) != recorded[file]:
            raise ValueError(f"run {run_dir.name}: {file} does not match its sha256 in {MANIFEST} ({CHANGED})")


def check_release_unchanged(folder: Path) -> dict:
    """Refuse an earlier version whose files differ from its manifest's `files` (its shards, for a manifest
    written before `files`) or whose manifest differs from its SHA256SUMS; returns the manifest."""
    folder = Path(folder)
    manifest = load_manifest(folder)
    recorded = {entry["file"]: entry["sha256"] for entry in manifest.get("files") or manifest["shards"]}
    # a manifest whose format has SHA256SUMS is checked against it: without the file, an edit would pass
    if (folder / SUMS).is_file() or manifest.get("manifest_format", 0) >= SUMS_FORMAT:
        recorded[MANIFEST] = read_sums(folder).get(MANIFEST, "") if plain_file(folder / SUMS) else ""
    for file, digest in sorted(recorded.items()):
        if not plain_file(folder / file):
            raise ValueError(f"{folder.name}: {file} is listed in its {MANIFEST} but missing or not a plain file; "
                             "nothing was released")
        if file == MANIFEST and not plain_file(folder / SUMS):
            raise ValueError(f"{folder.name}: {SUMS} is missing; its {MANIFEST} cannot be checked ({CHANGED})")
        if sha256_file(folder / file) != digest:
            source = SUMS if file == MANIFEST else MANIFEST
            raise ValueError(f"{folder.name}: {file} does not match its sha256 in {source} ({CHANGED})")
    return manifest
