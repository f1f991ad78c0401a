"""Mutation round 4: two models of one name in the models file are refused (each name is the
`<name>.parquet` its evaluation is written to: the second would overwrite the first's)."""

from __future__ import annotations

import pytest

from pipeline.config import ConfigError
from pipeline.evaluate.models import load_models


def test_a_models_file_naming_one_model_twice_is_refused_naming_it(tmp_path):
    entry = '[[models]]\nname = "{}"\nbase_url = "http://127.0.0.1:9/v1"\nmodel = "m"\n\n'
    path = tmp_path / "models.toml"
    path.write_text('[judge]\nbase_url = "http://127.0.0.1:9/v1"\nmodel = "j"\n\n'
                    + "".join(entry.format(name) for name in ("qwen", "llava", "qwen")), encoding="utf-8")
    with pytest.raises(ConfigError, match="model names must be unique; repeated: qwen"):
        load_models(path)
