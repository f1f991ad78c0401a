"""Why the review store does not record a decision it is sent: a request id sent again with another
decision, a decision from a page that showed an older one, or one older than the annotator's current
decision from elsewhere. Each is an error the review app and Label Studio import answer in their own words.
"""

from __future__ import annotations

import sqlite3

from pipeline.review.decisions import DecisionIn, Event


class RequestIdReused(ValueError):
    """An idempotency key sent again with a different decision: recording either silently would lose one."""


class DecisionChanged(ValueError):
    """A decision sent from a page that showed an older decision of the pair (a second tab, a page
    left open): recording it would replace a newer decision the annotator never saw."""

    def __init__(self, pair_id: str, current: Event | None, from_this_page: bool = False):
        # the review page names what is saved now, and whether this very page saved it
        self.pair_id, self.current, self.from_this_page = pair_id, current, from_this_page
        latest = f"{current.summary()}, saved {current.at} from {current.source}" if current else "none"
        super().__init__(f"your decision on pair {pair_id} changed after this page was loaded (it is now: "
                         f"{latest}): nothing was saved; reload the page and decide again")


class LaterDecision(ValueError):
    """A decision dated before the annotator's current one, which came from elsewhere (an older Label
    Studio annotation after a decision made in the review app): recorded last, it would replace it."""

    def __init__(self, current: Event):
        self.current = current
        super().__init__(f"{current.annotator}'s decision on pair {current.pair_id} from {current.source} "
                         f"({current.at}) is later")


def later_elsewhere(current: Event | None, source: str, at: str | None) -> bool:
    """`current` came from another source than `source`, later than `at`."""
    return current is not None and current.source != source and at is not None and current.at > at


def retried(seen: sqlite3.Row, decision: DecisionIn, annotator: str) -> Event:
    """The event a request id already recorded, if this is the same decision sent again."""
    keys = ("batch_id", "pair_id", "action", "reason", "edited_query", "override_reason")
    if any(seen[key] != getattr(decision, key) for key in keys):
        raise RequestIdReused(
            f"request_id {decision.request_id!r} was already used by {annotator} for another decision "
            f"({seen['action']} on {seen['pair_id']}); a new decision needs a new request_id")
    return Event(**seen)
