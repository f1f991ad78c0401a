"""One release: select -> guardrail -> final filtration -> dedup -> stable ids -> shards, index, manifest, card.

The guardrail pass reads every row that would ship, carried ones too, as one item (all its text
columns): the rules may have grown since the build, and a reviewer's edit is new text. A blocked
row is dropped with the reason code `guardrail.<rule>`.

Everything is written into a temporary folder beside the target and renamed
into place at the end, so a failed release leaves nothing behind.
"""

from __future__ import annotations

import textwrap
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from pipeline.backends.base import Embedder
from pipeline.contracts import GUARDRAIL_PREFIX, PairChecker, ReasonCode
from pipeline.dedup import DedupResult, write_clusters
from pipeline.dedup.queries import DESCRIPTION_THRESHOLD
from pipeline.elements.terms import RunElements
from pipeline.guardrails import check_texts, shipped_texts, withheld
from pipeline.progress import Advance, Step, counted_step, no_steps
from pipeline.records import Decision, Verdict
from pipeline.release.card import render_card
from pipeline.release.claims import ACCEPTED, REVIEW_CLAIMS
from pipeline.release.duplicates import (BENCHMARK_CODE, dedup_decisions, find_duplicates, with_descriptions,
                                         with_release_names)
from pipeline.release.final_filter import RulesPairChecker, final_filter, harm_check_verdicts
from pipeline.release.leak_check import leak_check
from pipeline.release.lineage import (changed_options_notes, earlier_index, outside_files_note, released_in,
                                      unreviewed_carried_note, unseen, version_span, version_to_write)
from pipeline.release.select import Candidates, add_release, add_run
from pipeline.release.versions import (check_free, check_name, check_unreleased_meanwhile, release_folder,
                                       release_lock, release_staging, release_versions, remove_stale_staging)
from pipeline.release.outside import OutsideBenchmark, outside_notes, outside_rows
from pipeline.release.provenance import run_builds
from pipeline.release.taxonomy_check import check_carried_categories, check_runs_taxonomy
from pipeline.release.verify import EmbeddingTold  # verify's near-duplicate search tells its bar so too
from pipeline.release.writer import (INDEX_FILE, release_manifest, release_tables, run_entries, seal,
                                     write_dedup_index, write_release_shards)
from pipeline.review.run_limits import RunLimitsByRun
from pipeline.review.scoring import HARM_DROP, HARM_KEEP
from pipeline.staging import filled_then_renamed
from pipeline.storage import atomic_write_text
from pipeline.writers.tables import decisions_frame, write_decisions


GUARDRAIL_STAGE = "release_guardrail"  # the card names these drops by this stage (`card.DROP_STAGES`)


class NothingToRelease(ValueError):
    """No pair would go in: the user's to fix (review the runs, or ask for a preview)."""


class ReleaseOptions(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)  # nan passed every bound

    max_shard_bytes: int = Field(500_000_000, ge=1, description="image bytes per shard")
    max_phash: int = Field(8, ge=0, le=15, description="image near-duplicate: pHash bits")
    max_dhash: int = Field(8, ge=0, le=64, description="image near-duplicate: dHash bits")
    query_threshold: float = Field(0.95, ge=0.0, le=1.0, description="query near-duplicate: MiniLM cosine")
    description_threshold: float = Field(DESCRIPTION_THRESHOLD, ge=0.0, le=1.0,
                                         description="query near-duplicate: image description MiniLM cosine")
    min_match_similarity: float = Field(0.2, ge=-1.0, le=1.0, description="final filter: query~description floor")
    license: str = "apache-2.0"


@dataclass
class Sifted:
    """What the release's checks made of the candidate rows: the rows that ship, and every drop."""
    carried: list[dict]  # rows of the earlier version the guardrail still lets through
    fresh: list[dict]  # new rows that passed the guardrail, final filtration, leak check and dedup
    decisions: list[Decision]  # every guardrail, final filter, leak check and dedup decision
    checker: PairChecker
    clusters: list  # the duplicate clusters dedup found
    dropped: dict  # per step, what the manifest counts
    final_filter: dict  # the checker's backend, model and prompt hash, and what it kept
    dedup_against: list[dict]  # the outside benchmarks the new pairs were deduplicated against (`outside.py`)


