"""A run folder moved or copied to another runs folder (a shared disk mounted at another path, a copy on a
laptop) resumes there: `run.runs_dir` is where the run is, not what it makes. The lab audit's resume was
refused ("run.runs_dir: '/team/runs' -> '/laptop/runs'; use a new --run-id"), throwing its batches away."""

from __future__ import annotations

import shutil

import pytest

from pipeline.config import ConfigError, load_config
from pipeline.rundir import RunDir, unfinished_runs
from pipeline.taxonomy import ELEMENTS_FILE

ONE = ["run.size=1", "run.sub_categories=['Cybercrime']"]


def in_runs(folder) -> list[str]:
    return [*ONE, f"run.runs_dir='{folder}'"]


def moved(tmp_path, run_id: str):
    team, laptop = tmp_path / "team" / "runs", tmp_path / "laptop" / "runs"
    laptop.mkdir(parents=True)
    shutil.move(team / run_id, laptop / run_id)
    return laptop


def test_a_run_moved_to_another_runs_folder_resumes_there(tmp_path):
    team = tmp_path / "team" / "runs"
    RunDir(team, "u1").claim(load_config(None, in_runs(team)))
    made = (team / "u1" / "config.json").read_bytes()
    laptop = moved(tmp_path, "u1")

    config = load_config(None, in_runs(laptop))
    run = RunDir(laptop, "u1")
    run.claim(config)
    assert run.made_with(config) and [found.path for found in unfinished_runs(config)] == [run.path]  # `build` without --run-id finds it too
    # config.json stays as the run was first made: nothing reads its runs_dir, and its time is the run's age
    assert (laptop / "u1" / "config.json").read_bytes() == made


def test_an_extend_run_s_elements_file_in_its_own_folder_moves_with_it(tmp_path):
    """`extend` points run.elements_file at the run's own extend_elements.jsonl: an absolute path that
    the move makes another one. The elements themselves are held against elements.json."""
    team = tmp_path / "team" / "runs"
    (team / "extend-1").mkdir(parents=True)
    line = next(line for line in ELEMENTS_FILE.read_text(encoding="utf-8").splitlines(keepends=True)
                if '"Cybercrime"' in line)
    (team / "extend-1" / "extend_elements.jsonl").write_text(line)
    RunDir(team, "extend-1").claim(load_config(None, [*in_runs(team),
                                                      f"run.elements_file='{team}/extend-1/extend_elements.jsonl'"]))
    laptop = moved(tmp_path, "extend-1")

    RunDir(laptop, "extend-1").claim(load_config(None, [
        *in_runs(laptop), f"run.elements_file='{laptop}/extend-1/extend_elements.jsonl'"]))
    other = tmp_path / "elsewhere.jsonl"
    other.write_text(line)
    with pytest.raises(ConfigError, match=r"run.elements_file: '<run extend-1>/extend_elements.jsonl' -> '.*elsewhere"):
        RunDir(laptop, "extend-1").claim(load_config(None, [*in_runs(laptop), f"run.elements_file='{other}'"]))


def test_what_the_run_makes_is_still_checked_after_a_move(tmp_path):
    team = tmp_path / "team" / "runs"
    RunDir(team, "u1").claim(load_config(None, in_runs(team)))
    laptop = moved(tmp_path, "u1")
    with pytest.raises(ConfigError, match=r"\(run.queries_per_seed: 3 -> 2\)"):
        RunDir(laptop, "u1").claim(load_config(None, [*in_runs(laptop), "run.queries_per_seed=2"]))
