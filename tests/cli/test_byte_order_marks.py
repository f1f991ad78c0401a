"""A UTF-8 byte-order mark (Notepad and Excel write one, and no editor shows it) is dropped wherever a
file a person wrote is read, as the benchmark readers already did: a TOML config was "not valid TOML
(Invalid statement (at line 1, column 1))", an elements file skipped its first line, and a Label Studio
export was "not JSON"."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from tests.review.test_review_labelstudio import choice, shaped_like_an_export
from tests.support.review_runs import make_run

from pipeline.cli.app import app
from pipeline.config import read_toml
from pipeline.review.batches import export_batches, load_batches
from pipeline.taxonomy import element_lines, load_elements

BOM = "\ufeff"


def test_a_toml_config_with_a_bom_is_read(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text(f"{BOM}[run]\nsize = 2\n", encoding="utf-8")
    assert read_toml(path) == {"run": {"size": 2}}


def test_an_elements_file_with_a_bom_keeps_its_first_line(tmp_path):
    path = tmp_path / "elements.jsonl"
    path.write_text(BOM + "".join(element.model_dump_json() + "\n" for element in load_elements()[:2]),
                    encoding="utf-8")
    assert [(number, problem) for number, _, problem in element_lines(path)] == [(1, None), (2, None)]


def test_a_label_studio_export_with_a_bom_is_imported(tmp_path):
    export_batches(make_run(tmp_path, pairs=4), batch_size=4, overlap=1.0, annotators=["alice", "bob"])
    exported = shaped_like_an_export(load_batches(tmp_path / "fake"))
    exported[0]["annotations"] = [{"id": 1, "completed_by": 7, "result": [choice("verdict", "accept")]}]
    path = tmp_path / "export.json"
    path.write_text(BOM + json.dumps(exported), encoding="utf-8")
    result = CliRunner().invoke(app, ["review", "labelstudio-import", "fake", str(path), "--runs-dir", str(tmp_path),
                                      "--user", "7=alice"])
    assert result.exit_code == 0, result.output
    assert "1 new decisions recorded" in result.output
