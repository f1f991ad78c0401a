"""Per-endpoint request and token budgets (token buckets), and the in-flight limit.

A bucket hands out reservations under a thread lock and tells the caller how
long to wait, so one bucket can pace batches running on several event loops
(the client's own loop thread, an evaluation's `asyncio.run`) without sharing any
asyncio object between them. The
in-flight gate is shared the same way: `max_in_flight` holds for the endpoint
across every batch of the process, not per batch.
"""

from __future__ import annotations

import asyncio
import base64
import heapq
import itertools
import math
import struct
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


class InFlightGate:
    """An async semaphore usable from several event loops (threads). A freed slot goes to the
    earliest batch still waiting (the lowest `batch` number, from `next_batch`), first come
    first served within it, and is handed over on that waiter's own loop.

    Serving batch by batch rather than request by request is what keeps a build's parallel
    batches out of step: with plain first come first served, every batch's requests finish
    together, so every batch reaches its CPU work (the detector, images) at the same moment
    and nothing is in flight meanwhile. Served in order, the first batch gets its answers
    first and does its CPU work while the others' requests are out (`benchmarks/build_llm.py`).
    """

    def __init__(self, limit: int):
        self._lock = threading.Lock()
        self._free = limit
        # a heap of (batch, arrival, loop, future); a waiter cancelled before its turn stays in
        # it and passes its turn on when reached (see _grant)
        self._waiters: list[tuple[int, int, asyncio.AbstractEventLoop, asyncio.Future]] = []
        self._arrivals = itertools.count()
        self._batches = itertools.count()

    def next_batch(self) -> int:
        return next(self._batches)

    async def take(self, batch: int) -> Slot:
        """A slot its holder gives back when it likes, from any thread (`Slot.release`)."""
        with self._lock:
            if self._free and not self._waiters:
                self._free -= 1
                return Slot(self)
            loop = asyncio.get_running_loop()
            future = loop.create_future()
            heapq.heappush(self._waiters, (batch, next(self._arrivals), loop, future))
        try:
            await future
        except asyncio.CancelledError:
            if not future.cancelled():  # granted as it was cancelled: pass the slot on
                self.release()
            raise
        return Slot(self)

    def release(self) -> None:
        with self._lock:
            while self._waiters:
                _, _, loop, future = heapq.heappop(self._waiters)
                if not loop.is_closed():
                    try:
                        loop.call_soon_threadsafe(self._grant, future)
                    except RuntimeError:  # the loop closed since the check (a timer thread's late release)
                        continue
                    return
            self._free += 1

    def _grant(self, future: asyncio.Future) -> None:
        if future.done():  # cancelled while waiting
            self.release()
        else:
            future.set_result(None)


class Slot:
    """One taken place of an `InFlightGate`; releasing it twice gives back one place."""

    def __init__(self, gate: InFlightGate):
        self._gate: InFlightGate | None = gate

    def release(self) -> None:
        gate, self._gate = self._gate, None
        if gate is not None:
            gate.release()


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


def estimate_tokens(messages: list[dict], max_tokens: int, model: str = "") -> int:
    """A cheap upper-ish estimate: ~4 characters a token for text, each image at what `model`'s
    family charges for its size, plus the answer budget."""
    chars, images = 0, 0
    for message in messages:
        content = message["content"]
        parts = content if isinstance(content, list) else [{"type": "text", "text": content}]
        chars += sum(len(part.get("text", "")) for part in parts)
        images += sum(image_tokens(model, *png_size(part["image_url"]["url"]))
                      for part in parts if part["type"] == "image_url")
    return chars // 4 + images + max_tokens


def image_tokens(model: str, width: int, height: int) -> int:
    """The tokens one image costs, by the model family's published rule."""
    name = model.lower()
    if "qwen" in name and "vl" in name:
        # Qwen2-VL / Qwen2.5-VL: the image is resized to multiples of 28 px and each 28x28 patch is
        # one token (14 px patches merged 2x2), plus the two vision markers: 1024x1024 -> 1,371.
        return round(width / 28) * round(height / 28) + 2
    if "llava" in name:
        return 2880 if ("1.6" in name or "next" in name) else 576  # AnyRes's 5 crops, or one 336 px view
    # OpenAI's high-detail rule (GPT-4o, 4.1, o-series): fit in 2048, shortest side to 768,
    # then 170 tokens per 512 px tile plus 85: 1024x1024 -> 765.
    scale = min(1.0, 2048 / max(width, height))
    width, height = width * scale, height * scale
    scale = min(1.0, 768 / min(width, height))
    tiles = math.ceil(width * scale / 512) * math.ceil(height * scale / 512)
    return 85 + 170 * tiles


def png_size(url: str) -> tuple[int, int]:
    """Width and height from a PNG data URL's header; 1024x1024 when it is not one."""
    _, _, data = url.partition("base64,")
    try:
        header = base64.b64decode(data[:32])
    except ValueError:
        return DEFAULT_IMAGE_SIZE
    if not header.startswith(b"\x89PNG") or len(header) < 24:
        return DEFAULT_IMAGE_SIZE
    return struct.unpack(">II", header[16:24])


DEFAULT_IMAGE_SIZE = (1024, 1024)
