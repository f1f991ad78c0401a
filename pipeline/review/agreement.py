"""Inter-annotator agreement on doubly-labelled pairs: Cohen's kappa and the conflicts to adjudicate.

Only accept vs reject counts: an edit is an accept with a better query, and a
skip says nothing about the pair.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass

from pipeline.review.store import ADJUDICATION, Event

LABELS = {"accept": "accept", "edit": "accept", "reject": "reject"}


def cohen_kappa(ratings: list[tuple[str, str]]) -> float | None:
    """Kappa for two raters over the same items; None where it is undefined (no items, or both
    raters gave one and the same label throughout, so chance agreement is 1)."""
    if not ratings:
        return None
    n = len(ratings)
    first, second = Counter(a for a, _ in ratings), Counter(b for _, b in ratings)
    observed = sum(a == b for a, b in ratings) / n
    expected = sum(first[label] * second[label] for label in first) / (n * n)
    if expected == 1.0:
        return None
    return (observed - expected) / (1.0 - expected)


@dataclass(frozen=True)
class Agreement:
    scope: str        # "batch" or "category"
    key: str
    items: int        # pairs labelled by two annotators
    agreed: int
    kappa: float | None


@dataclass(frozen=True)
class Conflict:
    run_id: str
    batch_id: str
    pair_id: str
    labels: dict[str, str]   # annotator -> "accept" or "reject: <reason>"


def labels_by_pair(events: list[Event]) -> dict[tuple[str, str], dict[str, Event]]:
    """(run, pair) -> annotator -> their current labelling event (skips and adjudications dropped)."""
    labelled: dict[tuple[str, str], dict[str, Event]] = defaultdict(dict)
    for event in events:
        if event.action in LABELS and event.source != ADJUDICATION:
            labelled[(event.run_id, event.pair_id)][event.annotator] = event
    return labelled


def agreement(events: list[Event], category_of: dict[str, str]) -> list[Agreement]:
    """Kappa per batch and per category. Rater A is the alphabetically first annotator of
    each pair, so a pair's two labels always land in the same columns."""
    groups: dict[tuple[str, str], list[tuple[str, str]]] = defaultdict(list)
    for (_, pair_id), by_annotator in labels_by_pair(events).items():
        if len(by_annotator) < 2:
            continue
        first, second = (by_annotator[name] for name in sorted(by_annotator)[:2])
        rating = (LABELS[first.action], LABELS[second.action])
        groups[("batch", first.batch_id)].append(rating)
        groups[("category", category_of.get(pair_id, "?"))].append(rating)
    return [Agreement(scope=scope, key=key, items=len(ratings), agreed=sum(a == b for a, b in ratings),
                      kappa=cohen_kappa(ratings))
            for (scope, key), ratings in sorted(groups.items())]


def conflicts(events: list[Event]) -> list[Conflict]:
    """Pairs whose annotators disagree and that no adjudication has settled yet."""
    settled = {(event.run_id, event.pair_id) for event in events if event.source == ADJUDICATION}
    found = []
    for (run_id, pair_id), by_annotator in sorted(labels_by_pair(events).items()):
        if (run_id, pair_id) not in settled and len({LABELS[event.action] for event in by_annotator.values()}) > 1:
            labels = {name: LABELS[e.action] + (f": {e.reason}" if e.reason else "")
                      for name, e in sorted(by_annotator.items())}
            batch_id = next(iter(by_annotator.values())).batch_id
            found.append(Conflict(run_id=run_id, batch_id=batch_id, pair_id=pair_id, labels=labels))
    return found
