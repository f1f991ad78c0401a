"""`leakless rewrite FILE`: strip visual leakage from the queries of any benchmark file.

One output row per readable input row, each scored first. `status` is `unchanged` (the query
already passes: under the leak threshold and no harm cue, so it is kept, with no attempt),
`clean` (rewritten to pass), `harm_cues` (under the threshold, but the query alone still names a
harmful act or risky object: the test `LeakFilterStage.should_retry` applies, and a build's harm
check would drop the pair), `leaks`, `not_english` (outside the detector's scope: the query, or the
description, is not English; not scored, not rewritten), `failed: ...` or `blocked: ...`. `clean` is
the leak filter's word on the text only: no intent check runs, `intent_similarity` (the build harm
check's MiniLM cosine of the original and final query) is reported for the reader to judge.
`attempt_log` holds every attempt, the final one last, with the spans its request fed back, so each
retry can be audited.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import pyarrow.parquet as pq
import typer

from pipeline.cli.app import app
from pipeline.cli.console import output_console
from pipeline.cli.errors import nothing_written, readable_rows, user_errors
from pipeline.cli.outputs import refuse_non_parquet, refuse_unwritable_outputs
from pipeline.cli.paths import home_expanded
from pipeline.cli.preflight import check_llm_ready
from pipeline.cli.rewrite_output import intent_drifted, outcome_table, summary
from pipeline.progress import StageProgress
from pipeline.storage import atomic_path

if TYPE_CHECKING:
    from pipeline.stages.leak_filter import LeakFilterStage
    from pipeline.stages.rewrite_loop import RewriteItem, RewriteOutcome


@app.command()
def rewrite(
    file: Annotated[Path, typer.Argument(callback=home_expanded, help="JSON, JSONL, CSV, TSV (each also .gz, .zst, .bz2 or .xz) or Parquet with queries and image descriptions, or a Hugging Face dataset folder (Parquet shards, or a datasets save_to_disk folder).")],
    split: Annotated[Optional[str], typer.Option(help="The split of a dataset folder to read (test for data/test-*.parquet); needed where the folder holds several.")] = None,
    query_field: Annotated[Optional[str], typer.Option(help="Column with the query (found by name if omitted).")] = None,
    description_field: Annotated[Optional[str], typer.Option(help="Column with the image description.")] = None,
    id_field: Annotated[Optional[str], typer.Option(help="Column with the row id (row number if absent).")] = None,
    out: Annotated[Optional[Path], typer.Option(callback=home_expanded, help="Parquet to write (default: <FILE>.rewritten.parquet).")] = None,
    max_attempts: Annotated[int, typer.Option(min=1, max=10, help=(
        "Most rewrite -> detect rounds per query. The loop stops sooner when an attempt flags no new "
        "span to feed back (a text-harm leak such as 'h3roin' has none): the same request would get "
        "the same answer."))] = 3,
    config: Annotated[Optional[Path], typer.Option("--config", "-c", callback=home_expanded, help="Build config; its [backends] rewriter is used.")] = None,
    rejects: Annotated[Optional[Path], typer.Option(callback=home_expanded, help="JSONL listing the unreadable rows "
                                                    "(default: beside --out, ending .rejects.jsonl).")] = None,
    strict: Annotated[bool, typer.Option("--strict", help="Exit 2 at the first unreadable row (without it such "
                                                          "rows are named on stderr and skipped).")] = False,
) -> None:
    """Score each query and rewrite the ones the leak detector does not pass until it passes them,
    attempts run out, or an attempt flags no new span to feed back. Status unchanged (it already
    passed), clean, harm_cues (under the threshold but still naming a harmful act or risky object),
    leaks, not_english (not rewritten), failed or blocked; attempt_log keeps every attempt. clean
    means the detector passes the text, not that its intent was kept (see intent_similarity).
    An element_terms column (a list, or "a; b"), where given, names the shown element: only
    those words are replaced and context nouns stay ("at the market"); without it the rules
    rewriter replaces the nouns shared with the description that name a risky thing it shows
    (the detector's element library and risk lexicon), else the one naming the description's
    subject, and keeps the other shared nouns. Unreadable rows are named with their row or line
    and skipped."""
    from pipeline.config import load_config
    from pipeline.detect.detector import in_scope
    from pipeline.io.compressed import data_stem
    from pipeline.factory import make_leak_filter, make_rewriter

    out = out or file.with_name(data_stem(file) + (f".{split}" if split else "") + ".rewritten.parquet")
    rejects_out = rejects or out.with_name(out.name.removesuffix(".parquet") + ".rejects.jsonl")
    refuse_unwritable_outputs(file, {"--out": out, "--rejects": rejects_out})
    refuse_non_parquet({"--out": out})
    with user_errors():
        settings = load_config(config)
        check_llm_ready(settings, ("rewriter", "vsil_judge"))
    rows, unreadable = readable_rows(file, strict, query_field=query_field, description_field=description_field,
                                  id_field=id_field, split=split)
    repeated = len(rows) - len({row.id for row in rows})
    if repeated:  # each row is still rewritten, and written, on its own; `position` tells them apart
        typer.echo(f"note: {repeated} row(s) share an id with an earlier row; the output keeps one row per input row",
                   err=True)
    with nothing_written(f"nothing written to {out} or {rejects_out}"):  # atomic_path leaves no half file
        rewriter, leak_filter = knowing_shown_risk(make_rewriter(settings)), make_leak_filter(settings)
        english = [in_scope(row.query, row.image_description) for row in rows]  # the detector's own scope test
        with StageProgress(("rewrite",), len(rows), unit="rows") as progress:
            outcomes = rewrite_in_scope([rewrite_item(row) for row in rows], english, rewriter, leak_filter,
                                        max_attempts, advance=lambda done: progress.advance("rewrite", done))
        table = outcome_table(rows, outcomes, english, leak_filter)
        with atomic_path(out) as temporary:
            pq.write_table(table, temporary)
        with atomic_path(rejects_out) as temporary:  # as `audit` does: every input row is on record in a file
            Path(temporary).write_text("".join(reject.json_line() for reject in unreadable), encoding="utf-8")
    drifted = intent_drifted(table.column("status").to_pylist(), table.column("intent_similarity").to_pylist(),
                             settings.harm_check.min_intent_similarity)
    output_console().print(summary(table.column("status").to_pylist(), leak_filter.threshold, rewriter.backend, out,
                                   drifted) + (f"; {len(unreadable)} unreadable row(s) skipped, listed in {rejects_out}" if unreadable else ""))


def knowing_shown_risk(rewriter):
    """The rules rewriter, told which query words name a risky thing the description shows (the
    detector's element library and risk lexicon): a row without element terms has those replaced and
    its context nouns kept ("in the kitchen"), not every noun it shares with the description."""
    from pipeline.backends.offline_text import RulesRewriter
    from pipeline.detect.lexicon import CUES_FILE
    from pipeline.detect.library_terms import library_digest
    from pipeline.hashing import sha256_file

    if not isinstance(rewriter, RulesRewriter):
        return rewriter
    return rewriter.knowing_shown_risk(shown_risk_words, library_digest() + sha256_file(CUES_FILE)[:8])


def shown_risk_words(query: str, description: str) -> tuple[str, ...]:
    """The query's words the detector's `reveal` reads as a shown risk: a library term the description
    names too ("these pills"), or a lexicon object whose concept the description shows ("handgun", "pistol")."""
    from pipeline.detect.signals import Texts, shown_risk_spans
    from pipeline.stages.rewrite_loop import harmful_acts

    words = shown_risk_spans(_risk_lexicon(), Texts.of(query, description))
    acts = set(harmful_acts(words))  # "cut", "go off": a verb has no reference to stand for it
    return tuple(word for word in words if word not in acts)


@lru_cache(maxsize=1)
def _risk_lexicon():
    from pipeline.detect.lexicon import Lexicon

    return Lexicon()


def rewrite_item(row) -> RewriteItem:
    from pipeline.stages.rewrite_loop import RewriteItem

    return RewriteItem(item_id=row.id, query=row.query, image_description=row.image_description,
                       category=row.category, element_terms=row.element_terms)


# Rows put through the rewrite loop at a time, so the bar moves as they finish (a row's outcome is
# its own whatever else is in the slice). 64, an LLM endpoint's default max_in_flight: a slice still
# keeps a remote rewriter as busy as the whole file did.
REWRITE_SLICE = 64


def rewrite_in_scope(items: list[RewriteItem], english: list[bool], rewriter, leak_filter: LeakFilterStage,
                     max_attempts: int, advance: Callable[[int], None] = lambda rows: None) -> list[RewriteOutcome]:
    """One outcome per item, `REWRITE_SLICE` items at a time, `advance` told after each slice."""
    outcomes: list[RewriteOutcome] = []
    for start in range(0, len(items), REWRITE_SLICE):
        part = slice(start, start + REWRITE_SLICE)
        outcomes += _rewrite_slice(items[part], english[part], rewriter, leak_filter, max_attempts)
        advance(len(items[part]))
    return outcomes


def _rewrite_slice(items: list[RewriteItem], english: list[bool], rewriter, leak_filter: LeakFilterStage,
                   max_attempts: int) -> list[RewriteOutcome]:
    """One outcome per item; a query in another language is neither scored nor rewritten."""
    from pipeline.stages.rewrite_loop import RewriteOutcome, rewrite_until_clean

    in_scope = iter(rewrite_until_clean([item for item, ok in zip(items, english) if ok], rewriter, leak_filter,
                                        max_attempts, score_first=True))
    return [next(in_scope) if ok else RewriteOutcome(item) for item, ok in zip(items, english)]
