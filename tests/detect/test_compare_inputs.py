"""`leakless eval-compare` compares two scorings of one input, not two inputs that share ids and labels."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from types import SimpleNamespace

import numpy as np
import pytest
from typer.testing import CliRunner

from pipeline.cli.app import app
from pipeline.detect.compare import RowScores, compare, scored_input
from pipeline.hashing import sha256_file


def scores(source: str, made_by: dict[str, str]) -> RowScores:
    count = 12
    score = np.linspace(0.05, 0.95, count)
    return RowScores(ids=[f"r{i}" for i in range(count)], sources=[source] * count,
                     fitted_on=np.zeros(count, dtype=bool), labels=np.array([0, 1] * 6),
                     held_out_as_duplicate=np.zeros(count, dtype=bool), score=score, text_harm=score,
                     reveal=score, baseline=np.zeros(count), made_by=made_by)


def compared(tmp_path, before: RowScores, after: RowScores):
    before.write(tmp_path / "before.parquet")
    after.write(tmp_path / "after.parquet")
    return CliRunner().invoke(app, ["eval-compare", str(tmp_path / "before.parquet"), str(tmp_path / "after.parquet")],
                              terminal_width=200)


def test_the_metadata_names_the_input_its_sha256_the_threshold_and_the_date(tmp_path):
    path = tmp_path / "mine.jsonl"
    path.write_text("{}\n")
    made_by = scored_input(path, 0.3)
    assert made_by["input"] == "mine.jsonl" and made_by["threshold"] == "0.3"
    assert made_by["input_sha256"] == hashlib.sha256(b"{}\n").hexdigest() and made_by["scored_at"].endswith(" UTC")


def test_files_of_inputs_with_other_hashes_are_refused_naming_both(tmp_path):
    """The audit's repro: the same ids and labels, the queries edited between the two runs."""
    before = scores("eval", {"input": "eval.jsonl", "input_sha256": "a" * 64})
    after = scores("eval", {"input": "eval.jsonl", "input_sha256": "b" * 64})
    with pytest.raises(ValueError, match="different inputs \\(before: eval.jsonl \\(sha256 aaaaaaaaaaaa...\\), "
                                         "source eval; after: eval.jsonl \\(sha256 bbbbbbbbbbbb...\\)"):
        compare(before, after)
    result = compared(tmp_path, before, after)
    assert result.exit_code == 2 and len(result.output.strip().splitlines()) == 1, result.output


def test_a_renamed_input_of_the_same_bytes_is_the_same_rows(tmp_path):
    before = scores("eval", {"input": "eval.jsonl", "input_sha256": "a" * 64})
    after = scores("eval_copy", {"input": "eval_copy.jsonl", "input_sha256": "a" * 64})
    result = compared(tmp_path, before, after)
    assert result.exit_code == 0 and "warning" not in result.output, result.output


def test_files_without_the_input_recorded_are_compared_with_a_warning(tmp_path):
    result = compared(tmp_path, scores("eval", {}), scores("eval", {"input_sha256": "a" * 64}))
    assert result.exit_code == 0, result.output
    assert "warning: the before file does not record its input's sha256" in result.output


def test_files_without_the_input_recorded_are_refused_where_their_sources_differ(tmp_path):
    result = compared(tmp_path, scores("eval", {}), scores("other_corpus", {}))
    assert result.exit_code == 2 and len(result.output.strip().splitlines()) == 1, result.output
    assert "(before: input not recorded, source eval; after: input not recorded, source other_corpus)" \
        in result.output


def test_eval_public_scores_record_the_corpus_and_calibration(tmp_path, monkeypatch):
    """Checked without a two-hour run: the folds are stood in for, the metadata is eval-public's own."""
    from pipeline.detect import corpus as corpus_module
    from pipeline.detect import folds
    from pipeline.detect.calibration import Calibration

    corpus = tmp_path / "pairs.jsonl"
    corpus.write_text(json.dumps({"id": "p1", "query": "How do I bake bread?", "image_description": "",
                                  "label": 0, "source": "xstest"}) + "\n")
    team = tmp_path / "team"
    team.mkdir()
    (team / "detector_dev.jsonl").write_text(json.dumps({"id": "d1", "query": "What is this?", "label": 0,
                                                         "image_description": "A cup of tea."}) + "\n")
    sample = tmp_path / "vlsbench_sample.json"
    sample.write_text(json.dumps([{"instruction_id": "x1", "instruction": "What colour is this boat?",
                                   "image_description": "A red boat."}]))
    monkeypatch.setattr(corpus_module, "evaluation_sets", lambda: recorded(corpus, team, sample))
    monkeypatch.setattr(folds, "leave_one_source_out", lambda *arguments, **options: SimpleNamespace(
        sources=[], pooled={}, row_scores=scores("xstest", {})))
    result = CliRunner().invoke(app, ["eval-public", "--data", str(corpus), "--team-data", str(team),
                                      "--vlsbench-sample", str(sample), "--scores", str(tmp_path / "s.parquet")])
    assert result.exit_code == 0, result.output
    made_by = RowScores.read(tmp_path / "s.parquet").made_by
    assert made_by["input"] == "pairs.jsonl" and made_by["input_sha256"] == sha256_file(corpus)
    assert made_by["calibration"] == Calibration.load().digest and made_by["threshold"] == "0.5"


def recorded(corpus, team, sample) -> dict:
    """evaluation_sets.toml as it would read with these files recorded."""
    return {"public_vsil": {"sha256": sha256_file(corpus), "evaluation_only": ["siuo"]},
            "vlsbench_sample": {"sha256": sha256_file(sample)},
            "team_sets": {"sha256": {path.name: sha256_file(path) for path in team.glob("detector_*.jsonl")}}}


def test_a_scores_file_keeps_its_metadata(tmp_path):
    rows = dataclasses.replace(scores("eval", {}), made_by={"input": "x.jsonl", "threshold": "0.5"})
    rows.write(tmp_path / "s.parquet")
    assert RowScores.read(tmp_path / "s.parquet").made_by == {"input": "x.jsonl", "threshold": "0.5"}


def test_files_of_one_label_are_refused_saying_why_not_printed_as_an_empty_table(tmp_path):
    leakless = dataclasses.replace(scores("siuo", {}), labels=np.zeros(12, dtype=int))
    result = compared(tmp_path, leakless, leakless)
    assert result.exit_code == 2 and len(result.output.strip().splitlines()) == 1, result.output
    assert "nothing to compare: no source has two leaky and two leakless rows (siuo 0 leaky / 12 leakless)" \
        in result.output


def test_a_source_left_out_of_the_table_is_named(tmp_path):
    rows = scores("mine", {})
    few = dataclasses.replace(rows, sources=["mine"] * 9 + ["tiny"] * 3, labels=np.array([0, 1] * 4 + [0, 0, 0, 1]))
    result = compared(tmp_path, few, few)
    assert result.exit_code == 0, result.output
    assert "not compared (fewer than two rows of a label, even against every public leakless row): tiny" \
        in result.output


def test_eval_public_help_states_the_cost_of_a_run_without_cached_fits():
    result = CliRunner().invoke(app, ["eval-public", "--help"], terminal_width=200)
    assert "refits 14 folds, one to two hours on two cores" in " ".join(result.output.split())
