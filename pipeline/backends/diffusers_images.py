"""Text-to-image with any diffusers pipeline (SD3.5, SDXL, FLUX, ...), chosen by its config.

The model is loaded with `DiffusionPipeline.from_pretrained`, from a hub id
(already in the local cache) or a folder; the tests load a tiny random-weight
folder through this same call. Every item gets its own `torch.Generator`
seeded from its request, so an item's image does not depend on the run.
"""

from __future__ import annotations

import threading
import time
import warnings
from concurrent.futures import ThreadPoolExecutor
from typing import Literal

from pipeline.backends.base import GeneratedImage, ImageGenerator, ImageRequest
from pipeline.backends.diffusers_config import DiffusersConfig
from pipeline.contracts import ItemError
from pipeline.images.checks import image_identity, is_all_black


def resolve_devices(devices: Literal["auto"] | list[str]) -> list[str]:
    import torch

    if devices != "auto":
        return list(devices)
    count = torch.cuda.device_count()
    return [f"cuda:{index}" for index in range(count)] if count else ["cpu"]


def resolve_dtype(dtype: str, device: str):
    import torch

    if dtype != "auto":
        return getattr(torch, dtype)
    if not device.startswith("cuda"):
        return torch.float32  # half precision on CPU is slow and poorly supported
    return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16


class DiffusersImageGenerator(ImageGenerator):
    backend = "diffusers"

    def __init__(self, config: DiffusersConfig | None = None):
        self.config = config or DiffusersConfig()
        self.model = self.config.model
        self.devices = resolve_devices(self.config.devices)
        self._pipelines: list | None = None
        self._load_lock = threading.Lock()
        # A pipeline is not thread-safe (its scheduler keeps per-call state), and task
        # threads may share this generator: one call at a time per device.
        self._device_locks = [threading.Lock() for _ in self.devices]

    @property
    def pipelines(self) -> list:
        """One loaded pipeline per device, loaded on first use."""
        with self._load_lock:
            if self._pipelines is None:
                self._pipelines = [self._load(device) for device in self.devices]
        return self._pipelines

    def _load(self, device: str):
        from diffusers import DiffusionPipeline

        with warnings.catch_warnings():
            # Recent diffusers renamed `torch_dtype` to `dtype` (with a FutureWarning); the
            # old name works on every version we support, the new one only on recent ones.
            warnings.filterwarnings("ignore", message=".*torch_dtype.*", category=FutureWarning)
            pipe = DiffusionPipeline.from_pretrained(
                self.config.model, torch_dtype=resolve_dtype(self.config.dtype, device),
                local_files_only=self.config.local_files_only,
            )
        if self.config.cpu_offload and device.startswith("cuda"):
            pipe.enable_model_cpu_offload(device=device)
        else:
            pipe.to(device)
        pipe.set_progress_bar_config(disable=True)
        return pipe

    def generate(self, requests: list[ImageRequest]) -> list[GeneratedImage | ItemError]:
        size = self.config.batch_size
        batches = [requests[start:start + size] for start in range(0, len(requests), size)]
        pipelines = self.pipelines

        def run_share(device_index: int) -> dict[int, list]:
            # Batches are dealt round-robin; each device's worker runs its share in order.
            pipe = pipelines[device_index]
            with self._device_locks[device_index]:
                return {index: self._generate_batch(pipe, batches[index])
                        for index in range(device_index, len(batches), len(pipelines))}

        if len(pipelines) == 1:
            # In the caller's thread: a worker thread would start a second OpenMP team,
            # whose idle spinning slows the first one badly on a small CPU.
            shares = [run_share(0)]
        else:
            with ThreadPoolExecutor(max_workers=len(pipelines)) as pool:
                shares = list(pool.map(run_share, range(len(pipelines))))
        done = {index: results for share in shares for index, results in share.items()}
        return [result for index in range(len(batches)) for result in done[index]]

    def _generate_batch(self, pipe, batch: list[ImageRequest]) -> list[GeneratedImage | ItemError]:
        import torch

        config = self.config
        # CPU generators: the same seed gives the same starting noise on any device.
        generators = [torch.Generator("cpu").manual_seed(request.seed) for request in batch]
        started = time.perf_counter()
        try:
            output = pipe(
                prompt=[request.prompt for request in batch], generator=generators,
                num_inference_steps=config.steps, guidance_scale=config.guidance,
                width=config.width, height=config.height, output_type="pil",
            )
        except (RuntimeError, ValueError) as error:  # e.g. CUDA out of memory: the batch fails, not the run
            return [ItemError(f"diffusers failed on this batch: {error}") for _ in batch]
        seconds = (time.perf_counter() - started) / len(batch)
        flagged = getattr(output, "nsfw_content_detected", None) or [False] * len(batch)
        return [self._finish(request, image, bool(is_flagged), seconds)
                for request, image, is_flagged in zip(batch, output.images, flagged)]

    def _finish(self, request: ImageRequest, image, flagged: bool,
                seconds: float) -> GeneratedImage | ItemError:
        if flagged:
            return ItemError("the pipeline's safety checker flagged the image (nsfw_content_detected)")
        if is_all_black(image):
            return ItemError("the generated image is all black (a failed decode or a blanked output)")
        png, identity = image_identity(image)
        meta = {"model": self.model, "seed": request.seed, "steps": self.config.steps,
                "guidance": self.config.guidance, "seconds": round(seconds, 4), **identity}
        return GeneratedImage(png=png, meta=meta)
