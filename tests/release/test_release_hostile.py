"""A release folder or a model name from someone else: an export writes only inside its output folder,
verify reads no link, device or FIFO and survives a manifest nested too deep, and a model name cannot
write the card."""

from __future__ import annotations

import json
import os
import shutil

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from pipeline.backends.minilm import default_embedder
from pipeline.cli import app
from pipeline.hashing import sha256_file
from pipeline.release.card import render_card
from pipeline.release.make import make_release
from pipeline.release.schema import RELEASE_SCHEMA
from pipeline.release.verify import load_manifest, verify_release
from tests.release.test_release_card import manifest as card_manifest, row as card_row, table_rows
from tests.support.release_runs import accepted_run
from tests.support.release_forgery import forge_manifest

runner = CliRunner()
DEEP = "[" * 100_000 + "]" * 100_000  # json and yaml parse it by recursion


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    root = tmp_path_factory.mktemp("built")
    return make_release([accepted_run(root / "runs", "r1", 3)], name="bench", releases_dir=root / "releases",
                        embedder=default_embedder())


@pytest.fixture
def released(built, tmp_path):
    """A fresh copy of a sound release, to spoil."""
    return shutil.copytree(built, tmp_path / "releases" / built.name)


def forge_shard(folder, rows, schema):
    """Replace the only shard with `rows` and record its checksum, as a careful forger would."""
    shard = next((folder / "data").glob("train-*.parquet"))
    pq.write_table(pa.Table.from_pylist(rows, schema=schema), shard)
    manifest = json.loads((folder / "manifest.json").read_text())
    entry = {"file": f"data/{shard.name}", "sha256": sha256_file(shard), "rows": len(rows),
             "bytes": shard.stat().st_size}
    manifest["shards"] = [entry]
    manifest["files"] = [e for e in manifest["files"] if e["file"] != entry["file"]] + [entry]
    forge_manifest(folder, manifest)


def shard_rows(folder):
    return pq.read_table(folder / "data").to_pylist()


def test_an_instruction_id_naming_a_path_is_refused_even_with_force(released, tmp_path):
    rows = shard_rows(released)
    rows[0]["instruction_id"] = "../../ESCAPED_by_export"
    text_id = pa.schema([pa.field("instruction_id", pa.string()) if field.name == "instruction_id" else field
                         for field in RELEASE_SCHEMA])
    forge_shard(released, [{**row, "instruction_id": str(row["instruction_id"])} for row in rows], text_id)
    out = tmp_path / "exp" / "out"
    for flags in ([], ["--force"]):
        result = runner.invoke(app, ["export-vlsbench", str(released), str(out), *flags])
        assert result.exit_code == 2, result.output
        assert result.stderr.strip().splitlines() == [
            f"error: data/train-00000-of-00001.parquet: schema differs from the release schema: {released} "
            "cannot be exported, even with --force"]  # --force is not offered: it would not help
    assert not (tmp_path / "exp").exists()


@pytest.mark.parametrize(("change", "message"), [
    (lambda rows: [{**rows[0], "instruction_id": None}, *rows[1:]], "error: instruction_id None is not an integer"),
    (lambda rows: rows + [{**rows[1], "id": "r1-copy"}], "appears twice (one image would replace the other)"),
])
def test_an_instruction_id_that_names_no_image_of_its_own_is_refused_even_with_force(released, tmp_path,
                                                                                   change, message):
    forge_shard(released, change(shard_rows(released)), RELEASE_SCHEMA)
    result = runner.invoke(app, ["export-vlsbench", str(released), str(tmp_path / "out"), "--force"])
    assert result.exit_code == 2 and message in result.stderr, result.output
    assert not (tmp_path / "out").exists() and list(tmp_path.glob(".out.*")) == []


def test_export_reads_no_shard_that_is_a_link(released, tmp_path):
    shard = next((released / "data").glob("train-*.parquet"))
    outside = shutil.move(shard, tmp_path / "outside.parquet")
    shard.symlink_to(outside)
    result = runner.invoke(app, ["export-vlsbench", str(released), str(tmp_path / "out"), "--force"])
    assert result.exit_code == 2 and not (tmp_path / "out").exists()
    assert result.stderr.startswith(f"error: data/{shard.name}: a link to '{outside}', not a plain file")


