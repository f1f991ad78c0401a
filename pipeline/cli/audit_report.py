"""`leakless audit-report RUN`: one self-contained HTML page auditing a run's filter decisions."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from pipeline.cli.app import app
from pipeline.cli.errors import fail, user_errors
from pipeline.cli.paths import home_expanded
from pipeline.cli.review import RUNS_DIR, RunsDir


@app.command("audit-report")
def audit_report(
    run: Annotated[str, typer.Argument(help="A run id under --runs-dir, or a run folder.")],
    runs_dir: RunsDir = RUNS_DIR,
    out: Annotated[Path | None, typer.Option(callback=home_expanded, help="Where to write the page; default <run>/audit_report.html.")] = None,
) -> None:
    """Write an HTML audit of the run's leak-filter decisions: score histograms per category,
    a threshold sweep, the items nearest the threshold, rewrite attempts, agreement with review."""
    from pipeline.report import write_audit_report

    folder = Path(run) if Path(run).is_dir() else runs_dir / run
    if not folder.is_dir():
        raise fail(f"{folder} is not a run folder")
    with user_errors():
        path = write_audit_report(folder, out)
    typer.echo(str(path))
