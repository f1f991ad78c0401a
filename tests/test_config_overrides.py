"""pipeline.config_overrides writes a --set into the data of whichever settings model it is given, so it
needs no import of pipeline.config (and sits beside pipeline.config_files in the layers)."""

from __future__ import annotations

from typing import Literal

import pytest
from pydantic import BaseModel

from pipeline.config_files import ConfigError
from pipeline.config_overrides import apply_override


class Inner(BaseModel):
    mode: Literal["none", "fast"] = "none"
    folder: str | None = None


class Outer(BaseModel):
    inner: Inner = Inner()
    optional: Inner | None = None


def test_a_null_word_unsets_unless_the_field_takes_it_as_a_choice():
    data: dict = {}
    apply_override(Outer, data, "inner.folder=None")
    apply_override(Outer, data, "inner.mode=none")
    assert data == {"inner": {"folder": None, "mode": "none"}}


def test_a_table_merges_into_the_section_and_a_value_for_a_section_is_refused():
    data = {"inner": {"mode": "fast"}}
    apply_override(Outer, data, "inner={folder='x'}")
    assert data == {"inner": {"mode": "fast", "folder": "x"}}
    with pytest.raises(ConfigError, match=r"override 'optional=1': optional is a section, not a value"):
        apply_override(Outer, data, "optional=1")


def test_a_section_it_makes_is_recorded_against_the_set_that_made_it():
    created: dict[str, str] = {}
    apply_override(Outer, {}, "optional.mode=fast", created)
    assert created == {"optional": "optional.mode"}


def test_null_unsets_an_optional_section_but_a_required_one_is_refused():
    data = {"optional": {"mode": "fast"}, "inner": {"mode": "fast"}}
    apply_override(Outer, data, "optional=null")
    assert Outer.model_validate(data).optional is None
    with pytest.raises(ConfigError, match=r"override 'inner=None': inner is a section, not a value"):
        apply_override(Outer, data, "inner=None")


def test_a_config_files_pool_is_unset_by_set_null(tmp_path):
    from pipeline.config import load_config

    (tmp_path / "pool").mkdir()
    config_file = tmp_path / "c.toml"
    config_file.write_text(f'[images.pool]\nfolder = "{tmp_path / "pool"}"\n')
    assert load_config(config_file).images.pool is not None
    assert load_config(config_file, overrides=["images.pool=null"]).images.pool is None