def make_release(run_dirs: list[Path], *, name: str, releases_dir: Path, embedder: Embedder,
                 preview: bool = False, extend: bool = False, options: ReleaseOptions = ReleaseOptions(),
                 checker: PairChecker | None = None, detector=None, notes: list[str] | None = None,
                 on_step: Step = no_steps, outside: list[OutsideBenchmark] = ()) -> Path:
    """Write `<releases_dir>/<name>-v<N>/` and return it. `detector` (default: the shipped LeakDetector
    over `embedder`) scores every shipped instruction; `outside` (`outside.read_outside`): benchmarks whose
    query twins among the new pairs are dropped too. What was tidied on the way (staging folders of
    killed releases of this name) goes to `notes`; `on_step` hears each step as it starts. Another
    release of the name running meanwhile refuses this one (`ReleaseRunning`) before its final filtration; a
    run whose pairs the taxonomy now files otherwise than its own did, at once (`TaxonomyChanged`)."""
    notes = [] if notes is None else notes
    check_name(name)
    check_runs_taxonomy(run_dirs)  # else whole sub-categories drop as miscategorised, said only as a count
    earlier = release_versions(releases_dir, name)
    version = version_to_write(earlier, name, extend, releases_dir)
    check_free(release_folder(releases_dir, name, version))

    candidates = Candidates()
    extended = add_release(candidates, earlier[-1][1]) if extend else {}
    carried_runs = extended.get("runs") or []
    earlier_rows = len(candidates.rows)
    for run_dir in run_dirs:
        add_run(candidates, run_dir, preview=preview)
    if extend:
        check_carried_categories(candidates.rows[:earlier_rows], candidates.rows[earlier_rows:], earlier[-1][1].name)
    if len(candidates.rows) == earlier_rows:
        kind = "candidate" if preview else "accepted"
        raise NothingToRelease(f"no {kind} pairs in {', '.join(Path(r).name for r in run_dirs)} "
                               f"(left out by review: {dict(candidates.left_out) or 'none'})")

    index = with_descriptions(earlier_index([folder for _, folder in earlier]), [folder for _, folder in earlier])
    new, same_id = unseen(candidates.rows[earlier_rows:], set(index["id"]))
    if not new:  # every candidate's id is in an earlier version (a repeat across runs keeps its first)
        holding = released_in(candidates.rows[earlier_rows:], earlier)
        raise NothingToRelease(f"all {same_id} pairs of {', '.join(Path(r).name for r in run_dirs)} are already "
                               f"released under {name} ({version_span(holding)}); nothing to release")
    with release_lock(releases_dir, name):  # the refusals above write nothing; the work starts here
        check_unreleased_meanwhile(releases_dir, name, earlier)
        notes += remove_stale_staging(releases_dir, name)
        notes += changed_options_notes(extended.get("options"), options.model_dump(), earlier[-1][1].name if extend else "")
        notes += outside_files_note(extended.get("dedup_against"), [benchmark.name for benchmark in outside],
                                    earlier[-1][1].name if extend else "")
        sifted = sift(candidates.rows[:earlier_rows], new, index, run_dirs, same_id=same_id, embedder=embedder,
                      options=options, checker=checker, detector=detector, notes=notes, on_step=on_step,
                      outside=outside)
        next_id = int(index["instruction_id"].max()) + 1 if len(index) else 1
        for offset, row in enumerate(sifted.fresh):
            row.update(instruction_id=next_id + offset, added_in=version)
        rows = sifted.carried + sifted.fresh
        shipped_preview = preview or any(row["review_state"] != ACCEPTED for row in rows)
        if shipped_preview and not preview:
            notes.append(unreviewed_carried_note(sifted.carried, earlier[-1][1].name))

        on_step(f"writing {len(rows)} pairs")
        return write_version(rows, sifted, candidates, run_dirs, releases_dir=Path(releases_dir), name=name,
                             version=version, preview=shipped_preview, extends=earlier[-1][0] if extend else None,
                             earlier=earlier, options=options, builds=run_builds(run_dirs, carried_runs))


