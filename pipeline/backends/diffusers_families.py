"""What differs between text-to-image model families, known without importing torch.

A family fixes the pipeline classes we accept, the size rule, which call
arguments exist, and the defaults of its model cards. The family of a model is
read from its `model_index.json` (a folder, or the Hugging Face cache for a hub
id), so an img2img or refiner folder is refused before anything loads.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from pipeline.messages import first_few


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
        index = cached_model_index(model)
        if index is None:
            return None
    return class_name_in(index)


def class_name_in(index: Path) -> str | None:
    try:
        return json.loads(index.read_text(encoding="utf-8")).get("_class_name")
    except (OSError, ValueError, AttributeError):
        return None


def cached_model_index(model: str) -> Path | None:
    """The model_index.json of a hub id in the local Hugging Face cache, or None."""
    if not _looks_like_hub_id(model):
        return None
    from huggingface_hub import try_to_load_from_cache

    cached = try_to_load_from_cache(model, "model_index.json")
    return Path(cached) if isinstance(cached, str) else None


def _looks_like_hub_id(model: str) -> bool:
    return model.count("/") == 1 and not model.startswith((".", "/", "~"))


def hub_offline() -> bool:
    """Whether HF_HUB_OFFLINE forbids downloads (huggingface_hub's own reading of the variable)."""
    return os.environ.get("HF_HUB_OFFLINE", "").upper() in {"1", "ON", "YES", "TRUE"}


def may_download(model: str, local_files_only: bool) -> bool:
    return _looks_like_hub_id(model) and not local_files_only and not hub_offline()


def check_model_files(model: str, local_files_only: bool, variant: str | None = None) -> None:
    """Raises ValueError (one line) unless the model can load without a download it may not make:
    a folder must exist and hold model_index.json, every component folder that file names, and the
    weight files of each component that has weights (`_check_weights`); a hub id must be in the local
    Hugging Face cache, with those files, unless a download is allowed (local_files_only = false and
    HF_HUB_OFFLINE unset)."""
    where = f"images.diffusers.model: {model}"
    folder = Path(model)
    if folder.is_dir():
        _check_components(folder, where, variant)
        return
    if folder.exists():
        raise ValueError(f"{where} is a file, not a diffusers model folder or a hub id")
    if not _looks_like_hub_id(model):
        raise ValueError(f"{where} does not exist (neither a folder nor a hub id like 'owner/name')")
    if may_download(model, local_files_only):
        return  # from_pretrained fetches it
    index = cached_model_index(model)
    if index is None:
        from huggingface_hub.constants import HF_HUB_CACHE

        why = "local_files_only = true" if local_files_only else "HF_HUB_OFFLINE is set"
        raise ValueError(f"{where} is not in the local Hugging Face cache ({HF_HUB_CACHE}) and no folder of "
                         f"that name exists; downloads are off ({why}): run `hf download {model}` first, "
                         f"or give the model's folder")
    _check_components(index.parent, f"{where} (in the local Hugging Face cache, {index.parent})", variant)


def _check_components(folder: Path, where: str, variant: str | None) -> None:
    index_file = folder / "model_index.json"
    if not index_file.is_file():
        raise ValueError(f"{where} has no model_index.json: not a diffusers pipeline folder")
    try:
        index = json.loads(index_file.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise ValueError(f"{where}: model_index.json cannot be read ({error})") from None
    if not isinstance(index, dict):
        raise ValueError(f"{where}: model_index.json is not a JSON object")
    # A component is `"unet": ["diffusers", "UNet2DConditionModel"]`; `[null, null]` is one left out.
    named = [name for name, value in index.items() if not name.startswith("_") and isinstance(value, list)
             and len(value) == 2 and all(isinstance(part, str) for part in value)]
    missing = [name for name in named if not (folder / name).is_dir() or not any((folder / name).iterdir())]
    if missing:
        raise ValueError(f"{where} lacks the component folder(s) {', '.join(m + '/' for m in missing)} "
                         f"(missing or empty) that its model_index.json names")
    _check_weights(folder, named, where, variant)


# The weight formats from_pretrained loads for torch; a model component saves a config.json beside
# them, which a tokenizer, scheduler or image processor does not.
WEIGHT_SUFFIXES = (".safetensors", ".bin")


def _check_weights(folder: Path, components: list[str], where: str, variant: str | None) -> None:
    """Each component with a config.json needs weight files: plain ones (`model.safetensors`), or with
    a variant either that variant's (`model.fp16.safetensors`) or plain ones, and some component must
    have that variant's. This is diffusers' own rule: a folder without them fails at load time, after
    every text stage of the build has run."""
    weights = {name: _weight_files(folder / name, variant) for name in components
               if (folder / name / "config.json").is_file()}
    bare = [name + "/" for name, files in weights.items() if not files]
    if bare and variant is None:
        _check_variant_only(folder, bare, where)
    if bare:
        of_variant = f" of variant {variant!r} or plain ones" if variant else ""
        raise ValueError(f"{where} has no weight files{of_variant} (*.safetensors, *.bin) in {', '.join(bare)} "
                         f"beside its config.json (an interrupted download?)")
    if variant and not any(_is_variant(file, variant) for files in weights.values() for file in files):
        raise ValueError(f"{where} has no weight files of variant {variant!r} (names like "
                         f"model.{variant}.safetensors): download that variant, or leave images.diffusers.variant "
                         f"unset to load the plain weights")


def _check_variant_only(folder: Path, bare: list[str], where: str) -> None:
    """A folder whose components without plain weights all hold one variant's (an fp16-only download)
    loads with that variant set: say so, naming the files, rather than call it an interrupted download."""
    found = {name: [file.name for file in sorted((folder / name).iterdir())
                    if file.is_file() and file.name.endswith(WEIGHT_SUFFIXES) and not _is_plain(file.name)]
             for name in bare}
    shared = set.intersection(*({_variant_name(file) for file in files} for files in found.values()))
    if not shared:
        return
    variant = sorted(shared)[0]
    files = first_few(name + file for name, names in found.items() for file in names if _is_variant(file, variant))
    raise ValueError(f"{where} has no plain weight files (*.safetensors, *.bin) in {', '.join(bare)}, only "
                     f"variant {variant!r} ones ({files}): set images.diffusers.variant = \"{variant}\"")


def _variant_name(file_name: str) -> str:
    return file_name.split(".")[1].split("-")[0]  # model.fp16-00001-of-00002.safetensors -> fp16


def _weight_files(component: Path, variant: str | None) -> list[str]:
    """The names of the weight files from_pretrained would load here: plain ones, or the variant's."""
    return [file.name for file in component.iterdir() if file.is_file() and file.name.endswith(WEIGHT_SUFFIXES)
            and (_is_plain(file.name) or _is_variant(file.name, variant))]


def _is_plain(file_name: str) -> bool:
    return file_name.count(".") == 1  # model.safetensors, model-00001-of-00002.safetensors


def _is_variant(file_name: str, variant: str | None) -> bool:
    # diffusers' test: the second dot-part starts with the variant (model.fp16-00001-of-00002.safetensors)
    parts = file_name.split(".")
    return variant is not None and len(parts) > 2 and parts[1].startswith(variant)


def card_defaults(model: str) -> tuple[str, int, float, int | None] | None:
    """(family, steps, guidance, max_sequence_length) for a model named like a known card."""
    name = model.lower()
    return next((rest for fragment, *rest in CARD_DEFAULTS if fragment in name), None)


def resolve_family(model: str, declared: str) -> Family:
    """The model's family: declared, else from its model_index.json, else from its name.

    Raises ValueError (one line) for a pipeline that is not a known text-to-image one, or a path to
    a file (a single-file checkpoint): asking it for a family would send the user the wrong way first.
    """
    if Path(model).is_file():
        raise ValueError(f"model {model} is a file, not a diffusers model folder or a hub id")
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
    if by_name is None and not _looks_like_hub_id(model) and not Path(model).exists():
        raise ValueError(f"model {model} does not exist (neither a folder nor a hub id like 'owner/name')")
    if by_name is None:
        raise ValueError(f"cannot tell the model family of {model!r} (no model_index.json in the "
                         f"folder or the local cache): set family = one of {', '.join(FAMILIES)}")
    return FAMILIES[by_name[0]]
