"""Checks of what a valid config still needs from outside it (API keys, LLM servers that answer,
a writable answer cache, usable pool images), made before any work starts: a missing key or a
server that is down would otherwise fail every item, batch after batch."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from pipeline.config import LLM_ROLES, BuildConfig, ConfigError

if TYPE_CHECKING:
    from pipeline.rundir import RunDir

SHOWN_MODELS = 8  # OpenAI lists about a hundred


def check_llm_ready(settings: BuildConfig, backends: Iterable[str] = tuple(LLM_ROLES)) -> None:
    """Raises ValueError naming the first unset API key variable of an LLM role these backends
    call, an answer cache that could not be opened, or an endpoint that cannot be used or does not
    serve a role's model (`check_models_served`)."""
    roles = [role for backend in backends if getattr(settings.backends, backend) == "llm"
             for role in LLM_ROLES[backend]]
    pool = settings.images.pool
    if "seed_writer" in roles and pool is not None and pool.image_first:
        roles.append("image_query_writer")
    check_roles_ready(settings, roles)


def check_roles_ready(settings: BuildConfig, roles: list[str]) -> None:
    """`check_llm_ready` for these LLM roles by name (the release's pair checker is no build backend)."""
    if roles and settings.llm.cache:
        check_writable_file(settings.llm.resolved_cache_path(), "the LLM answer cache")
    for role in roles:
        name, endpoint = settings.llm.endpoint_of(role)
        if not os.environ.get(endpoint.api_key_env):
            raise ValueError(f"environment variable {endpoint.api_key_env} is not set "
                             f"(the API key of LLM endpoint {name!r}, used by the {role} role)")
    check_models_served(settings, roles)


def check_models_served(settings: BuildConfig, roles: list[str]) -> None:
    """Raises ValueError when an endpoint cannot be used at all (`listed_models`), or lists the
    models it serves and a role's model is not among them. llama.cpp's server answers any model name
    and echoes it back, so records would name a model that never ran."""
    wanted: dict[str, set[tuple[str, str]]] = {}
    for role in roles:
        name, _ = settings.llm.endpoint_of(role)
        config = settings.llm.role(role)
        wanted.setdefault(name, set()).update((role, model) for model in (config.model, *config.fallback_models))
    for name, models in wanted.items():
        endpoint = settings.llm.endpoints[name]
        listed = listed_models(name, endpoint)
        missing = sorted((role, model) for role, model in models if listed and model not in listed)
        if missing:
            role, model = missing[0]
            shown = ", ".join(sorted(listed)[:SHOWN_MODELS]) + (", ..." if len(listed) > SHOWN_MODELS else "")
            raise ValueError(f"LLM endpoint {name!r} ({endpoint.base_url}) serves {shown}, "
                             f"not {model!r}, which the {role} role asks for")


class EndpointUnusable(ValueError):
    """Every request to the endpoint would fail: it is down, refuses the key, or is no such API."""


def served_models(endpoint) -> set[str]:
    """`listed_models`, or nothing for an endpoint that cannot be used: `leakless evaluate` records
    that model's failed requests rather than refusing the whole run for one model's server."""
    try:
        return listed_models("", endpoint)
    except EndpointUnusable:
        return set()


def listed_models(name: str, endpoint) -> set[str]:
    """The model ids the endpoint's GET /models lists; empty when it lists none, has no /models,
    or is too slow to say (its requests then fail, or succeed, on their own). Raises EndpointUnusable
    when it cannot be reached or refuses the key, or base_url is no OpenAI-compatible API: a build
    would spend minutes retrying, then record every item failed."""
    import httpx

    where = f"LLM endpoint {name!r} ({endpoint.base_url})" if name else f"LLM endpoint {endpoint.base_url}"
    try:
        listing = ask(endpoint, "GET", "models")
        # /models alone may be missing or off-limits (a key scoped to chat): the chat endpoint decides,
        # asked with an empty body, which a server refuses before generating anything
        chat = ask(endpoint, "POST", "chat/completions") if listing.status_code in REFUSED_KEY | NOT_THERE else None
    except httpx.ConnectError as error:
        raise EndpointUnusable(f"{where} cannot be reached ({' '.join(str(error).split())}); "
                               f"is its server running?") from None
    except httpx.HTTPError:
        return set()
    if chat is not None:
        check_chat_answers(where, endpoint, listing.status_code, chat)
    return model_ids(listing)


REFUSED_KEY = {401, 403}
NOT_THERE = {404, 405}  # 405: a server that has the path for other methods only


def ask(endpoint, method: str, path: str, body: dict | None = None, timeout_s: float = 5):
    import httpx

    return httpx.request(method, f"{endpoint.base_url.rstrip('/')}/{path}", timeout=timeout_s,
                         json=(body or {}) if method == "POST" else None,
                         headers={"Authorization": f"Bearer {os.environ.get(endpoint.api_key_env, '')}"})


