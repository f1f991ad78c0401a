"""Where and in which precision the diffusers backend runs.

A worker that a runner pinned to one GPU (Dask workers started by leakless, Ray
tasks with `num_gpus=1`) sees only that GPU, as `cuda:0`, and uses it whatever
the config's device list says: the list then names the GPUs the runner shares
out, one per worker.
"""

from __future__ import annotations

import os
from typing import Literal

PINNED_ENV = "LEAKLESS_PINNED_GPU"  # set by the runner in a worker it gave one GPU


class CPURefused(ValueError):
    """diffusers would run on the CPU and the config did not allow it."""


def resolve_devices(devices: Literal["auto"] | list[str], allow_cpu: bool = False) -> list[str]:
    """The devices to load a pipeline on, one worker each."""
    import torch

    if os.environ.get(PINNED_ENV):
        chosen = ["cuda:0"] if torch.cuda.device_count() else ["cpu"]
    elif devices != "auto":
        check_devices(devices)
        chosen = list(devices)
    else:
        count = torch.cuda.device_count()
        chosen = [f"cuda:{index}" for index in range(count)] if count else ["cpu"]
    if not allow_cpu and any(not device.startswith("cuda") for device in chosen):
        raise CPURefused("images.diffusers would run on the CPU (no CUDA device is visible, or devices "
                         "names the CPU), which takes minutes an image at real sizes: set "
                         "images.diffusers.allow_cpu = true to run anyway")
    return chosen


def check_devices(devices: list[str]) -> None:
    """Raises ValueError (one line) for a device string torch cannot parse, a device that is
    neither CUDA nor the CPU, or a CUDA device this machine does not have."""
    import torch

    count = torch.cuda.device_count()  # 0 where torch has no CUDA or sees no GPU
    for device in devices:
        try:
            parsed = torch.device(device)
        except (RuntimeError, TypeError):
            raise ValueError(f"images.diffusers.devices: {device!r} is not a device torch knows "
                             f"(write e.g. 'cuda:0', 'cuda:1' or 'cpu')") from None
        if parsed.type not in ("cuda", "cpu"):
            raise ValueError(f"images.diffusers.devices: {device!r} is a {parsed.type} device; leakless "
                             f"runs diffusers on CUDA GPUs ('cuda:0', ...) or the CPU ('cpu')")
        if parsed.type != "cuda":
            continue
        if not count:
            raise ValueError(f"images.diffusers.devices names {device!r}, but this machine has no CUDA "
                             f"device (torch {torch.__version__} sees none)")
        if (parsed.index or 0) >= count:
            raise ValueError(f"images.diffusers.devices names {device!r}, but this machine has "
                             f"{count} CUDA device(s): cuda:0 to cuda:{count - 1}")


def gpu_indices(devices: Literal["auto"] | list[str]) -> list[int]:
    """The GPU indices a build shares out among its workers (empty when it runs on CPU)."""
    import torch

    if devices == "auto":
        return list(range(torch.cuda.device_count()))
    return [int(device.partition(":")[2] or 0) for device in devices if device.startswith("cuda")]


def resolve_dtype(dtype: str, device: str):
    import torch

    if dtype != "auto":
        return getattr(torch, dtype)
    if not device.startswith("cuda"):
        return torch.float32  # half precision on CPU is slow and poorly supported
    # `is_bf16_supported()` also counts emulation (V100, T4): there bf16 is slow, fp16 is native.
    major, _ = torch.cuda.get_device_capability(device)
    return torch.bfloat16 if major >= 8 else torch.float16
