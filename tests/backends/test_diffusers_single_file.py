"""A path to a single weight file is told it is a file, not a model folder, at once: it was first told to set
`family`, and only once that was set, that it is a file."""

from __future__ import annotations

import pytest

from pipeline.config import ConfigError, load_config


@pytest.mark.parametrize("family", [[], ["images.diffusers.family='sd'"]])
def test_a_single_weight_file_is_called_a_file_whether_family_is_set_or_not(tmp_path, family):
    weights = tmp_path / "unet" / "diffusion_pytorch_model.safetensors"
    weights.parent.mkdir()
    weights.write_bytes(b"weights")
    with pytest.raises(ConfigError) as caught:
        load_config(None, [f"images.diffusers.model='{weights}'", *family])
    message = str(caught.value)
    assert f"model {weights} is a file, not a diffusers model folder or a hub id" in message
    assert "cannot tell the model family" not in message and "\n" not in message
