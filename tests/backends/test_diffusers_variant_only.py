"""A folder holding only one variant's weights (an fp16-only download), with no `variant` set, is told to set
it, naming the files found: it was "no weight files ... (an interrupted download?)", which sent the user to
download again what was there."""

from __future__ import annotations

import pytest

from pipeline.backends.diffusers_families import check_model_files
from tests.backends.test_diffusers_failures import model_folder, with_weights

FP16 = "diffusion_pytorch_model.fp16.safetensors"


@pytest.mark.parametrize("unet, vae", [
    ([FP16], [FP16]),
    (["diffusion_pytorch_model.fp16-00001-of-00002.safetensors",
      "diffusion_pytorch_model.fp16-00002-of-00002.safetensors"], None),  # sharded; the vae has plain weights
])
def test_variant_only_weights_ask_for_that_variant_naming_the_files(tmp_path, unet, vae):
    folder = model_folder(tmp_path / "model", with_weights(unet, vae))
    with pytest.raises(ValueError) as caught:
        check_model_files(str(folder), local_files_only=True)
    message = str(caught.value)
    assert message.startswith(f"images.diffusers.model: {folder} has no plain weight files (*.safetensors, *.bin) "
                              "in unet/")
    assert f"only variant 'fp16' ones (unet/{unet[0]}" in message
    assert message.endswith('set images.diffusers.variant = "fp16"') and "\n" not in message
    assert "interrupted download" not in message
    check_model_files(str(folder), local_files_only=True, variant="fp16")  # and that is what loads it


def test_components_with_different_variants_only_still_read_as_missing_weights(tmp_path):
    folder = model_folder(tmp_path / "model", with_weights([FP16], ["diffusion_pytorch_model.ema.safetensors"]))
    with pytest.raises(ValueError, match=r"has no weight files \(\*\.safetensors, \*\.bin\) in unet/, vae/"):
        check_model_files(str(folder), local_files_only=True)
