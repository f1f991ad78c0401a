"""`leakless rewrite FILE`: strip visual leakage from the queries of any benchmark file.

One output row per readable input row. `status` is `clean` (under the leak threshold and no
harm cue left), `harm_cues` (under the threshold, but the query alone still names a harmful
act or risky object: the test `LeakFilterStage.should_retry` applies, and a build's harm check
would drop the pair), `leaks`, `failed: ...` or `blocked: ...`. `attempt_log` holds every
attempt, the final one last, with the spans its request fed back, so each retry can be audited.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import pyarrow as pa
import pyarrow.parquet as pq
import typer

from pipeline.cli.app import app
from pipeline.cli.console import output_console
from pipeline.cli.errors import fail, readable_rows, user_errors
from pipeline.cli.preflight import check_llm_ready
from pipeline.storage import atomic_path

if TYPE_CHECKING:
    from pipeline.stages.leak_filter import LeakFilterStage
    from pipeline.stages.rewrite_loop import RewriteOutcome

ATTEMPT_TYPE = pa.struct([
    ("attempt", pa.int32()), ("query", pa.string()), ("fed_back", pa.list_(pa.string())),
    ("score", pa.float64()), ("text_harm", pa.float64()), ("reveal", pa.float64()),
    ("harm_cues", pa.float64()), ("spans", pa.list_(pa.string())),
])


@app.command()
def rewrite(
    file: Annotated[Path, typer.Argument(help="JSON, JSONL, CSV, TSV or Parquet with queries and image descriptions.")],
    query_field: Annotated[Optional[str], typer.Option(help="Column with the query (found by name if omitted).")] = None,
    description_field: Annotated[Optional[str], typer.Option(help="Column with the image description.")] = None,
    id_field: Annotated[Optional[str], typer.Option(help="Column with the row id (row number if absent).")] = None,
    out: Annotated[Optional[Path], typer.Option(help="Parquet to write (default: <FILE>.rewritten.parquet).")] = None,
    max_attempts: Annotated[int, typer.Option(min=1, max=10, help=(
        "Most rewrite -> detect rounds per query. The loop stops sooner when an attempt flags no new "
        "span to feed back (a text-harm leak such as 'h3roin' has none): the same request would get "
        "the same answer."))] = 3,
    config: Annotated[Optional[Path], typer.Option(help="Build config; its [backends] rewriter is used.")] = None,
    strict: Annotated[bool, typer.Option("--strict", help="Exit 2 at the first unreadable row (without it such "
                                                          "rows are named on stderr and skipped).")] = False,
) -> None:
    """Rewrite each query until the leak detector passes it, attempts run out, or an attempt flags
    no new span to feed back. Status clean, harm_cues (under the threshold but still naming a harmful
    act or risky object), leaks, failed or blocked; attempt_log keeps every attempt. Unreadable rows
    are named with their row or line and skipped."""
    from pipeline.config import load_config
    from pipeline.factory import make_leak_filter, make_rewriter
    from pipeline.stages.rewrite_loop import RewriteItem, rewrite_until_clean

    with user_errors():
        settings = load_config(config)
        check_llm_ready(settings, ("rewriter", "vsil_judge"))
    rows, rejects = readable_rows(file, strict, query_field=query_field, description_field=description_field,
                                  id_field=id_field)
    out = out or file.with_name(file.stem + ".rewritten.parquet")
    if not out.parent.is_dir():
        raise fail(f"{out.parent}: no such folder")

    repeated = len(rows) - len({row.id for row in rows})
    if repeated:  # each row is still rewritten, and written, on its own
        typer.echo(f"note: {repeated} row(s) share an id with an earlier row; the output keeps one row per input row",
                   err=True)
    rewriter, leak_filter = make_rewriter(settings), make_leak_filter(settings)
    threshold = leak_filter.threshold
    items = [RewriteItem(item_id=row.id, query=row.query, image_description=row.image_description,
                         category=row.category, element_terms=row.element_terms) for row in rows]
    outcomes = rewrite_until_clean(items, rewriter, leak_filter, max_attempts)

    table = pa.table({
        "id": [o.item.item_id for o in outcomes],
        "query": [o.item.query for o in outcomes],
        "rewritten_query": [o.final.query if o.final else None for o in outcomes],
        "attempts": pa.array([len(o.attempts) for o in outcomes], pa.int32()),
        "final_leak_score": pa.array([o.final.leak.score if o.final else None for o in outcomes], pa.float64()),
        "spans": pa.array([list(o.final.leak.spans) if o.final else [] for o in outcomes], pa.list_(pa.string())),
        "status": [status(o, leak_filter) for o in outcomes],
        "backend": [o.final.made_by.backend if o.final else rewriter.backend for o in outcomes],
        "model": [o.final.made_by.model if o.final else rewriter.model for o in outcomes],
        "prompt_hash": [o.final.made_by.prompt_hash if o.final else rewriter.prompt_hash for o in outcomes],
        "detector_version": [leak_filter.detector.version] * len(outcomes),
        "attempt_log": pa.array([attempt_log(o) for o in outcomes], pa.list_(ATTEMPT_TYPE)),
    })
    with atomic_path(out) as temporary:
        pq.write_table(table, temporary)
    statuses = table.column("status").to_pylist()
    harm_left = statuses.count("harm_cues")
    output_console().print(f"{statuses.count('clean')} of {len(statuses)} queries rewritten leak-free "
                           f"(threshold {threshold:.3f}, backend {rewriter.backend}) -> {out}"
                           + (f"; {harm_left} more under the threshold but still naming a harmful act or "
                              f"risky object (status harm_cues)" if harm_left else "")
                           + (f"; {len(rejects)} unreadable row(s) skipped" if rejects else ""))


def status(outcome: RewriteOutcome, leak_filter: LeakFilterStage) -> str:
    from pipeline.stages.base import failure_text

    if outcome.error:
        return f"failed: {outcome.error.error}"
    if outcome.blocked:
        return f"blocked: {outcome.blocked.rule}"
    leak = outcome.final.leak
    if leak.judge_error:  # not judged by half: the configured judge could not answer
        return f"failed: VSIL judge: {failure_text(leak.judge_error)}"
    if leak_filter.leaks(leak):
        return "leaks"
    # the rewrite loop's own retry test: below the threshold a harm cue left is what a build drops
    return "harm_cues" if leak_filter.should_retry(leak) else "clean"


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
