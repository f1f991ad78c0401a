"""The end-of-run summary: terminal states, per-category counts, decisions per reason code,
time per stage."""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.batch import Batch
from pipeline.contracts import GUARDRAIL_PREFIX, StageName
from pipeline.llm.accounting import markdown_table
from pipeline.records import Failure, LedgerEntry
from pipeline.stages.drafts import usable_queries


@dataclass(frozen=True)
class Summary:
    state_counts: dict[str, int]
    markdown: str
    retriable_failed: int = 0  # failed seeds a rerun of the run tries again (`retriable_failed_seeds`)


def _table(header: tuple[str, ...], rows: list[tuple]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return lines


FAILURE_CODE = "error"  # the reason code a failure is counted under (a failure records no code)
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


def failed_seeds_warning(failed: int, seeds: int, retriable: int) -> str | None:
    """What a run with failed seeds says in its flow run's log (the run itself completes)."""
    if not failed:
        return None
    text = f"{failed} of {seeds} seeds failed (failures.parquet has each error)"
    return f"{text}; {transient_failures_text(retriable)}: a rerun of this run id tries them again" if retriable else text


def transient_failures_text(seeds: int) -> str:
    """The failed seeds a rerun tries again, as the summary and the commands' last line word them."""
    return (f"{seeds} seed{'s' if seeds != 1 else ''} failed on transient errors "
            "(a server unreachable or failing, timeouts; each in failures.parquet)")


@dataclass
class ReasonCount:
    """What one (stage, reason code) did: its decisions or records, the ones that kept an item, the
    pairs it ended and the seeds it ended them in (a seed ended before it drafted counts, with no
    pair). `pairs` is None where a whole seed ended and the pairs it had drafted are not known (the
    guardrail takes a blocked seed's draft with it)."""
    records: int = 0
    kept: int = 0
    pairs: int | None = 0
    seeds: set[str] = field(default_factory=set)


def pairs_ended(ends: Iterable[tuple[str, str, str, str]], drafted: dict[str, int],
                accepted: Counter) -> dict[tuple[str, str], ReasonCount]:
    """(stage, reason code) -> what it ended, from `ends`: (stage, code, item id, seed id) of every
    drop, guardrail block and failure. A pair's end ends that pair; a seed's end (its id as the item:
    a failed retrieval, a missing image, every guardrail block, which taints the seed) ends every pair
    the seed had drafted and nothing else ended, so the pairs add up to the pairs drafted; a second
    end of a seed already ended whole (two of its pairs blocked) counts as a record, with no pair."""
    ends = [(*end, _ends_the_seed(*end)) for end in ends]
    by_pair = Counter(seed_id for _, _, _, seed_id, whole in ends if not whole)
    counts: dict[tuple[str, str], ReasonCount] = {}
    ended_whole: set[str] = set()
    for stage, code, _, seed_id, whole in ends:
        count = counts.setdefault((stage, code), ReasonCount())
        count.records += 1
        if whole and seed_id in ended_whole:
            lost = 0
        elif whole:
            ended_whole.add(seed_id)
            lost = _left_in(seed_id, stage, drafted, accepted[seed_id] + by_pair[seed_id])
        else:
            lost = 1
        count.pairs = None if count.pairs is None or lost is None else count.pairs + lost
        count.seeds.add(seed_id)
    return counts


def _ends_the_seed(stage: str, code: str, item_id: str, seed_id: str) -> bool:
    return item_id == seed_id or code.startswith(GUARDRAIL_PREFIX)


def _left_in(seed_id: str, stage: str, drafted: dict[str, int], ended_otherwise: int) -> int | None:
    """The pairs a seed had drafted that its own end took, None where its draft is not known."""
    if seed_id in drafted:
        return max(drafted[seed_id] - ended_otherwise, 0)
    return 0 if stage in (StageName.seed, StageName.drafts) else None  # it ended before it drafted a pair


def drafted_pairs(run_dir: Path) -> dict[str, int]:
    """Seed -> the pairs it drafted, from each batch's `drafts` checkpoint (empty where none is kept):
    a seed blocked later takes its draft out of the batch, not out of the checkpoint."""
    drafted = Counter()
    for checkpoint in sorted((Path(run_dir) / "batches").glob(f"*/{StageName.drafts}.json")):
        drafted.update(pair["seed_id"] for pair in json.loads(checkpoint.read_text(encoding="utf-8"))["pairs"])
    return dict(drafted)


def reason_counts(batches: Iterable[Batch], checkpointed: Mapping[str, int] = {}) -> dict[tuple[str, str], ReasonCount]:
    """(stage, reason code) -> its decisions, what it kept, the pairs it ended and their seeds;
    guardrail blocks count under `guardrail.<rule>`, failures under `error`. A `rewrite` decision is
    an attempt that was tried again, never an end. `checkpointed` (`drafted_pairs`) counts the pairs
    of a seed whose draft left its batch with a guardrail block."""
    counts: dict[tuple[str, str], ReasonCount] = {}
    for batch in batches:
        ends = [(d.stage, d.code, d.item_id, d.seed_id) for d in batch.decisions
                if d.verdict != "keep" and d.stage != StageName.rewrite]
        ends += [(b.stage, GUARDRAIL_PREFIX + b.rule, b.item_id, b.seed_id) for b in batch.blocked]
        ends += [(f.stage, FAILURE_CODE, f.item_id, f.seed_id) for f in batch.failures]
        drafted = dict(checkpointed) | {draft.seed_id: len(usable_queries(draft)) for draft in batch.drafts}
        for key, count in pairs_ended(ends, drafted, Counter(pair.seed_id for pair in batch.pairs)).items():
            _merge(counts.setdefault(key, ReasonCount()), count)
        for decision in batch.decisions:
            if decision.verdict == "keep" or decision.stage == StageName.rewrite:
                count = counts.setdefault((decision.stage, decision.code), ReasonCount())
                count.records += 1
                count.kept += decision.verdict == "keep"
    return counts


def _merge(into: ReasonCount, count: ReasonCount) -> None:
    into.records += count.records
    into.kept += count.kept
    into.pairs = None if into.pairs is None or count.pairs is None else into.pairs + count.pairs
    into.seeds |= count.seeds


REASON_NOTE = ("Every decision, guardrail block and failure (`error`), with the pairs it ended: the end of a "
               "whole seed counts each pair the seed had drafted that nothing else ended, so the pairs ended "
               "and the accepted pairs add up to the pairs drafted. `rewrite` rows are attempts tried again. "
               "A `—`: a blocked seed's draft went with it and no drafts checkpoint was kept, so the pairs it "
               "ended are not known.")


def reason_table(counts: dict[tuple[str, str], ReasonCount]) -> list[str]:
    return _table(("stage", "reason code", "decisions", "kept", "pairs ended", "seeds"),
                  [(stage, code, c.records, c.kept, "—" if c.pairs is None else c.pairs, len(c.seeds))
                   for (stage, code), c in sorted(counts.items())])


def llm_calls_lines(spent: dict[str, dict], processes: int, this_one_sent: bool) -> list[str]:
    """What every process that worked on the run spent (`pipeline.build.llm_calls_of_run`), and whether
    this build sent anything: a resumed run's earlier processes count."""
    here = "" if this_one_sent else " This build sent none: every batch came from its checkpoint."
    if not processes:
        return ["No LLM request or cache hit recorded." + here]
    return [f"Added up over the {processes} build process{'es' if processes != 1 else ''} that used the LLM "
            f"client (`llm_calls/`, a file each).{here}", "", markdown_table(spent)]


def no_seed_lines(without_seeds: list[tuple[str, str]]) -> list[str]:
    """The line naming the chosen sub-categories with no seed. A sub-category gets a seed from each of its
    first run.size elements, so one with none had no element in the library or the store: its one note
    at the build's start is easy to miss."""
    if not without_seeds:
        return []
    named = "; ".join(f"{sub} ({category})" for category, sub in without_seeds)
    return ["", f"**No seed, so no pairs, in {len(without_seeds)} chosen sub-categor"
                f"{'y' if len(without_seeds) == 1 else 'ies'}** (no element in the library or the store): {named}."]


def summarise(ledger: list[LedgerEntry], rows: list[dict], stage_seconds: dict[str, float],
              wall_seconds: float, run_id: str, llm_calls: tuple[dict[str, dict], int, bool] | None = None,
              reason_counts: dict[tuple[str, str], ReasonCount] | None = None, pool_skipped: int = 0,
              retriable_failed: int = 0, thresholds: str | None = None,
              without_seeds: Iterable[tuple[str, str]] = (), backends: str | None = None) -> Summary:
    """`thresholds`: the line naming the thresholds that decided the drops (`build_thresholds.summary_line`);
    `without_seeds`: the (category, sub-category) pairs the run chose that no seed came from; `backends`:
    the line naming each role's backend and the prompt files they read (`build.backends_line`)."""
    without_seeds = list(without_seeds)
    states = Counter(entry.state.value for entry in ledger)
    per_category = Counter(entry.category for entry in ledger)
    per_category.update({category: 0 for category, _ in without_seeds})  # a row of noughts, not no row
    accepted_seeds = Counter(entry.category for entry in ledger if entry.state == "accepted")
    pairs = Counter(row["category"] for row in rows)
    lines = [f"# leakless build `{run_id}`", "",
             f"{len(ledger)} seed(s) -> {len(rows)} accepted pair(s) in {wall_seconds:.1f} s wall.", ""]
    for line in filter(None, (thresholds, backends)):
        lines += [line, ""]
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
    lines += no_seed_lines(without_seeds)
    if reason_counts:
        lines += ["", "## Decisions per reason code", "", REASON_NOTE, ""]
        lines += reason_table(reason_counts)
    lines += ["", "## Time per stage (summed over batches)", ""]
    lines += _table(("stage", "seconds"), [(s, f"{t:.2f}") for s, t in stage_seconds.items()])
    if llm_calls is not None:
        lines += ["", "## LLM calls (every build process of this run)", "", *llm_calls_lines(*llm_calls)]
    return Summary(state_counts=dict(states), markdown="\n".join(lines) + "\n", retriable_failed=retriable_failed)
