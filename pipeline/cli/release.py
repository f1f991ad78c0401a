"""`leakless release`, `leakless verify`, `leakless export-vlsbench`: versioned releases of reviewed runs."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from pipeline.cli.app import app
from pipeline.cli.errors import echoed_notes, fail, nothing_written, user_errors
from pipeline.cli.paths import given_path, home_expanded
from pipeline.cli.review import RUNS_DIR, RunsDir, run_folder
from pipeline.progress import Step, no_steps, step_lines

RELEASES_DIR = Path("artifacts/releases")
ReleasesDir = Annotated[Path, typer.Option("--releases-dir", callback=home_expanded, help="Where releases live.")]
DedupAgainst = Annotated[Optional[list[Path]], typer.Option(
    "--dedup-against", callback=home_expanded, metavar="FILE",
    help="An outside benchmark (any file or dataset folder `leakless audit` reads; repeatable): a pair asking one "
         "of its queries of the same scene (its image description; a row without one: the query alone) is a "
         "near-duplicate.")]


def release_path(release: str, releases_dir: Path) -> Path:
    """RELEASE is a folder, or `<name>-v<N>` under --releases-dir."""
    given = given_path(release)
    folder = given if given.is_dir() else releases_dir / release
    if not folder.is_dir():  # a typo, or a relative --releases-dir read from another folder
        raise fail(f"no release {release}: neither a folder nor a release under {releases_dir}")
    if not (folder / "manifest.json").is_file():
        raise fail(f"{folder} is not a release (no manifest.json)")
    return folder


@app.command()
def release(
    ctx: typer.Context,
    runs: Annotated[list[str], typer.Argument(help="Run ids under --runs-dir, or run folders.")],
    name: Annotated[str, typer.Option(help="Release name: writes <releases-dir>/<name>-v<N>/.")],
    preview: Annotated[bool, typer.Option(help="Take unreviewed candidates (marked as a preview).")] = False,
    extend: Annotated[bool, typer.Option(help="Carry every row of the latest release over, then add.")] = False,
    runs_dir: RunsDir = RUNS_DIR,
    releases_dir: ReleasesDir = RELEASES_DIR,
    max_shard_mb: Annotated[float, typer.Option(min=0.000001, help="Image megabytes per shard.")] = 500,
    max_phash: Annotated[int, typer.Option(help="Image near-duplicate: pHash bits.")] = 8,
    max_dhash: Annotated[int, typer.Option(help="Image near-duplicate: dHash bits.")] = 8,
    query_threshold: Annotated[float, typer.Option(help="Query near-duplicate: MiniLM cosine.")] = 0.95,
    description_threshold: Annotated[float, typer.Option(help="Query near-duplicate: the two pairs' image descriptions' MiniLM cosine (equal ones always match), so one generic query asked of two different pictures stays two pairs.")] = 0.8,
    min_match_similarity: Annotated[float, typer.Option(help="Final filter: query~description cosine floor, from -1 to 1 (a cosine can be negative).")] = 0.2,
    license: Annotated[str, typer.Option(help="The card's Hugging Face licence id (apache-2.0, cc-by-4.0, ...), or other:<name> for one not on the Hub's list.")] = "apache-2.0",
    config: Annotated[Optional[Path], typer.Option("--config", "-c", callback=home_expanded, help="Build config: backends.pair_checker = 'llm' and [llm].")] = None,
    dedup_against: DedupAgainst = None,
) -> None:
    """Release reviewed pairs: final filtration, dedup (within and against earlier versions), shards, card."""
    from pipeline.config import load_config
    from pipeline.release.make import ReleaseOptions, make_release

    if not license.strip():  # the card would say "released under the `` licence"
        raise fail("--license is empty: give the licence id the card names (apache-2.0, cc-by-4.0, other:<name>, ...)")
    from pipeline.release.card_hub_licences import licence_problem, unlisted_licence_note
    if problem := licence_problem(license):  # the Hub shows an id it does not know as no licence
        raise fail(problem)
    if note := unlisted_licence_note(license):
        typer.echo(f"note: {note}", err=True)
    folders = [run_folder(run, runs_dir) for run in runs]
    notes: list[str] = []  # stale staging folders removed: said even if the release then fails
    # its staging folder is removed on the way out, and the version number stays free
    with nothing_written("nothing released"), user_errors(), echoed_notes(notes):
        from pipeline.release.taxonomy_check import check_runs_taxonomy
        check_runs_taxonomy(folders)  # before the checker's server is asked or the embedder loads
        from pipeline.release.outside import read_outside
        outside = read_outside(dedup_against or [])  # a file it cannot read: refused before any work
        settings = load_config(config)
        from pipeline.cli.preflight import check_roles_ready
        from pipeline.factory import make_pair_checker, pair_checker_llm_roles
        check_roles_ready(settings, pair_checker_llm_roles(settings))  # a model the server does not list never answers
        checker = make_pair_checker(settings)
        options = ReleaseOptions(max_shard_bytes=int(max_shard_mb * 1_000_000), max_phash=max_phash,
                                 max_dhash=max_dhash, query_threshold=query_threshold,
                                 description_threshold=description_threshold, min_match_similarity=min_match_similarity, license=license)
        from pipeline.backends.minilm import default_embedder
        folder = make_release(folders, name=name, releases_dir=releases_dir, embedder=default_embedder(),
                              preview=preview, extend=extend, options=options, checker=checker, notes=notes,
                              on_step=step_lines("release"), outside=outside)
        # by name: typer's bundled click has its own ParameterSource enum
        if getattr(ctx.get_parameter_source("license"), "name", None) == "DEFAULT":
            notes += pool_licence_notes(folder, license)
    from pipeline.release.verify import load_manifest
    manifest = load_manifest(folder)
    typer.echo(f"{folder}: {manifest['rows']} pair(s) in {len(manifest['shards'])} shard(s); "
               f"dropped: {dropped_text(manifest['dropped'])}")


def pool_licence_notes(folder: Path, licence: str) -> list[str]:
    """A note when the release ships pool images under the default --license, which does not cover them:
    the user left the licence unchosen, and a third party's pictures are not theirs to license."""
    from pipeline.release.card_licence import pool_pairs, pool_sources
    from pipeline.writers.shard_reader import shard_columns

    rows = shard_columns(folder, ["image_backend", "source"]).to_dict("records")
    if not (sources := pool_sources(rows)):
        return []
    return [f"{pool_pairs(rows)} of {len(rows)} pairs show pool images: those images and their captions keep their "
            f"sources' licences, not the default --license {licence}; the card's Licence section says so and "
            f"lists the {len(sources)} source(s)"]


