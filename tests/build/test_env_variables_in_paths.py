"""A shell's `$VARIABLE` in a path setting is refused in one line naming the key: taken literally, as TOML
does, `runs_dir = "$HOME/runs"` built into a folder named `$HOME` under the working directory."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.config import ConfigError, load_config


@pytest.mark.parametrize("path, variable", [("$HOME/leakless-runs", "HOME"), ("${HOME}/runs", "HOME"),
                                            ("runs/$USER", "USER")])
def test_a_variable_in_a_config_files_path_is_refused(tmp_path: Path, monkeypatch, path, variable):
    monkeypatch.chdir(tmp_path)
    config = tmp_path / "c.toml"
    config.write_text(f'[run]\nruns_dir = "{path}"\n')
    with pytest.raises(ConfigError) as error:
        load_config(config)
    assert str(error.value) == (f"{config}: run.runs_dir: {path!r}: environment variables (${variable}) are not "
                                f"expanded in a path, only a ~ at its start: write the path out")
    assert list(tmp_path.iterdir()) == [config]


@pytest.mark.parametrize("key", ["llm.cache_path", "elements.store", "run.elements_file", "images.pool.folder"])
def test_every_path_key_refuses_a_variable(key):
    with pytest.raises(ConfigError, match=rf"^override {key}: '\$HOME/x': environment variables"):
        load_config(None, [f"{key}='$HOME/x'"])


def test_a_dollar_that_starts_no_variable_names_a_folder(tmp_path: Path):
    folder = tmp_path / "costs$" / "runs"
    assert load_config(None, [f"run.runs_dir='{folder}'"]).run.runs_dir == folder
