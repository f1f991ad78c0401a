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
    context_settings={"help_option_names": ["-h", "--help"]},  # subcommands inherit it
)


def _show_version(asked: bool) -> None:
    if asked:
        from pipeline.cli.version import version_lines
        print("\n".join(version_lines()))
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", is_eager=True, callback=_show_version,
                                 help="Show leakless's version, the git commit of its code, the leak "
                                      "detector's version and the libraries it runs on, then exit."),
) -> None:
    """Build leak-free multimodal safety benchmarks (VLSBench-style).

    Start with `leakless build`: it runs offline by default (no API key, no GPU).
    """
