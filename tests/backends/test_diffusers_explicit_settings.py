"""Settings written in the config are taken as written, also where they are falsy (guidance = 0
turns classifier-free guidance off), and a declared family the model folder contradicts is refused."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from pipeline.backends.diffusers_config import DiffusersConfig


@pytest.mark.parametrize("model", ["stabilityai/stable-diffusion-3.5-large", "black-forest-labs/FLUX.1-dev"])
def test_a_guidance_of_zero_is_kept_not_replaced_by_the_cards_default(model):
    assert DiffusersConfig(model=model, guidance=0.0).guidance == 0.0


def test_a_declared_family_the_folder_contradicts_is_refused(tmp_path):
    (tmp_path / "model_index.json").write_text(json.dumps({"_class_name": "StableDiffusionPipeline"}))

    with pytest.raises(ValidationError, match="family = 'flux' but .* is a StableDiffusionPipeline"):
        DiffusersConfig(model=str(tmp_path), family="flux")
