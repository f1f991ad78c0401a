"""The `leakless` command-line app. Command modules in this package register on `app`."""

from __future__ import annotations

import typer

app = typer.Typer(
    name="leakless",
    help="Build leak-free multimodal safety benchmarks (VLSBench-style).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,  # plain help: Rich markup would eat "[llm]", and flags would show "<bool>"
)


@app.callback()
def _root() -> None:
    """Build leak-free multimodal safety benchmarks (VLSBench-style).

    Start with `leakless build`: it runs offline by default (no API key, no GPU).
    """
