"""Checks of what a valid config still needs from outside it (API keys, a writable answer cache,
usable pool images), made before any work starts: a missing key would otherwise fail every
item, batch after batch."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from pipeline.config import LLM_ROLES, BuildConfig

SHOWN_MODELS = 8  # OpenAI lists about a hundred


def check_llm_ready(settings: BuildConfig, backends: Iterable[str] = tuple(LLM_ROLES)) -> None:
    """Raises ValueError naming the first unset API key variable of an LLM role these backends
    call, or an answer cache that could not be opened."""
    roles = [role for backend in backends if getattr(settings.backends, backend) == "llm"
             for role in LLM_ROLES[backend]]
    if roles and settings.llm.cache:
        check_writable_file(settings.llm.resolved_cache_path(), "the LLM answer cache")
    pool = settings.images.pool
    if "seed_writer" in roles and pool is not None and pool.image_first:
        roles.append("image_query_writer")
    for role in roles:
        name, endpoint = settings.llm.endpoint_of(role)
        if not os.environ.get(endpoint.api_key_env):
            raise ValueError(f"environment variable {endpoint.api_key_env} is not set "
                             f"(the API key of LLM endpoint {name!r}, used by the {role} role)")
    check_models_served(settings, roles)


def check_models_served(settings: BuildConfig, roles: list[str]) -> None:
    """Raises ValueError when an endpoint lists the models it serves and a role's model is not among
    them. llama.cpp's server answers any model name and echoes it back, so records would name a model
    that never ran. An endpoint that cannot be asked (down, no /models) is not judged here: its
    requests fail, or succeed, on their own."""
    wanted: dict[str, set[tuple[str, str]]] = {}
    for role in roles:
        name, _ = settings.llm.endpoint_of(role)
        config = settings.llm.role(role)
        wanted.setdefault(name, set()).update((role, model) for model in (config.model, *config.fallback_models))
    for name, models in wanted.items():
        endpoint = settings.llm.endpoints[name]
        listed = served_models(endpoint)
        missing = sorted((role, model) for role, model in models if listed and model not in listed)
        if missing:
            role, model = missing[0]
            shown = ", ".join(sorted(listed)[:SHOWN_MODELS]) + (", ..." if len(listed) > SHOWN_MODELS else "")
            raise ValueError(f"LLM endpoint {name!r} ({endpoint.base_url}) serves {shown}, "
                             f"not {model!r}, which the {role} role asks for")


def served_models(endpoint) -> set[str]:
    """The model ids the endpoint's GET /models lists; empty when it lists none or cannot be asked."""
    import httpx

    try:
        response = httpx.get(f"{endpoint.base_url.rstrip('/')}/models", timeout=5,
                             headers={"Authorization": f"Bearer {os.environ.get(endpoint.api_key_env, '')}"})
        if response.status_code != 200:
            return set()
        return {entry["id"] for entry in response.json().get("data", []) if isinstance(entry, dict) and "id" in entry}
    except (httpx.HTTPError, ValueError, AttributeError, TypeError):
        return set()


def check_writable_file(path: Path, what: str) -> None:
    """Raises ValueError unless `path` can be opened for writing, its folders made as needed;
    creates nothing, so a run stopped by a later check leaves no trace."""
    existing = next(folder for folder in (path, *path.parents) if folder.exists())
    if existing != path and not existing.is_dir():
        problem = "not a folder"
    elif existing == path and path.is_dir():
        problem = "a folder"
    elif not os.access(existing, os.R_OK | os.W_OK if existing == path else os.W_OK | os.X_OK):
        problem = "not writable"
    else:
        return
    raise ValueError(f"{what} {path} cannot be written: {existing} is {problem}")


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
    check_model_files(diffusers.model, diffusers.local_files_only)
    resolve_devices(diffusers.devices, diffusers.allow_cpu)  # checks each listed device too
    check_gpu_placement(settings.runner, build_gpus(settings))


def check_build_ready(settings: BuildConfig) -> None:
    check_llm_ready(settings)
    check_image_model(settings)
    if settings.backends.images == "pool":
        from pipeline.factory import open_pool
        open_pool(settings.images.pool).require_images()  # loaded once per process: the build reuses it
