"""`leakless review ...`: human review of a run's pairs (batches, web app, agreement, import, Label Studio)."""

from __future__ import annotations

import ssl
from pathlib import Path
from typing import Annotated, Optional

import typer

from pipeline.cli.app import app
from pipeline.cli.console import output_console
from pipeline.cli.errors import echoed_notes, fail, user_errors
from pipeline.cli.paths import given_path, home_expanded
from pipeline.cli.ports import check_can_listen
from pipeline.cli.tables import fitted_table, print_whole

review_app = typer.Typer(help="Human review: batches for annotators, a review web app, decisions back into the run.",
                         no_args_is_help=True, rich_markup_mode=None)
tokens_app = typer.Typer(help="Per-annotator tokens, each scoped to batches.", no_args_is_help=True,
                         rich_markup_mode=None)
review_app.add_typer(tokens_app, name="tokens")
app.add_typer(review_app, name="review")

RunsDir = Annotated[Path, typer.Option("--runs-dir", callback=home_expanded, help="Where the runs live.")]
Run = Annotated[str, typer.Argument(help="A run id under --runs-dir, or a run folder.")]
RUNS_DIR = Path("artifacts/runs")
EXPORT_FORMATS = ("jsonl", "csv")  # review export --format: csv adds review sheets beside the batches


def run_folder(run: str, runs_dir: Path) -> Path:
    """RUN is a run id under --runs-dir, or a path to a run folder. A run id wins over a folder of the
    same name where the command is run (an image pool called like the run, say)."""
    under_runs_dir, given = runs_dir / run, given_path(run)
    folder = under_runs_dir if under_runs_dir.is_dir() or not given.is_dir() else given
    if not folder.is_dir():  # a typo, or a relative --runs-dir read from another folder: not a half-built run
        raise fail(f"no run {run} under {runs_dir}")
    if not (folder / "data").is_dir():
        raise fail(f"{folder} is not a finished run (no data/ folder)")
    if not (folder / "manifest.json").is_file():  # written last: a run killed while finishing has none
        raise fail(f"{folder} is not a finished run (no manifest.json: rerun `leakless build` to finish it)")
    return folder.resolve()


def store_for(run_dir: Path):
    from pipeline.review.store import ReviewStore
    return ReviewStore.for_runs(run_dir.parent)


def existing_store(runs_dir: Path):
    """The runs folder's review store, for a command that only reads it or takes from it: none is
    made, so a mistyped --runs-dir is told apart from a store that holds nothing."""
    from pipeline.review.store import STORE_NAME, ReviewStore
    if not (runs_dir / STORE_NAME).is_file():
        raise fail(f"no review store under {runs_dir}")
    return ReviewStore.for_runs(runs_dir)


@review_app.command("export")
def export(run: Run, runs_dir: RunsDir = RUNS_DIR,
           batch_size: Annotated[int, typer.Option(help="Pairs per batch.")] = 50,
           overlap: Annotated[float, typer.Option(help="Share of each batch's pairs labelled twice.")] = 0.0,
           annotators: Annotated[str, typer.Option(help="Comma-separated names to assign batches to.")] = "",
           format_: Annotated[str, typer.Option(
               "--format", help="jsonl: the batches only (for the review app and Label Studio). csv: also a "
                                "review sheet per batch and annotator under <run>/review/sheets/, to fill in a "
                                "spreadsheet and record with `review import-sheet`.")] = "jsonl") -> None:
    """Write review batches (stratified by category) under <run>/review/batches/."""
    from pipeline.review.batches import export_batches
    if format_ not in EXPORT_FORMATS:
        raise fail(f"--format {format_!r}: choose {' or '.join(EXPORT_FORMATS)}")
    folder = run_folder(run, runs_dir)
    names = [name.strip() for name in annotators.split(",") if name.strip()]
    with user_errors(), echoed_notes([]) as notes:
        manifests = export_batches(folder, batch_size=batch_size, overlap=overlap, annotators=names, notes=notes)
    for manifest in manifests:
        typer.echo(f"{manifest.batch_id}\t{len(manifest.pair_ids)} pairs\t"
                   f"{', '.join(manifest.assignment) or 'any annotator'}")
    typer.echo(f"{len(manifests)} batch(es) -> {folder / 'review' / 'batches'}", err=True)  # stdout: one line a batch
    if format_ == "csv":
        from pipeline.cli.review_sheets import export_sheets
        export_sheets(folder)


