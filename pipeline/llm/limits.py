"""Per-endpoint request and token budgets (token buckets).

A bucket hands out reservations under a thread lock and tells the caller how
long to wait, so one bucket can pace batches running on several event loops
(parallel Prefect tasks) without sharing any asyncio object between them.
"""

from __future__ import annotations

import asyncio
import threading
import time

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


class EndpointLimits:
    """The requests-per-minute and tokens-per-minute budgets of one endpoint."""

    def __init__(self, config: EndpointConfig):
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
