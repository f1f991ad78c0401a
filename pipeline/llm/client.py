"""The batch client: one role, many inputs, one result per input, in order.

Every request goes through the same path: cache lookup, rate limits, a bounded
number in flight, retries on 429/5xx/timeouts (honouring `retry-after`), one
repair round for an answer that does not validate, then the next fallback
model. What cannot be answered comes back as an `ItemError` in its slot.

A server that rejects the answer format (llama.cpp answers OpenAI's `json_schema`
with HTTP 500) is moved to the next format once (`formats.ServerFormats`), and the
rejected request is sent again in that format.
"""

from __future__ import annotations

import asyncio
import atexit
import concurrent.futures
import dataclasses
import json
import logging
import os
import random
import threading
import time
import weakref
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Generic, Sequence, TypeVar

from pydantic import ValidationError

from pipeline.contracts import ItemError, Provenance
from pipeline.llm.accounting import Accounting
from pipeline.llm.cache import FAILURE_PREFIX, AnswerCache, request_key
from pipeline.llm.config import EndpointConfig, LLMSettings
from pipeline.llm.formats import FormatRejected, ServerFormats, format_rejected
from pipeline.llm.limits import EndpointLimits, Slot, estimate_tokens
from pipeline.llm.loop import LoopThread
from pipeline.llm.messages import (FORMAT_MODES, InvalidAnswer, RolePrompt, parse_answer, repair_messages,
                                   response_format)
from pipeline.llm.roles import Role, RoleInput, RoleOutput, get_role, looks_like_refusal
from pipeline.llm.transport import ChatTransport, Completion, RequestTimeout, ServerError, TransportError

BACKEND = "openai-compatible"
RETRYABLE_STATUS = {408, 409, 429}  # and every 5xx
# A wrong key or URL: not retried, but transient, so rerunning the run once the user fixed the
# config asks again instead of keeping every item failed.
CONFIG_STATUS = {401, 403, 404}
# Shorter "keys" are placeholders for servers that check none (docs/llm.md: LLAMA_KEY=none);
# scrubbing "x" out of an error message turned its 'text' into 'te***t'.
MIN_SCRUBBED_KEY = 8
MAX_RETRY_AFTER_S = 300.0
log = logging.getLogger("pipeline.llm")

Output = TypeVar("Output", bound=RoleOutput)


class LLMConfigError(ValueError):
    """The settings cannot work (e.g. the API key variable is not set)."""


@dataclass(frozen=True)
class Answer(Generic[Output]):
    output: Output
    provenance: Provenance  # the model that actually answered, and the template hash
    cached: bool = False
    latency_s: float | None = None  # seconds waiting on the server (repair included); None if cached
    prompt_tokens: int = 0
    completion_tokens: int = 0


