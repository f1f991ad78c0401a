"""Writing a release's manifest back after a test changed it, with a SHA256SUMS to match, as a careful
forger would: what `verify` must then catch is the contradiction with the data, not the checksum."""

from __future__ import annotations

import json
from pathlib import Path

from pipeline.hashing import sha256_file


def forge_manifest(folder: Path, manifest: dict) -> None:
    (folder / "manifest.json").write_text(json.dumps(manifest))
    sums = {entry["file"]: entry["sha256"] for entry in manifest.get("files", [])}
    sums["manifest.json"] = sha256_file(folder / "manifest.json")
    (folder / "SHA256SUMS").write_text("".join(f"{digest}  {file}\n" for file, digest in sorted(sums.items())))
