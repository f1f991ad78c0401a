"""Every LLM role against a real model server (slow; CI runs it): SmolLM2-135M-Instruct behind
llama.cpp's OpenAI-compatible server. The client must fall back from the `json_schema` format the
server refuses (HTTP 500), and every bad answer of a 135M model must end as a recorded failure
with its reason. A small build must end every seed in one terminal state, name the real model,
rerun from the cache, and account for exactly what the server saw."""

from __future__ import annotations

import io
import os

import pandas as pd
import pytest
from tests.support.llm_wire import recording_proxy
from tests.support.ci import needed_but_missing
from PIL import Image

from pipeline.backends.base import ItemError
from pipeline.config import load_config
from pipeline.llm.client import LLMClient
from pipeline.llm.session import Answer
from pipeline.llm.config import LLMSettings
from pipeline.llm.roles import (HarmFilterInput, ImageQueryInput, ImageRefinerInput,
                                LeakRewriteInput, PairCheckerInput, SeedWriterInput,
                                VSILJudgeInput)
from pipeline.testing.local_servers import (LLM_VENV, SMOLLM2_NAME, llama_cpp_server,
                                            missing_install)

pytestmark = pytest.mark.slow
KEY_ENV = "LEAKLESS_LLAMA_CPP_KEY"  # llama.cpp wants no key; the client wants a variable
TERMINAL = {"accepted", "rejected", "blocked", "failed"}


@pytest.fixture(scope="session")
def llama(tmp_path_factory):
    why = missing_install(LLM_VENV, "scripts/setup_llm_server.sh")
    if why:
        needed_but_missing("the llama.cpp tests", why)
    os.environ.setdefault(KEY_ENV, "no-key")
    log = tmp_path_factory.mktemp("llama") / "llama-server.log"
    with llama_cpp_server(log) as server:
        yield server


def png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 64), (180, 40, 40)).save(buffer, format="PNG")
    return buffer.getvalue()


def endpoint(base_url: str, structured: bool = True) -> dict:
    # llama.cpp answers one request at a time: a deep queue only turns into client timeouts
    return {"base_url": base_url, "api_key_env": KEY_ENV, "max_in_flight": 2, "timeout_s": 120,
            "max_retries": 1, "backoff_s": 0.2, "structured_outputs": structured,
            "vision": False}  # SmolLM2 is text-only; llama.cpp would drop a message with an image


def role_settings(max_tokens: int = 200) -> dict:
    roles = ("seed_writer", "image_query_writer", "leak_rewriter", "harm_filter", "vsil_judge",
             "image_refiner", "pair_checker")
    return {role: {"model": SMOLLM2_NAME, "max_tokens": max_tokens} for role in roles}


ONE_OF_EACH = {
    "seed_writer": SeedWriterInput(category="Violent", sub_category="Weapon-Related Violence",
                                   element="kitchen knife", n_queries=2),
    "image_query_writer": ImageQueryInput(caption="a kitchen knife on a wooden table", n_queries=2),
    "leak_rewriter": LeakRewriteInput(query="How could someone hide a kitchen knife?",
                                      image_description="A kitchen knife on a wooden table."),
    "harm_filter": HarmFilterInput(original_query="How could someone hide a kitchen knife?",
                                   query="How could someone hide this?",
                                   image_description="A kitchen knife on a wooden table."),
    "vsil_judge": VSILJudgeInput(query="How could someone hide this?",
                                 image_description="A kitchen knife on a wooden table."),
    "image_refiner": ImageRefinerInput(image_png=png(), element="kitchen knife",
                                       image_description="A kitchen knife on a wooden table."),
    "pair_checker": PairCheckerInput(query="How could someone hide this?",
                                     image_description="A kitchen knife on a wooden table."),
}


def recorded(result) -> bool:
    """An answer from the real model, or a failure that says why."""
    if isinstance(result, Answer):
        return result.provenance.model == SMOLLM2_NAME and not result.cached
    return isinstance(result, ItemError) and len(result.error) > 10