class LLMClient:
    """Long-lived: holds the settings, the cache, the rate limits and the accounting."""

    def __init__(self, settings: LLMSettings, cache: AnswerCache | None = None,
                 accounting: Accounting | None = None):
        self.settings = settings
        self.cache = cache
        self.accounting = accounting or Accounting()
        self._limits = {name: EndpointLimits(cfg) for name, cfg in settings.endpoints.items()}
        self.formats = ServerFormats()  # once per server, not per request or batch
        self._loop = LoopThread()
        # An unclosed client's connections still close: when it is collected, without waiting
        # (that can happen on any thread), and at exit, waiting.
        weakref.finalize(self, self._loop.close, wait=False).atexit = False
        atexit.register(self._loop.close)

    @classmethod
    def from_settings(cls, settings: LLMSettings) -> LLMClient:
        cache = AnswerCache(settings.resolved_cache_path()) if settings.cache else None
        return cls(settings, cache)

    def close(self) -> None:
        self._loop.close()
        if self.cache is not None:
            self.cache.close()

    def run_batch(self, role: str, inputs: Sequence[RoleInput]) -> list[Answer | ItemError]:
        """Sync entry point (Prefect tasks, from any thread): runs on the client's loop thread,
        where every batch shares the connections to its endpoint (`pipeline.llm.loop`)."""
        return self._loop.run(self.arun_batch(role, inputs))

    def submit_batch(self, role: str, inputs: Sequence[RoleInput]) -> concurrent.futures.Future:
        """`run_batch` without waiting: the answers arrive on the returned future."""
        return self._loop.submit(self.arun_batch(role, inputs))

    async def arun_batch(self, role_name: str, inputs: Sequence[RoleInput]) -> list[Answer | ItemError]:
        role = get_role(role_name)
        wrong = [type(i).__name__ for i in inputs if not isinstance(i, role.input_type)]
        if wrong:
            raise TypeError(f"{role_name} takes {role.input_type.__name__}, got {wrong[0]}")
        async with self.session(role_name) as batch:
            # A few rounds of the in-flight limit at a time: started all at once, thousands of
            # items would each read the cache and render a prompt before the first answer is
            # read, holding their requests' slots a second longer (`benchmarks/build_llm.py`).
            window = asyncio.Semaphore(2 * batch.endpoint.max_in_flight)

            async def answer(item: RoleInput) -> Answer | ItemError:
                async with window:
                    return await batch.answer(item)

            return list(await asyncio.gather(*(answer(item) for item in inputs)))

    @asynccontextmanager
    async def session(self, role_name: str) -> AsyncIterator[_Batch]:
        """One connection pool for a role: `await session.answer(item)` item by item, for callers
        that chain roles per item (evaluation: answer, then judge) rather than batch by batch."""
        role = get_role(role_name)
        endpoint_name, endpoint = self.settings.endpoint_of(role_name)
        api_key = os.environ.get(endpoint.api_key_env)
        if not api_key:
            raise LLMConfigError(f"environment variable {endpoint.api_key_env} is not set "
                                 f"(the API key of LLM endpoint {endpoint_name!r})")
        async with self._transport(endpoint, api_key) as client:
            try:
                yield _Batch(self, role, endpoint, self._limits[endpoint_name], client, api_key)
            finally:
                if self.cache is not None:
                    await asyncio.to_thread(self.cache.flush)  # other batches share this loop

    @asynccontextmanager
    async def _transport(self, endpoint: EndpointConfig, api_key: str) -> AsyncIterator[ChatTransport]:
        """On the client's loop, a connection pool kept for every later batch; on a caller's own
        loop (an evaluation's `asyncio.run`), one for this session."""
        if self._loop.owns_running_loop():
            yield await self._loop.kept((endpoint.base_url, api_key, endpoint.timeout_s),
                                        lambda: ChatTransport(endpoint.base_url, api_key, endpoint.timeout_s))
        else:
            async with ChatTransport(endpoint.base_url, api_key, endpoint.timeout_s) as transport:
                yield transport


@dataclass(frozen=True)
class Reply:
    content: str | None
    refusal: str | None
    model: str  # the model the server says answered: a dated snapshot, a local model name
    finish_reason: str | None = None  # "length": cut off at max_tokens
    latency_s: float = 0.0
    prompt_tokens: int = 0
    completion_tokens: int = 0


@dataclass(frozen=True)
class AnswerFailure:
    """A failure the model's answer itself caused (asking again at temperature 0 repeats it)."""

    failure: ItemError


Failed = ItemError | AnswerFailure | FormatRejected