def sift(carried: list[dict], new: list[dict], index: pd.DataFrame, run_dirs: list[Path], *, same_id: int,
         embedder: Embedder, options: ReleaseOptions, checker: PairChecker | None, detector, notes: list[str],
         on_step: Step, outside: list[OutsideBenchmark] = ()) -> Sifted:
    """Guardrail on every row; on the new ones, final filtration, the leak check and dedup against
    `index` (every earlier version's rows) and the `outside` benchmarks' rows. `same_id`: candidates left
    out as already released."""
    kept_carried, carried_blocks = guardrail_pass(carried)
    passed, new_blocks = guardrail_pass(new)
    harm_kept = harm_on_shipped_text(passed, harm_check_verdicts(run_dirs))
    elements = RunElements.of_runs(run_dirs)  # the element terms each run's leak filter used
    checker = checker or RulesPairChecker(embedder, harm_kept, options.min_match_similarity, elements.seeds())
    with counted_step(on_step, f"final filtration of {len(passed)} new pairs ({checker.backend})", len(passed),
                      "filtering") as advance:
        checked, filter_decisions = final_filter(passed, checker, advance)
    if detector is None:
        from pipeline.detect.detector import LeakDetector
        detector = LeakDetector(embedder)
    with counted_step(on_step, f"leak check of {len(checked)} pairs", len(checked), "leak check") as advance:
        clean, leak_decisions = leak_check(checked, detector, elements, RunLimitsByRun.of_runs(run_dirs), advance)
    notes += elements.notes() + outside_notes(outside)
    others = outside_rows(outside)
    against = f"{len(index)} released" + "".join(f" and {len(b.rows)} rows of {b.name}" for b in outside)
    with counted_step(on_step, f"dedup of {len(clean)} pairs against {against}", len(clean) + len(index) + len(others),
                      "dedup") as advance:
        image_dups, query_dups = duplicates_told(clean, index, embedder, options, advance, others)
    fresh = [row for row in clean if row["id"] not in image_dups.drop_ids | query_dups.drop_ids]
    clusters = with_release_names(image_dups.clusters + query_dups.clusters, pd.concat([index, others]))
    dedup = dedup_decisions(clean, clusters, embedder=embedder, max_phash=options.max_phash,
                            max_dhash=options.max_dhash, query_threshold=options.query_threshold,
                            outside_ids=frozenset(others["id"]))
    decisions = carried_blocks + new_blocks + filter_decisions + leak_decisions + dedup
    benchmark_drops = sum(decision.code == BENCHMARK_CODE for decision in dedup)
    duplicates = {"image_duplicate": len(image_dups.drop_ids),
                  "query_duplicate": len(query_dups.drop_ids - image_dups.drop_ids) - benchmark_drops,
                  **({"benchmark_duplicate": benchmark_drops} if outside else {})}
    if not fresh:  # an extend adding nothing would only repeat the latest version
        raise NothingToRelease(f"every new pair was dropped by the guardrail, final filtration or dedup; "
                               f"nothing to release ({drop_counts(decisions, same_id=same_id)})")
    return Sifted(carried=kept_carried, fresh=fresh, decisions=decisions, checker=checker,
                  clusters=clusters,
                  dropped={"same_id": same_id, "guardrail": len(carried_blocks) + len(new_blocks),
                           "final_filter": len(passed) - len(checked), "leaks": len(checked) - len(clean),
                           **duplicates},
                  final_filter={"backend": checker.backend, "model": checker.model,
                                "prompt_hash": checker.prompt_hash, "kept": len(checked),
                                "dropped": len(passed) - len(checked)},
                  dedup_against=[benchmark.entry() for benchmark in outside])


def duplicates_told(clean: list[dict], index: pd.DataFrame, embedder: Embedder, options: ReleaseOptions,
                    advance: Advance, outside: pd.DataFrame | None = None) -> tuple[DedupResult, DedupResult]:
    """`find_duplicates`, telling `advance` of each slice of queries embedded, the earlier releases' and the
    new pairs' (most of the step's time: seconds at a few hundred pairs, more against a long line of
    versions). Repeated queries are embedded once, and those of pairs an image duplicate drops not at all,
    so the bar is filled up at the end."""
    total = len(clean) + len(index) + (0 if outside is None else len(outside))
    telling = EmbeddingTold(embedder, advance, limit=total)  # descriptions are embedded past it
    found = find_duplicates(clean, index, telling, max_phash=options.max_phash, max_dhash=options.max_dhash,
                            query_threshold=options.query_threshold, description_threshold=options.description_threshold,
                            outside=outside)
    if total > telling.told:
        advance(total - telling.told)
    return found