@review_app.command("serve")
def serve(runs_dir: RunsDir = RUNS_DIR,
          host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
          port: Annotated[int, typer.Option(help="Port to listen on.")] = 8765,
          tls_cert: Annotated[Optional[Path], typer.Option(
              callback=home_expanded, help="PEM certificate (chain) to serve HTTPS with, beside --tls-key; without both, plain HTTP.")] = None,
          tls_key: Annotated[Optional[Path], typer.Option(
              callback=home_expanded, help="The unencrypted PEM private key of --tls-cert.")] = None) -> None:
    """Serve the review web app (open it with http://HOST:PORT/?token=..., or https:// with --tls-cert
    and --tls-key); the detector loads first."""
    import uvicorn

    from pipeline.review.app import create_app
    from pipeline.review.auth import log_config
    if not runs_dir.is_dir():
        raise fail(f"{runs_dir} is not a folder")
    tls = tls_files(tls_cert, tls_key)
    check_can_listen(host, port)  # before the detector loads (~30 s): a taken port fails at once
    with user_errors():  # a review store this user may not write
        review = create_app(runs_dir, warm=True)
    uvicorn.run(review, host=host, port=port, log_level="info", log_config=log_config(), **tls)


def tls_files(cert: Path | None, key: Path | None) -> dict[str, str]:
    """uvicorn's TLS arguments, once the certificate and key are known to load together (one line
    and exit 2 otherwise, before the detector loads: uvicorn would fail with a traceback later)."""
    if cert is None and key is None:
        return {}
    if cert is None or key is None:
        raise fail("--tls-cert and --tls-key go together (a certificate and its private key)")
    try:
        # an encrypted key would make OpenSSL ask for its passphrase on the terminal: it fails instead
        ssl.create_default_context(ssl.Purpose.CLIENT_AUTH).load_cert_chain(cert, key, password=lambda: b"")
    except (OSError, ssl.SSLError) as error:
        raise fail(f"cannot serve HTTPS with --tls-cert {cert} and --tls-key {key}: "
                   f"{getattr(error, 'strerror', None) or error.args[-1]}") from None
    return {"ssl_certfile": str(cert), "ssl_keyfile": str(key)}


@tokens_app.command("add")
def tokens_add(name: Annotated[str, typer.Argument(help="The annotator's name (as given to review export).")],
               batches: Annotated[str, typer.Option(help="Comma-separated batch ids.")],
               runs_dir: RunsDir = RUNS_DIR) -> None:
    """Create a token for NAME scoped to the given batches, plus every batch of the same runs where
    NAME is the second (overlap) annotator; prints it once (only its hash is kept). Batches where NAME
    is the primary annotator are granted only when named. Replaces NAME's earlier token."""
    from pipeline.review.batches import find_batch, load_batches
    from pipeline.review.store import ReviewStore
    wanted = [batch.strip() for batch in batches.split(",") if batch.strip()]
    with user_errors():  # a batch folder this user may not read
        found = {batch: find_batch(runs_dir, batch) for batch in wanted}
    unknown = [batch for batch, loaded in found.items() if loaded is None]
    if not wanted or unknown:
        raise fail(f"no exported batch {', '.join(unknown) or '(none given)'} under {runs_dir}")
    unassigned = [batch for batch, loaded in found.items()
                  if loaded.manifest.assignment and name not in loaded.manifest.assignment]
    if unassigned:  # the token would open an empty batch: most likely a typo of an assigned name
        raise fail(f"{name!r} is assigned no pair of " + "; ".join(
            f"{batch} (assigned: {', '.join(sorted(found[batch].manifest.assignment))})" for batch in unassigned))
    runs = {loaded.run_dir for loaded in found.values()}
    with user_errors():
        overlap = sorted({batch.manifest.batch_id for run in runs for batch in load_batches(run)
                          if batch.manifest.overlap_annotator() == name} - set(wanted))
        if overlap:
            typer.echo(f"note: also granted {', '.join(overlap)}: {name} double-labels pairs there (--overlap)",
                       err=True)
        store = ReviewStore.for_runs(runs_dir)
        replaced = any(token.annotator == name for token in store.tokens())
        raw = store.add_token(name, wanted + overlap)
    if replaced:
        typer.echo(f"note: {name}'s earlier token no longer works", err=True)
    typer.echo(raw)


