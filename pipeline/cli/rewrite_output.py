"""What `leakless rewrite` writes and says: one output row per input row (its status, the final query
and its scores, who wrote it, every attempt) and the summary line counting every status."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow as pa

if TYPE_CHECKING:
    from pipeline.records import LeakScores, RewriteAttempt
    from pipeline.stages.leak_filter import LeakFilterStage
    from pipeline.stages.rewrite_loop import RewriteOutcome

ATTEMPT_TYPE = pa.struct([
    ("attempt", pa.int32()), ("query", pa.string()), ("fed_back", pa.list_(pa.string())),
    ("score", pa.float64()), ("text_harm", pa.float64()), ("reveal", pa.float64()),
    ("harm_cues", pa.float64()), ("spans", pa.list_(pa.string())),
])


def kept_as_is(outcome: RewriteOutcome) -> bool:
    """Scored first and passing, so never rewritten: not a row whose first rewrite failed or was blocked
    (that one has no final query, and must not read as if its leaky original were one)."""
    return (outcome.final is None and outcome.original is not None and outcome.error is None
            and outcome.blocked is None)


def shipped(outcome: RewriteOutcome) -> RewriteAttempt | None:
    """The final attempt, as the row's rewrite: none for a failed or blocked row, whose earlier attempt
    (kept in attempt_log) was the one the loop went on to replace, not a usable rewrite."""
    return None if outcome.error or outcome.blocked else outcome.final


def final_scores(outcome: RewriteOutcome) -> LeakScores | None:
    """The final attempt's scores, or those of the query itself when it was kept."""
    return shipped(outcome).leak if shipped(outcome) else outcome.original if kept_as_is(outcome) else None


def final_query(outcome: RewriteOutcome) -> str | None:
    if shipped(outcome):
        return shipped(outcome).query
    return outcome.item.query if kept_as_is(outcome) else None


def outcome_table(rows: list, outcomes: list[RewriteOutcome], english: list[bool],
                  leak_filter: LeakFilterStage) -> pa.Table:
    scores = [final_scores(o) for o in outcomes]
    finals = [final_query(o) for o in outcomes]
    return pa.table({
        "id": [o.item.item_id for o in outcomes],
        "position": pa.array([row.position.number for row in rows], pa.int64()),
        # a dataset folder's shards each count from 1: its rows name their shard
        **({"file": [row.position.file for row in rows]} if rows and rows[0].position.file else {}),
        "query": [o.item.query for o in outcomes],
        "rewritten_query": finals,
        # under the name the readers look for: `leakless audit OUT --query-field rewritten_query` scores the pair
        "image_description": [o.item.image_description for o in outcomes],
        "attempts": pa.array([len(o.attempts) for o in outcomes], pa.int32()),
        # the input query's own score, scored before any rewrite: also for a failed or blocked row, which
        # has no final score, so how leaky its query was is still on record
        "original_leak_score": pa.array([o.original.score if o.original else None for o in outcomes], pa.float64()),
        "final_leak_score": pa.array([leak.score if leak else None for leak in scores], pa.float64()),
        "spans": pa.array([list(leak.spans) if leak else [] for leak in scores], pa.list_(pa.string())),
        "status": [status(o, ok, leak_filter) for o, ok in zip(outcomes, english)],
        "intent_similarity": pa.array(intent_similarities([o.item.query for o in outcomes], finals), pa.float64()),
        # who wrote the final query: no one for a row with none (unchanged, failed, blocked, not English)
        **provenance_columns([shipped(o) for o in outcomes]),
        "detector_version": [leak_filter.detector.version] * len(outcomes),
        "attempt_log": pa.array([attempt_log(o) for o in outcomes], pa.list_(ATTEMPT_TYPE)),
    })


def provenance_columns(finals: list[RewriteAttempt | None]) -> dict[str, pa.Array]:
    return {field: pa.array([getattr(final.made_by, field) if final else None for final in finals], pa.string())
            for field in ("backend", "model", "prompt_hash")}


