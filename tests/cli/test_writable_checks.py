"""pipeline.cli.writable_checks: what a command will write is checked before any work, creating nothing."""

from __future__ import annotations

import pytest

from pipeline.cli.writable_checks import check_runs_folder, check_writable_file, folder_problem
from pipeline.config import ConfigError, load_config


def test_a_runs_folder_under_a_file_is_refused_naming_the_key(tmp_path):
    (tmp_path / "taken").write_text("")
    settings = load_config(overrides=[f"run.runs_dir='{tmp_path / 'taken' / 'runs'}'"])
    with pytest.raises(ConfigError, match=r"^run\.runs_dir .*/runs cannot be made: .*/taken is not a folder$"):
        check_runs_folder(settings)
    assert not (tmp_path / "taken").is_dir()


def test_a_file_to_write_that_is_a_folder_is_refused(tmp_path):
    with pytest.raises(ValueError, match=r"^the LLM answer cache .* cannot be written: .* is a folder$"):
        check_writable_file(tmp_path, "the LLM answer cache")


def test_a_folder_not_made_yet_under_a_writable_one_is_no_problem_and_is_not_made(tmp_path):
    assert folder_problem(tmp_path / "a" / "b") is None
    assert not (tmp_path / "a").exists()
