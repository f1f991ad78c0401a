"""Which folder a RUN argument names: a run id under --runs-dir first, else a path."""

from __future__ import annotations

from pathlib import Path

from pipeline.cli.review import run_folder


def finished_run(folder: Path) -> Path:
    (folder / "data").mkdir(parents=True)
    (folder / "manifest.json").write_text("{}")
    return folder


def test_a_run_id_wins_over_a_folder_of_the_same_name_where_the_command_runs(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "pool2").mkdir()  # an image pool named like the run
    run = finished_run(tmp_path / "artifacts" / "runs" / "pool2")
    assert run_folder("pool2", Path("artifacts/runs")) == run.resolve()


def test_a_path_to_a_run_folder_elsewhere_is_taken_as_given(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    run = finished_run(tmp_path / "elsewhere" / "r1")
    assert run_folder("elsewhere/r1", Path("artifacts/runs")) == run.resolve()
    assert run_folder(str(run), Path("artifacts/runs")) == run.resolve()
