"""`leakless elements grow|list|stats|remove`: the element library and the store a model grows."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.markdown import Markdown
from rich.table import Table

from pipeline.cli.app import app
from pipeline.cli.console import output_console
from pipeline.cli.errors import fail, user_errors
from pipeline.cli.paths import home_expanded
from pipeline.config import load_config

elements_app = typer.Typer(help="The element library and the element store a model grows.",
                           no_args_is_help=True)
app.add_typer(elements_app, name="elements")

ConfigOption = Annotated[Optional[Path], typer.Option("--config", "-c", callback=home_expanded, help="Build config (TOML).")]
SetOption = Annotated[list[str], typer.Option("--set", help="Override a config key: section.key=value.")]
SubOption = Annotated[list[str], typer.Option("--sub-category", "-s", help="A sub-category (repeatable).")]


def _sources(settings) -> list[tuple[str, object, str]]:
    """(source, element, origin) for the library, then the store; a grown element's origin is
    its version, when it was grown, the model, the prompt hash and the grow's run id."""
    from pipeline.elements import store_of

    store = store_of(settings)
    library = _note_skipped_lines(settings)
    grown_at = store.grown_at() if store else {}
    return ([("library", element, "") for element in library.elements]
            + [("model", entry.element, f"v{entry.version:04d}\t{grown_at.get(entry.version, '')}\t{entry.model}\t"
                f"{entry.prompt_hash}\t{entry.run_id}") for entry in (store.entries() if store else [])])


def _note_skipped_lines(settings):
    """The library the config names, its bad lines told on stderr, as the build tells them."""
    from pipeline.taxonomy.element_file import library_file

    library = library_file(settings.run.elements_file)
    for skipped in library.skipped:
        typer.echo(f"note: skipped {skipped}", err=True)
    return library


def _check_sub_categories(sub_categories: list[str]) -> None:
    from pipeline.taxonomy import load_taxonomy

    unknown = [sub for sub in sub_categories if load_taxonomy().parent(sub) is None]
    if unknown:
        raise ValueError(load_taxonomy().unknown_sub_category(unknown[0]))


@elements_app.command("grow")
def grow(
    sub_category: SubOption,
    n: Annotated[int, typer.Option("--n", min=1, help="New elements wanted per sub-category.")],
    config: ConfigOption = None,
    override: SetOption = [],
    progress: Annotated[bool, typer.Option(help="Say on stderr what each round left.")] = True,
) -> None:
    """Ask the element writer (an LLM role) for N new elements per sub-category.

    Every proposal passes the guardrails, a no-instructions and shape check, and a novelty
    check against every known element (name and synonyms; MiniLM cosine of descriptions at
    or above elements.max_similarity is a near duplicate). Accepted ones join the store as a
    new version; every proposal's decision is kept with it. Needs backends.element_writer = "llm".
    """
    from pipeline.cli.preflight import check_llm_ready
    from pipeline.progress import no_steps, step_lines

    with user_errors():
        settings = load_config(config, override)
        _check_sub_categories(sub_category)
        from pipeline.elements.grow import ROUNDS_BEFORE_GIVING_UP, grow_elements

        from pipeline.factory import has_element_writer

        if not has_element_writer(settings):
            raise ValueError("elements grow needs an element writer: set backends.element_writer = 'llm' "
                             "and an [llm] endpoint (docs/llm.md); the offline default has none")
        check_llm_ready(settings, ["element_writer"])
        _note_skipped_lines(settings)
        report = grow_elements(settings, dict.fromkeys(sub_category, n),
                               on_round=step_lines("elements grow") if progress else no_steps,
                               on_wait=lambda message: typer.echo(f"elements grow: {message}", err=True))
    output_console().print(Markdown(report.markdown()))
    if report.gave_up:
        typer.echo(f"error: stopped after {ROUNDS_BEFORE_GIVING_UP} rounds in which every request failed; "
                   f"the first said: {report.first_error}", err=True)
        raise typer.Exit(1)
    if report.short:
        typer.echo(f"short of the wanted count in {len(report.short)} sub-categories: "
                   + "; ".join(report.shortfalls()))