def test_verify_reports_links_and_fifos_without_following_them(released, tmp_path):
    """Links to copies of the release's own files: read through, they would match the manifest."""
    for name in ("README.md", "decisions.parquet", "dedup_index.parquet"):
        outside = shutil.move(released / name, tmp_path / name)
        (released / name).symlink_to(outside)
    os.mkfifo(released / "pipe")
    problems = verify_release(released, default_embedder())
    assert problems == [f"{name}: a link to '{tmp_path / name}', not a plain file (not read)"
                        for name in ("README.md", "decisions.parquet", "dedup_index.parquet")] + [
        "pipe: a device, FIFO or socket, not a plain file (not read)"]


def test_verify_reads_no_shard_that_is_a_link_nor_counts_its_rows(released, tmp_path):
    shard = next((released / "data").glob("train-*.parquet"))
    outside = shutil.move(shard, tmp_path / "outside.parquet")
    shard.symlink_to(outside)
    assert verify_release(released, default_embedder()) == [
        f"data/{shard.name}: a link to '{outside}', not a plain file (not read)"]


def test_a_manifest_that_is_a_link_or_nested_too_deep_is_one_line(released, tmp_path):
    (released / "manifest.json").write_text(DEEP)
    with pytest.raises(ValueError, match="manifest.json: not a release manifest \\(maximum recursion depth"):
        load_manifest(released)
    result = runner.invoke(app, ["verify", str(released)])
    assert result.exit_code == 2 and len(result.stderr.strip().splitlines()) == 1, result.output
    outside = shutil.move(released / "manifest.json", tmp_path / "manifest.json")
    (released / "manifest.json").symlink_to(outside)
    with pytest.raises(ValueError, match=f"manifest.json: a link to '{outside}', not a plain file \\(not read\\)"):
        load_manifest(released)


def test_a_card_or_element_terms_nested_too_deep_is_a_problem_not_a_crash(released):
    rows = shard_rows(released)
    forge_shard(released, [{**rows[0], "element_terms": DEEP}, *rows[1:]], RELEASE_SCHEMA)
    card = released / "README.md"
    card.write_text(f"---\n{DEEP}\n---\n")
    manifest = json.loads((released / "manifest.json").read_text())
    manifest["files"] = [{**e, "sha256": sha256_file(card), "bytes": card.stat().st_size} if e["file"] == "README.md"
                         else e for e in manifest["files"]]
    forge_manifest(released, manifest)
    problems = verify_release(released, default_embedder())
    assert "README.md: no readable YAML metadata" in problems
    assert any(p.startswith(f"row {rows[0]['id']}: element_terms '[[[") for p in problems)


def test_a_model_name_cannot_write_the_card():
    forged = "gpt-x` | 1 | ![p](https://tracker.example/pixel.png) |\n| fake role | `forged"
    card = render_card(card_manifest(1), [card_row(1, seed_backend="openai-compatible", seed_model=forged)])
    assert table_rows(card, "fake role") == []
    assert "![p]" not in card.replace("`gpt-x\\u0060 \\u007c 1 \\u007c ![p]", "")  # only inside the code span
    seeds = table_rows(card, "seed writer")
    assert seeds == [["seed writer", "`openai-compatible`", "`gpt-x\\u0060 \\u007c 1 \\u007c ![p](https://tracker."
                      "example/pixel.png) \\u007c\\u000a\\u007c fake role \\u007c \\u0060forged`", "1", ""]]


@pytest.mark.parametrize("option", ["query_threshold", "min_match_similarity"])
def test_a_release_option_that_is_no_number_is_refused(option):
    """`--query-threshold nan` passed both of its bounds, and nan links no two queries."""
    from pydantic import ValidationError

    from pipeline.release.make import ReleaseOptions

    with pytest.raises(ValidationError, match="finite number"):
        ReleaseOptions(**{option: float("nan")})
