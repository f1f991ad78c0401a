"""`--set` values as a researcher types them: a bare None unsets a key as null does (a store folder or an
answer cache named "None" was made), a table value changes only the keys it names, and an error a
`--set` caused names that `--set`."""

from __future__ import annotations

import pytest

from pipeline.config import load_config


@pytest.mark.parametrize("word", ["None", "none", "Null", "NULL", "null"])
def test_a_bare_none_unsets_an_optional_key(word):
    config = load_config(None, [f"elements.store={word}", f"runner.address={word}", f"llm.cache_path={word}",
                                f"images.diffusers.negative_prompt={word}"])
    assert config.elements.store is None
    assert config.runner.address is None
    assert config.llm.cache_path is None
    assert config.images.diffusers.negative_prompt is None


def test_none_stays_a_choice_where_a_key_offers_it_and_quoted_it_stays_text():
    config = load_config(None, ["backends.image_refiner=none", "images.diffusers.negative_prompt='None'"])
    assert config.backends.image_refiner == "none"
    assert config.images.diffusers.negative_prompt == "None"


def test_a_table_value_sets_its_keys_and_keeps_the_others(tmp_path):
    file = tmp_path / "build.toml"
    file.write_text('[run]\nsize = 2\nbatch_size = 64\nsub_categories = ["Cybercrime"]\n', encoding="utf-8")
    config = load_config(file, ["run.queries_per_seed=2", "run={size=1}", "images={diffusers={steps=3}}"])
    assert (config.run.size, config.run.batch_size, config.run.sub_categories) == (1, 64, ["Cybercrime"])
    assert config.run.queries_per_seed == 2
    assert config.images.diffusers.steps == 3
