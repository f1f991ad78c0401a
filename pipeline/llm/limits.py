"""Per-endpoint request and token budgets (token buckets), and the in-flight limit.

A bucket hands out reservations under a thread lock and tells the caller how
long to wait, so one bucket can pace batches running on several event loops
(parallel Prefect tasks) without sharing any asyncio object between them. The
in-flight gate is shared the same way: `max_in_flight` holds for the endpoint
across every batch of the process, not per batch.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections import deque

from pipeline.llm.config import EndpointConfig


class TokenBucket:
    """Holds up to one minute's budget and refills continuously."""

    def __init__(self, per_minute: int):
        self.capacity = float(per_minute)
        self.rate = per_minute / 60.0
        self._tokens = self.capacity
        self._stamp = time.monotonic()
        self._lock = threading.Lock()

    def reserve(self, amount: float) -> float:
        """Take `amount` now (the balance may go negative); return the seconds to wait."""
        amount = min(amount, self.capacity)  # one oversized request must still get through
        with self._lock:
            now = time.monotonic()
            self._tokens = min(self.capacity, self._tokens + (now - self._stamp) * self.rate)
            self._stamp = now
            self._tokens -= amount
            return max(0.0, -self._tokens / self.rate)


class InFlightGate:
    """An async semaphore usable from several event loops (threads): a freed slot goes to the
    longest waiter, on that waiter's own loop."""

    def __init__(self, limit: int):
        self._lock = threading.Lock()
        self._free = limit
        self._waiters: deque[tuple[asyncio.AbstractEventLoop, asyncio.Future]] = deque()

    async def __aenter__(self) -> None:
        with self._lock:
            if self._free and not self._waiters:
                self._free -= 1
                return
            loop = asyncio.get_running_loop()
            waiter = (loop, loop.create_future())
            self._waiters.append(waiter)
        try:
            await waiter[1]
        except asyncio.CancelledError:
            with self._lock:
                if waiter in self._waiters:  # never granted: just leave the queue
                    self._waiters.remove(waiter)
                    raise
            self.release()  # granted as it was cancelled: pass the slot on
            raise

    async def __aexit__(self, *exc: object) -> None:
        self.release()

    def release(self) -> None:
        with self._lock:
            while self._waiters:
                loop, future = self._waiters.popleft()
                if not loop.is_closed():
                    loop.call_soon_threadsafe(self._grant, future)
                    return
            self._free += 1

    def _grant(self, future: asyncio.Future) -> None:
        if future.done():  # cancelled meanwhile
            self.release()
        else:
            future.set_result(None)


class EndpointLimits:
    """The requests-per-minute and tokens-per-minute budgets of one endpoint, and its in-flight gate."""

    def __init__(self, config: EndpointConfig):
        self.in_flight = InFlightGate(config.max_in_flight)
        self.requests = TokenBucket(config.requests_per_minute) if config.requests_per_minute else None
        self.tokens = TokenBucket(config.tokens_per_minute) if config.tokens_per_minute else None

    async def wait_turn(self, estimated_tokens: int) -> None:
        delay = max(self.requests.reserve(1) if self.requests else 0.0,
                    self.tokens.reserve(estimated_tokens) if self.tokens else 0.0)
        if delay:
            await asyncio.sleep(delay)


def estimate_tokens(messages: list[dict], max_tokens: int) -> int:
    """A cheap upper-ish estimate: ~4 characters a token for text, plus the answer budget."""
    chars = 0
    for message in messages:
        content = message["content"]
        parts = content if isinstance(content, list) else [{"type": "text", "text": content}]
        chars += sum(len(part.get("text", "")) for part in parts)
        chars += 3000 * sum(part["type"] == "image_url" for part in parts)  # ~765 tokens an image
    return chars // 4 + max_tokens
