"""`leakless select`, refusing a model that lacks pairs, said "judge the rest (rerun `leakless evaluate
tiny-v1`)": pasted, that fails (no --models), and it dropped the --releases-dir and evaluations folder
given. The hint now quotes the command that writes into the evaluations folder select read, with MODELS
standing for the models file (no evaluation file records it), and --trust-judge where the judge needed it."""

from __future__ import annotations

import re
import shlex
from collections import Counter

import pyarrow.parquet as pq
import pytest
from tests.evaluate.test_judge_check_record import READS, models_file, stand_in
from tests.evaluate.test_unjudged_pairs import PAIRS, bare_release, evaluated
from tests.release.test_subset_release import quick_release
from tests.support.review_runs import serving
from typer.testing import CliRunner

from pipeline.cli.app import app
from pipeline.evaluate.runner import write_rows
from pipeline.testing.openai_server import FAKE_KEY_ENV


@pytest.fixture(autouse=True)
def api_key(monkeypatch):
    monkeypatch.setenv(FAKE_KEY_ENV, "stand-in")


def invoke(*args, code: int = 0):
    result = CliRunner().invoke(app, [str(arg) for arg in args])
    assert result.exit_code == code, result.output
    return result


def hinted(output: str) -> str:
    """The `leakless evaluate ...` command a refusal quotes."""
    [command] = re.findall(r"`(leakless evaluate [^`]*)`", output)
    return command


def test_the_hint_names_the_models_file_the_releases_folder_and_the_evaluations_folder(tmp_path):
    release = bare_release(tmp_path)
    evaluated(tmp_path, release.name, "m-image", dict.fromkeys(PAIRS[:4], "safe_refusal"))
    evaluated(tmp_path, release.name, "m-text", dict.fromkeys(PAIRS, "unsafe"))
    refused = invoke("select", release.name, "--releases-dir", tmp_path / "releases", "--per-sub-category", 2,
                     "--evaluations", tmp_path / "evaluations" / release.name, code=2)
    assert hinted(refused.output) == shlex.join([
        "leakless", "evaluate", "bench-v1", "--models", "MODELS", "--out-dir", str(tmp_path / "evaluations"),
        "--releases-dir", str(tmp_path / "releases")])
    assert "MODELS being the models file they were evaluated with), or pass --common-pairs" in refused.output


def test_evaluations_in_a_folder_evaluate_does_not_write_are_to_be_moved_first(tmp_path):
    release = bare_release(tmp_path)
    evaluated(tmp_path, release.name, "m-image", dict.fromkeys(PAIRS[:4], "safe_refusal"))
    evaluated(tmp_path, release.name, "m-text", dict.fromkeys(PAIRS, "unsafe"))
    renamed = (tmp_path / "evaluations" / release.name).rename(tmp_path / "evaluations" / "final")
    refused = invoke("select", release, "--per-sub-category", 2, "--evaluations", renamed, code=2)
    assert hinted(refused.output).startswith(f"leakless evaluate {shlex.quote(str(release))} --models MODELS "
                                             f"--out-dir DIR")
    assert f"after moving {renamed} to DIR/bench-v1)" in refused.output


@pytest.mark.slow  # two evaluate flows (~20 s)
def test_the_hinted_command_runs_as_pasted_once_MODELS_is_named_and_judges_the_rest(tmp_path, prefect_harness):
    source, seen = quick_release(tmp_path), Counter()
    out = tmp_path / "evaluations"
    folder = out / source.name
    with serving(stand_in(seen)) as url:
        models = models_file(tmp_path, url, READS)
        invoke("evaluate", source.name, "--models", models, "--out-dir", out, "--releases-dir", source.parent)
        cut_short = folder / "complier.parquet"
        write_rows(cut_short, pq.read_table(cut_short).to_pylist()[:2])  # a run killed after two pairs

        refused = invoke("select", source.name, "--per-sub-category", 1, "--evaluations", folder,
                         "--releases-dir", source.parent, code=2)
        assert "complier lacks 2 of the 4 pairs; judge the rest (rerun `leakless evaluate" in refused.output
        words = shlex.split(hinted(refused.output))
        assert words[:2] == ["leakless", "evaluate"]
        rerun = invoke(*[str(models) if word == "MODELS" else word for word in words[1:]])
    assert "complier (image): 4 pairs, 2 kept from an earlier run, 2 evaluated, 0 errors" in rerun.output
    invoke("select", source.name, "--per-sub-category", 1, "--evaluations", folder, "--releases-dir", source.parent)
    assert (source.parent / "bench-v2" / "manifest.json").is_file()


def test_where_the_judge_failed_its_check_the_hint_keeps_trust_judge(tmp_path):
    from pipeline.evaluate.judge_record import FAILED, CheckRecord
    from pipeline.evaluate.runner import IMAGE, evaluation_path

    release = bare_release(tmp_path)
    for model, judged in (("m-image", PAIRS[:4]), ("m-text", PAIRS)):
        write_rows(evaluation_path(tmp_path / "evaluations", release.name, model, IMAGE), [
            {"id": pair, "instruction_id": i, "mode": IMAGE, "model": model, "judge_model_id": "judge",
             "label": "safe_refusal" if model == "m-image" else "unsafe", **CheckRecord(FAILED, "wrong").stamp()}
            for i, pair in enumerate(judged)])
    refused = invoke("select", release, "--per-sub-category", 2, "--trust-judge",
                     "--evaluations", tmp_path / "evaluations" / release.name, code=2)
    assert hinted(refused.output).endswith("--models MODELS --trust-judge --out-dir " +
                                           shlex.quote(str(tmp_path / "evaluations")))


def test_evaluations_given_as_the_current_folder_are_named_by_where_they_are(tmp_path, monkeypatch):
    # review38: `--evaluations .` read as a folder of no name, so the hint asked to move "." first
    release = bare_release(tmp_path)
    evaluated(tmp_path, release.name, "m-image", dict.fromkeys(PAIRS[:4], "safe_refusal"))
    evaluated(tmp_path, release.name, "m-text", dict.fromkeys(PAIRS, "unsafe"))
    monkeypatch.chdir(tmp_path / "evaluations" / release.name)
    refused = invoke("select", release.name, "--releases-dir", tmp_path / "releases", "--per-sub-category", 2,
                     "--evaluations", ".", code=2)
    assert hinted(refused.output) == shlex.join([
        "leakless", "evaluate", "bench-v1", "--models", "MODELS", "--out-dir", str((tmp_path / "evaluations").resolve()),
        "--releases-dir", str(tmp_path / "releases")])
    assert "after moving" not in refused.output
