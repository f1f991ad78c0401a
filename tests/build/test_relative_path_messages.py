"""A relative path in a config is read against the working directory: when it is not there, the
message says which folder that was (the same config run from another folder fails otherwise with
no hint why)."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from pipeline.config import BuildConfig, ConfigError, read_toml
from pipeline.pool.pool import load_pool, read_captions


def config_error(**sections) -> str:
    with pytest.raises(ValidationError) as error:
        BuildConfig.model_validate(sections)
    return str(error.value)


def test_a_missing_relative_path_names_the_working_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    from_here = f"(relative to the working directory {tmp_path})"
    assert f"pool folder not found: -pool ü {from_here}" in config_error(images={"pool": {"folder": "-pool ü"}})
    assert f"file not found: elements.jsonl {from_here}" in config_error(run={"elements_file": "elements.jsonl"})
    with pytest.raises(ValueError) as pool:
        load_pool("pool")
    with pytest.raises(ValueError) as captions:
        read_captions(Path("c.csv"))
    with pytest.raises(ConfigError) as config:
        read_toml(Path("c.toml"))
    assert [str(error.value) for error in (pool, captions, config)] == [
        f"pool folder not found: pool {from_here}", f"captions file not found: c.csv {from_here}",
        f"config file not found: c.toml {from_here}"]


def test_a_missing_absolute_path_is_shown_as_given(tmp_path):
    missing = tmp_path / "pool"
    assert f"pool folder not found: {missing} [" in config_error(images={"pool": {"folder": str(missing)}})
