"""Does the taxonomy a release judges categories by file a run's pairs as the run's own did?

The final filter drops a pair whose sub-category is not under its category in the *current*
pipeline/taxonomy/taxonomy.toml (`release.miscategorised`). A run records the sha256 of the taxonomy
it was made with (prompts.json, which a resume checks too); after an edit that renames or moves a
category, or removes a sub-category, a release would drop whole sub-categories of that run, said only
as a count of final-filter drops. So a release refuses such a run before any work, in one line.

An edit that leaves every pair of the run where it was (a comment, a new category, a flag) changes the
sha and nothing the release judges: the run is released as before, or every run made before a change
to the shipped file would need building again. A run made before prompts.json is not checked.

A `release --extend` also refuses new rows that file a sub-category under another category than the
version it carries over does (runs made after a rename, which the current taxonomy files as they are):
one sub-category would ship under two names.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from pipeline import taxonomy
from pipeline.hashing import sha256_file
from pipeline.release.provenance import read_json
from pipeline.run_records import prompt_changes
from pipeline.writers.shard_reader import shard_columns

TAXONOMY_RECORD = "pipeline/taxonomy/taxonomy.toml"  # its key in a run's prompts.json (`prompt_record`)


class TaxonomyChanged(ValueError):
    """A run's pairs are filed otherwise by the taxonomy now than by the one it was made with."""


def check_runs_taxonomy(run_dirs: list[Path]) -> None:
    """Refuse the first run whose pairs the current taxonomy files otherwise than its own did."""
    for run_dir in run_dirs:
        if problem := taxonomy_problem(Path(run_dir)):
            raise TaxonomyChanged(problem)


def taxonomy_problem(run_dir: Path) -> str | None:
    recorded = (read_json(run_dir / "prompts.json") or {}).get(TAXONOMY_RECORD)
    current = sha256_file(taxonomy.TAXONOMY_FILE)  # looked up when asked: a test may point it elsewhere
    if not recorded or recorded == current:
        return None
    moved = filed_otherwise(run_dir)
    if not moved:
        return None
    (changed,) = prompt_changes({TAXONOMY_RECORD: recorded}, {TAXONOMY_RECORD: current})
    (category, sub_category), _ = moved.most_common(1)[0]
    others = len(moved) - 1
    more = f"; and {others} more sub-categor{'y' if others == 1 else 'ies'}" if others else ""
    return (f"run {run_dir.name} was made with another version of {changed}, which files "
            f"{sum(moved.values())} of its pairs otherwise ({now_filed(category, sub_category)}{more}): the "
            "release would drop them as release.miscategorised; restore the file the run was made with, "
            "or build the run again (a new --run-id) with this one")


def filed_otherwise(run_dir: Path) -> Counter:
    """(category, sub-category) -> the run's pairs so filed where the current taxonomy files them otherwise."""
    pairs = shard_columns(run_dir, ["category", "sub_category"])
    current = taxonomy.load_taxonomy()
    return Counter((category, sub) for category, sub in zip(pairs["category"], pairs["sub_category"])
                   if current.parent(sub) != category)


def now_filed(category: str, sub_category: str) -> str:
    parent = taxonomy.load_taxonomy().parent(sub_category)
    where = f"under {parent!r}" if parent else "not in it"
    return f"{sub_category!r} is under {category!r} in the run, now {where}"


def check_carried_categories(carried: list[dict], new: list[dict], carried_from: str) -> None:
    """Refuse new rows that the current taxonomy files, as the final filter will keep them, under another
    category than the version `carried_from` files their sub-category: a release --extend of a version made
    before a category was renamed, with runs made after, would ship one sub-category under two names. A new
    row the taxonomy files otherwise is the final filter's to drop (release.miscategorised)."""
    before = {row["sub_category"]: row["category"] for row in carried}
    current = taxonomy.load_taxonomy()
    for row in new:
        category, sub = row["category"], row["sub_category"]
        if before.get(sub, category) != category and current.parent(sub) == category:
            raise TaxonomyChanged(
                f"sub-category {sub!r} is under {before[sub]!r} in {carried_from} and under {category!r} in run "
                f"{row['run_id']}: the release would ship it under two category names (was the category renamed "
                f"in {TAXONOMY_RECORD}?); name it back and build the runs again, or release them under a new --name")
