"""A tiny random-weight Stable Diffusion pipeline, saved to disk, for tests and benchmarks.

The images are noise, but every call goes through diffusers' real code: the
folder is loaded with `from_pretrained` exactly as a downloaded model would be.
Sizes follow ENVIRONMENT.md: two 64x64 images in 2 steps take ~0.1 s on CPU.
"""

from __future__ import annotations

import json
from pathlib import Path

SPECIAL_TOKENS = ("<|startoftext|>", "<|endoftext|>")


def _write_tokenizer_files(folder: Path) -> tuple[Path, Path]:
    """A character-level CLIP vocabulary: every printable ASCII char, bare and word-final."""
    chars = [chr(code) for code in range(33, 127)]
    tokens = [*SPECIAL_TOKENS, *chars, *(f"{c}</w>" for c in chars)]
    vocab_file, merges_file = folder / "vocab.json", folder / "merges.txt"
    vocab_file.write_text(json.dumps({t: i for i, t in enumerate(tokens)}), encoding="utf-8")
    merges_file.write_text("#version: 0.2\n", encoding="utf-8")
    return vocab_file, merges_file


def build_tiny_sd_pipeline(folder: str | Path, seed: int = 0, black_vae: bool = False,
                           flag_everything: bool = False) -> Path:
    """Build a random-weight StableDiffusionPipeline and `save_pretrained` it to `folder`.

    `black_vae=True` zeroes the VAE decoder's last layer and biases it far negative,
    so the saved model decodes every image to black: the same symptom as the
    well-known fp16 VAE overflow, for testing that black outputs are caught.
    `flag_everything=True` adds a tiny safety checker whose concept thresholds sit
    below any cosine score, so diffusers flags every image as nsfw.
    """
    import torch
    from diffusers import (AutoencoderKL, DDIMScheduler, StableDiffusionPipeline,
                           UNet2DConditionModel)
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTokenizer

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(seed)  # the random weights themselves are reproducible
    vocab_file, merges_file = _write_tokenizer_files(folder)
    tokenizer = CLIPTokenizer(str(vocab_file), str(merges_file), model_max_length=77)
    text_encoder = CLIPTextModel(CLIPTextConfig(
        vocab_size=len(tokenizer), hidden_size=32, intermediate_size=37, num_hidden_layers=2,
        num_attention_heads=4, max_position_embeddings=77,
        bos_token_id=0, eos_token_id=1, pad_token_id=1,
    ))
    unet = UNet2DConditionModel(
        block_out_channels=(32, 64), layers_per_block=1, sample_size=32,
        in_channels=4, out_channels=4, cross_attention_dim=32,
        down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"),
        up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"),
    )
    vae = AutoencoderKL(
        block_out_channels=(32, 32, 32, 32), in_channels=3, out_channels=3, latent_channels=4,
        down_block_types=("DownEncoderBlock2D",) * 4, up_block_types=("UpDecoderBlock2D",) * 4,
        sample_size=64,
    )
    if black_vae:
        with torch.no_grad():
            vae.decoder.conv_out.weight.zero_()
            vae.decoder.conv_out.bias.fill_(-10.0)
    scheduler = DDIMScheduler(beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear",
                              clip_sample=False, set_alpha_to_one=False, steps_offset=1)
    safety_checker, feature_extractor = _flag_everything_checker() if flag_everything else (None, None)
    pipeline = StableDiffusionPipeline(
        vae=vae, text_encoder=text_encoder, tokenizer=tokenizer, unet=unet, scheduler=scheduler,
        safety_checker=safety_checker, feature_extractor=feature_extractor,
        requires_safety_checker=flag_everything,
    )
    pipeline.save_pretrained(folder)
    for loose_file in (vocab_file, merges_file):  # the tokenizer saved its own copy
        loose_file.unlink()
    return folder


def _flag_everything_checker():
    import torch
    from diffusers.pipelines.stable_diffusion.safety_checker import StableDiffusionSafetyChecker
    from transformers import CLIPConfig, CLIPImageProcessor

    config = CLIPConfig(
        text_config={"hidden_size": 32, "intermediate_size": 37, "num_hidden_layers": 1,
                     "num_attention_heads": 4},
        vision_config={"hidden_size": 32, "intermediate_size": 37, "num_hidden_layers": 1,
                       "num_attention_heads": 4, "image_size": 32, "patch_size": 8},
        projection_dim=32,
    )
    checker = StableDiffusionSafetyChecker(config)
    with torch.no_grad():  # a flag needs cosine - threshold > 0; cosine is never below -1
        checker.concept_embeds_weights.fill_(-2.0)
    processor = CLIPImageProcessor(size={"shortest_edge": 32}, crop_size={"height": 32, "width": 32})
    return checker, processor