def check_chat_answers(where: str, endpoint, models_status: int, chat) -> None:
    from pipeline.llm.sending import scrub_key
    from pipeline.llm.transport import error_message

    said = f"GET /models said {models_status}, POST /chat/completions {chat.status_code}"
    if chat.status_code in REFUSED_KEY:
        reason = scrub_key(" ".join(error_message(chat.text).split())[:200], os.environ.get(endpoint.api_key_env, ""))
        raise EndpointUnusable(f"{where} refuses the API key in {endpoint.api_key_env} ({said}: {reason}); "
                               f"set {endpoint.api_key_env} to a key it accepts")
    if chat.status_code in NOT_THERE:
        raise EndpointUnusable(f"{where}: no OpenAI-compatible API there ({said}); does base_url end in /v1?")


class ProbeInconclusive(Exception):
    """The server's answers cannot tell whether it reads images."""


def check_reads_images(who: str, endpoint, refusal: str) -> str | None:
    """Asks the endpoint's model the same short question twice, with an image and alone, as the
    answerer role sends it. A server that reads the image counts its tokens in prompt_tokens; one
    that drops a message with an image part (llama.cpp's chatml template does, text included, without
    an error) counts fewer. Raises ValueError (ending in `refusal`) when the image version is not the
    longer; returns a note when the answers cannot tell (no usage reported, a request that failed)."""
    try:
        with_image, alone = (prompt_tokens(endpoint, messages) for messages in probe_messages())
    except ProbeInconclusive as why:
        return f"could not check that {who} reads images: {why}"
    if with_image <= alone:
        raise ValueError(f"{who} at {endpoint.base_url} drops messages that carry an image (prompt_tokens "
                         f"{with_image} with an image, {alone} for the same text alone), so it would answer an "
                         f"empty prompt: {refusal}")
    return None


def probe_messages() -> tuple[list[dict], list[dict]]:
    import io

    from PIL import Image

    from pipeline.llm.messages import RolePrompt
    from pipeline.llm.roles import AnswererInput, get_role

    picture = io.BytesIO()
    Image.new("RGB", (64, 64), (200, 60, 40)).save(picture, format="PNG")
    question = AnswererInput(instruction="What colour is this picture?", image_png=picture.getvalue())
    prompt = RolePrompt(get_role("answerer"), schema_in_prompt=False)
    return prompt.messages(question), prompt.messages(question, with_image=False)


def prompt_tokens(endpoint, messages: list[dict]) -> int:
    import httpx

    body = {"model": endpoint.model, "messages": messages, "max_tokens": 1, "temperature": 0}
    try:
        response = ask(endpoint, "POST", "chat/completions", body, timeout_s=endpoint.timeout_s)
    except httpx.HTTPError as error:
        raise ProbeInconclusive(f"{type(error).__name__}") from None
    if response.status_code != 200:
        raise ProbeInconclusive(f"HTTP {response.status_code}")
    try:
        return int(response.json()["usage"]["prompt_tokens"])
    except (ValueError, KeyError, TypeError):
        raise ProbeInconclusive("its server reports no prompt_tokens") from None


def model_ids(listing) -> set[str]:
    if listing.status_code != 200:
        return set()
    try:
        return {entry["id"] for entry in listing.json().get("data", []) if isinstance(entry, dict) and "id" in entry}
    except (ValueError, AttributeError, TypeError):
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
    check_model_files(diffusers.model, diffusers.local_files_only, diffusers.variant)
    resolve_devices(diffusers.devices, diffusers.allow_cpu)  # checks each listed device too
    check_gpu_placement(settings.runner, build_gpus(settings))


def check_prompt_files(settings: BuildConfig, resuming: RunDir | None = None) -> list[str]:
    """Raises ConfigError (or FileNotFoundError) naming the first prompt file the build reads that
    would stop it midway: a role's template that does not compile or render a sample input, a table
    that is no TOML, or seed query cores too few for run.queries_per_seed (`check_seed_cores`: a
    note for a run made before that check)."""
    from pipeline.prompts import read_prompt_table
    from pipeline.rundir import build_prompt_files

    for name in build_prompt_files(settings):
        if name.endswith(".j2"):
            check_role_template(name.removesuffix(".j2"))
        else:
            read_prompt_table(name)
    return check_seed_cores(settings, resuming) if settings.backends.seed_writer == "templates" else []


