"""The shared reference folder's files may be read from `../shared/reference`, never copied into
the project (its README; VLSBench's sample is one of them): no file of the project has the bytes
of one, under any name."""

from __future__ import annotations

from pathlib import Path

from pipeline.detect.corpus import evaluation_sets
from pipeline.hashing import sha256_file
from tests.support import ROOT

NOT_THE_PROJECT = {"artifacts", "__pycache__", "node_modules", "build", "dist"}


def project_files() -> list[Path]:
    """Every file of the checkout, without its hidden folders (.git, virtual environments) and outputs."""
    found, folders = [], [ROOT]
    while folders:
        for path in folders.pop().iterdir():
            if path.is_symlink():
                continue
            if path.is_dir():
                if not path.name.startswith(".") and path.name not in NOT_THE_PROJECT \
                        and not path.name.endswith(".egg-info"):
                    folders.append(path)
            elif path.is_file():
                found.append(path)
    return found


def copies_of(hashes: dict[str, str]) -> list[str]:
    return sorted(f"{path.relative_to(ROOT)} is {hashes[digest]}" for path in project_files()
                  if (digest := sha256_file(path)) in hashes)


def test_the_project_holds_no_copy_of_the_recorded_vlsbench_sample():
    # runs everywhere: the hash evaluation_sets.toml records stands for the file
    recorded = evaluation_sets()["vlsbench_sample"]["sha256"]
    assert copies_of({recorded: "the VLSBench sample"}) == []


def test_the_project_holds_no_copy_of_any_shared_reference_file(reference_dir):
    hashes = {sha256_file(path): path.name for path in reference_dir.iterdir() if path.is_file()}
    assert copies_of(hashes) == []
