"""Sending one request: rate limits, the in-flight slot, retries on 429/5xx/timeouts.

`Sender.complete` returns the server's reply (its in-flight slot handed to the caller,
which releases it once the answer is kept), or why the request could not be sent: an
`ItemError`, or `FormatRejected` when the server refused the answer format.
"""

from __future__ import annotations

import asyncio
import logging
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from pipeline.contracts import ItemError
from pipeline.llm.config import EndpointConfig
from pipeline.llm.formats import FormatRejected, ServerFormats, format_rejected
from pipeline.llm.limits import EndpointLimits, Slot, estimate_tokens
from pipeline.llm.messages import response_format, without_reasoning
from pipeline.llm.roles import Role
from pipeline.llm.transport import (ChatTransport, Completion, MalformedReply, RequestTimeout, ServerError,
                                    TransportError)

RETRYABLE_STATUS = {408, 409, 429}  # and every 5xx
# A wrong key or URL: not retried, but transient, so rerunning the run once the user fixed the
# config asks again instead of keeping every item failed.
CONFIG_STATUS = {401, 403, 404}
# Shorter "keys" are placeholders for servers that check none (docs/llm.md: LLAMA_KEY=none);
# scrubbing "x" out of an error message turned its 'text' into 'te***t'.
MIN_SCRUBBED_KEY = 8
MAX_RETRY_AFTER_S = 300.0
log = logging.getLogger("pipeline.llm")


@dataclass(frozen=True)
class Reply:
    content: str | None
    refusal: str | None
    model: str  # the model the server says answered: a dated snapshot, a local model name
    finish_reason: str | None = None  # "length": cut off at max_tokens
    latency_s: float = 0.0
    prompt_tokens: int = 0
    completion_tokens: int = 0


class Sender:
    """Sends a role's requests to one endpoint, within the limits every batch of the client shares."""

    def __init__(self, role: Role, endpoint: EndpointConfig, limits: EndpointLimits, formats: ServerFormats,
                 transport: ChatTransport, api_key: str, count: Callable[..., None]):
        self.role, self.endpoint, self.limits, self.formats = role, endpoint, limits, formats
        self.transport, self.count = transport, count
        self.in_flight = limits.in_flight  # shared by every batch of this client, whatever its thread
        self.turn = self.in_flight.next_batch()  # earlier batches are served first
        self._api_key = api_key

    async def complete(self, request: dict, held: list[Slot]) -> Reply | ItemError | FormatRejected:
        """Send with retries; return the reply (its slot appended to `held`) or why it could not be sent."""
        estimate = estimate_tokens(request["messages"], request[self.endpoint.token_limit], request["model"])
        attempts = self.endpoint.max_retries + 1
        for attempt in range(attempts):
            await self.limits.wait_turn(estimate)
            slot = await self.in_flight.take(self.turn)
            if self.format_outdated(request):
                slot.release()
                return FormatRejected("the server refused this format while the request waited for a slot")
            started = time.perf_counter()
            try:
                completion = await self.transport.create(request)
            except BaseException as error:
                if isinstance(error, RequestTimeout):
                    release_later(slot, self.endpoint.timeout_s)
                    self.count(timeouts=1)
                else:
                    slot.release()
                self.count(requests=1, request_s=time.perf_counter() - started)
                if isinstance(error, ServerError):
                    if "response_format" in request and format_rejected(error):
                        return FormatRejected(self.scrub(str(error)))
                    if error.status not in RETRYABLE_STATUS and error.status < 500:
                        return ItemError(error=self.scrub(str(error)), transient=error.status in CONFIG_STATUS)
                elif isinstance(error, MalformedReply):  # asked again, it would come back the same
                    return ItemError(error=self.scrub(str(error)), transient=True)
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
        return ItemError(error=self.scrub(f"gave up after {attempts} attempt{'s' if attempts != 1 else ''}: {failure}"), transient=True)

    def format_outdated(self, request: dict) -> bool:
        """The server refused this request's response_format while it waited for its slot: sent,
        it would only be refused again."""
        current = response_format(self.role, self.formats.mode(self.endpoint))
        return "response_format" in request and request["response_format"] != current

    def unpack(self, completion: Completion, requested_model: str, latency_s: float) -> Reply | ItemError:
        self.count(prompt_tokens=completion.prompt_tokens, completion_tokens=completion.completion_tokens)
        if not completion.has_choices:
            return ItemError(error="the server returned no choices")
        # Azure's filter: asking again is filtered again. A refusal by the deployment, not a broken reply:
        # a build's item fails as refused, and `evaluate` judges it as the answer the deployment gave.
        refusal = CONTENT_FILTERED if completion.finish_reason == "content_filter" else completion.refusal
        content = None if refusal == CONTENT_FILTERED else without_reasoning(completion.content, completion.finish_reason)
        return Reply(content, refusal, completion.model or requested_model,
                     completion.finish_reason, latency_s, completion.prompt_tokens, completion.completion_tokens)

    def scrub(self, text: str) -> str:
        return scrub_key(text, self._api_key)


CONTENT_FILTERED = "the provider's content filter stopped the answer (finish_reason content_filter)"


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
