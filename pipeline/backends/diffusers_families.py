"""What differs between text-to-image model families, known without importing torch.

A family fixes the pipeline classes we accept, the size rule, which call
arguments exist, and the defaults of its model cards. The family of a model is
read from its `model_index.json` (a folder, or the Hugging Face cache for a hub
id), so an img2img or refiner folder is refused before anything loads.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Family:
    name: str
    pipeline_classes: tuple[str, ...]  # the text-to-image classes of this family
    size_multiple: int  # width and height must be multiples of this
    steps: int
    guidance: float
    negative_prompt: bool  # whether the pipeline takes a negative prompt
    max_sequence_length: int | None  # the T5 prompt limit, None where there is no T5


# Defaults from the model cards; a distilled model (Turbo, schnell) differs from its family
# and is told apart by its name, see `card_defaults`.
FAMILIES = {family.name: family for family in (
    Family("sd", ("StableDiffusionPipeline",), 8, 50, 7.5, True, None),
    Family("sdxl", ("StableDiffusionXLPipeline",), 8, 50, 5.0, True, None),
    # SD3's latents are patchified 2x2 after the VAE's 8x: sizes step by 16.
    Family("sd3", ("StableDiffusion3Pipeline",), 16, 28, 3.5, True, 256),
    # FLUX packs 2x2 latent patches too; it is guidance-distilled, with no negative prompt.
    Family("flux", ("FluxPipeline",), 16, 50, 3.5, False, 512),
)}

# Hub-id name fragments -> (family, steps, guidance, max_sequence_length); the first match wins.
CARD_DEFAULTS = (
    ("stable-diffusion-3.5-large-turbo", "sd3", 4, 0.0, 256),
    ("stable-diffusion-3.5-medium", "sd3", 40, 4.5, 256),
    ("stable-diffusion-3", "sd3", 28, 3.5, 256),
    ("flux.1-schnell", "flux", 4, 0.0, 256),
    ("flux", "flux", 50, 3.5, 512),
    ("xl", "sdxl", 50, 5.0, None),
)


def family_of_class(class_name: str) -> Family | None:
    return next((family for family in FAMILIES.values() if class_name in family.pipeline_classes), None)


def read_pipeline_class(model: str) -> str | None:
    """The `_class_name` in the model's model_index.json: from the folder, or from the local
    Hugging Face cache for a hub id; None when neither has it."""
    index = Path(model) / "model_index.json"
    if not index.is_file():
        from huggingface_hub import try_to_load_from_cache

        cached = try_to_load_from_cache(model, "model_index.json") if _looks_like_hub_id(model) else None
        if not isinstance(cached, str):
            return None
        index = Path(cached)
    try:
        return json.loads(index.read_text(encoding="utf-8")).get("_class_name")
    except (OSError, ValueError):
        return None


def _looks_like_hub_id(model: str) -> bool:
    return model.count("/") == 1 and not model.startswith((".", "/", "~"))


def card_defaults(model: str) -> tuple[str, int, float, int | None] | None:
    """(family, steps, guidance, max_sequence_length) for a model named like a known card."""
    name = model.lower()
    return next((rest for fragment, *rest in CARD_DEFAULTS if fragment in name), None)


def resolve_family(model: str, declared: str) -> Family:
    """The model's family: declared, else from its model_index.json, else from its name.

    Raises ValueError (one line) for a pipeline that is not a known text-to-image one.
    """
    class_name = read_pipeline_class(model)
    if class_name is not None and family_of_class(class_name) is None:
        known = ", ".join(c for f in FAMILIES.values() for c in f.pipeline_classes)
        raise ValueError(f"{model} is a {class_name}, not a text-to-image pipeline leakless can "
                         f"drive (known: {known})")
    if declared != "auto":
        family = FAMILIES[declared]
        if class_name is not None and class_name not in family.pipeline_classes:
            raise ValueError(f"family = {declared!r} but {model} is a {class_name}")
        return family
    if class_name is not None:
        return family_of_class(class_name)
    by_name = card_defaults(model)
    if by_name is None:
        raise ValueError(f"cannot tell the model family of {model!r} (no model_index.json in the "
                         f"folder or the local cache): set family = one of {', '.join(FAMILIES)}")
    return FAMILIES[by_name[0]]
