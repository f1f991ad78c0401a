"""LEAKLESS_EMBED_PRECISION decides every leak score and intent cosine of a run, as its prompt files do: a
run records it (only where it is not the default float32, so a float32 run's records read as before),
and a resume in the other precision is refused in one line, exit 2, rather than mixing both precisions'
scores. The harm check and the release's final filter name the embedder as it names itself, precision
included, as the leak filter does."""

from __future__ import annotations

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from pipeline.backends.minilm import PRECISION_ENV, MiniLMEmbedder
from pipeline.batch import Batch
from pipeline.cli.app import app  # importing the package registers every command
from pipeline.config import ConfigError, load_config
from pipeline.release.final_filter import RulesPairChecker, final_filter
from pipeline.rundir import RunDir
from pipeline.stages.harm_check import HarmCheckStage
from tests.stages.test_harm_check_rules import SameVectorEmbedder, a_pair
from tests.support.embedders import ScriptedEmbedder, basis

BFLOAT16_NAME = MiniLMEmbedder(precision="bfloat16").model  # no model is loaded to name it


def settings(runs):
    return load_config(None, ["run.size=1", f"run.runs_dir='{runs}'"])


def claimed(runs, monkeypatch, precision: str | None) -> RunDir:
    if precision is None:
        monkeypatch.delenv(PRECISION_ENV, raising=False)
    else:
        monkeypatch.setenv(PRECISION_ENV, precision)
    run = RunDir(runs, "r1")
    run.claim(settings(runs))
    return run


def test_a_float32_run_records_no_precision_and_resumes_in_float32_only(tmp_path, monkeypatch):
    run = claimed(tmp_path, monkeypatch, None)
    assert PRECISION_ENV not in json.loads(run.prompts_record.read_text(encoding="utf-8"))  # as before the record
    monkeypatch.setenv(PRECISION_ENV, "float32")  # the default, named
    run.check(settings(tmp_path))
    monkeypatch.setenv(PRECISION_ENV, "bfloat16")
    with pytest.raises(ConfigError, match=r"run r1 was embedded in float32 and this build would embed in "
                                          r"bfloat16 \(LEAKLESS_EMBED_PRECISION\).*set "
                                          r"LEAKLESS_EMBED_PRECISION=float32 to resume it, or use a new --run-id"):
        run.check(settings(tmp_path))


def test_a_bfloat16_run_records_it_and_refuses_a_float32_resume(tmp_path, monkeypatch):
    run = claimed(tmp_path, monkeypatch, "bfloat16")
    assert json.loads(run.prompts_record.read_text(encoding="utf-8"))[PRECISION_ENV] == "bfloat16"
    run.check(settings(tmp_path))
    monkeypatch.delenv(PRECISION_ENV)
    with pytest.raises(ConfigError, match="was embedded in bfloat16 and this build would embed in float32"):
        run.check(settings(tmp_path))


def test_a_bfloat16_run_from_before_the_record_is_known_by_its_scores_labels(tmp_path, monkeypatch):
    # prompts.json without the key, as every run made before it was recorded; its leak scores name bfloat16
    run = claimed(tmp_path, monkeypatch, None)
    scored = run.path / "batches" / "b0"
    scored.mkdir(parents=True)
    (scored / "rewrite.json").write_text(json.dumps({"pairs": [{"leak": {"model": BFLOAT16_NAME + "+lexicon"}}]}))
    unscored = run.path / "batches" / "a0"  # sorted first: a batch whose seeds were all blocked holds no score
    unscored.mkdir()
    (unscored / "rewrite.json").write_text(json.dumps({"pairs": []}))
    with pytest.raises(ConfigError, match="was embedded in bfloat16 and this build would embed in float32"):
        run.check(settings(tmp_path))
    monkeypatch.setenv(PRECISION_ENV, "bfloat16")
    run.check(settings(tmp_path))
    assert run.recorded_prompts()[PRECISION_ENV] == "bfloat16"


def test_a_float32_run_whose_scores_name_no_precision_stays_float32(tmp_path, monkeypatch):
    run = claimed(tmp_path, monkeypatch, None)
    scored = run.path / "batches" / "b0"
    scored.mkdir(parents=True)
    (scored / "leak_filter.json").write_text(json.dumps({"pairs": [{"leak": {"model": "all-MiniLM-L6-v2+lexicon"}}]}))
    run.check(settings(tmp_path))
    assert PRECISION_ENV not in run.recorded_prompts()


def test_the_build_command_refuses_the_resume_in_one_line_with_exit_2(tmp_path, monkeypatch):
    runs = tmp_path / "runs"
    claimed(runs, monkeypatch, None)
    before = sorted(path.name for path in (runs / "r1").iterdir())
    result = CliRunner().invoke(app, ["build", "--size", "1", "--run-id", "r1", "--no-progress",
                                      "--set", f"run.runs_dir='{runs}'"], env={PRECISION_ENV: "bfloat16"})
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output and len(result.output.strip().splitlines()) == 1, result.output
    assert "run r1 was embedded in float32" in result.output
    assert sorted(path.name for path in (runs / "r1").iterdir()) == before  # nothing built


class NamedLikeBfloat16(SameVectorEmbedder):
    model = BFLOAT16_NAME


def test_the_harm_checks_decisions_name_the_embedders_precision():
    out = HarmCheckStage(NamedLikeBfloat16(), min_intent_similarity=0.35)(Batch(seeds=[], pairs=[a_pair()]))
    assert [decision.model for decision in out.decisions] == ["all-MiniLM-L6-v2@bfloat16"]


def test_the_final_filters_decisions_name_the_embedders_precision():
    embedder = ScriptedEmbedder({"the query": basis(0), "a gizmo": basis(0)})
    embedder.model = BFLOAT16_NAME
    row = {"id": "p1", "seed_id": "s1", "instruction": "the query", "image_description": "a gizmo",
           "category": "Violent", "sub_category": "Weapon-Related Violence", "element": "gizmo"}
    checker = RulesPairChecker(embedder, {"p1": True})
    _, [decision] = final_filter([row], checker)
    assert decision.model == checker.model == "all-MiniLM-L6-v2@bfloat16"
    assert np.isclose(decision.scores["match_similarity"], 1.0)
