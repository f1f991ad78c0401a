"""The end-of-run summary: terminal states, per-category counts, time per stage."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from pipeline.records import LedgerEntry


@dataclass(frozen=True)
class Summary:
    state_counts: dict[str, int]
    markdown: str


def _table(header: tuple[str, ...], rows: list[tuple]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return lines


def summarise(ledger: list[LedgerEntry], rows: list[dict], stage_seconds: dict[str, float],
              wall_seconds: float, run_id: str, llm_accounting: str = "") -> Summary:
    states = Counter(entry.state.value for entry in ledger)
    per_category = Counter(entry.category for entry in ledger)
    accepted_seeds = Counter(entry.category for entry in ledger if entry.state == "accepted")
    pairs = Counter(row["category"] for row in rows)
    lines = [f"# leakless build `{run_id}`", "",
             f"{len(ledger)} seeds -> {len(rows)} accepted pairs in {wall_seconds:.1f} s wall.", "",
             "## Terminal states (one per seed)", ""]
    lines += _table(("state", "seeds"), sorted(states.items()))
    lines += ["", "## Per category", ""]
    lines += _table(("category", "seeds", "accepted seeds", "accepted pairs"),
                    [(c, per_category[c], accepted_seeds[c], pairs[c]) for c in sorted(per_category)])
    lines += ["", "## Time per stage (summed over batches)", ""]
    lines += _table(("stage", "seconds"), [(s, f"{t:.2f}") for s, t in stage_seconds.items()])
    if llm_accounting:
        lines += ["", "## LLM calls (this process)", "", llm_accounting.strip()]
    return Summary(state_counts=dict(states), markdown="\n".join(lines) + "\n")