@elements_app.command("list")
def list_elements(
    sub_category: SubOption = [],
    source: Annotated[Optional[str], typer.Option(
        help="library, model, or removed (grown elements a curator removed, with the reason).")] = None,
    origin: Annotated[bool, typer.Option("--origin", help="After a grown element's description: its store "
                                         "version, when it was grown, model, prompt hash and run id.")] = False,
    config: ConfigOption = None,
    override: SetOption = [],
) -> None:
    """One line per element: source, sub-category, name, description."""
    if source not in (None, "library", "model", "removed"):
        raise fail(f"--source must be library, model or removed, not {source!r}")
    with user_errors():
        settings = load_config(config, override)
        _check_sub_categories(sub_category)
        if source == "removed":
            return _list_removed(settings, sub_category)
        rows = _sources(settings)
    for where, element, grown in rows:
        if (source is None or where == source) and (not sub_category or element.sub_category in sub_category):
            typer.echo(f"{where}\t{element.sub_category}\t{element.element}\t{element.description}"
                       + (f"\t{grown}" if origin and grown else ""))


def _list_removed(settings, sub_categories: list[str]) -> None:
    """One line per removal: sub-category, name, the version that grew it, when and why it was removed."""
    from pipeline.elements import store_of

    store = store_of(settings)
    for removal in store.removals() if store else []:
        if not sub_categories or removal.sub_category in sub_categories:
            typer.echo(f"removed\t{removal.sub_category}\t{removal.element}\tv{removal.version:04d}\t"
                       f"{removal.removed_at}\t{removal.reason}")


@elements_app.command("remove")
def remove(
    name: Annotated[str, typer.Argument(help="The grown element's name, as `elements list` shows it.")],
    sub_category: Annotated[str, typer.Option("--sub-category", "-s", help="Its sub-category.")],
    reason: Annotated[str, typer.Option(help="Why it is removed; kept in the store with the removal.")],
    config: ConfigOption = None,
    override: SetOption = [],
) -> None:
    """Remove a grown element from the store: builds skip it, and grows still count it as known, so
    it is not proposed again. Recorded as a new store version, with the reason."""
    from pipeline.elements import store_of

    with user_errors():
        settings = load_config(config, override)
        _check_sub_categories([sub_category])
        if not reason.strip():
            raise ValueError("--reason must say why the element is removed")
        store = store_of(settings)
        if store is None:
            raise ValueError("elements.store is not set: there is no grown element to remove")
        number, removed = store.remove(sub_category, name, reason.strip(),
                                       on_wait=lambda message: typer.echo(message, err=True))
    grown = ", ".join(f"v{entry.version:04d}" for entry in removed)
    typer.echo(f"removed {removed[0].element.element!r} ({sub_category}, grown in {grown}) as store version "
               f"{number}: builds skip it, grows count it as known")


@elements_app.command("stats")
def stats(config: ConfigOption = None, override: SetOption = []) -> None:
    """Elements per sub-category by source (library or model), and the store's refusals."""
    from pipeline.elements import store_of
    from pipeline.taxonomy import load_taxonomy

    with user_errors():
        settings = load_config(config, override)
        rows = _sources(settings)
        store = store_of(settings)
        decisions = store.decisions() if store else None
        # one element grown in two versions is two removal lines: count the elements
        removed = len({(r.sub_category, r.element.strip().lower()) for r in store.removals()}) if store else 0
    counts = Counter((element.sub_category, origin) for origin, element, _ in rows)
    table = Table(title=f"elements (store: {settings.elements.store}, "
                        f"{len(store.versions()) if store else 0} versions)")
    for column in ("sub-category", "library", "model", "total"):
        table.add_column(column, justify="left" if column == "sub-category" else "right")
    for sub in load_taxonomy().sub_categories:
        library, model = counts[(sub, "library")], counts[(sub, "model")]
        table.add_row(sub, str(library), str(model), str(library + model))
    output_console().print(table)
    if decisions is not None and len(decisions):
        refused = decisions[decisions["verdict"] != "keep"]["reason"].str.split(":").str[0].value_counts()
        typer.echo(f"{len(decisions)} proposals judged; refused: "
                   + (", ".join(f"{code} {n}" for code, n in refused.items()) or "none"))
    if removed:
        typer.echo(f"{removed} grown elements removed by a curator (leakless elements list --source removed)")
