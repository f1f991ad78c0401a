"""What the LLM backend spent, per role: requests, tokens, cache hits, retries, failures."""

from __future__ import annotations

import threading
from collections import defaultdict
from dataclasses import asdict, dataclass, fields


@dataclass
class RoleUsage:
    items: int = 0
    requests: int = 0  # HTTP requests sent, retries and repairs included
    request_s: float = 0.0  # seconds they were out, sent until answered or failed; ÷ requests = mean
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cache_hits: int = 0
    retries: int = 0
    timeouts: int = 0  # requests with no answer within timeout_s, each retried while retries are left
    retry_wait_s: float = 0.0
    repairs: int = 0
    fallbacks: int = 0
    refusals: int = 0
    failures: int = 0  # items that ended as an ItemError (refusals included)


class Accounting:
    """Thread-safe counters; `add(role, requests=1, ...)` from anywhere."""

    def __init__(self) -> None:
        self._usage: dict[str, RoleUsage] = defaultdict(RoleUsage)
        self._lock = threading.Lock()

    def add(self, role: str, **counts: float) -> None:
        with self._lock:
            usage = self._usage[role]
            for name, value in counts.items():
                setattr(usage, name, getattr(usage, name) + value)

    def replace(self, summary: dict[str, dict]) -> None:
        """Take over the counts of another process's `summary()`."""
        with self._lock:
            self._usage = defaultdict(RoleUsage, {role: RoleUsage(**usage) for role, usage in summary.items()})

    def usage(self, role: str) -> RoleUsage:
        with self._lock:
            return RoleUsage(**asdict(self._usage[role])) if role in self._usage else RoleUsage()

    def summary(self) -> dict[str, dict]:
        with self._lock:
            return {role: asdict(usage) for role, usage in sorted(self._usage.items())}

    def markdown(self) -> str:
        """A table for the run summary."""
        return markdown_table(self.summary())


def markdown_table(summary: dict[str, dict]) -> str:
    """`Accounting.summary()`, or counts added up by `added_up`, as a markdown table."""
    names = [f.name for f in fields(RoleUsage)]
    lines = ["| role | " + " | ".join(names) + " |", "|---" * (len(names) + 1) + "|"]
    for role, usage in summary.items():
        cells = [f"{usage.get(n, 0):.1f}" if isinstance(usage.get(n), float) else str(usage.get(n, 0))
                 for n in names]
        lines.append(f"| {role} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def added_up(summaries: list[dict[str, dict]], minus: dict[str, dict] | None = None) -> dict[str, dict]:
    """The counts of `summaries` added up per role, less those of `minus`; a role left with no count
    goes."""
    total: dict[str, RoleUsage] = defaultdict(RoleUsage)
    for sign, summary in [(1, each) for each in summaries] + [(-1, minus or {})]:
        for role, usage in summary.items():
            for name, value in usage.items():
                setattr(total[role], name, getattr(total[role], name) + sign * value)
    return {role: asdict(usage) for role, usage in sorted(total.items()) if any(asdict(usage).values())}