def intent_similarities(queries: list[str], finals: list[str | None]) -> list[float | None]:
    """The build harm check's intent measure (MiniLM cosine of the original and final query),
    reported, not applied: `rewrite` keeps no rewrite for it and drops none."""
    import numpy as np

    from pipeline.backends.minilm import default_embedder

    pairs = [(n, query, final) for n, (query, final) in enumerate(zip(queries, finals)) if final is not None]
    similarities: list[float | None] = [None] * len(queries)
    if not pairs:
        return similarities
    embedder = default_embedder()
    originals = embedder.embed([query for _, query, _ in pairs])
    rewrites = embedder.embed([final for _, _, final in pairs])
    for (n, _, _), similarity in zip(pairs, np.einsum("ij,ij->i", originals, rewrites)):
        similarities[n] = float(similarity)
    return similarities


def status(outcome: RewriteOutcome, english: bool, leak_filter: LeakFilterStage) -> str:
    from pipeline.stages.base import failure_text

    if outcome.error:
        return f"failed: {outcome.error.error}"
    if outcome.blocked:
        return f"blocked: {outcome.blocked.rule}"
    if not english:
        return "not_english"
    leak = final_scores(outcome)
    if leak.judge_error:  # not judged by half: the configured judge could not answer
        return f"failed: VSIL judge: {failure_text(leak.judge_error)}"
    if not outcome.attempts:  # scored first, and the filter would not retry it
        return "unchanged"
    if leak_filter.leaks(leak):
        return "leaks"
    # the rewrite loop's own retry test: below the threshold a harm cue left is what a build drops
    return "harm_cues" if leak_filter.should_retry(leak) else "clean"


# The summary's words per status, in the order it names them after the leak-free count.
STATUS_WORDS = {
    "unchanged": "already passing, kept as they are (status unchanged)",
    "harm_cues": "more under the threshold but still naming a harmful act or risky object (status harm_cues)",
    "leaks": "still leaking after the last attempt (status leaks)",
    "not_english": "not English, outside the detector's scope and not rewritten (status not_english)",
    "blocked": "blocked by the guardrails (status blocked: RULE)",
    "failed": "failed (status failed: WHY)",
}


def intent_drifted(statuses: list[str], similarities: list[float | None], floor: float) -> tuple[int, float]:
    """(how many `clean` rewrites a build's harm check would drop for lost intent, its floor): `clean`
    speaks for the leak only, and the summary should not pass them as done."""
    return sum(status == "clean" and similarity is not None and similarity < floor
               for status, similarity in zip(statuses, similarities)), floor


def summary(statuses: list[str], threshold: float, backend: str, out: Path,
            drifted: tuple[int, float] = (0, 0.0)) -> str:
    """Every status counted: `failed: ...` and `blocked: ...` by their kind."""
    kinds = [text.split(":")[0] for text in statuses]
    counted = "".join(f"; {kinds.count(kind)} {words}" for kind, words in STATUS_WORDS.items() if kind in kinds)
    under, floor = drifted
    intent = (f" ({under} of them with intent_similarity under {floor:.2f}, the floor below which a build's harm "
              "check drops a rewrite for lost intent: read them)" if under else "")
    return (f"{kinds.count('clean')} of {len(statuses)} queries rewritten leak-free{intent} "
            f"(threshold {threshold:.3f}, backend {backend}) -> {out}{counted}")


def attempt_log(outcome: RewriteOutcome) -> list[dict]:
    """Every attempt with its scores and the spans its request carried: each attempt's request
    feeds back every span flagged by the attempts before it (`rewrite_until_clean`)."""
    from pipeline.stages.harm_check import harm_cues

    log, fed_back = [], ()
    for number, attempt in enumerate(outcome.attempts, start=1):
        leak = attempt.leak
        log.append({"attempt": number, "query": attempt.query, "fed_back": list(fed_back), "score": leak.score,
                    "text_harm": leak.text_harm, "reveal": leak.reveal, "harm_cues": harm_cues(leak.signals),
                    "spans": list(leak.spans)})
        fed_back = tuple(dict.fromkeys(fed_back + leak.spans))
    return log