@tokens_app.command("revoke")
def tokens_revoke(name: Annotated[str, typer.Argument(help="The annotator whose tokens stop working.")],
                  runs_dir: RunsDir = RUNS_DIR) -> None:
    """Revoke NAME's token: it and every browser session opened with it stop working at once."""
    with user_errors():
        revoked = existing_store(runs_dir).revoke(name)
    if not revoked:
        raise fail(f"{name} has no live token under {runs_dir}")
    typer.echo(f"revoked {name}'s token")


@tokens_app.command("list")
def tokens_list(runs_dir: RunsDir = RUNS_DIR) -> None:
    """Annotators with a live token: when it was made and its batches."""
    with user_errors():
        tokens = existing_store(runs_dir).tokens()
    for token in tokens:
        typer.echo(f"{token.annotator}\t{token.created}\t{','.join(token.batches)}")


@review_app.command("adjudicate")
def adjudicate(run: Run, pair: Annotated[str, typer.Argument(help="The pair id in conflict (see review status).")],
               by: Annotated[str, typer.Option(help="Who settles it (recorded as adjudicator:NAME).")],
               accept: Annotated[bool, typer.Option(
                   "--accept", help="Settle as accepted with the one text the accepting labels ship.")] = False,
               accept_original: Annotated[bool, typer.Option(
                   "--accept-original", help="Settle as accepted with the pipeline's own query, not an edit.")] = False,
               accept_edit: Annotated[Optional[str], typer.Option(
                   help="Settle as accepted with this annotator's edit.")] = None,
               reject: Annotated[Optional[str], typer.Option(help="Settle as rejected, for this reason.")] = None,
               runs_dir: RunsDir = RUNS_DIR) -> None:
    """Write the final decision on a pair; the annotators' decisions stay as its history. An accept
    prints the text that will ship, its leak score and any override that let it through; one the hard
    block stops (the text, or the override reason beside it) is refused, as a release would drop it."""
    from pipeline.review.batches import load_batches
    from pipeline.review.decisions import ADJUDICATION
    from pipeline.review.importer import shipped_text_note
    folder = run_folder(run, runs_dir)
    if sum([accept, accept_original, accept_edit is not None, reject is not None]) != 1:
        raise fail("give exactly one of --accept, --accept-original, --accept-edit NAME or --reject REASON")
    if not by.strip():
        raise fail("--by needs the adjudicator's name")
    by = by.strip()
    with user_errors():
        batch = next((b for b in load_batches(folder) if pair in b.items), None)
        if batch is None:
            raise ValueError(f"no pair {pair} in the review batches of {folder.name}")
        item = batch.items[pair]
        store = store_for(folder)
        history = [e for e in store.current(run_id=folder.name) if e.pair_id == pair]
        decision = adjudication_decision(batch.manifest.batch_id, item, history, accept_original=accept_original,
                                         accept_edit=accept_edit, reject=reject)
        settled = store.record(decision, annotator=f"adjudicator:{by}", run_id=folder.name, source=ADJUDICATION)
    labels = ", ".join(f"{e.annotator}={e.action}" for e in history) or "no earlier decision"
    typer.echo(f"{pair}: {'reject' if reject is not None else 'accept'} by {by} (was: {labels})")
    if reject is None:
        for line in shipped_text_note(item, [*history, settled]):
            typer.echo(line)


def adjudication_decision(batch_id: str, item, history: list, *, accept_original: bool, accept_edit: str | None,
                          reject: str | None):
    """The adjudicator's decision. An adjudicator's edit names the text that ships (the pipeline's own
    query, or an annotator's edit); a plain accept needs the accepting labels to ship one text."""
    from pydantic import ValidationError

    from pipeline.review.decisions import DecisionIn
    from pipeline.review.importer import accept_refusal, edit_of, plain_accept_refusal, plain_accept_text
    text = None
    if accept_edit is not None:
        text = edit_of(accept_edit.strip(), history).edited_query
    elif accept_original:
        text = item.instruction
    elif reject is None:
        if refusal := plain_accept_refusal(item, history):
            raise ValueError(refusal)
        text = plain_accept_text(item, history)  # recorded, so a label changed after it lapses it
    if reject is None and (refusal := accept_refusal(item, history, text)):
        raise ValueError(refusal)  # recorded, it would ship nothing: the release drops a blocked row
    action = "reject" if reject is not None else "edit"
    try:
        return DecisionIn(batch_id=batch_id, pair_id=item.pair_id, action=action, reason=reject, edited_query=text)
    except ValidationError as error:
        raise ValueError(f"--reject: {error.errors()[0]['msg']}") from None


