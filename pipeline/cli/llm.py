"""`leakless cache stats|clear` (the LLM answer cache) and `leakless fake-llm` (a dry-run server)."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.table import Table

from pipeline.cli.app import app
from pipeline.cli.console import output_console
from pipeline.cli.errors import fail
from pipeline.cli.paths import home_expanded
from pipeline.cli.ports import check_can_listen
from pipeline.llm.config import DEFAULT_TIMEOUT_S, FAKE_HANG_S, LLMSettings
from pipeline.llm.roles import ROLES

cache_app = typer.Typer(help="Inspect or clear the LLM answer cache.", no_args_is_help=True, rich_markup_mode=None)
app.add_typer(cache_app, name="cache")

PathOption = Annotated[Optional[Path], typer.Option(
    "--path", callback=home_expanded, help="Cache file (default: cache/llm.sqlite under $LEAKLESS_ARTIFACTS, else under ./artifacts).")]


def _open_cache(path: Path | None):
    from pipeline.llm.cache import AnswerCache

    path = path or LLMSettings().resolved_cache_path()
    if not path.is_file():
        raise fail(f"no LLM cache at {path}")
    try:
        return AnswerCache(path)
    except sqlite3.DatabaseError as error:
        raise fail(f"{path}: not an LLM cache ({error})") from None


@cache_app.command("stats")
def cache_stats(path: PathOption = None) -> None:
    """Cached answers per role, model and prompt hash."""
    with _open_cache(path) as cache:
        rows = cache.stats()
    table = Table("role", "model", "prompt hash", "answers")
    for row in rows:
        table.add_row(row["role"], row["model"], row["prompt_hash"], str(row["answers"]))
    output_console().print(table)
    typer.echo(f"{sum(r['answers'] for r in rows)} cached answers")


@cache_app.command("clear")
def cache_clear(
    path: PathOption = None,
    role: Annotated[Optional[str], typer.Option(help="Only this role's answers.")] = None,
) -> None:
    """Delete cached answers (all, or one role's)."""
    if role is not None and role not in ROLES:
        raise fail(f"unknown role {role!r} (known: {', '.join(ROLES)})")
    with _open_cache(path) as cache:
        deleted = cache.clear(role)
    typer.echo(f"deleted {deleted} cached answers")


@app.command("fake-llm")
def fake_llm(
    port: Annotated[int, typer.Option(help="Port on 127.0.0.1.")] = 8011,
    latency_ms: Annotated[float, typer.Option(help="Delay before each answer.")] = 0.0,
    fault_rate: Annotated[float, typer.Option(help="Share of requests that fail (0-1).")] = 0.0,
    faults: Annotated[str, typer.Option(help="Fault kinds dealt in turn, comma-separated.")]
    = "429,500,timeout,malformed,refusal",
    hang_s: Annotated[float, typer.Option(
        help=f"How long a 'timeout' fault holds its request before answering, in seconds. The default "
             f"outlasts the client's default timeout_s ({DEFAULT_TIMEOUT_S:g}); a client that waits "
             f"longer than the hang gets an answer, not a timeout.")] = FAKE_HANG_S,
    like_llama_cpp: Annotated[bool, typer.Option(
        "--like-llama-cpp", help="Behave like llama.cpp's server: HTTP 500 for response_format "
                                 "json_schema (json_object with a schema is honoured), and no text "
                                 "read from a message that carries an image.")] = False,
) -> None:
    """Serve scripted, schema-valid answers for every role on 127.0.0.1 (dry runs; any API key works).

    Point an endpoint at it: base_url = "http://127.0.0.1:8011/v1". Answers are
    scripted from the inputs, not written by a model. Fault kinds: 429, 500, timeout
    (held --hang-s seconds), malformed, refusal, and what a small real model answers: empty,
    off_schema, truncated.
    """
    from pipeline.testing.openai_server import FaultPlan, serve

    try:
        plan = FaultPlan(rate=fault_rate, kinds=tuple(k.strip() for k in faults.split(",") if k.strip()),
                         hang_s=hang_s)
    except ValueError as error:
        raise fail(str(error)) from None
    if not 0 < port < 65536:
        raise fail(f"port {port} is out of range")
    check_can_listen("127.0.0.1", port)  # as the server binds: a port in TIME_WAIT after a stop is free
    typer.echo(f"fake OpenAI server on http://127.0.0.1:{port}/v1 (Ctrl-C to stop)", err=True)
    serve(port, latency_s=latency_ms / 1000, faults=plan, rejects_json_schema=like_llama_cpp)
