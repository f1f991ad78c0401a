"""Config values are taken as written: a wrong type is one line and exit 2, never converted
(`true` was a leak threshold of 1.0, the filter off); a sub-category outside the chosen categories
and a runs_dir that is a file are refused before any work."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from pipeline.cli.app import app  # importing the package registers every command
from pipeline.config import ConfigError, load_config


@pytest.mark.parametrize("override, key", [
    ("leak_filter.threshold=true", "leak_filter.threshold"),
    ("leak_filter.threshold='0.9'", "leak_filter.threshold"),
    ("harm_check.min_intent_similarity=true", "harm_check.min_intent_similarity"),
    ("run.size=true", "run.size"),
    ("run.size=2.0", "run.size"),
    ("export.rows_per_shard=true", "export.rows_per_shard"),
    ("runner.max_workers='2'", "runner.max_workers"),
    ("llm.roles.seed_writer.max_tokens=true", "llm.roles.seed_writer.max_tokens"),
    ("llm.endpoints.default.max_in_flight=true", "llm.endpoints.default.max_in_flight"),
    ("llm.endpoints.default.backoff_s='0.5'", "llm.endpoints.default.backoff_s"),
    ("llm.cache=1", "llm.cache"),
    ("llm.endpoints.default.backoff_s=inf", "llm.endpoints.default.backoff_s"),  # a retry waited forever
    ("llm.endpoints.default.timeout_s=inf", "llm.endpoints.default.timeout_s"),
    ("llm.endpoints.default.timeout_s=nan", "llm.endpoints.default.timeout_s"),
])
def test_a_value_of_another_type_is_refused_by_name(override, key):
    with pytest.raises(ConfigError, match=f"override {key}"):
        load_config(None, [override])


def test_an_integer_fills_a_number_and_text_fills_a_path_but_true_fills_neither(tmp_path):
    file = tmp_path / "c.toml"
    file.write_text("[leak_filter]\nthreshold = 1\n[harm_check]\nmin_intent_similarity = 0\n", encoding="utf-8")
    config = load_config(file, ["run.size=4", "run.runs_dir='elsewhere/runs'", "run.categories=['Violent']",
                                "elements.store='store'"])
    assert (config.leak_filter.threshold, config.harm_check.min_intent_similarity) == (1.0, 0.0)
    assert isinstance(config.leak_filter.threshold, float)
    assert config.run.size == 4 and config.run.runs_dir == Path("elsewhere/runs") and config.elements.store == Path("store")
    file.write_text("[leak_filter]\nthreshold = true\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"c\.toml: leak_filter\.threshold: Input should be a valid number"):
        load_config(file)


def build(*args: str):
    return CliRunner().invoke(app, ["build", "--size", "1", "--no-progress", *args])


def refused(result) -> str:
    assert result.exit_code == 2 and isinstance(result.exception, SystemExit), (result.exception, result.output)
    assert "Traceback" not in result.output and len(result.output.strip().splitlines()) == 1, result.output
    return result.output


def test_a_wrong_type_in_a_build_is_one_line(tmp_path):
    assert "leak_filter.threshold: Input should be a valid number" in refused(
        build("--set", f"run.runs_dir='{tmp_path / 'runs'}'", "--set", "leak_filter.threshold=true"))
    assert not (tmp_path / "runs").exists()


def test_a_sub_category_outside_the_chosen_categories_is_refused_naming_its_category(tmp_path):
    message = refused(build("--set", f"run.runs_dir='{tmp_path / 'runs'}'", "--set", "run.categories=['Violent']",
                            "--set", "run.sub_categories=['Weapon-Related Violence', 'Cybercrime']"))
    assert "sub-category 'Cybercrime' is in category 'Illegal Activity'" in message
    assert not (tmp_path / "runs").exists()


@pytest.mark.parametrize("below", ["", "runs"])
def test_a_runs_dir_where_a_file_is_is_refused(tmp_path, below):
    (tmp_path / "notes.txt").write_text("not a folder")
    runs_dir = tmp_path / "notes.txt" / below
    message = refused(build("--set", f"run.runs_dir='{runs_dir}'"))
    assert f"{tmp_path / 'notes.txt'} is not a folder" in message