class _Batch:
    """The state of one `arun_batch` call, bound to its event loop."""

    def __init__(self, owner: LLMClient, role: Role, endpoint: EndpointConfig,
                 limits: EndpointLimits, client: ChatTransport, api_key: str):
        self.role, self.endpoint, self.limits, self.client = role, endpoint, limits, client
        self.owner = owner
        self.config = owner.settings.role(role.name)
        self.cache = owner.cache
        self.accounting = owner.accounting
        self.in_flight = limits.in_flight  # shared by every batch of this client, whatever its thread
        self.turn = self.in_flight.next_batch()  # earlier batches are served first
        # by "schema in the prompt?": the mode can change mid-batch when the server rejects one
        self.prompts = {False: RolePrompt(role, schema_in_prompt=False),
                        True: RolePrompt(role, schema_in_prompt=True)}
        self._api_key = api_key

    def count(self, **counts: float) -> None:
        self.accounting.add(self.role.name, **counts)

    async def answer(self, item: RoleInput) -> Answer | ItemError:
        self.count(items=1)
        if item.image_png is not None and not (self.endpoint.vision or item.answerable_without_image()):
            self.count(failures=1)
            return ItemError(error=f"{self.role.name} needs to see the image, and the endpoint at "
                                   f"{self.endpoint.base_url} is text-only (vision = false)")
        models = [self.config.model, *self.config.fallback_models]
        for position, model in enumerate(models):
            if position:
                self.count(fallbacks=1)
                log.info("%s: trying fallback model %s", self.role.name, model)
            result = await self.answer_with(model, item)
            if isinstance(result, Answer):
                return result
        self.count(failures=1, refusals=int(result.refused))
        return result

    @property
    def prompt_hash(self) -> str:
        return self.prompts[False].hash  # one template file, whichever mode

    def request_for(self, model: str, item: RoleInput, mode: str) -> dict:
        prompt = self.prompts[mode == "prompt"]
        messages = prompt.messages(item, with_image=self.endpoint.vision)
        request = {"model": model, "messages": messages,
                   "temperature": self.config.temperature, "max_tokens": self.config.max_tokens}
        if not self.role.free_text and (wanted := response_format(self.role, mode)) is not None:
            request["response_format"] = wanted
        return request

    def cached(self, request: dict, key: str, mode: str) -> tuple[str, str] | None:
        """The cached answer to this request, or to the same messages under `json_object` when this is
        `json_schema`: each process starts a server at `json_schema` again, and one that refused it
        before (llama.cpp) is then answered from the cache without a request to be refused."""
        if self.cache is None:
            return None
        keys = [key]
        if mode == FORMAT_MODES[0] and "response_format" in request:  # the two modes share their messages
            fallback = {**request, "response_format": response_format(self.role, FORMAT_MODES[1])}
            keys.append(request_key(self.endpoint.base_url, self.prompt_hash, fallback))
        for candidate in keys:
            hit = self.cache.get(candidate)
            if hit is not None and (self.owner.settings.cache_failures or not hit[0].startswith(FAILURE_PREFIX)):
                return hit
        return None

    def from_cache(self, answer: str, served_model: str, template_hash: str) -> Answer | ItemError | None:
        """A cached answer or failure; None for an answer the output model's rules now refuse (cached
        before them): it is asked again."""
        if answer.startswith(FAILURE_PREFIX):
            return ItemError(**json.loads(answer.removeprefix(FAILURE_PREFIX)))
        try:
            return Answer(self.role.output_type.model_validate_json(answer),
                          _provenance(served_model, template_hash), cached=True)
        except ValidationError:
            return None

    async def answer_with(self, model: str, item: RoleInput) -> Answer | ItemError:
        template_hash = self.prompt_hash
        held: list[Slot] = []  # the answered request's in-flight slot, until its answer is kept
        try:
            while True:  # ends: the last mode ("prompt") sends no response_format to reject
                mode = self.owner.formats.mode(self.endpoint)
                request = self.request_for(model, item, mode)
                key = request_key(self.endpoint.base_url, template_hash, request)
                hit = self.cached(request, key, mode)
                if hit is not None and (answer := self.from_cache(*hit, template_hash)) is not None:
                    self.count(cache_hits=1)
                    return answer
                result = await self.ask(request, held)
                if isinstance(result, FormatRejected):
                    self.owner.formats.reject(self.endpoint, mode, result.why)
                    continue
                break
            if isinstance(result, AnswerFailure):
                failure = result.failure
                if (self.cache is not None and self.owner.settings.cache_failures
                        and self.config.temperature == 0):
                    self.keep(held, key, model, template_hash,
                              FAILURE_PREFIX + json.dumps(dataclasses.asdict(failure)), model)
                return failure
            if isinstance(result, ItemError):
                return result
            output, reply = result
            if self.cache is not None:
                self.keep(held, key, model, template_hash, output.model_dump_json(), reply.model)
            return Answer(output, _provenance(reply.model, template_hash), latency_s=reply.latency_s,
                          prompt_tokens=reply.prompt_tokens, completion_tokens=reply.completion_tokens)
        finally:
            release(held)

    def keep(self, held: list[Slot], key: str, model: str, template_hash: str, answer: str,
             served_model: str) -> None:
        """Queue the answer for the cache; its request stays in flight until it is committed, so
        a kill re-asks no more than were in flight."""
        slots = list(held)
        held.clear()
        self.cache.put_later(key, self.role.name, model, template_hash, answer, served_model,
                             when_kept=lambda: release(slots))

    async def ask(self, request: dict, held: list[Slot]) -> tuple[RoleOutput, Reply] | Failed:
        """One question, plus one repair round if the answer does not validate. The slot of the
        request whose answer is returned is left in `held`."""
        reply = await self.complete(request, held)
        if isinstance(reply, FormatRejected):
            return reply
        output = self.interpret(reply)
        if isinstance(output, InvalidAnswer):
            self.count(repairs=1)
            repair = repair_messages(request["messages"], reply.content or "", output)
            release(held)  # the first answer is not kept
            first, reply = reply, await self.complete({**request, "messages": repair}, held)
            if isinstance(reply, FormatRejected):
                return reply
            if not isinstance(reply, ItemError):  # what the item cost: both rounds
                reply = dataclasses.replace(reply, latency_s=first.latency_s + reply.latency_s,
                                            prompt_tokens=first.prompt_tokens + reply.prompt_tokens,
                                            completion_tokens=first.completion_tokens + reply.completion_tokens)
            output = self.interpret(reply)
            if isinstance(output, InvalidAnswer):
                return AnswerFailure(ItemError(error=f"invalid answer after one repair: {output}",
                                               raw=reply.content or ""))
        return output if isinstance(output, (ItemError, AnswerFailure)) else (output, reply)

    def interpret(self, reply: Reply | ItemError) -> RoleOutput | ItemError | AnswerFailure | InvalidAnswer:
        if isinstance(reply, ItemError):
            return reply
        if self.role.free_text:
            return free_text_output(self.role, reply)
        if reply.refusal:
            return AnswerFailure(ItemError(error=reply.refusal, raw=reply.content or "", refused=True))
        try:
            return parse_answer(self.role.output_type, reply.content)
        except InvalidAnswer as error:
            if looks_like_refusal(reply.content):
                return AnswerFailure(ItemError(error=reply.content.strip(), raw=reply.content,
                                               refused=True))
            if reply.finish_reason == "length":  # asking again would be cut off again
                return AnswerFailure(ItemError(error=f"the answer was cut off at max_tokens="
                                                     f"{self.config.max_tokens} ({error})",
                                               raw=reply.content or ""))
            return error

    async def complete(self, request: dict, held: list[Slot]) -> Reply | ItemError | FormatRejected:
        """Send with retries; return the reply (its slot appended to `held`) or why it could not be sent."""
        estimate = estimate_tokens(request["messages"], request["max_tokens"], request["model"])
        attempts = self.endpoint.max_retries + 1
        for attempt in range(attempts):
            await self.limits.wait_turn(estimate)
            slot = await self.in_flight.take(self.turn)
            if self.format_outdated(request):
                slot.release()
                return FormatRejected("the server refused this format while the request waited for a slot")
            started = time.perf_counter()
            try:
                completion = await self.client.create(request)
            except BaseException as error:
                if isinstance(error, RequestTimeout):
                    release_later(slot, self.endpoint.timeout_s)
                else:
                    slot.release()
                self.count(requests=1, request_s=time.perf_counter() - started)
                if isinstance(error, ServerError):
                    if "response_format" in request and format_rejected(error):
                        return FormatRejected(self.scrub(str(error)))
                    if error.status not in RETRYABLE_STATUS and error.status < 500:
                        return ItemError(error=self.scrub(str(error)), transient=error.status in CONFIG_STATUS)
                elif not isinstance(error, TransportError):  # timeouts, refused connections, non-JSON replies
                    raise
                failure = error
            else:
                latency_s = time.perf_counter() - started
                self.count(requests=1, request_s=latency_s)
                held.append(slot)
                return self.unpack(completion, request["model"], latency_s)
            if attempt + 1 < attempts:
                backoff = self.endpoint.backoff_s * 2 ** attempt * (1 + random.random() / 4)
                delay = retry_after(failure) or backoff
                self.count(retries=1, retry_wait_s=delay)
                log.info("%s: %s, retrying in %.2fs", self.role.name, failure.kind, delay)
                await asyncio.sleep(delay)
        return ItemError(error=self.scrub(f"gave up after {attempts} attempts: {failure}"), transient=True)

    def format_outdated(self, request: dict) -> bool:
        """The server refused this request's response_format while it waited for its slot: sent,
        it would only be refused again."""
        current = response_format(self.role, self.owner.formats.mode(self.endpoint))
        return "response_format" in request and request["response_format"] != current

    def unpack(self, completion: Completion, requested_model: str, latency_s: float) -> Reply | ItemError:
        self.count(prompt_tokens=completion.prompt_tokens, completion_tokens=completion.completion_tokens)
        if not completion.has_choices:
            return ItemError(error="the server returned no choices")
        return Reply(completion.content, completion.refusal, completion.model or requested_model,
                     completion.finish_reason, latency_s, completion.prompt_tokens, completion.completion_tokens)

    def scrub(self, text: str) -> str:
        return scrub_key(text, self._api_key)


