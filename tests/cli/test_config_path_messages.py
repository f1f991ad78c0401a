"""A path setting's error names its key and says what is wrong in a plain sentence: a folder that refuses
new ones (root in /proc), a blank path, a folder given for a file, a number or null given for a path."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from pipeline.cli import preflight
from pipeline.cli.writable_checks import check_runs_folder
from pipeline.config import ConfigError, load_config


def refused(*overrides: str) -> str:
    with pytest.raises(ConfigError) as error:
        load_config(None, list(overrides))
    assert "\n" not in str(error.value)
    return str(error.value)


@pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="needs Linux's /proc")
def test_a_runs_folder_where_no_folder_can_be_made_names_the_key(monkeypatch):
    # as root, access() allows writing in /proc, whose mkdir then fails once the models are loaded
    monkeypatch.setattr(os, "access", lambda *args, **kwargs: True)
    settings = load_config(overrides=["run.runs_dir=/proc/nope"])
    with pytest.raises(ConfigError) as error:
        check_runs_folder(settings)
    assert str(error.value) == ("run.runs_dir /proc/nope cannot be made: /proc takes no new folders "
                                "(No such file or directory)")


def test_a_writable_runs_folder_is_no_problem_and_the_check_leaves_nothing(tmp_path):
    check_runs_folder(load_config(overrides=[f"run.runs_dir='{tmp_path / 'runs'}'"]))
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("key", ["llm.cache_path", "run.runs_dir", "run.elements_file", "images.pool.folder"])
def test_a_blank_path_is_refused_naming_the_key(key):
    assert refused(f'{key}=""') == f"override {key}: empty: name a path, or leave the key out for its default"


def test_a_blank_store_keeps_its_own_message():
    assert refused('elements.store=""') == "override elements.store: empty: name a folder, or null for no store"


def test_an_answer_cache_that_cannot_be_written_names_the_key(tmp_path):
    settings = load_config(overrides=["backends.rewriter='llm'", f"llm.cache_path='{tmp_path}'"])
    with pytest.raises(ValueError) as error:
        preflight.check_roles_ready(settings, ["leak_rewriter"])
    assert str(error.value) == f"llm.cache_path: the LLM answer cache {tmp_path} cannot be written: {tmp_path} is a folder"


def test_an_elements_file_that_is_a_folder_says_so(tmp_path):
    assert refused(f"run.elements_file='{tmp_path}'") == \
        f"override run.elements_file: {tmp_path} is a folder, not an elements file"


@pytest.mark.parametrize("override, expected", [
    ("elements.store=2024", 'override elements.store: 2024 is a number, not a path: quote it ("2024") for a path '
                            "of that name"),
    ("run.runs_dir=null", "override run.runs_dir: null is no path: leave the key out for its default"),
    ("run.runs_dir=true", "override run.runs_dir: true is no path: give it as text"),
])
def test_a_value_that_is_no_path_reads_as_a_sentence(override, expected):
    assert refused(override) == expected
