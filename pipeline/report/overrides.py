"""The audit report's Human overrides table: accepted edits an annotator kept although the re-check
flagged them, each with the reason that ships beside it.

A review store or decisions file from before the app read edits and reasons through the hard block
can hold a row it stops. Each row is read as a release reads it: the edit and its reason with the
pair's other texts (its image description, safety reason, element, original query and source, from
the run's candidate rows), through `scoring.edit_blocked`, the reader the review app and
`review adjudicate` use, so "teenage" in the description and "lingerie" in the reason are one hit.
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pyarrow.parquet as pq

from pipeline.guardrails import withheld
from pipeline.review.scoring import PAIR_TEXTS, edit_blocked
from pipeline.writers.shard_reader import shard_paths

OVERRIDE_COLUMNS = ["id", "category", "instruction_reviewed", "new_leak_score", "new_leak_spans", "edit_harm_verdict",
                    "override_reason", "override_by", "at_release"]
SHIPS = "ships"  # as far as the hard block goes: a release's final filtration and dedup still apply


def dropped_at_release(rule: str) -> str:
    """The `at_release` of a row the hard block stops: the table's rows otherwise ship with their reason."""
    return f"dropped (guardrail {rule})"


def human_overrides(review: pd.DataFrame, run_dir: Path | None = None) -> pd.DataFrame:
    """Accepted edits an annotator kept although the re-check flagged them (a review imported
    before overrides existed has none), each as `shown_override` gives it, read beside the pair's
    texts in `run_dir`'s candidate rows."""
    if "override_reason" not in review:
        return pd.DataFrame(columns=OVERRIDE_COLUMNS)
    chosen = review[review["override_reason"].notna() & (review["review_state"] == "accepted")]
    pairs = candidate_texts(run_dir, set(chosen["id"])) if run_dir is not None and len(chosen) else {}
    return pd.DataFrame([shown_override(row, pairs.get(row["id"]))
                         for row in chosen[OVERRIDE_COLUMNS[:-1]].to_dict("records")], columns=OVERRIDE_COLUMNS)


def candidate_texts(run_dir: Path, ids: set[str]) -> dict[str, SimpleNamespace]:
    """Pair id -> its candidate row's category and the texts a release ships beside the query, for
    `ids`; a column a run made before it existed is read as empty."""
    pairs = {}
    for path in shard_paths(run_dir):
        present = set(pq.read_schema(path).names)
        columns = [column for column in ("id", "category", *PAIR_TEXTS) if column in present]
        for row in pq.read_table(path, columns=columns).to_pylist():
            if row.get("id") in ids:
                pairs[row["id"]] = SimpleNamespace(**{column: row.get(column) for column in ("category", *PAIR_TEXTS)})
    return pairs


def shown_override(row: dict, pair: SimpleNamespace | None = None) -> dict:
    """An override as the report shows it, read with `pair`'s texts (its candidate row; without one,
    the edit and reason are read alone): an edit the hard block stops is `(withheld: guardrail <rule>)`
    (its leak spans with it), the reason as `shown_override_reason` gives it, and `at_release` says
    whether the release ships the row or the hard block stops it, as a release reads it."""
    category = row["category"] if isinstance(row["category"], str) else None
    pair = pair or SimpleNamespace(category=category)
    edit = row["instruction_reviewed"] if isinstance(row["instruction_reviewed"], str) else ""
    reason = row["override_reason"]
    release = edit_blocked(pair, edit, reason)
    row["at_release"] = dropped_at_release(release.rule) if release else SHIPS
    edit_hit = edit_blocked(pair, edit)
    row["override_reason"] = shown_override_reason(pair, "" if edit_hit else edit, reason)
    if edit_hit:
        row.update(instruction_reviewed=withheld(edit_hit.rule), new_leak_spans=[])
    return row


def shown_override_reason(pair: SimpleNamespace, beside: str, reason: str) -> str:
    """The reason, or `(withheld: guardrail <rule>)` when the hard block stops it: the review app refuses
    such a reason now, but a review store or decisions file from before still holds it. It is read with
    the pair's texts and beside the edit (`beside`), as the app reads it; an edit blocked with the pair's
    texts (saved before edits were read) is no fault of the reason, which is then read without it."""
    hit = edit_blocked(pair, beside, reason)
    return withheld(hit.rule) if hit else reason
