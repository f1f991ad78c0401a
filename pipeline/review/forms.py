"""What a review page's form posts, and what the page shows of a decision.

A form names the pair it was shown for and the decision it showed as current, so a
page left open or a second tab never records a decision on another pair, or over a
newer one, silently. It also carries its page's request id, so a form sent again after
its answer was lost (a browser resends a POST on a reset connection) is recorded once and
answered like the first. Leaked spans are marked where the detector read them.
"""

from __future__ import annotations

import re
import secrets
from itertools import groupby
from operator import itemgetter

from fastapi import HTTPException
from markupsafe import Markup, escape
from pydantic import ValidationError

from pipeline.plain_text import plain_with_origins
from pipeline.review.batches import ReviewItem
from pipeline.review.decision_conflicts import DecisionChanged
from pipeline.review.decisions import DecisionIn, Event
from pipeline.review.scoring import EditCheck


def highlight(text: str, spans: list[str]) -> Markup:
    """The text, escaped, with every leaked span wrapped in <mark>, found where the detector read it."""
    read, origins = plain_with_origins(text)
    marked = [False] * len(text)
    for span in {span for span in spans if span.strip()}:
        for match in re.finditer(re.escape(span), read, re.IGNORECASE):
            for at in range(origins[match.start()][0], origins[match.end() - 1][1]):
                marked[at] = True
    runs = []
    for is_marked, run in groupby(zip(text, marked), key=itemgetter(1)):
        piece = escape("".join(char for char, _ in run))
        runs.append(Markup("<mark>") + piece + Markup("</mark>") if is_marked else piece)
    return Markup("").join(runs)


class EditNeedsOverride(Exception):
    """An edit that leaks or fails the harm check, submitted without an override reason."""

    def __init__(self, check: EditCheck, query: str):
        super().__init__("; ".join(check.problems))
        self.check, self.query = check, query


class DecisionRefused(ValueError):
    """A decision that cannot be recorded as sent (an empty or over-long edit): 400, nothing saved."""


REQUEST_ID = re.compile(r"^[A-Za-z0-9_-]{16,64}$")  # what `new_request_id` makes
REQUEST_ID_PREFIX = "page:"  # keeps a page's ids apart from the API's and Label Studio's in the store


def new_request_id() -> str:
    """The request id of one rendering of an item page, shared by its forms: sent again, any of them
    is the same request, recorded once."""
    return secrets.token_urlsafe(16)


def request_id_of(form: dict[str, str]) -> str | None:
    """The store's request id for a form's page id; None for a form from a page without one."""
    sent = form.get("request_id")
    if not sent:
        return None
    if not REQUEST_ID.match(sent):
        raise HTTPException(400, "this form's request id is malformed: open the item again and decide again")
    return REQUEST_ID_PREFIX + sent


def decision_of(form: dict[str, str], batch_id: str, pair_id: str) -> DecisionIn:
    """The decision a browser form posts, or DecisionRefused saying what is wrong with it."""
    try:
        return DecisionIn(batch_id=batch_id, pair_id=pair_id, action=form.get("action", ""),
                          reason=form.get("reason") or None, edited_query=form.get("edited_query"),
                          request_id=request_id_of(form),
                          override_reason=form.get("override_reason") if form.get("override") else None)
    except ValidationError as error:
        raise DecisionRefused(error.errors()[0]["msg"].removeprefix("Value error, ")) from None


# What an item page's forms say of its image (`image`): rendered `unseen` (`seen` once an annotator without
# JavaScript has said they can see it); the page's script sets `loaded` once the image has loaded, `failed`
# where it could not be shown.
IMAGE_SEEN = ("loaded", "seen")
IMAGE_NOT_YET = ("the decision was sent before this page had shown the pair's image: accept, reject and edit "
                 "judge the image and the query together. Decide again once the image is shown (without "
                 "JavaScript, first say that you can see it)")