def check_role_template(role_name: str) -> None:
    import jinja2

    from pipeline.llm.messages import RolePrompt
    from pipeline.llm.roles import get_role
    from pipeline.prompts import prompt_path, template_line

    role, template = get_role(role_name), None
    try:
        prompt = RolePrompt(role, schema_in_prompt=False)
        template = prompt.template
        for sample in sample_inputs(role.input_type):
            prompt.messages(sample)
    except (jinja2.TemplateError, AttributeError) as error:
        line = template_line(error, template) if isinstance(error, jinja2.TemplateError) else None
        where = f"{prompt_path(role.template)}{f':{line}' if line else ''}"
        problem = " ".join(str(error).split()) or type(error).__name__
        raise ConfigError(f"{where}: {problem} (rendering a sample {role_name} input; "
                          "a template sets `system` and `user`: docs/llm.md)") from None


def sample_inputs(input_type: type) -> list:
    """An input with every field filled and one with only the required ones, so both sides of a
    template's `{% if %}` render. Made without validation: image_png stays empty, it is not rendered."""
    fields = {name: field for name, field in input_type.model_fields.items() if name != "image_png"}
    filled = {name: _sample(name, field) for name, field in fields.items()}
    required = {name: value for name, value in filled.items() if fields[name].is_required()}
    return [input_type.model_construct(**values, image_png=None) for values in (filled, required)]


def _sample(name: str, field) -> object:
    default = None if field.is_required() else field.get_default(call_default_factory=True)
    if field.annotation is int:
        return default or 3
    return (f"sample {name}",) if isinstance(default, (tuple, list)) else f"sample {name}"


def check_seed_cores(settings: BuildConfig, resuming: RunDir | None = None) -> list[str]:
    """The template seed writer fails each seed whose sub-category has no safety reasons, or fewer
    distinct cores for its element's kind than run.queries_per_seed. A run made with such a setting
    before leakless checked it (`resuming`, made with this config) is finished as it was made, with
    a note: its other batches were built with it, and the user asked for that run."""
    from pipeline.backends.offline_text import SEED_TEMPLATES, TemplateSeedWriter
    from pipeline.plan import choose_elements
    from pipeline.prompts import prompt_path

    wanted, where = settings.run.queries_per_seed, prompt_path(SEED_TEMPLATES)
    writer = TemplateSeedWriter(wanted)
    kinds = sorted({(item.element.sub_category, item.element.kind) for item in choose_elements(settings).chosen})
    for sub in dict.fromkeys(sub for sub, _ in kinds):
        if not writer.safety_reasons(sub):
            raise ConfigError(f"{where} has no safety_reasons for {sub!r} (a sub-category needs a table there: "
                              "docs/elements.md)")
    have, sub, kind = min(((len(writer.cores(sub, kind)), sub, kind) for sub, kind in kinds), default=(wanted, "", ""))
    if have >= wanted:
        return []
    short = f"run.queries_per_seed = {wanted}, but {where} has {have} distinct {kind!r} cores for {sub!r}"
    instead = (f"at most {have} with the chosen sub-categories" if have else
               "a sub-category needs them for each kind of its elements (docs/elements.md)")
    if resuming is not None and resuming.made_with(settings):
        return [f"run {resuming.run_id} was made before leakless refused this setting ({short}): it is finished as "
                f"it was made, and its seeds short of cores fail again; for their pairs, build under a new --run-id "
                f"with run.queries_per_seed {instead}"]
    raise ConfigError(f"{short}: {instead}{made_before_the_check(settings)}")


def made_before_the_check(settings: BuildConfig) -> str:
    """Names the unfinished runs made with this config, which leakless let through before it
    checked run.queries_per_seed, and how to finish one."""
    from pipeline.rundir import unfinished_runs

    ids = [run.run_id for run in unfinished_runs(settings)]
    if not ids:
        return ""
    more = f" (and {len(ids) - 1} more)" if len(ids) > 1 else ""
    return (f"; run {ids[0]}{more} was made with it before leakless checked this: "
            f"this command with `--run-id {ids[0]}` (the same --config and --set) finishes it as it was made")


def check_runs_folder(settings: BuildConfig) -> None:
    """run.runs_dir is a folder, or can be made as one, that can be written."""
    path = Path(settings.run.runs_dir)
    existing = next(folder for folder in (path, *path.absolute().parents) if folder.exists())
    if not existing.is_dir():
        raise ConfigError(f"run.runs_dir {path} cannot be made: {existing} is not a folder")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise ConfigError(f"run.runs_dir {path} cannot be written: {existing} is not writable")


def check_build_ready(settings: BuildConfig, resuming: RunDir | None = None) -> list[str]:
    """Raises on the first thing the build would fail on; returns notes for the user. `resuming`:
    the run the build makes or finishes, when known."""
    notes = check_prompt_files(settings, resuming)
    check_runs_folder(settings)
    check_llm_ready(settings)
    check_image_model(settings)
    if settings.backends.images == "pool":
        from pipeline.factory import open_pool
        open_pool(settings.images.pool).require_images()  # loaded once per process: the build reuses it
    return notes
