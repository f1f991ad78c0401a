"""A release says what made it from its own folder (each run's build config, prompt files, build-time
packages and leakless commit, and a rebuild recipe on the card), and nothing it reads or writes goes
unchecked: run shards against their run manifest, an earlier version against its manifest and
SHA256SUMS, the card's thresholds against the manifest, and a standard SHA256SUMS beside them."""

from __future__ import annotations

import json
import shutil
import subprocess

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from pipeline import run_records
from pipeline.backends.minilm import default_embedder
from pipeline.cli import app
from pipeline.hashing import sha256_file
from pipeline.release.make import make_release
from pipeline.release.verify import verify_release
from tests.support.release_forgery import forge_manifest
from tests.support.release_runs import accepted_run

runner = CliRunner()
CODE = {"commit": "0123456789abcdef0123456789abcdef01234567", "uncommitted_changes": True}
PROMPTS = {"prompts/offline/seed_queries.toml": "5f02" * 16}
PACKAGES = {"leakless": "0.1.0", "torch": "2.9.0+cu128"}
HANDGUN = {"category": "Violent", "sub_category": "Weapon-Related Violence", "element": "handgun", "kind": "object",
           "synonyms": ["pistol"], "broader": ["firearm"], "description": "A handgun on a table."}


def release(tmp_path, runs, **kwargs):
    return make_release(runs, name="bench", releases_dir=tmp_path / "releases", embedder=default_embedder(), **kwargs)


def recorded_run(runs_dir, run_id, count, start=0):
    """An accepted run with the records a build writes (`write_records`)."""
    run = accepted_run(runs_dir, run_id, count, start)
    write_records(run)
    return run


def write_records(run):
    """config.json, prompts.json, elements.json, and a manifest with the shards' sha256 as they are now, the build's
    packages and the leakless commit."""
    config = {"run": {"size": 2, "runs_dir": "/home/builder/artifacts/runs"},
              "llm": {"endpoints": {"default": {"base_url": "http://10.1.2.3:8000/v1"},
                                    "openai": {"base_url": "https://user:secret@api.openai.com/v1"}}}}
    (run / "config.json").write_text(json.dumps(config))
    (run / "prompts.json").write_text(json.dumps(PROMPTS))
    (run / "elements.json").write_text(json.dumps(elements_record("/home/builder/artifacts/elements")))
    shards = [{"file": path.name, "sha256": sha256_file(path), "rows": pq.ParquetFile(path).metadata.num_rows}
              for path in sorted((run / "data").glob("train-*.parquet"))]
    (run / "manifest.json").write_text(json.dumps({"run_id": run.name, "shards": shards, "packages": PACKAGES,
                                                   "code": CODE}))


def elements_record(store_folder: str) -> dict:
    return {"digest": "ab" * 32, "elements": [HANDGUN], "per_source": {"store": 1},
            "library": {"source": "library", "file": "/opt/venv/pipeline/taxonomy/elements.jsonl", "sha256": "cd" * 32},
            "store": {"folder": store_folder, "versions": ["v0001"]}}


def manifest_of(folder):
    return json.loads((folder / "manifest.json").read_text())


def shard_of(folder):
    return next((folder / "data").glob("train-*.parquet"))


def change_a_query(shard):
    """Rewrite the shard with one instruction changed: it still reads and decodes."""
    table = pq.read_table(shard)
    rows = table.to_pylist()
    rows[0]["instruction"] = "An edited query that nobody reviewed?"
    pq.write_table(pa.Table.from_pylist(rows, schema=table.schema), shard)


def test_each_runs_build_record_is_carried_into_the_release_and_its_extension(tmp_path):
    runs = tmp_path / "runs"
    v1 = release(tmp_path, [recorded_run(runs, "r1", 3)])
    build = manifest_of(v1)["runs"][0]["build"]
    assert build == {"config": {"run": {"size": 2, "runs_dir": ".../runs"},  # nothing of the builder's machine
                                "llm": {"endpoints": {"default": {"base_url": "http://local"},
                                                      "openai": {"base_url": "https://api.openai.com"}}}},
                     "prompt_files": PROMPTS, "packages": PACKAGES, "code": CODE,
                     "elements": elements_record(".../elements") | {  # the grown store's elements, whole
                         "library": {"source": "library", "file": ".../elements.jsonl", "sha256": "cd" * 32}}}
    assert manifest_of(v1)["code"] == run_records.code_version()  # the release's own, beside its `packages`
    card = (v1 / "README.md").read_text()
    assert ("run r1: `leakless build --size 2 --run-id r1` with every other setting as in `runs[0].build.config`, "
            "the prompt files whose sha256 `runs[0].build.prompt_files` lists, the elements "
            "`runs[0].build.elements.elements` lists (written one a line to a file, they are a `run.elements_file` "
            "for a library or store that has changed since), and leakless commit `0123456789ab` "
            "with uncommitted changes") in card
    assert "then `leakless release r1 --name bench`, with the release options" in card

    shutil.rmtree(runs / "r1")  # the carried run's record comes from v1, not from its folder
    v2 = release(tmp_path, [recorded_run(runs, "r2", 2, start=3)], extend=True)
    carried, new = manifest_of(v2)["runs"]
    assert carried == {"run_id": "r1", "new": 0, "carried": 3, "build": build} and new["build"]["code"] == CODE
    assert "then `leakless release r2 --name bench --extend`" in (v2 / "README.md").read_text()


