"""Mutation round 14's pin on which runs a config could resume (fails with its mutant)."""

from __future__ import annotations

from pipeline.config import load_config
from pipeline.rundir import RunDir, unfinished_runs

ONE = ["run.size=1", "run.sub_categories=['Cybercrime']"]


def test_a_finished_run_is_not_offered_as_one_to_finish(tmp_path):
    # R3: without the manifest check a finished run of the config was named as one left unfinished
    # ('this command with `--run-id X` finishes it'), sending the user to rebuild a run that is done
    runs = tmp_path / "runs"
    config = load_config(None, [*ONE, f"run.runs_dir='{runs}'"])
    done, half = RunDir(runs, "done"), RunDir(runs, "half")
    done.claim(config)
    half.claim(config)
    done.manifest.write_text("{}", encoding="utf-8")

    assert [run.run_id for run in unfinished_runs(config)] == ["half"]
