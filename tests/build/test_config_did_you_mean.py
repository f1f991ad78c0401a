"""An unknown config key names the known key likely meant, on the same one line, in a file or a --set:
a typo in its own section, the right section for a key that lives in another, a misspelt section."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.config import ConfigError, load_config


@pytest.mark.parametrize("override, expected", [
    ("leak_filter.treshold=0.3", "override leak_filter.treshold: unknown key (did you mean leak_filter.threshold?)"),
    ("run.threshold=0.3", "override run.threshold: unknown key (did you mean leak_filter.threshold?)"),
    ("leakfilter.threshold=0.3", "override leakfilter: unknown key (did you mean leak_filter?)"),
    ("images.diffusers.stesp=3", "override images.diffusers.stesp: unknown key (did you mean images.diffusers.steps?)"),
    ("llm.endpoints.default.base_ulr=x",
     "override llm.endpoints.default.base_ulr: unknown key (did you mean llm.endpoints.default.base_url?)"),
    (".size=4", "unknown key (did you mean run.size?)"),
])
def test_override_names_the_key_meant(override, expected):
    with pytest.raises(ConfigError) as error:
        load_config(None, [override])
    assert str(error.value).endswith(expected) and "\n" not in str(error.value)


@pytest.mark.parametrize("text, expected", [
    ("[leak_filter]\ntreshold = 0.3\n", "leak_filter.treshold: unknown key (did you mean leak_filter.threshold?)"),
    ("[run]\nthreshold = 0.3\n", "run.threshold: unknown key (did you mean leak_filter.threshold?)"),
    ("[leakfilter]\nthreshold = 0.3\n", "leakfilter: unknown key (did you mean leak_filter?)"),
])
def test_file_names_the_key_meant(tmp_path: Path, text, expected):
    path = tmp_path / "c.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as error:
        load_config(path)
    assert str(error.value) == f"{path}: {expected}"


def test_no_hint_when_nothing_is_close():
    with pytest.raises(ConfigError) as error:
        load_config(None, ["zzzz.qqqq=1"])
    assert str(error.value) == "override zzzz: unknown key"
