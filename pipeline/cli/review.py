"""`leakless review ...`: human review of a run's pairs (batches, web app, agreement, import, Label Studio)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from pipeline.cli.app import app
from pipeline.cli.errors import fail, user_errors

review_app = typer.Typer(help="Human review: batches for annotators, a review web app, decisions back into the run.",
                         no_args_is_help=True)
tokens_app = typer.Typer(help="Per-annotator tokens, each scoped to batches.", no_args_is_help=True)
review_app.add_typer(tokens_app, name="tokens")
app.add_typer(review_app, name="review")

RunsDir = Annotated[Path, typer.Option("--runs-dir", help="Where the runs live.")]
RUNS_DIR = Path("artifacts/runs")


def run_folder(run: str, runs_dir: Path) -> Path:
    """RUN is a run id under --runs-dir, or a path to a run folder."""
    folder = Path(run) if Path(run).is_dir() else runs_dir / run
    if not (folder / "data").is_dir():
        raise fail(f"{folder} is not a finished run (no data/ folder)")
    return folder.resolve()


def store_for(run_dir: Path):
    from pipeline.review.store import ReviewStore
    return ReviewStore.for_runs(run_dir.parent)


@review_app.command("export")
def export(run: str, runs_dir: RunsDir = RUNS_DIR,
           batch_size: Annotated[int, typer.Option(help="Pairs per batch.")] = 50,
           overlap: Annotated[float, typer.Option(help="Share of each batch's pairs labelled twice.")] = 0.0,
           annotators: Annotated[str, typer.Option(help="Comma-separated names to assign batches to.")] = "") -> None:
    """Write review batches (stratified by category) under <run>/review/batches/."""
    from pipeline.review.batches import export_batches
    folder = run_folder(run, runs_dir)
    names = [name.strip() for name in annotators.split(",") if name.strip()]
    with user_errors():
        manifests = export_batches(folder, batch_size=batch_size, overlap=overlap, annotators=names)
    for manifest in manifests:
        typer.echo(f"{manifest.batch_id}\t{len(manifest.pair_ids)} pairs\t"
                   f"{', '.join(manifest.assignment) or 'any annotator'}")


@review_app.command("serve")
def serve(runs_dir: RunsDir = RUNS_DIR, host: str = "127.0.0.1", port: int = 8765) -> None:
    """Serve the review web app (open it with http://HOST:PORT/?token=...)."""
    import uvicorn

    from pipeline.review.app import create_app
    if not runs_dir.is_dir():
        raise fail(f"{runs_dir} is not a folder")
    uvicorn.run(create_app(runs_dir), host=host, port=port, log_level="info")


@tokens_app.command("add")
def tokens_add(name: str, batches: Annotated[str, typer.Option(help="Comma-separated batch ids.")],
               runs_dir: RunsDir = RUNS_DIR) -> None:
    """Create a token for NAME scoped to the given batches; prints it once (only its hash is kept)."""
    from pipeline.review.batches import find_batch
    from pipeline.review.store import ReviewStore
    wanted = [batch.strip() for batch in batches.split(",") if batch.strip()]
    unknown = [batch for batch in wanted if find_batch(runs_dir, batch) is None]
    if not wanted or unknown:
        raise fail(f"no exported batch {', '.join(unknown) or '(none given)'} under {runs_dir}")
    with user_errors():
        typer.echo(ReviewStore.for_runs(runs_dir).add_token(name, wanted))


@tokens_app.command("list")
def tokens_list(runs_dir: RunsDir = RUNS_DIR) -> None:
    """Annotators with a token, and their batches."""
    from pipeline.review.store import ReviewStore
    for token in ReviewStore.for_runs(runs_dir).tokens():
        typer.echo(f"{token.annotator}\t{','.join(token.batches)}")


@review_app.command("import")
def import_(run: str, runs_dir: RunsDir = RUNS_DIR) -> None:
    """Write <run>/review/decisions.parquet and accepted_ids.json from the current decisions."""
    from pipeline.review.importer import import_review
    from pipeline.review.batches import load_batches
    folder = run_folder(run, runs_dir)
    with user_errors():
        load_batches(folder)  # a run never exported for review fails before the store is opened (and created)
        frame = import_review(folder, store_for(folder))
    counts = frame["review_state"].value_counts().to_dict()
    typer.echo(" ".join(f"{state}={count}" for state, count in sorted(counts.items())))


@review_app.command("status")
def status(run: str, runs_dir: RunsDir = RUNS_DIR) -> None:
    """Progress per batch and annotator, Cohen's kappa per batch and category, conflicts to adjudicate."""
    from pipeline.review.agreement import agreement, conflicts
    from pipeline.review.batches import load_batches
    folder = run_folder(run, runs_dir)
    with user_errors():
        batches = load_batches(folder)
    events = store_for(folder).current(run_id=folder.name)
    console = Console()
    progress = Table("batch", "annotator", "decided", "skipped", "assigned", title="Progress")
    for batch in batches:
        mine = [e for e in events if e.batch_id == batch.manifest.batch_id]
        names = sorted(set(batch.manifest.assignment) | {e.annotator for e in mine}) or ["(nobody yet)"]
        for name in names:
            own = [e for e in mine if e.annotator == name]
            progress.add_row(batch.manifest.batch_id, name, str(len(own)),
                             str(sum(e.action == "skip" for e in own)), str(len(batch.manifest.pairs_for(name))))
    console.print(progress)
    category_of = {pid: item.category for batch in batches for pid, item in batch.items.items()}
    kappa = Table("scope", "key", "double-labelled", "agreed", "kappa", title="Agreement (accept vs reject)")
    for row in agreement(events, category_of):
        kappa.add_row(row.scope, row.key, str(row.items), str(row.agreed),
                      "n/a" if row.kappa is None else f"{row.kappa:.3f}")
    console.print(kappa)
    found = conflicts(events)
    table = Table("batch", "pair", "labels", title=f"Conflicts to adjudicate: {len(found)}")
    for conflict in found:
        table.add_row(conflict.batch_id, conflict.pair_id, "; ".join(f"{k}={v}" for k, v in conflict.labels.items()))
    console.print(table)
