"""The release folder's files against its manifest and SHA256SUMS: each file the manifest lists is
there, a plain file, with its sha256 and size; no file it does not list; and SHA256SUMS lists the
manifest's own sha256 and the others' as the manifest does. Part of `leakless verify` (`verify.py`).
"""

from __future__ import annotations

from pathlib import Path

from pipeline.hashing import sha256_file
from pipeline.messages import first_line
from pipeline.release.claims import files_required
from pipeline.release.writer import CARD, MANIFEST, SUMS, SUMS_FORMAT, not_plain, read_sums, release_files


def file_problems(folder: Path, manifest: dict, digests: dict[str, str], notes: list[str]) -> tuple[list[str], set]:
    """The release's files against the manifest: each listed file there with its sha256 and size, no
    file that is not listed. Returns the problems and the files present that the manifest lists;
    fills `digests` (file -> sha256) so no shard is hashed twice. A manifest written before it listed
    every file (`files`) lists only the shards: then only `data/` is checked, and a note says so."""
    shards = {entry["file"]: entry for entry in manifest["shards"]}
    kinds = {path.relative_to(folder).as_posix(): not_plain(path) for path in release_files(folder)}
    not_read = {file for file, kind in kinds.items() if kind}
    problems = [f"{file}: {kinds[file]}, not a plain file (not read)" for file in sorted(not_read)]
    on_disk = kinds.keys() - not_read
    if "files" in manifest:
        entries = {entry["file"]: entry for entry in manifest["files"]}
        expected, present = entries.keys() | shards.keys(), on_disk
    else:
        entries, expected = {}, shards.keys()
        present = {file for file in on_disk if file.startswith("data/")}
        unchecked = ", ".join(sorted(on_disk - present)) or "no other file"
        if files_required(manifest):  # deleted: the card and side files would go unchecked
            problems.append(f"manifest.json: no `files` list, which the leakless that wrote it always writes "
                            f"({unchecked} could not be checked)")
        else:
            notes.append("the manifest lists only the shards (a release written before it listed every file): "
                         f"{unchecked} could not be checked against it")
    problems += [f"{file}: listed in the manifest but missing" for file in sorted(expected - present - not_read)
                 if file != CARD]  # the card's own line comes from card_problems
    for file in sorted(present - expected):
        stray = " (under data/: loading data/ would read it as part of the release)" if file.startswith("data/") else ""
        problems.append(f"{file}: not in the manifest{stray}")
    for file in sorted(entries.keys() & present):
        path = folder / file
        digests[file] = sha256_file(path)
        if digests[file] != entries[file].get("sha256"):
            problems.append(f"{file}: sha256 differs from the manifest")
        elif path.stat().st_size != entries[file].get("bytes"):
            problems.append(f"{file}: size differs from the manifest")
    return problems, present & expected



def sums_problems(folder: Path, manifest: dict) -> list[str]:
    """SHA256SUMS lists the manifest with its sha256 and every other file with the sha256 the manifest
    gives it (the files' own are file_problems' to check). A release written before SHA256SUMS has none."""
    path = folder / SUMS
    if kind := not_plain(path):
        return [f"{SUMS}: {kind}, not a plain file (not read)"]
    if not path.is_file():
        return [f"{SUMS}: missing"] if manifest.get("manifest_format", 0) >= SUMS_FORMAT else []
    try:
        listed = read_sums(folder)
    except (ValueError, UnicodeDecodeError) as error:
        return [first_line(error)]
    expected = {entry["file"]: entry["sha256"] for entry in manifest.get("files", [])}
    expected[MANIFEST] = sha256_file(folder / MANIFEST)
    problems = [f"{SUMS}: does not list {file}" for file in sorted(expected.keys() - listed.keys())]
    problems += [f"{SUMS}: lists {file}, which the manifest does not" for file in sorted(listed.keys() - expected.keys())]
    for file in sorted(expected.keys() & listed.keys()):
        if listed[file] != expected[file]:
            problems.append(f"{MANIFEST}: changed since the release was written (its sha256 differs from {SUMS})"
                            if file == MANIFEST else f"{SUMS}: the sha256 of {file} differs from the manifest's")
    return problems
