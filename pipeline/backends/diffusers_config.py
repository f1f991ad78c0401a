"""Settings of the diffusers image backend, apart from it so reading a config never imports torch."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator

from pipeline.backends.diffusers_families import FAMILIES, Family, card_defaults, resolve_family
from pipeline.env import expand_home
from pipeline.settings import StrictSettings


# Pixels a side: SD3.5 and FLUX are trained at about 1 megapixel; 4096 px is already 16 of those.
MAX_SIDE = 4096


class DiffusersConfig(StrictSettings):
    """Settings left empty take the model family's defaults (its model card's where the
    model is a known hub id); the family comes from the model's model_index.json. Values are
    taken as written, as in the rest of the config (`steps = true` was 1 step)."""

    model: str = "stabilityai/stable-diffusion-3.5-large"  # hub id or local folder
    family: Literal["auto", "sd", "sdxl", "sd3", "flux"] = "auto"
    steps: int | None = Field(None, ge=1)
    guidance: float | None = Field(None, ge=0)
    negative_prompt: str | None = None
    max_sequence_length: int | None = Field(None, ge=1, le=512)
    variant: str | None = None  # e.g. "fp16": load the weight files saved under that variant
    width: int = Field(1024, ge=8, le=MAX_SIDE)
    height: int = Field(1024, ge=8, le=MAX_SIDE)
    batch_size: int = Field(4, ge=1)
    dtype: Literal["auto", "bfloat16", "float16", "float32"] = "auto"
    cpu_offload: bool = False  # enable_model_cpu_offload (accelerate): less GPU memory, slower
    vae_slicing: bool = False  # decode a batch one image at a time: less GPU memory at the end
    # "auto": one worker per visible GPU (else the CPU); or a list such as ["cuda:0", "cuda:2"]
    devices: Literal["auto"] | Annotated[list[str], Field(min_length=1)] = "auto"
    allow_cpu: bool = False  # running on CPU takes minutes an image at real sizes: say so to do it
    local_files_only: bool = True  # never reach for the hub unless asked to

    @field_validator("model", mode="before")
    @classmethod
    def _home_folder(cls, value):
        # A hub id never starts with "~"; left as written, "~/models/sd35" was "does not exist".
        return str(expand_home(Path(value))) if isinstance(value, str) and value.startswith("~") else value

    @field_validator("devices", mode="before")
    @classmethod
    def _devices_shape(cls, value):
        # Before the union's own checks, whose message for anything but "auto" or a list of text
        # is "Input should be 'auto'".
        problem = _devices_problem(value)
        if problem:
            raise ValueError(problem)
        return value

    @model_validator(mode="after")
    def _family_defaults_and_rules(self) -> DiffusersConfig:
        family = resolve_family(self.model, self.family)
        self.family = family.name
        card = card_defaults(self.model)
        _, steps, guidance, max_length = card if card and card[0] == family.name else (
            None, family.steps, family.guidance, family.max_sequence_length)
        self.steps = self.steps if self.steps is not None else steps
        self.guidance = self.guidance if self.guidance is not None else guidance
        _check_family_rules(self, family)
        if family.max_sequence_length is not None and self.max_sequence_length is None:
            self.max_sequence_length = max_length
        return self

    @property
    def family_spec(self) -> Family:
        return FAMILIES[self.family]


def _devices_problem(value) -> str | None:
    if isinstance(value, str):
        return None if value == "auto" else f"{value!r} is not a list: write [{value!r}], or \"auto\""
    if not isinstance(value, list):
        return f"{value!r} is not a list of devices: write one such as [\"cuda:0\"], or \"auto\""
    if not value:
        return ("an empty list names no device: list at least one, e.g. [\"cuda:0\"], "
                "or write \"auto\" (one worker per visible GPU)")
    wrong = [device for device in value if not isinstance(device, str)]
    return f"{wrong[0]!r} is not a device name: write names as text, e.g. \"cuda:0\" or \"cpu\"" if wrong else None


def _check_family_rules(config: DiffusersConfig, family: Family) -> None:
    for side in ("width", "height"):
        value = getattr(config, side)
        if value % family.size_multiple:
            raise ValueError(f"{side} = {value}: {family.name} models need a multiple of "
                             f"{family.size_multiple}")
    if config.negative_prompt is not None and not family.negative_prompt:
        raise ValueError(f"negative_prompt: {family.name} models take no negative prompt")
    if config.max_sequence_length is not None and family.max_sequence_length is None:
        raise ValueError(f"max_sequence_length: {family.name} models have no T5 prompt encoder")
