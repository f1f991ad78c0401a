"""The end-of-run summary: terminal states, per-category counts, decisions per reason code,
time per stage."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from pipeline.batch import Batch
from pipeline.contracts import GUARDRAIL_PREFIX
from pipeline.records import Failure, LedgerEntry


@dataclass(frozen=True)
class Summary:
    state_counts: dict[str, int]
    markdown: str
    retriable_failed: int = 0  # failed seeds a rerun of the run tries again (`retriable_failed_seeds`)


def _table(header: tuple[str, ...], rows: list[tuple]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return lines


SHOWN_REASON = 120  # characters of a failure reason in the summary; failures.parquet has it all
_FAILED_PREFIX = re.compile(r"^\d+ failure\(s\); first: ")  # how the ledger words a failed seed's reason


def failure_rows(ledger: list[LedgerEntry]) -> list[tuple]:
    """Per stage: the failed seeds, their most common reason (shortened, one line) and how many
    seeds failed with it."""
    by_stage: dict[str, Counter] = {}
    for entry in ledger:
        if entry.state == "failed":
            reason = " ".join(_FAILED_PREFIX.sub("", entry.reason).split())
            by_stage.setdefault(str(entry.stage), Counter())[reason] += 1
    rows = []
    for stage, reasons in sorted(by_stage.items()):
        reason, seeds = reasons.most_common(1)[0]
        if len(reason) > SHOWN_REASON:
            reason = reason[:SHOWN_REASON - 1].rstrip() + "…"
        rows.append((stage, sum(reasons.values()), reason.replace("|", "\\|") or "(none given)", seeds))
    return rows


def retriable_failed_seeds(ledger: list[LedgerEntry], failures: Iterable[Failure]) -> int:
    """Failed seeds that lost an item to a transient failure (a server unreachable or failing, a
    timeout): a rerun of the run redoes that stage of their batch (`pipeline.build.run_stage`)."""
    transient = {failure.seed_id for failure in failures if failure.transient}
    return sum(1 for entry in ledger if entry.state == "failed" and entry.seed_id in transient)


def transient_failures_text(seeds: int) -> str:
    """The failed seeds a rerun tries again, as the summary and the commands' last line word them."""
    return (f"{seeds} seed{'s' if seeds != 1 else ''} failed on transient errors "
            "(a server unreachable or failing, timeouts; each in failures.parquet)")


def reason_counts(batches: Iterable[Batch]) -> dict[tuple[str, str], Counter]:
    """(stage, reason code) -> how many items it kept and dropped; guardrail blocks count as
    dropped under `guardrail.<rule>`."""
    counts: dict[tuple[str, str], Counter] = {}
    for batch in batches:
        for decision in batch.decisions:
            counts.setdefault((decision.stage, decision.code), Counter())[decision.verdict.value] += 1
        for block in batch.blocked:
            counts.setdefault((block.stage, GUARDRAIL_PREFIX + block.rule), Counter())["drop"] += 1
    return counts


def reason_table(counts: dict[tuple[str, str], Counter]) -> list[str]:
    return _table(("stage", "reason code", "total", "kept", "dropped"),
                  [(stage, code, sum(c.values()), c["keep"], c["drop"])
                   for (stage, code), c in sorted(counts.items())])


def summarise(ledger: list[LedgerEntry], rows: list[dict], stage_seconds: dict[str, float],
              wall_seconds: float, run_id: str, llm_accounting: str = "",
              reason_counts: dict[tuple[str, str], Counter] | None = None, pool_skipped: int = 0,
              retriable_failed: int = 0) -> Summary:
    states = Counter(entry.state.value for entry in ledger)
    per_category = Counter(entry.category for entry in ledger)
    accepted_seeds = Counter(entry.category for entry in ledger if entry.state == "accepted")
    pairs = Counter(row["category"] for row in rows)
    lines = [f"# leakless build `{run_id}`", "",
             f"{len(ledger)} seeds -> {len(rows)} accepted pairs in {wall_seconds:.1f} s wall.", ""]
    if pool_skipped:
        lines += [f"Pool images or caption rows not used: {pool_skipped} (each with its reason in "
                  "`pool_skipped.json`).", ""]
    lines += ["## Terminal states (one per seed)", ""]
    lines += _table(("state", "seeds"), sorted(states.items()))
    failed = failure_rows(ledger)
    if failed:
        lines += ["", "## Failed seeds per stage (every failure, in full: `failures.parquet`)", ""]
        lines += _table(("stage", "failed seeds", "most common reason", "seeds with it"), failed)
        if retriable_failed:
            lines += ["", f"{transient_failures_text(retriable_failed)}: a rerun of this run id tries them again."]
    lines += ["", "## Per category", ""]
    lines += _table(("category", "seeds", "accepted seeds", "accepted pairs"),
                    [(c, per_category[c], accepted_seeds[c], pairs[c]) for c in sorted(per_category)])
    if reason_counts:
        lines += ["", "## Decisions per reason code (`rewrite` rows are retried attempts)", ""]
        lines += reason_table(reason_counts)
    lines += ["", "## Time per stage (summed over batches)", ""]
    lines += _table(("stage", "seconds"), [(s, f"{t:.2f}") for s, t in stage_seconds.items()])
    if llm_accounting:
        lines += ["", "## LLM calls (this process)", "", llm_accounting.strip()]
    return Summary(state_counts=dict(states), markdown="\n".join(lines) + "\n", retriable_failed=retriable_failed)