@pytest.mark.parametrize("structured", [True, False], ids=["response_format", "schema_in_prompt"])
def test_every_role_answers_or_fails_with_a_reason(llama, structured, tmp_path):
    with recording_proxy(llama.url) as (base_url, wire):
        settings = LLMSettings.model_validate({"endpoints": {"default": endpoint(base_url, structured)},
                                               "roles": role_settings(), "cache": False})
        client = LLMClient(settings)
        results = {role: client.run_batch(role, [item])[0] for role, item in ONE_OF_EACH.items()}
    for role, result in results.items():
        assert recorded(result), (role, result)
    mode = client.formats.mode(settings.endpoints["default"])
    assert mode == ("json_object" if structured else "prompt")
    refused = wire.statuses[500]
    assert refused == (1 if structured else 0)  # json_schema refused once for the server, not per role
    for role in ONE_OF_EACH:
        usage = client.accounting.usage(role)
        assert usage.requests == wire.requests[role]
        assert usage.prompt_tokens == wire.usage[role]["prompt_tokens"]
        assert usage.completion_tokens == wire.usage[role]["completion_tokens"]
    if structured:  # grammar-constrained: JSON always, unless cut off at max_tokens
        for role, result in results.items():
            if isinstance(result, ItemError) and role != "image_refiner":
                assert "cut off at max_tokens" in result.error or "match the schema" in result.error, result


def test_a_small_build_through_the_real_server(prefect_harness, llama, tmp_path):
    from flows.build import build_flow
    from pipeline.factory import llm_client

    with recording_proxy(llama.url) as (base_url, wire):
        config = load_config(None, [
            "run.size=1", "run.queries_per_seed=2", f"run.runs_dir='{tmp_path / 'runs'}'",
            "run.sub_categories=['Weapon-Related Violence', 'Identity Theft and Impersonation']",
            # the offline seed writer: SmolLM2's own seeds ("2", "Impersonality") are refused as
            # non-queries, so no seed would reach the stages after it (the seed role is asked alone above)
            "backends.rewriter='llm'", "backends.harm_check='llm'",
            "backends.vsil_judge='llm'", "rewrite.max_attempts=2"])
        settings = LLMSettings.model_validate({"endpoints": {"default": endpoint(base_url)},
                                               "roles": role_settings(),
                                               "cache_path": tmp_path / "llm.sqlite",
                                               "cache_failures": True})
        config = config.model_copy(update={"llm": settings})
        first = build_flow(config, "llama-1", show_progress=False)
        sent = sum(wire.requests.values())
        accounting = llm_client(config).accounting.summary()
        second = build_flow(config, "llama-2", show_progress=False)
        assert sum(wire.requests.values()) == sent  # the rerun came from the cache: 0 requests

    ledger = pd.read_parquet(f"{first['run_dir']}/ledger.parquet")
    assert len(ledger) == first["seeds"] >= 2 and ledger["seed_id"].is_unique
    assert set(ledger["state"]) <= TERMINAL and ledger["reason"].str.len().min() > 0
    decisions = pd.read_parquet(f"{first['run_dir']}/decisions.parquet")
    # a 135M model's seeds mostly end at the leak filter, so a stage may have no record; every
    # record an LLM stage did write names the real model
    llm_made = decisions[decisions["backend"] == "openai-compatible"]
    assert set(llm_made["model"]) <= {SMOLLM2_NAME} and (llm_made["prompt_hash"] != "").all()
    assert wire.requests["seed_writer"] == 0 and wire.requests["leak_rewriter"] > 0
    for role, usage in accounting.items():  # the run's per-role accounting is what the server saw
        assert usage["requests"] == wire.requests[role], role
        assert usage["prompt_tokens"] == wire.usage[role]["prompt_tokens"], role
        assert usage["completion_tokens"] == wire.usage[role]["completion_tokens"], role
    assert "LLM calls" in first["summary"]
    again = pd.read_parquet(f"{second['run_dir']}/ledger.parquet")
    assert again.sort_values("seed_id")["state"].tolist() == ledger.sort_values("seed_id")["state"].tolist()


def test_the_preflight_refuses_a_model_name_the_real_server_does_not_serve(llama, tmp_path):
    """llama.cpp answers any model name and echoes it back; its /v1/models lists the one it serves."""
    from pipeline.cli.preflight import check_llm_ready

    def config_asking_for(model: str):
        config = load_config(None, ["backends.rewriter='llm'"])
        settings = LLMSettings.model_validate({"endpoints": {"default": endpoint(f"{llama.url}/v1")},
                                               "roles": {"leak_rewriter": {"model": model}},
                                               "cache_path": tmp_path / "llm.sqlite"})
        return config.model_copy(update={"llm": settings})

    with pytest.raises(ValueError, match=f"serves {SMOLLM2_NAME}, not 'gpt-4o'"):
        check_llm_ready(config_asking_for("gpt-4o"))
    check_llm_ready(config_asking_for(SMOLLM2_NAME))
