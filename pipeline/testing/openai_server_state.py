"""What a test sets on the fake OpenAI server (`openai_server.FakeOpenAIServer`) and reads back.

`FaultPlan`: which share of requests fail, and how (`FAULT_KINDS`: HTTP 429 and 500, a hang past
the client's timeout, malformed JSON, a refusal, and `ANSWER_FAULTS`, what a small real model
answers). `ServerState`: the settings a server runs with, the fault it deals each request, and the
counts it keeps: requests and faults per role, arrivals, and (`InFlightCounter`) the requests
being answered at once and the connections they came on.
"""

from __future__ import annotations

import math
import time
from collections import Counter
from dataclasses import dataclass, field

from pipeline.llm.config import FAKE_HANG_S

ANSWER_FAULTS = ("empty", "off_schema", "truncated")  # what a small real model answers
FAULT_KINDS = ("429", "500", "timeout", "malformed", "refusal", *ANSWER_FAULTS)


@dataclass
class FaultPlan:
    """A `rate` share of requests fail; the failing ones take `kinds` in turn."""

    rate: float = 0.0
    kinds: tuple[str, ...] = FAULT_KINDS
    retry_after_s: float = 0.05  # sent with every 429
    hang_s: float = FAKE_HANG_S  # a "timeout" sleeps this long; set the client's timeout below it

    def __post_init__(self) -> None:
        unknown = set(self.kinds) - set(FAULT_KINDS)
        if unknown or not self.kinds or not 0 <= self.rate <= 1:
            raise ValueError(f"bad fault plan: rate in [0, 1], kinds from {FAULT_KINDS}")
        if not self.hang_s > 0:
            raise ValueError(f"bad fault plan: the timeout fault's hang must be over 0 s, not {self.hang_s:g}")


@dataclass
class ServerState:
    latency_s: float = 0.0
    faults: FaultPlan = field(default_factory=FaultPlan)
    refusing_models: frozenset[str] = frozenset()  # these models refuse everything
    rejects_json_schema: bool = False  # like llama.cpp's server: HTTP 500 for type json_schema
    api_key: str | None = None  # like a server started with --api-key: any other key gets HTTP 401
    quirk: str | None = None  # one of PROVIDER_QUIRKS, applied to every chat reply
    served: tuple[str, ...] = ()  # the ids GET /models lists (none by default: any name is answered)
    models_delay_s: float = 0.0  # GET /models answers this late, as a busy llama.cpp server's does
    requests: Counter = field(default_factory=Counter)  # per role
    with_image: Counter = field(default_factory=Counter)  # per role, requests carrying an image
    faults_sent: Counter = field(default_factory=Counter)  # per kind
    arrivals: list[tuple[float, str, str | None]] = field(default_factory=list)  # time, role, fault
    in_flight: int = 0  # chat requests being answered now (InFlightCounter)
    peak_in_flight: int = 0
    in_flight_s: float = 0.0  # summed over answered chat requests: their mean time on the server
    client_addresses: set = field(default_factory=set)  # (host, port): one per connection the client opened

    def next_fault(self) -> str | None:
        """Deterministic: request n faults when ceil(n * rate) steps up (no await, so atomic)."""
        n = sum(self.requests.values())
        if math.ceil(n * self.faults.rate) == math.ceil((n - 1) * self.faults.rate):
            return None
        dealt = sum(self.faults_sent.values())
        return self.faults.kinds[dealt % len(self.faults.kinds)]


class InFlightCounter:
    """Plain ASGI middleware counting chat requests being answered, and the most at once: what
    the client's in-flight limit and a killed build's re-sent requests are checked against;
    and the connections they came on (does the client reuse them?)."""

    def __init__(self, app, state: ServerState):
        self.app, self.state = app, state

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http" or not scope["path"].endswith("/chat/completions"):
            return await self.app(scope, receive, send)
        self.state.client_addresses.add(tuple(scope.get("client") or ()))
        self.state.in_flight += 1
        self.state.peak_in_flight = max(self.state.peak_in_flight, self.state.in_flight)
        started = time.monotonic()
        try:
            await self.app(scope, receive, send)
        finally:
            self.state.in_flight -= 1
            self.state.in_flight_s += time.monotonic() - started
