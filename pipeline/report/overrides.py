"""The audit report's Human overrides table: accepted edits an annotator kept although the re-check
flagged them, each with the reason that ships beside it (a review saved before the app read edits and
reasons through the hard block can hold one it stops)."""

from __future__ import annotations

import pandas as pd

from pipeline.guardrails import check_text, check_texts, kept_start

OVERRIDE_COLUMNS = ["id", "category", "instruction_reviewed", "new_leak_score", "new_leak_spans", "edit_harm_verdict",
                    "override_reason", "override_by"]


# Beside the edited query of a row the hard block stops: the table's rows otherwise ship with their reason.
DROPPED_AT_RELEASE = " — dropped at release (guardrail)"


def human_overrides(review: pd.DataFrame) -> pd.DataFrame:
    """Accepted edits an annotator kept although the re-check flagged them (a review imported
    before overrides existed has none), each as `shown_override` gives it."""
    if "override_reason" not in review:
        return pd.DataFrame(columns=OVERRIDE_COLUMNS)
    chosen = review[review["override_reason"].notna() & (review["review_state"] == "accepted")]
    return pd.DataFrame([shown_override(row) for row in chosen[OVERRIDE_COLUMNS].to_dict("records")],
                        columns=OVERRIDE_COLUMNS)


def shown_override(row: dict) -> dict:
    """An override as the report shows it. A review store or decisions file from before the app read
    edits and reasons through the hard block can hold a blocked one: an edit blocked on its own is
    `(withheld: guardrail <rule>)` (its leak spans with it), the reason as `shown_override_reason`
    gives it, and a row the hard block stops, the edit and the reason read together as a release
    reads them, is marked as one the release drops."""
    category = row["category"] if isinstance(row["category"], str) else None
    edit = row["instruction_reviewed"] if isinstance(row["instruction_reviewed"], str) else ""
    dropped = check_texts([edit, row["override_reason"]], category) is not None
    row["override_reason"] = shown_override_reason(row["override_reason"], edit, category)
    if check_text(edit, category):
        row.update(instruction_reviewed=kept_start(edit, len(edit), (), category), new_leak_spans=[])
    if dropped:
        row["instruction_reviewed"] += DROPPED_AT_RELEASE
    return row


def shown_override_reason(reason: str, edit: str | None, category: str | None) -> str:
    """The reason, or `(withheld: guardrail <rule>)` when the hard block stops it: the review app refuses
    such a reason now, but a review store or decisions file from before still holds it. It is read
    beside the edit, as the app reads it; an edit blocked on its own (saved before edits were read) is no
    fault of the reason, which is then read alone."""
    category = category if isinstance(category, str) else None
    edit = edit if isinstance(edit, str) else ""
    beside = () if not edit or check_text(edit, category) else (edit,)
    return kept_start(reason, len(reason), beside, category)