def test_the_code_version_is_the_checkouts_commit_and_none_without_git(monkeypatch):
    checkout = run_records.Path(run_records.__file__).parent.parent
    if (checkout / ".git").exists():
        head = subprocess.run(["git", "-C", str(checkout), "rev-parse", "HEAD"],
                              capture_output=True, text=True, check=True).stdout.strip()
        assert run_records.code_version()["commit"] == head
    else:  # a copy of the tree without its history (an sdist, a machine the tree was copied to)
        assert run_records.code_version() is None

    def no_git(*args, **kwargs):
        raise FileNotFoundError("git")
    monkeypatch.setattr(run_records.subprocess, "run", no_git)
    assert run_records.code_version() is None


def test_a_release_folder_holds_a_standard_sha256sums_of_every_other_file(tmp_path):
    v1 = release(tmp_path, [recorded_run(tmp_path / "runs", "r1", 3)])
    listed = [line.split("  ", 1)[1] for line in (v1 / "SHA256SUMS").read_text().splitlines()]
    on_disk = sorted(path.relative_to(v1).as_posix() for path in v1.rglob("*") if path.is_file())
    assert sorted(listed) == [file for file in on_disk if file != "SHA256SUMS"] and "manifest.json" in listed
    checked = subprocess.run(["sha256sum", "-c", "SHA256SUMS"], cwd=v1, capture_output=True, text=True)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "`sha256sum -c SHA256SUMS`" in (v1 / "README.md").read_text()


def test_an_edited_manifest_or_card_thresholds_are_a_verify_problem(tmp_path):
    v1 = release(tmp_path, [recorded_run(tmp_path / "runs", "r1", 3)])
    manifest = manifest_of(v1)
    manifest["options"].update(max_phash=0, query_threshold=0.9999)
    (v1 / "manifest.json").write_text(json.dumps(manifest))
    assert "manifest.json: changed since the release was written (its sha256 differs from SHA256SUMS)" in \
        verify_release(v1, default_embedder())
    forge_manifest(v1, manifest)  # SHA256SUMS written anew too: the card still says otherwise
    assert verify_release(v1, default_embedder()) == [
        "README.md: does not state the manifest's near-duplicate thresholds (pHash+dHash ≤ 0/8 bits; queries "
        "equal after normalisation or MiniLM cosine ≥ 0.9999, asked of the same scene: image descriptions equal "
        "after normalisation or MiniLM cosine ≥ 0.8)"]


@pytest.mark.parametrize("damage, named", [
    (lambda v1: change_a_query(shard_of(v1)), "bench-v1: data/train-00000-of-00001.parquet does not match its "
                                              "sha256 in manifest.json"),
    (lambda v1: (v1 / "manifest.json").write_text((v1 / "manifest.json").read_text().replace('"rows": 3', '"rows": 3 ')),
     "bench-v1: manifest.json does not match its sha256 in SHA256SUMS"),
    # an edit of the manifest with SHA256SUMS deleted, which verify already reports
    (lambda v1: (v1 / "SHA256SUMS").unlink(), "bench-v1: SHA256SUMS is missing; its manifest.json cannot be checked"),
])
def test_extend_and_select_refuse_an_earlier_version_that_changed(tmp_path, damage, named):
    runs = tmp_path / "runs"
    v1 = release(tmp_path, [recorded_run(runs, "r1", 3)])
    damage(v1)
    recorded_run(runs, "r2", 2, start=3)
    result = runner.invoke(app, ["release", "r2", "--name", "bench", "--extend", "--runs-dir", str(runs),
                                 "--releases-dir", str(tmp_path / "releases")])
    assert result.exit_code == 2 and result.stderr.startswith(f"error: {named} (the data was changed or damaged")
    assert len(result.stderr.splitlines()) == 1 and not (tmp_path / "releases" / "bench-v2").exists()

    from pipeline.release.subset import write_subset_release
    with pytest.raises(ValueError, match=named):
        write_subset_release(v1, {"r1-pair000": "test.chosen"}, selection={})
    assert not (tmp_path / "releases" / "bench-v2").exists()


def test_release_refuses_a_run_shard_that_differs_from_its_manifest_or_does_not_decode(tmp_path):
    runs = tmp_path / "runs"
    run = recorded_run(runs, "r1", 3)
    args = ["release", "r1", "--name", "bench", "--runs-dir", str(runs), "--releases-dir", str(tmp_path / "releases")]
    change_a_query(shard_of(run))
    result = runner.invoke(app, args)
    assert result.exit_code == 2 and result.stderr == (
        "error: run r1: data/train-00000-of-00001.parquet does not match its sha256 in manifest.json (the data "
        "was changed or damaged since it was written; nothing was released)\n")

    table = pq.read_table(shard_of(run))
    rows = table.to_pylist()
    rows[1]["image"]["bytes"] = rows[1]["image"]["bytes"][:60]  # a PNG cut short
    pq.write_table(pa.Table.from_pylist(rows, schema=table.schema), shard_of(run))
    write_records(run)  # the manifest records the damaged shard: only the image is wrong
    result = runner.invoke(app, args)
    assert result.exit_code == 2 and result.stderr.startswith("error: run r1: row r1-pair001: image does not decode (")
    assert len(result.stderr.splitlines()) == 1 and not (tmp_path / "releases").exists()
