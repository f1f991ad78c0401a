"""`verify` holds what the manifest claims (preview, name and version, lineage, runs, final filter, its
own keys) against the data, since the manifest cannot carry its own checksum; `export-vlsbench` marks
what data.json cannot, and refuses an unusable output folder before verify's minutes."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from pipeline.backends.minilm import default_embedder
from pipeline.cli import app
from pipeline.release.make import make_release
from pipeline.release.verify import verify_release
from pipeline.release.vlsbench import NOTES
from tests.support.release_runs import accepted_run, make_run, pair_row
from tests.support.release_forgery import forge_manifest

runner = CliRunner()


@pytest.fixture
def released(tmp_path):
    run = accepted_run(tmp_path / "runs", "r1", 4)
    return make_release([run], name="bench", releases_dir=tmp_path / "releases", embedder=default_embedder())


def edit_manifest(folder, change):
    manifest = json.loads((folder / "manifest.json").read_text())
    change(manifest)
    forge_manifest(folder, manifest)


def problems_after(folder, change):
    edit_manifest(folder, change)
    return verify_release(folder, default_embedder())


@pytest.mark.parametrize("change, expected", [
    (lambda m: m.update(preview=True),
     ["manifest.json: review 'reviewed: accepted pairs only' but preview is true",
      "README.md: not tagged preview, the manifest's preview is true"]),
    (lambda m: m.update(name="other"),
     ["manifest.json: name and version say other-v1, the folder is bench-v1",
      "README.md: pretty_name 'bench v1', the manifest says 'other v1'"]),
    (lambda m: m.update(version=7),
     ["manifest.json: name and version say bench-v7, the folder is bench-v1",
      "manifest.json: carried_rows 0, but 4 row(s) were added before v7",
      "manifest.json: extends nothing, but 4 row(s) were added before v7",
      "manifest.json: runs r1 4 new, the rows say r1 4 carried",
      "README.md: pretty_name 'bench v1', the manifest says 'bench v7'"]),
    (lambda m: m.update(version=0),
     ["manifest.json: name and version say bench-v0, the folder is bench-v1",
      "manifest.json: version 0, but rows were added in v1",
      "manifest.json: carried_rows 0, but 4 row(s) were added before v0",
      "manifest.json: extends nothing, but 4 row(s) were added before v0",
      "manifest.json: runs r1 4 new, the rows say r1 4 carried",
      "README.md: pretty_name 'bench v1', the manifest says 'bench v0'"]),
    (lambda m: m.update(extends=3, carried_rows=999),
     ["manifest.json: carried_rows 999, but 0 row(s) were added before v1",
      "manifest.json: extends 3, but this is v1 and its carried rows were added in no version"]),
    (lambda m: m.update(runs=[{"run_id": "some-other-run", "new": 4, "carried": 0}]),
     ["manifest.json: runs some-other-run 4 new, the rows say r1 4 new"]),
    (lambda m: m.update(runs=[{"run_id": "some-other-run"}]),
     ["manifest.json: runs ['some-other-run'], but rows added in v1 came from r1"]),
    (lambda m: m["final_filter"].update(backend="openai-compatible", model="gpt-4o"),
     ["manifest.json: final_filter backend 'openai-compatible', decisions.parquet names rules"]),
    (lambda m: m["final_filter"].update(model="bigger-model", kept=5),
     ["manifest.json: final_filter kept 5, decisions.parquet records 4",
      "manifest.json: final_filter model 'bigger-model', decisions.parquet names all-MiniLM-L6-v2"]),
    (lambda m: m.pop("files"),
     ["manifest.json: no `files` list, which the leakless that wrote it always writes (README.md, "
      "decisions.parquet, dedup_clusters.parquet, dedup_index.parquet could not be checked)"]),
])
def test_a_manifest_claim_the_data_contradicts_is_a_problem(released, change, expected):
    assert verify_release(released, default_embedder()) == []
    assert problems_after(released, change) == expected


def test_a_preview_whose_manifest_says_reviewed_is_a_problem_and_still_exports_as_a_preview(tmp_path):
    run = make_run(tmp_path / "runs", "r1", [pair_row(i, "r1") for i in range(3)])  # never reviewed
    preview = make_release([run], name="bench", releases_dir=tmp_path / "releases", embedder=default_embedder(),
                           preview=True)
    problems = problems_after(preview, lambda m: m.update(preview=False, review="reviewed: accepted pairs only"))
    assert problems == ["manifest.json: preview is false, but 3 row(s) are not accepted in review (3 unreviewed)",
                        "README.md: tagged preview, the manifest's preview is false"]
    forced = runner.invoke(app, ["export-vlsbench", str(preview), str(tmp_path / "out"), "--force"])
    assert forced.exit_code == 2 and "is a preview release" in forced.stderr


@pytest.mark.parametrize("manifest, why", [
    ({}, "no `name`"),
    ([], "a JSON list, not an object"),
    ({"name": "bench", "version": "1", "rows": 4, "preview": False, "shards": []}, "`version` is not a int ('1')"),
    ({"name": "bench", "version": 1, "rows": 4, "preview": False, "shards": [{"file": "data/x.parquet"}]},
     "`shards` holds no `sha256`"),
])
def test_a_manifest_without_a_releases_keys_is_one_line_and_exit_2(released, manifest, why):
    (released / "manifest.json").write_text(json.dumps(manifest))
    result = runner.invoke(app, ["verify", str(released)])
    assert result.exit_code == 2
    assert result.stderr == f"error: {released}/manifest.json: not a release manifest ({why})\n"


def test_export_names_placeholder_images_and_overridden_pairs_in_notes(tmp_path):
    rows = [pair_row(i, "r1") for i in range(3)]
    rows[1].update(image_backend="diffusers", image_model="some/model")
    run = make_run(tmp_path / "runs", "r1", rows, review={row["id"]: "accepted" for row in rows},
                   edits={"r1-pair002": "How would I go about doing what is shown here tonight?"},
                   overrides={"r1-pair002": "the reference is vague enough"})
    folder = make_release([run], name="bench", releases_dir=tmp_path / "releases", embedder=default_embedder())
    out = tmp_path / "out"
    result = runner.invoke(app, ["export-vlsbench", str(folder), str(out)])
    assert result.exit_code == 0, result.output
    notes = (out / NOTES).read_text()
    assert "## 2 placeholder images" in notes and "instruction_id: 1, 3\n" in notes
    assert "## 1 overridden pair\n" in notes and "instruction_id: 3\n" in notes


def test_an_unusable_output_folder_is_refused_before_verify_runs(released, tmp_path, monkeypatch):
    import pipeline.cli.release as cli

    monkeypatch.setattr(cli, "release_problems", lambda *a, **k: pytest.fail("verify ran"))
    (tmp_path / "a-file").write_text("x")
    for out in (tmp_path / "a-file", tmp_path / "a-file" / "out", released):
        result = runner.invoke(app, ["export-vlsbench", str(released), str(out)])
        assert result.exit_code == 2 and len(result.stderr.splitlines()) == 1, result.output