def write_version(rows: list[dict], sifted: Sifted, candidates: Candidates, run_dirs: list[Path], *,
                  releases_dir: Path, name: str, version: int, preview: bool, extends: int | None,
                  earlier: list[tuple[int, Path]], options: ReleaseOptions, builds: dict[str, dict]) -> Path:
    """Shards, dedup index, clusters, decisions, manifest, card and SHA256SUMS, written into a staging folder
    renamed into place at the end: a failed release leaves nothing behind. `builds`: what made each run."""
    releases_dir.mkdir(parents=True, exist_ok=True)
    target = release_folder(releases_dir, name, version)
    with filled_then_renamed(release_staging(releases_dir, name, version), target, check_free) as staging:
        shards = write_release_shards(release_tables(rows, candidates.sources), staging / "data",
                                      options.max_shard_bytes)
        write_dedup_index(rows, staging / INDEX_FILE)
        write_clusters(sifted.clusters, staging / "dedup_clusters.parquet")
        frame = decisions_frame(sifted.decisions, run_id="")
        frame["run_id"] = frame["item_id"].map({row["id"]: row["run_id"] for row in candidates.rows})
        write_decisions(frame, staging / "decisions.parquet")
        manifest = release_manifest(
            rows, shards, name=name, version=version, preview=preview, license=options.license,
            review=REVIEW_CLAIMS[preview], extends=extends, carried_rows=len(sifted.carried),
            runs=run_entries(rows, [Path(r).name for r in run_dirs], version, builds),  # ids: a path is local
            earlier_releases=[folder.name for _, folder in earlier],
            final_filter=sifted.final_filter,
            dropped={"not_taken_by_review": dict(candidates.left_out), **sifted.dropped},
            options=options.model_dump(), **({"dedup_against": sifted.dedup_against} if sifted.dedup_against else {}),
        )
        atomic_write_text(staging / "README.md", render_card(manifest, rows, run_dirs=run_dirs, decisions=frame))
        seal(staging, manifest)
    return target


def drop_counts(decisions: list[Decision], same_id: int = 0) -> str:
    """'same_id 4; final_filter: release.mismatch 12, release.checker_error 3; release_dedup: ...': what
    dropped the pairs, per stage and reason code, so an empty release says why."""
    counts: dict[str, Counter] = defaultdict(Counter)
    counts["release"]["same_id"] = same_id  # already released under this name
    for decision in decisions:
        if decision.verdict == Verdict.drop:
            counts[decision.stage][decision.code] += 1
    parts = [f"{stage}: " + ", ".join(f"{code} {n}" for code, n in by_code.most_common() if n)
             for stage, by_code in counts.items() if any(by_code.values())]
    errors = [d.reason for d in decisions if d.code == ReasonCode.release_checker_error]
    if errors:
        parts.append(f"first {textwrap.shorten(errors[0], 160, placeholder=' ...')}")  # the reason reads "checker error: ..."
    return "; ".join(parts) or "no drop was recorded"


def guardrail_pass(rows: list[dict]) -> tuple[list[dict], list[Decision]]:
    """(the rows the hard block lets through, a drop decision for each other one). A drop's `text` is withheld:
    the decisions ship in the release folder, and the row's own words are what the block stopped."""
    kept, blocks = [], []
    for row in rows:
        hit = check_texts(shipped_texts(row), row["category"])
        if hit is None:
            kept.append(row)
            continue
        blocks.append(Decision(
            item_id=row["id"], seed_id=row["seed_id"], stage=GUARDRAIL_STAGE, text=withheld(hit.rule),
            verdict=Verdict.drop, code=f"{GUARDRAIL_PREFIX}{hit.rule}", reason=f"{hit.rule}: {hit.matched!r}",
            backend="rules", model="", prompt_hash=""))
    return kept, blocks


def harm_on_shipped_text(rows: list[dict], build_verdicts: dict[str, bool]) -> dict[str, bool]:
    """Set each row's `harm_verdict` (an edit's own, else the build's) and return what the final
    filter counts as harmful: kept by the harm check, or overridden by an annotator with a reason."""
    for row in rows:
        if row.get("harm_verdict") is None and row["id"] in build_verdicts:
            row["harm_verdict"] = HARM_KEEP if build_verdicts[row["id"]] else HARM_DROP
    return {row["id"]: row["harm_verdict"] == HARM_KEEP or bool(row.get("override_reason"))
            for row in rows if row.get("harm_verdict") is not None}
