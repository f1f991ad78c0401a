"""Tiny random-weight SD 1.5, SDXL, SD3 and FLUX pipelines, saved to disk, for tests and benchmarks.

The images are noise, but every call goes through diffusers' real code: the
folder is loaded with `from_pretrained` exactly as a downloaded model would be.
Sizes follow ENVIRONMENT.md: two 64x64 SD images in 2 steps take ~0.1 s on CPU.
The SD3 and FLUX ones keep their family's 8x VAE and 2x2 latent patches, so
their size rule (multiples of 16) is the real one.
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


def _fresh_folder(folder: str | Path, seed: int) -> Path:
    """The folder to save into, with torch seeded so the random weights are reproducible."""
    import torch

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(seed)
    return folder


def _t5_tokenizer():
    """A character-level T5 tokenizer (a Unigram model, as T5's own is), built in memory."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers
    from transformers import T5TokenizerFast

    chars = [chr(code) for code in range(33, 127)]
    vocab = [("<pad>", 0.0), ("</s>", 0.0), ("<unk>", 0.0), ("\u2581", -1.0),
             *((c, -2.0) for c in chars), *((f"\u2581{c}", -1.5) for c in chars)]
    model = Tokenizer(models.Unigram(vocab, unk_id=2))
    model.pre_tokenizer, model.decoder = pre_tokenizers.Metaspace(), decoders.Metaspace()
    return T5TokenizerFast(tokenizer_object=model, eos_token="</s>", pad_token="<pad>",
                           unk_token="<unk>", extra_ids=0)


def _tiny_t5(vocab_size: int, width: int):
    from transformers import T5Config, T5EncoderModel

    return T5EncoderModel(T5Config(vocab_size=vocab_size, d_model=width, d_kv=8, d_ff=37, num_layers=1,
                                   num_heads=4, pad_token_id=0, eos_token_id=1,
                                   decoder_start_token_id=0))


def _clip_parts(folder: Path, with_projection: bool, copies: int):
    """`copies` CLIP text encoders (hidden size 32) and their character-level tokenizers."""
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTextModelWithProjection, CLIPTokenizer

    vocab_file, merges_file = _write_tokenizer_files(folder)
    tokenizer = CLIPTokenizer(str(vocab_file), str(merges_file), model_max_length=77)
    vocab_file.unlink()
    merges_file.unlink()
    config = CLIPTextConfig(vocab_size=len(tokenizer), hidden_size=32, intermediate_size=37,
                            num_hidden_layers=2, num_attention_heads=4, max_position_embeddings=77,
                            projection_dim=32, bos_token_id=0, eos_token_id=1, pad_token_id=1)
    model_class = CLIPTextModelWithProjection if with_projection else CLIPTextModel
    return [(model_class(config), tokenizer) for _ in range(copies)]


def _latent_vae(latent_channels: int):
    """An 8x VAE without quant convs, as SD3's and FLUX's are."""
    from diffusers import AutoencoderKL

    return AutoencoderKL(
        block_out_channels=(32, 32, 32, 32), in_channels=3, out_channels=3, latent_channels=latent_channels,
        down_block_types=("DownEncoderBlock2D",) * 4, up_block_types=("UpDecoderBlock2D",) * 4,
        sample_size=64, use_quant_conv=False, use_post_quant_conv=False, shift_factor=0.06,
        scaling_factor=1.5)


def build_tiny_sdxl_pipeline(folder: str | Path, seed: int = 0) -> Path:
    """A random-weight StableDiffusionXLPipeline (two CLIPs, size and crop conditioning), saved to `folder`."""
    from diffusers import AutoencoderKL, EulerDiscreteScheduler, StableDiffusionXLPipeline, UNet2DConditionModel

    folder = _fresh_folder(folder, seed)
    [(clip_l, tokenizer)] = _clip_parts(folder, with_projection=False, copies=1)
    [(clip_g, tokenizer_2)] = _clip_parts(folder, with_projection=True, copies=1)
    unet = UNet2DConditionModel(  # conditioning: both CLIPs' states (32 + 32), pooled 32 + six 8-wide time ids
        block_out_channels=(32, 64), layers_per_block=1, sample_size=32, in_channels=4, out_channels=4,
        down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"), up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"),
        attention_head_dim=(2, 4), use_linear_projection=True, addition_embed_type="text_time",
        addition_time_embed_dim=8, projection_class_embeddings_input_dim=80, cross_attention_dim=64)
    vae = AutoencoderKL(
        block_out_channels=(32, 32, 32, 32), in_channels=3, out_channels=3, latent_channels=4,
        down_block_types=("DownEncoderBlock2D",) * 4, up_block_types=("UpDecoderBlock2D",) * 4, sample_size=64)
    scheduler = EulerDiscreteScheduler(beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear",
                                       timestep_spacing="leading", steps_offset=1)
    pipeline = StableDiffusionXLPipeline(vae=vae, text_encoder=clip_l, text_encoder_2=clip_g, tokenizer=tokenizer,
                                         tokenizer_2=tokenizer_2, unet=unet, scheduler=scheduler)
    pipeline.save_pretrained(folder)
    return folder


