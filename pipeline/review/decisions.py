"""What an annotator decides about one pair: the form it is submitted in (`DecisionIn`) and
the event the store records (`Event`)."""

from __future__ import annotations

import json
from typing import Literal

from pydantic import BaseModel, field_validator, model_validator

Action = Literal["accept", "reject", "edit", "skip"]
Reason = Literal["still_leaks", "not_harmful", "image_mismatch", "wrong_category", "low_quality",
                 "unsafe_content_beyond_scope"]
REASONS: tuple[str, ...] = Reason.__args__
ADJUDICATION = "adjudication"  # the source of an event that settles a conflict
# Bidirectional embeddings, overrides and isolates: they reorder how text displays, so an edit holding
# them can show a reviewer one word ("\u202eeniacoc\u202c" displays as "cocaine") and store another.
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def one_line_query(text: str) -> str:
    """A query as it is stored and compared: one line, with no surrounding whitespace and one space
    between words. A touch keyboard's Return in the edit box (sent as CRLF) or a doubled space
    changes nothing a release should ship."""
    return " ".join(text.split())


def same_query(first: str | None, second: str | None) -> bool:
    """Whether two queries are the same text once read as one line (`one_line_query`): an edit
    stored before edits were normalised, with a trailing line break, is the query it edits."""
    if first is None or second is None:
        return first is second
    return one_line_query(first) == one_line_query(second)


class DecisionIn(BaseModel):
    """What an annotator submits for one pair."""

    batch_id: str
    pair_id: str
    action: Action
    reason: Reason | None = None
    edited_query: str | None = None
    request_id: str | None = None  # idempotency key per annotator: a retried request is recorded once
    override_reason: str | None = None  # why an edit that fails the leak or harm check counts anyway

    @model_validator(mode="after")
    def _consistent(self) -> DecisionIn:
        if self.edited_query is not None:
            self.edited_query = one_line_query(self.edited_query)
        if self.action == "reject" and self.reason is None:
            raise ValueError("a reject needs a reason")
        if self.action == "edit" and not self.edited_query:
            raise ValueError("an edit needs the edited query")
        if self.action == "edit" and (hidden := sorted(BIDI_CONTROLS & set(self.edited_query))):
            raise ValueError("the edit holds bidirectional control characters "
                             f"({', '.join(f'U+{ord(c):04X}' for c in hidden)}), which make it display "
                             "differently from what is stored: remove them")
        if self.action != "edit":
            self.edited_query = None
        if self.action != "reject":
            self.reason = None
        self.override_reason = (self.override_reason or "").strip() or None if self.action == "edit" else None
        return self


class Event(BaseModel):
    id: int
    run_id: str
    batch_id: str
    pair_id: str
    annotator: str
    action: Action
    reason: str | None
    edited_query: str | None
    new_leak_score: float | None
    previous_action: str | None
    previous_reason: str | None
    previous_query: str | None
    at: str
    source: str
    request_id: str | None
    leak_threshold: float | None = None
    leak_spans: list[str] = []
    detector_version: str | None = None
    harm_verdict: str | None = None
    harm_reason: str | None = None
    override_reason: str | None = None
    history: int = 1  # events so far for this (run, pair, annotator); set on rows of `current`

    @field_validator("leak_spans", mode="before")
    @classmethod
    def _spans(cls, value):
        return json.loads(value) if isinstance(value, str) else value or []

    def summary(self) -> str:
        """The decision in a few words, as a page reads it out: "reject (low_quality)",
        'edit "..." (leak score 0.700, kept by override)'."""
        if self.action == "reject":
            return f"reject ({self.reason})"
        if self.action == "edit":
            notes = ([f"leak score {self.new_leak_score:.3f}"] if self.new_leak_score is not None else []) + \
                    (["kept by override"] if self.override_reason else [])
            return f'edit "{self.edited_query}"' + (f" ({', '.join(notes)})" if notes else "")
        return self.action
