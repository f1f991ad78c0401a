"""Text-to-image with a diffusers pipeline of a known family (SD 1.5, SDXL, SD3.5, FLUX).

The pipeline class is read from the model's model_index.json and checked
against its family's text-to-image classes before loading; the tests load tiny
random-weight folders of each family through this same call. Every item gets
its own CPU `torch.Generator` seeded from its request, so its starting noise does
not depend on the device or the other items of its batch; the pixels may still
differ a little with the batch size, because batched kernels round differently.
"""

from __future__ import annotations

import gc
import threading
import time
import warnings
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from pipeline.backends.base import GeneratedImage, ImageGenerator, ImageRequest
from pipeline.backends.diffusers_config import DiffusersConfig
from pipeline.backends.diffusers_devices import resolve_devices, resolve_dtype
from pipeline.backends.diffusers_families import (check_model_files, class_name_in, may_download,
                                                  read_pipeline_class)
from pipeline.contracts import ItemError
from pipeline.images.checks import image_identity, is_all_black
from pipeline.messages import first_line


class DiffusersImageGenerator(ImageGenerator):
    backend = "diffusers"

    def __init__(self, config: DiffusersConfig | None = None):
        self.config = config or DiffusersConfig()
        self.model = self.config.model
        self.devices = resolve_devices(self.config.devices, self.config.allow_cpu)
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
        import diffusers

        config = self.config
        check_model_files(config.model, config.local_files_only, config.variant)  # the build's preflight did too
        class_name = read_pipeline_class(config.model)
        if class_name is None and may_download(config.model, config.local_files_only):
            from huggingface_hub import hf_hub_download  # a hub id not cached yet, downloads allowed

            class_name = class_name_in(Path(hf_hub_download(config.model, "model_index.json")))
        if class_name not in config.family_spec.pipeline_classes:
            # Config time checked the cache it could see; this is the folder actually loaded.
            raise ValueError(f"{config.model} is a {class_name or 'model without a readable _class_name'}, "
                             f"not a {config.family} text-to-image pipeline")
        with warnings.catch_warnings():
            # Recent diffusers renamed `torch_dtype` to `dtype` (with a FutureWarning); the
            # old name works on every version we support, the new one only on recent ones.
            warnings.filterwarnings("ignore", message=".*torch_dtype.*", category=FutureWarning)
            try:
                pipe = getattr(diffusers, class_name).from_pretrained(
                    config.model, torch_dtype=resolve_dtype(config.dtype, device), variant=config.variant,
                    local_files_only=config.local_files_only,
                )
            except OSError as error:  # a weight file the pre-start check found but cannot be read
                raise ValueError(f"images.diffusers.model: {config.model} cannot be loaded: "
                                 f"{first_line(error)}") from error
        if config.cpu_offload and device.startswith("cuda"):
            pipe.enable_model_cpu_offload(device=device)
        else:
            pipe.to(device)
        if config.vae_slicing:
            pipe.vae.enable_slicing()
        pipe.set_progress_bar_config(disable=True)
        return pipe

    def generate(self, requests: list[ImageRequest]) -> list[GeneratedImage | ItemError]:
        size = self.config.batch_size
        batches = [requests[start:start + size] for start in range(0, len(requests), size)]
        pipelines = self.pipelines

        def run_share(device_index: int) -> dict[int, list]:
            # Batches are dealt round-robin; each device's worker runs its share in order.
            pipe, settings = pipelines[device_index], self.settings_meta(self.devices[device_index])
            with self._device_locks[device_index]:
                return {index: self._generate_batch(pipe, batches[index], settings)
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

    def _generate_batch(self, pipe, batch: list[ImageRequest], settings: dict) -> list[GeneratedImage | ItemError]:
        """One pipeline call for the batch. A call that fails (out of GPU memory, or an error on one of
        its prompts) goes again as two halves, down to single items, so only an item that fails alone
        fails, and the others get the images a smaller `batch_size` would give."""
        import torch

        # CPU generators: the same seed gives the same starting noise on any device.
        generators = [torch.Generator("cpu").manual_seed(request.seed) for request in batch]
        started = time.perf_counter()
        try:
            output = pipe(prompt=[request.prompt for request in batch], generator=generators,
                          **self.call_arguments(len(batch)))
        except torch.cuda.OutOfMemoryError as error:  # this name exists on every torch we support
            failure, out_of_memory = f"out of GPU memory even for a batch of one: {first_line(error)}", True
        except (RuntimeError, ValueError) as error:  # the item fails, not the run
            failure, out_of_memory = f"diffusers failed on this prompt: {first_line(error)}", False
        else:
            seconds = (time.perf_counter() - started) / len(batch)
            flagged = getattr(output, "nsfw_content_detected", None) or [False] * len(batch)
            return [self._finish(request, image, bool(is_flagged), seconds, settings)
                    for request, image, is_flagged in zip(batch, output.images, flagged)]
        # Out of the except block: the exception, its traceback and the failed call's frames
        # (holding its activations) are gone, so empty_cache() can hand their blocks back
        # before the smaller retry. Inside the block they would stay alive through every retry.
        gc.collect()  # in case the failed call's objects sit in a reference cycle
        torch.cuda.empty_cache()
        if len(batch) == 1:
            # Out of memory is transient: a resume of the run makes this image again
            # (`pipeline.build.run_stage`), say with cpu_offload or on a larger GPU; the images already
            # made come back from their notes. Another error would only repeat, and a transient failure
            # reopens its batch's images stage on every resume, so it is the seed's end.
            return [ItemError(failure, transient=out_of_memory)]
        half = len(batch) // 2
        return (self._generate_batch(pipe, batch[:half], settings) +
                self._generate_batch(pipe, batch[half:], settings))

    def call_arguments(self, batch_size: int) -> dict:
        """The pipeline call's settings: only the arguments the model's family takes."""
        config = self.config
        arguments = dict(num_inference_steps=config.steps, guidance_scale=config.guidance,
                         width=config.width, height=config.height, output_type="pil")
        if config.negative_prompt is not None:
            arguments["negative_prompt"] = [config.negative_prompt] * batch_size
        if config.max_sequence_length is not None:
            arguments["max_sequence_length"] = config.max_sequence_length
        return arguments

    def settings_meta(self, device: str) -> dict:
        """What else decides the pixels on this device, for each image's meta: the precision it ran
        at (an fp16 and an fp32 run of the same seed differ) and the T5 prompt length."""
        dtype = str(resolve_dtype(self.config.dtype, device)).removeprefix("torch.")
        return {"dtype": dtype, "max_sequence_length": self.config.max_sequence_length}

    def _finish(self, request: ImageRequest, image, flagged: bool, seconds: float,
                settings: dict) -> GeneratedImage | ItemError:
        if flagged:
            return ItemError("the pipeline's safety checker flagged the image (nsfw_content_detected)")
        if is_all_black(image):
            return ItemError("the generated image is all black (a failed decode or a blanked output)")
        png, identity = image_identity(image)
        meta = {"model": self.model, "family": self.config.family, "seed": request.seed,
                "steps": self.config.steps, "guidance": self.config.guidance,
                "negative_prompt": self.config.negative_prompt, **settings, "seconds": round(seconds, 4),
                **identity}
        return GeneratedImage(png=png, meta=meta)
