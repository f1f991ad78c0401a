"""Checks of what a valid config still needs from outside it (API keys, LLM servers that answer,
a writable answer cache, usable pool images), made before any work starts: a missing key or a
server that is down would otherwise fail every item, batch after batch. Whether the folders a build
writes can be written is `pipeline.cli.writable_checks`'."""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import typer

from pipeline.cli.image_checks import changed_model_files_note, check_image_model, unused_diffusers_note
from pipeline.cli.prompt_checks import check_prompt_files
from pipeline.cli.writable_checks import check_prefect_home, check_runs_folder, check_writable_file
from pipeline.config import LLM_ROLES, BuildConfig
from pipeline.messages import first_few

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
        check_writable_file(settings.llm.resolved_cache_path(), "llm.cache_path: the LLM answer cache")
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
            shown = first_few(sorted(listed), SHOWN_MODELS)
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
    """The model ids the endpoint's GET /models lists; empty when it lists none or has no /models.
    Raises EndpointUnusable when it cannot be reached or refuses the key, or base_url is no
    OpenAI-compatible API: a build would spend minutes retrying, then record every item failed.
    A /models too slow to answer is waited for once more (`models_listing`), and then, like any other
    failed request, a `note:` line says the model names went unchecked (its requests then fail, or
    succeed, on their own)."""
    import httpx

    from pipeline.llm.transport import env_proxy, proxy_hint

    where = f"LLM endpoint {name!r} ({endpoint.base_url})" if name else f"LLM endpoint {endpoint.base_url}"
    proxy = env_proxy(endpoint.base_url)
    if proxy and urlsplit(proxy).scheme not in ("http", "https"):  # aiohttp speaks to HTTP proxies only
        raise EndpointUnusable(f"{where} would be asked through the {urlsplit(proxy).scheme} proxy of the proxy "
                               "variables, and leakless's client speaks to HTTP proxies only: name an http:// "
                               "proxy in HTTPS_PROXY/HTTP_PROXY, or add the host to NO_PROXY")
    try:
        listing = models_listing(endpoint)
        # /models alone may be missing or off-limits (a key scoped to chat): the chat endpoint decides,
        # asked with an empty body, which a server refuses before generating anything
        chat = ask(endpoint, "POST", "chat/completions") if listing.status_code in REFUSED_KEY | NOT_THERE else None
    except (httpx.ConnectError, httpx.ProxyError) as error:
        raise EndpointUnusable(f"{where} cannot be reached ({' '.join(str(error).split())})"
                               f"{proxy_hint(proxy)}; is its server running?") from None
    except ModelsUnanswered as why:
        say(f"note: {where}: {why}, so the model names asked of it could not be checked against the server "
            "(a name it does not serve would be recorded as the model that answered)")
        return set()
    except httpx.HTTPError:  # the empty-body probe only: the listing said nothing of the model names
        return set()
    if chat is not None:
        check_chat_answers(where, endpoint, listing.status_code, chat)
    return model_ids(listing)


MODELS_FIRST_WAIT_S = 5.0  # an idle server lists its models at once


class ModelsUnanswered(Exception):
    """GET /models got no answer, even after the longer wait."""


def models_listing(endpoint):
    """GET /models. A server busy answering (llama.cpp's, for another build) may take longer than
    MODELS_FIRST_WAIT_S to list them: taking that silence for "no list" let a name it does not serve
    through, recorded on every answer. So it is waited for once more, as long as a chat request would
    be (`timeout_s`), saying so on stderr. Raises ModelsUnanswered when it still does not answer, or the
    request fails otherwise than on connecting (which `listed_models` reports)."""
    import httpx

    waits = (MODELS_FIRST_WAIT_S, max(endpoint.timeout_s, MODELS_FIRST_WAIT_S))
    for attempt, wait_s in enumerate(waits):
        if attempt:
            say(f"waiting for {endpoint.base_url.rstrip('/')}/models (the server is busy; up to {wait_s:g} s)")
        try:
            return ask(endpoint, "GET", "models", timeout_s=wait_s)
        except httpx.TimeoutException:
            continue
        except (httpx.ConnectError, httpx.ProxyError):
            raise
        except httpx.HTTPError as error:
            raise ModelsUnanswered(f"GET /models failed ({type(error).__name__})") from None
    raise ModelsUnanswered(f"GET /models did not answer within {waits[-1]:g} s")


def say(line: str) -> None:
    typer.echo(line, err=True)


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

    from pipeline.llm.config import sampling

    # the sampling fields the answers go with: a reasoning model refuses `max_tokens`
    body = {"model": endpoint.model, "messages": messages, **sampling(endpoint.temperature, endpoint.token_limit, 1)}
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


def check_runner_reachable(settings: BuildConfig, timeout_s: float = 5) -> None:
    """An existing Dask scheduler or Ray cluster (runner.address) answers a TCP connection: one
    that does not failed only inside the flow, 30 s later, as a traceback, its run folder made."""
    import socket

    from pipeline.config import RAY_OWN_ADDRESSES, address_host_port

    runner = settings.runner
    if runner.kind == "threads" or not runner.address or runner.address in RAY_OWN_ADDRESSES:
        return
    host, port = address_host_port(runner.address)
    try:
        socket.create_connection((host, port), timeout=timeout_s).close()
    except OSError as error:
        raise ValueError(f"runner.address {runner.address!r}: the {runner.kind} cluster cannot be reached "
                         f"({error.strerror or error}); is its scheduler running?") from None


def check_build_ready(settings: BuildConfig, resuming: RunDir | None = None) -> list[str]:
    """Raises on the first thing the build would fail on; returns notes for the user. `resuming`:
    the run the build makes or finishes, when known."""
    notes = check_prompt_files(settings, resuming)
    check_runs_folder(settings)
    check_prefect_home()
    check_llm_ready(settings)
    check_runner_reachable(settings)
    check_image_model(settings)
    notes += list(filter(None, [changed_model_files_note(settings, resuming), unused_diffusers_note(settings),
                                harm_words_note(settings)]))
    if settings.backends.images == "pool":
        from pipeline.factory import open_pool
        open_pool(settings.images.pool).require_images()  # loaded once per process: the build reuses it
    return notes


def harm_words_note(settings: BuildConfig) -> str | None:
    """The taxonomy's categories the rules rewriter has no harm-word table for, in one note: their queries
    keep harm words only a category's table names ("riot", "strangle"), and nothing else says so."""
    if settings.backends.rewriter != "rules":
        return None
    from pipeline.lexicon import LEXICON_FILE, load_lexicon
    from pipeline.taxonomy import load_taxonomy

    missing = load_lexicon().categories_without_table(load_taxonomy().categories)
    if not missing:
        return None
    which = f"categor{'y' if len(missing) == 1 else 'ies'} {first_few(map(repr, missing))}"
    return (f"{LEXICON_FILE} has no harm-word table for the taxonomy's {which}: the rules rewriter replaces "
            f'only the common harm words in their queries (add a [harm."{missing[0]}"] table, keyed by the exact name)')