def build_tiny_sd3_pipeline(folder: str | Path, seed: int = 0) -> Path:
    """A random-weight StableDiffusion3Pipeline (two CLIPs and a T5, as SD3.5 has), saved to `folder`."""
    from diffusers import FlowMatchEulerDiscreteScheduler, SD3Transformer2DModel, StableDiffusion3Pipeline

    folder = _fresh_folder(folder, seed)
    (clip_l, tokenizer), (clip_g, tokenizer_2) = _clip_parts(folder, with_projection=True, copies=2)
    t5_tokenizer = _t5_tokenizer()
    transformer = SD3Transformer2DModel(
        sample_size=8, patch_size=2, in_channels=4, out_channels=4, num_layers=1, attention_head_dim=8,
        num_attention_heads=4, caption_projection_dim=32, joint_attention_dim=64, pooled_projection_dim=64)
    pipeline = StableDiffusion3Pipeline(
        transformer=transformer, scheduler=FlowMatchEulerDiscreteScheduler(shift=3.0), vae=_latent_vae(4),
        text_encoder=clip_l, tokenizer=tokenizer, text_encoder_2=clip_g, tokenizer_2=tokenizer_2,
        text_encoder_3=_tiny_t5(len(t5_tokenizer), 64), tokenizer_3=t5_tokenizer)
    pipeline.save_pretrained(folder)
    return folder


def build_tiny_flux_pipeline(folder: str | Path, seed: int = 0) -> Path:
    """A random-weight FluxPipeline (a CLIP and a T5, guidance-embedded as FLUX.1-dev), saved to `folder`."""
    from diffusers import FlowMatchEulerDiscreteScheduler, FluxPipeline, FluxTransformer2DModel

    folder = _fresh_folder(folder, seed)
    [(clip, tokenizer)] = _clip_parts(folder, with_projection=False, copies=1)
    t5_tokenizer = _t5_tokenizer()
    transformer = FluxTransformer2DModel(
        patch_size=1, in_channels=16, num_layers=1, num_single_layers=1, attention_head_dim=16,
        num_attention_heads=2, joint_attention_dim=32, pooled_projection_dim=32, guidance_embeds=True,
        axes_dims_rope=(4, 4, 8))
    pipeline = FluxPipeline(
        transformer=transformer, scheduler=FlowMatchEulerDiscreteScheduler(shift=1.0), vae=_latent_vae(4),
        text_encoder=clip, tokenizer=tokenizer, text_encoder_2=_tiny_t5(len(t5_tokenizer), 32),
        tokenizer_2=t5_tokenizer)
    pipeline.save_pretrained(folder)
    return folder


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
