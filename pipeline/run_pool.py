"""A run's image pool across resumes (docs/images.md): the image-first seeds it last planned, and the pool
files its retrieval served element-first seeds. A resume names what changed in the pool since, and the
batches that changed files served are made again from retrieval on."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

from pipeline.contracts import StageName
from pipeline.records import Seed
from pipeline.storage import atomic_write_json

if TYPE_CHECKING:
    from pipeline.rundir import RunDir


def record_pool_seeds(run: RunDir, seeds: list[Seed]) -> None:
    """Record the image-first seeds among `seeds` (the plan this build runs), for the next resume's note."""
    if any(seed.image_path for seed in seeds):
        atomic_write_json(run.pool_seeds_record, _pool_seeds(seeds, _pool_folder(run)))


def pool_changes_note(run: RunDir, seeds: list[Seed]) -> str | None:
    """What a resume with `seeds` builds otherwise than the run last did because the image pool
    changed (docs/images.md: new pixels or an edited caption make a new image-first seed, and a
    retrieved image so changed is retrieved again), or None."""
    changes = [change for change in (_image_first_changes(run, seeds), _retrieval_changes(run)) if change]
    if not changes:
        return None
    return f"the image pool changed since run {run.run_id} last ran: {'; and '.join(changes)}"


def _image_first_changes(run: RunDir, seeds: list[Seed]) -> str | None:
    if not run.pool_seeds_record.exists():
        return None
    before = json.loads(run.pool_seeds_record.read_text(encoding="utf-8"))  # an older run wrote base names: shown only
    now = _pool_seeds(seeds, _pool_folder(run))
    gone, new = sorted(before.keys() - now.keys()), sorted(now.keys() - before.keys())
    if not gone and not new:
        return None
    return (f"{len(gone)} image-first seed(s) no longer planned{_files(before, gone)}, {len(new)} "
            f"new{_files(now, new)}; the batches holding them are made again, and the pairs of seeds no "
            "longer planned leave the run with their review")


def _retrieval_changes(run: RunDir) -> str | None:
    stale = stale_retrievals(run)
    changed = sorted({file: change for seeds in stale.values() for file, change in seeds.values()}.items())
    if not changed:
        return None
    shown = ", ".join(f"{file} {change}" for file, change in changed[:3]) + (", ..." if len(changed) > 3 else "")
    return (f"{len(changed)} retrieved pool image(s) changed ({shown}); the {len(stale)} batch(es) holding "
            "their seeds are made again from retrieval on, matching those seeds against the pool as it is now")


def stale_retrievals(run: RunDir) -> dict[str, dict[str, tuple[str, str]]]:
    """Batch id -> {seed id: (pool file, how it changed)} for each batch whose retrieval served an
    element-first seed a pool file that reads otherwise now (`pool_file_change`: left the pool, new
    pixels or a new caption). The batch's pairs were written for the old caption (it became their
    description), so `claim` has it made again from retrieval on. Empty for a run that retrieves
    from no pool."""
    pool = _retrieval_pool(run)
    if pool is None:
        return {}
    from pipeline.pool.retrieval import pool_file_change

    images = {image.file: image for image in pool.images}
    stale = {}
    for checkpoint in sorted(run.path.glob(f"batches/*/{StageName.retrieval.value}.json")):
        served = (json.loads(checkpoint.read_text(encoding="utf-8")).get("image_meta") or {}).items()
        changed = {seed_id: (meta["file"], change) for seed_id, meta in served
                   if "file" in meta and (change := pool_file_change(meta, images.get(meta["file"])))}
        if changed:
            stale[checkpoint.parent.name] = changed
    return stale


def _retrieval_pool(run: RunDir):
    """The image pool the run retrieves element-first seeds' images from, as it is now; None for none."""
    config = run.stored_config() or {}
    settings = (config.get("images") or {}).get("pool")
    if (config.get("backends") or {}).get("images") != "pool" or not settings:
        return None
    from pipeline.config import PoolConfig
    from pipeline.factory import open_pool

    return open_pool(PoolConfig.model_validate(settings))


def redo_stale_retrievals(run: RunDir) -> None:
    """Forget the pool assignments of the seeds `stale_retrievals` names, so they are matched afresh
    (an assignment saved before captions were cannot tell a new caption itself), then discard their
    batches' checkpoints from retrieval on, last first as `build.run_stage` does: the resume
    retrieves those batches again and makes every later stage of them again. In that order, a
    build killed between the two finds the same batches stale next time."""
    from pipeline.factory import STAGE_ORDER
    from pipeline.pool.retrieval import forget_assignments

    stale = stale_retrievals(run)
    if not stale:
        return
    forget_assignments(run.pool_assignments, {seed_id for seeds in stale.values() for seed_id in seeds})
    order = [stage.value for stage in STAGE_ORDER]
    from_retrieval = order[order.index(StageName.retrieval.value):][::-1]
    for batch_id in stale:
        run.discard(from_retrieval, batch_id)


def _pool_folder(run: RunDir) -> Path | None:
    """The image pool folder of the run's config, which image-first seeds' paths lie under."""
    folder = (((run.stored_config() or {}).get("images") or {}).get("pool") or {}).get("folder")
    return Path(folder) if folder else None


def _pool_seeds(seeds: list[Seed], folder: Path | None) -> dict[str, str]:
    return {seed.id: _pool_file(Path(seed.image_path), folder) for seed in seeds if seed.image_path}


def _pool_file(path: Path, folder: Path | None) -> str:
    """The path within the pool folder, as pool_skipped.json names it: photo dumps repeat a base
    name across folders (2023/IMG_0001.JPG, 2024/IMG_0001.JPG)."""
    return path.relative_to(folder).as_posix() if folder and path.is_relative_to(folder) else path.name


def _files(file_of: dict[str, str], seed_ids: list[str]) -> str:
    shown = ", ".join(file_of[seed_id] for seed_id in seed_ids[:3])
    return f" ({shown}{', ...' if len(seed_ids) > 3 else ''})" if seed_ids else ""