@review_app.command("import")
def import_(run: Run, runs_dir: RunsDir = RUNS_DIR) -> None:
    """Write <run>/review/decisions.parquet and accepted_ids.json from the current decisions; a note
    names the accepted pairs a release would drop for the hard block (a store saved before the app read
    edits and reasons at entry can hold them)."""
    from pipeline.review.importer import import_review, release_blocks, release_blocks_note
    from pipeline.review.batches import load_batches
    from pipeline.review.typed_verdicts import typed_verdicts_note
    folder = run_folder(run, runs_dir)
    with user_errors():
        # a run never exported for review fails before the store is opened (and created)
        if typed := typed_verdicts_note(folder, load_batches(folder)):
            typer.echo(f"warning: {typed}", err=True)
        frame = import_review(folder, store_for(folder))
        note = release_blocks_note(folder.name, release_blocks(folder, frame))
    counts = frame["review_state"].value_counts().to_dict()
    typer.echo(" ".join(f"{state}={count}" for state, count in sorted(counts.items())))
    typer.echo(f"-> {folder / 'review' / 'decisions.parquet'} and accepted_ids.json", err=True)
    if note:
        typer.echo(f"note: {note}", err=True)


@review_app.command("status")
def status(run: Run, runs_dir: RunsDir = RUNS_DIR) -> None:
    """Progress per batch and annotator, kappa per batch and category (Cohen's where one fixed pair of
    annotators labelled the scope, Fleiss' where it mixes annotators), conflicts to adjudicate."""
    from pipeline.review.agreement import agreement, conflicts
    from pipeline.review.batches import load_batches
    from pipeline.review.decisions import ADJUDICATION
    folder = run_folder(run, runs_dir)
    with user_errors():
        batches = load_batches(folder)
        every = store_for(folder).current(run_id=folder.name)
    events = [e for e in every if e.source != ADJUDICATION]  # an adjudicator is not an annotator
    progress = []
    for batch in batches:
        mine = [e for e in events if e.batch_id == batch.manifest.batch_id]
        names = sorted(set(batch.manifest.assignment) | {e.annotator for e in mine}) or ["(nobody yet)"]
        for name in names:
            own = [e for e in mine if e.annotator == name]
            progress.append((batch.manifest.batch_id, name, str(len(own)), str(sum(e.action == "skip" for e in own)),
                             str(len(batch.manifest.pairs_for(name)))))
    category_of = {pid: item.category for batch in batches for pid, item in batch.items.items()}
    pipeline_queries = {pid: item.instruction for batch in batches for pid, item in batch.items.items()}
    kappa = [(row.scope, row.key, str(row.items), str(row.agreed), "n/a" if row.kappa is None else f"{row.kappa:.3f}",
              row.statistic) for row in agreement(events, category_of, pipeline_queries)]
    items = {pid: item for batch in batches for pid, item in batch.items.items()}
    found = conflicts(every, pipeline_queries, items)  # the items withhold an edit the hard block stops
    labels = [(c.batch_id, c.pair_id, "; ".join(f"{k}={v}" for k, v in c.labels.items())) for c in found]
    console = output_console()
    # a skip moves the annotator on, so it counts as decided: the header says so beside the skips column
    print_whole(console, fitted_table("Progress", ("batch", "annotator", "decided (incl. skipped)", "skipped",
                                                   "assigned"), progress, texts={"annotator"}))
    print_whole(console, fitted_table("Agreement (the same decision and the same shipped text)",
                                      ("scope", "key", "double-labelled", "agreed", "kappa", "statistic"), kappa,
                                      texts=set()))
    print_whole(console, fitted_table(f"Conflicts to adjudicate: {len(found)}", ("batch", "pair", "labels"), labels,
                                      texts={"labels"}))