def scrub_key(text: str, api_key: str) -> str:
    """Error texts can echo request details; the key must never travel on."""
    return text.replace(api_key, "***") if len(api_key) >= MIN_SCRUBBED_KEY else text


def release(slots: list[Slot]) -> None:
    while slots:
        slots.pop().release()


def release_later(slot: Slot, delay_s: float) -> None:
    """The slot of a request the client stopped waiting for: the server may still be working on
    it (llama.cpp finishes what it started), so it stays taken `delay_s` longer, lest the server see
    more than max_in_flight. A timer thread, not the loop: an evaluation's own loop may be gone by then."""
    timer = threading.Timer(delay_s, slot.release)
    timer.daemon = True
    timer.start()


def free_text_output(role: Role, reply: Reply) -> RoleOutput | ItemError:
    """A free-text role keeps the reply as written; a refusal is an answer, not a failure."""
    text = reply.content if reply.content and reply.content.strip() else reply.refusal
    if not text or not text.strip():
        return ItemError(error="the server returned an empty answer")
    return role.output_type(text=text)


def _provenance(served_model: str, template_hash: str) -> Provenance:
    return Provenance(backend=BACKEND, model=served_model, prompt_hash=template_hash)


def retry_after(error: TransportError) -> float | None:
    """Seconds the server asked us to wait (`retry-after-ms` or `retry-after` in seconds)."""
    if not isinstance(error, ServerError):
        return None
    for header, scale in (("retry-after-ms", 0.001), ("retry-after", 1.0)):
        value = error.headers.get(header)
        try:
            seconds = float(value) * scale if value is not None else None
        except ValueError:
            continue  # an HTTP date: fall back to our own backoff
        if seconds is not None and 0 <= seconds <= MAX_RETRY_AFTER_S:
            return seconds
    return None