def dropped_text(dropped: dict) -> str:
    """"2 final_filter, 1 not_taken_by_review (rejected)", or "none": the manifest's counts, not its dict."""
    parts = []
    for reason, count in dropped.items():
        if isinstance(count, dict):  # not_taken_by_review: pairs per review state
            parts += [f"{n} {reason} ({state})" for state, n in count.items() if n]
        elif count:
            parts.append(f"{count} {reason}")
    return ", ".join(parts) or "none"


Release = Annotated[str, typer.Argument(help="A release folder, or <name>-v<N> under --releases-dir.")]


def release_problems(folder: Path, on_step: Step = no_steps, dedup_against: list[Path] | None = None) -> list[str]:
    """`verify`'s findings, its notes echoed on stderr; `dedup_against`: outside benchmarks to check too."""
    from pipeline.backends.minilm import default_embedder
    from pipeline.release.outside import outside_notes, read_outside
    from pipeline.release.verify import verify_release

    notes: list[str] = []
    with user_errors():
        outside = read_outside(dedup_against or [])
        notes += outside_notes(outside)
        problems = verify_release(folder, default_embedder(), notes=notes, on_step=on_step, outside=outside)
    for note in notes:
        typer.echo(f"note: {note}", err=True)
    return problems


@app.command()
def verify(release: Release, releases_dir: ReleasesDir = RELEASES_DIR, dedup_against: DedupAgainst = None) -> None:
    """Check a release: manifest checksums, schema, images decode, unique ids, no duplicates (release's own
    definition; with --dedup-against, none of an outside benchmark's rows either), and each stored leak score is
    the detector's score of the shipped instruction."""
    folder = release_path(release, releases_dir)
    with nothing_written(f"{folder} not verified"):  # verify writes nothing: Ctrl-C only cuts it short
        problems = release_problems(folder, on_step=step_lines("verify"), dedup_against=dedup_against)
    if problems:
        typer.echo(f"{folder}: {len(problems)} problem(s)")
        for problem in problems:
            typer.echo(f"  - {problem}")
        raise typer.Exit(1)
    typer.echo(f"{folder}: ok")


@app.command("export-vlsbench")
def export_vlsbench_command(
    release: Release,
    out_dir: Annotated[Path, typer.Argument(callback=home_expanded, help="An empty or new folder for data.json and imgs/.")],
    releases_dir: ReleasesDir = RELEASES_DIR,
    force: Annotated[bool, typer.Option("--force", help="Export without running verify, so even a release that "
                                        "would fail it (never a shard that is a link or not in the release "
                                        "schema, nor a row the guardrail blocks).")] = False,
    allow_preview: Annotated[bool, typer.Option(
        "--allow-preview", help="Export an unreviewed preview release, with a PREVIEW.md note beside data.json.")] = False,
) -> None:
    """Write the release as VLSBench's data.json + imgs/ into OUT_DIR (a NOTES.md beside it names placeholder
    images and overridden pairs); a release that fails verify, or a preview without --allow-preview, is refused.
    Verify re-scores every pair (most of an export's time); --force skips it, but never the guardrail: a row it
    blocks refuses the export (exit 2, nothing written)."""
    from pipeline.release.vlsbench import check_export

    folder = release_path(release, releases_dir)
    with user_errors():  # cheap refusals first: verify takes minutes on a large release
        check_export(folder, out_dir, allow_preview)
    with nothing_written(f"nothing written to {out_dir}"):  # the export is staged, then renamed into place
        count = _verified_export(folder, release, out_dir, force, allow_preview)
    typer.echo(f"{out_dir}: {count} pairs")


def _verified_export(folder: Path, release: str, out_dir: Path, force: bool, allow_preview: bool) -> int:
    """The pairs exported; verify first unless `force`, saying its steps as `verify` does."""
    from pipeline.release.vlsbench import export_vlsbench

    if not force:
        problems = release_problems(folder, on_step=step_lines("export-vlsbench"))
        if problems:
            raise fail(f"{folder} fails verify ({len(problems)} problem(s), first: {problems[0]}); "
                       f"run `leakless verify {release}`, or pass --force")
    notes: list[str] = []  # staging folders of killed exports removed: said even if the export then fails
    with user_errors(), echoed_notes(notes):
        return export_vlsbench(folder, out_dir, allow_preview=allow_preview, notes=notes)
