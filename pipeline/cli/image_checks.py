"""Checks of the image backend made before a build starts: the diffusers model is there to load
on a device this machine has, a resumed run's images came from the files its model folder holds
now, and a diffusers section that the image backend would ignore is named."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pipeline.config import BuildConfig

if TYPE_CHECKING:
    from pipeline.rundir import RunDir


def check_image_model(settings: BuildConfig) -> None:
    """Raises ValueError when the diffusers model is not there to load (a missing folder or
    component, a hub id not in the local cache while offline), a device is not one this machine
    has, diffusers would run on the CPU unasked, or the runner cannot give each worker its own GPU."""
    if settings.backends.images != "diffusers":
        return
    from pipeline.backends.diffusers_devices import resolve_devices
    from pipeline.backends.diffusers_families import check_model_files
    from pipeline.runners import build_gpus, check_gpu_placement

    diffusers = settings.images.diffusers
    check_model_files(diffusers.model, diffusers.local_files_only, diffusers.variant)
    resolve_devices(diffusers.devices, diffusers.allow_cpu)  # checks each listed device too
    check_gpu_placement(settings.runner, build_gpus(settings))


def changed_model_files_note(settings: BuildConfig, resuming: RunDir | None) -> str | None:
    """When the resumed run has images made from other files of its local diffusers model folder than
    the folder holds now (new weights copied over it): that they are made again, every batch's
    (`ImageStage.outdated`), so the run's images all come from one checkpoint."""
    if settings.backends.images != "diffusers" or resuming is None:
        return None
    from pipeline.images.model_files import model_files_fingerprint
    from pipeline.stages.images import made_with_other_files

    model = settings.images.diffusers.model
    seed_ids = [note.stem for note in sorted((resuming.path / "images").glob("*.json"))]
    changed = made_with_other_files(resuming.path, seed_ids, {"model": model,
                                                             "model_files": model_files_fingerprint(model)})
    if not changed:
        return None
    return (f"{len(changed)} of run {resuming.run_id}'s images were made from other files of {model} than "
            "it holds now (new weights copied over the folder?): they are made again with these")


def unused_diffusers_note(settings: BuildConfig) -> str | None:
    """A config that sets [images.diffusers] while the images come from another backend: the build
    runs without a word otherwise, and its manifest carries the section as if a model had run."""
    if settings.backends.images == "diffusers" or "diffusers" not in settings.images.model_fields_set:
        return None
    return (f"[images.diffusers] is set, but backends.images = {settings.backends.images!r}: its settings are "
            "unused (set backends.images = \"diffusers\" to make the images with that model)")
