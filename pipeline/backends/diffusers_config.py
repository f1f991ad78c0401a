"""Settings of the diffusers image backend, apart from it so reading a config never imports torch."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field


class DiffusersConfig(BaseModel):
    """Defaults follow the SD3.5 Large model card (28 steps, guidance 3.5, 1024 px)."""

    model_config = ConfigDict(extra="forbid")

    model: str = "stabilityai/stable-diffusion-3.5-large"  # hub id or local folder
    steps: int = Field(28, ge=1)
    guidance: float = Field(3.5, ge=0)
    width: int = Field(1024, ge=8)
    height: int = Field(1024, ge=8)
    batch_size: int = Field(4, ge=1)
    dtype: Literal["auto", "bfloat16", "float16", "float32"] = "auto"
    cpu_offload: bool = False  # needs `accelerate`; trades speed for GPU memory
    # "auto": one worker per visible GPU (else the CPU); or a list such as ["cuda:0", "cuda:2"]
    devices: Literal["auto"] | Annotated[list[str], Field(min_length=1)] = "auto"
    local_files_only: bool = True  # never reach for the hub unless asked to
