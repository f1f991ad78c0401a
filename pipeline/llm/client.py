"""The batch client: one role, many inputs, one result per input, in order.

Every request goes through the same path (`pipeline.llm.session`): cache lookup, rate
limits, a bounded number in flight, retries on 429/5xx/timeouts (honouring
`retry-after`, `pipeline.llm.sending`), one repair round for an answer that does not
validate, then the next fallback model. What cannot be answered comes back as an
`ItemError` in its slot.

A server that rejects the answer format (llama.cpp answers OpenAI's `json_schema`
with HTTP 500) is moved to the next format once (`formats.ServerFormats`), and the
rejected request is sent again in that format.
"""

from __future__ import annotations

import asyncio
import atexit
import concurrent.futures
import os
import weakref
from collections.abc import AsyncIterator, Coroutine
from contextlib import asynccontextmanager
from typing import Any, Sequence, TypeVar

from pipeline.contracts import ItemError
from pipeline.llm.accounting import Accounting
from pipeline.llm.cache import AnswerCache
from pipeline.llm.config import EndpointConfig, LLMSettings
from pipeline.llm.formats import ServerFormats
from pipeline.llm.limits import EndpointLimits
from pipeline.llm.loop import LoopThread
from pipeline.llm.roles import RoleInput, get_role
from pipeline.llm.session import Answer, RoleSession
from pipeline.llm.transport import ChatTransport


T = TypeVar("T")


class LLMConfigError(ValueError):
    """The settings cannot work (e.g. the API key variable is not set)."""


class LLMClient:
    """Long-lived: holds the settings, the cache, the rate limits and the accounting."""

    def __init__(self, settings: LLMSettings, cache: AnswerCache | None = None,
                 accounting: Accounting | None = None):
        self.settings = settings
        self.cache = cache
        self.accounting = accounting or Accounting()
        self._limits = {name: EndpointLimits(cfg) for name, cfg in settings.endpoints.items()}
        self.formats = ServerFormats()  # once per server, not per request or batch
        self.scripted_servers: dict[str, bool] = {}  # base URL: is it `leakless fake-llm`? (session.py)
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
        return self.submit(self.arun_batch(role, inputs))

    def submit(self, coroutine: Coroutine[Any, Any, T]) -> concurrent.futures.Future[T]:
        """A coroutine that awaits `arun_batch` (the client's process wraps it), started on the client's
        loop, where every batch shares the connections."""
        return self._loop.submit(coroutine)

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
    async def session(self, role_name: str) -> AsyncIterator[RoleSession]:
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
                yield RoleSession(self, role, endpoint, self._limits[endpoint_name], client, api_key)
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