IMAGE_FAILED = ("the pair's image could not be shown on this page, so the pair cannot be accepted, rejected or "
                "edited from it: reload the item to try the image again, or skip it")


def check_image_seen(form: dict[str, str]) -> None:
    """DecisionRefused for an accept, reject or edit sent from a page whose image had not loaded, or could not
    be shown: it is no review of the pair. A skip judges nothing and is taken either way; so is a form
    without the field (a page from before the field, a post made by hand), as the API's decisions are."""
    state = form.get("image")
    if state is None or form.get("action") == "skip" or state in IMAGE_SEEN:
        return
    raise DecisionRefused(IMAGE_FAILED if state == "failed" else IMAGE_NOT_YET)


def image_state_shown_again(form: dict[str, str]) -> str:
    """The `image` a page shown again after a post (flagged, refused) renders: an annotator's own "I can see
    it" (no JavaScript) holds for the same pair; a script measures its page afresh."""
    return "seen" if form.get("image") == "seen" else "unseen"


def check_form_pair(form: dict[str, str], item: ReviewItem, index: int) -> None:
    """A form names the pair it was shown for; posted to an index holding another pair, it is refused
    rather than recorded on a pair the annotator did not see."""
    sent = form.get("pair_id")
    if not sent:
        raise HTTPException(400, "this form names no pair: reload the page and decide again")
    if sent != item.pair_id:
        raise HTTPException(409, f"this form was for pair {sent}, but item {index + 1} is pair {item.pair_id}: "
                                 "nothing was saved; reload the page and decide again")


def shown_of(form: dict[str, str]) -> int:
    """The id of the decision the form's page showed as current (0: none yet): the store refuses the
    new one where the current decision has changed since (another tab, a page left open)."""
    sent = form.get("shown", "")
    if not sent.isdigit():
        raise HTTPException(400, "this form names no decision it was shown: reload the page and decide again")
    return int(sent)


def check_shown(pair_id: str, current: Event | None, shown: int) -> None:
    """DecisionChanged where the form's page showed another decision than the current one: checked
    before an edit is scored, so a stale page never gets a flagged-edit page to override from."""
    if (current.id if current else 0) != shown:
        raise DecisionChanged(pair_id, current)


def conflict_note(changed: DecisionChanged) -> str:
    """What a 409 page says of a decision refused because the pair's decision changed since its page
    was loaded: that this one was not saved, and what is saved now (the page links to the item)."""
    current = changed.current
    now = f"{current.summary()} (saved {current.at} from {current.source})" if current else "no decision"
    if changed.from_this_page:  # its first decision's answer was lost, then another was sent from it
        return (f"this page's earlier decision on pair {changed.pair_id} was saved; this one was not. "
                f"Saved now: {now}.")
    return (f"your decision on pair {changed.pair_id} changed after this page was loaded: nothing was saved "
            f"from this page. Saved now: {now}.")


def kept_edit(form: dict[str, str], current: Event | None) -> dict[str, str]:
    """"Accept my edit": the form of the edit the page showed (`check_shown` first), saved again (and
    re-checked) with its override, so accepting what is on screen never throws the edit away."""
    if current is None or current.action != "edit":
        raise HTTPException(400, "there is no edit of yours to keep on this pair: reload the page")
    override = {"override": "1", "override_reason": current.override_reason} if current.override_reason else {}
    return {**form, "action": "edit", "edited_query": current.edited_query, **override}


def saved_note(progress: dict, items: list[ReviewItem], saved: int | None) -> str | None:
    """What the decision just made saved, for the page after it; None where that event is not the
    annotator's current decision on a pair of this batch."""
    event = next((event for event in progress["decisions"].values() if event.id == saved), None)
    if event is None:
        return None
    number = next((i for i, item in enumerate(items, 1) if item.pair_id == event.pair_id), None)
    return f"Saved item {number}: {event.summary()}" if number is not None else None
