"""Inter-annotator agreement on pairs labelled twice or more: kappa, and the conflicts to adjudicate.

Two labels agree when they would make the same release: both reject, or both
ship the same text (an accept ships the pipeline's query, an edit its own
text; texts are compared as one line, `decisions.one_line_query`, so an edit
that only adds a line break or a space ships the pipeline's query). An overridden edit agrees with no other label: it let a flagged text
through on one annotator's word, which a second annotator never approved.
A skip says nothing about the pair.

A scope (a batch, a category) whose pairs one fixed pair of annotators labelled gets Cohen's kappa
between the two. One that mixes annotators (a category over batches with different annotator pairs,
a pair labelled three times) gets Fleiss' kappa, which treats a pair's labels as unordered: pooling
different pairs of annotators into Cohen's two columns made the figure depend on whose name sorted
first.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from dataclasses import dataclass

from pipeline.review.decisions import ADJUDICATION, Event, one_line_query, same_query

LABELS = {"accept": "accept", "edit": "accept", "reject": "reject"}
PIPELINE_QUERY = "accept"   # the outcome of a label that ships the pipeline's own query


def outcome(event: Event, pipeline_query: str | None) -> str:
    """What a label makes of its pair, compared across annotators: "reject", PIPELINE_QUERY, or the
    edit it would ship (one only its annotator holds where it is overridden)."""
    if LABELS[event.action] == "reject":
        return "reject"
    if event.action == "accept" or same_query(event.edited_query, pipeline_query):
        return PIPELINE_QUERY
    text = one_line_query(event.edited_query)
    if event.override_reason:
        return f"edit overridden by {event.annotator}: {text}"
    return f"edit: {text}"


def shown_label(event: Event, item=None) -> str:
    """A label as the lead reads it in a conflict: an edit with the text it would ship. Given its
    pair's review item, an edit the hard block stops is shown as `(withheld: guardrail <rule>)`."""
    if event.action != "edit":
        return event.action + (f": {event.reason}" if event.reason else "")
    score = "n/a" if event.new_leak_score is None else f"{event.new_leak_score:.3f}"
    override = ", override" if event.override_reason else ""
    return f"edit: {shown_text(event.edited_query, item)} (leak {score}{override})"


def shown_text(query: str, item) -> str:
    """An edit's text, quoted, or the withheld note where the hard block stops its pair shipping it."""
    if item is not None:
        from pipeline.review.scoring import shown_edit  # the detector's and harm check's modules: not for kappa
        if (shown := shown_edit(item, query)) != query:
            return shown
    return json.dumps(query, ensure_ascii=False)


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


def fleiss_kappa(items: list[list[str]]) -> float | None:
    """Fleiss' kappa over items each labelled by two or more raters, whoever they are (the number of
    raters may vary per item: each item's agreement is over its own pairs of labels); None where it is
    undefined (no items, or one label throughout, so chance agreement is 1)."""
    items = [labels for labels in items if len(labels) >= 2]
    if not items:
        return None
    observed = sum(sum(count * (count - 1) for count in Counter(labels).values()) / (len(labels) * (len(labels) - 1))
                   for labels in items) / len(items)
    totals = Counter(label for labels in items for label in labels)
    expected = sum((count / totals.total()) ** 2 for count in totals.values())
    if expected == 1.0:
        return None
    return (observed - expected) / (1.0 - expected)


COHEN, FLEISS = "Cohen", "Fleiss"


@dataclass(frozen=True)
class Agreement:
    scope: str        # "batch" or "category"
    key: str
    items: int        # pairs labelled by two or more annotators
    agreed: int       # pairs whose labels all agree
    kappa: float | None
    statistic: str = COHEN  # Cohen's between one fixed pair of annotators, else Fleiss'


@dataclass(frozen=True)
class Conflict:
    run_id: str
    batch_id: str
    pair_id: str
    labels: dict[str, str]   # annotator -> "accept", "reject: <reason>", or the edit: shown_label


def adjudication(events: list[Event]) -> Event | None:
    """The latest adjudication on the pair, which settles it; None where nobody adjudicated."""
    settled = [event for event in events if event.source == ADJUDICATION]
    return max(settled, key=lambda event: event.id) if settled else None


def adjudication_stands(settled: Event, events: list[Event], pipeline_query: str | None) -> bool:
    """An adjudication settles its pair unless it chose an annotator's edit (`--accept-edit`) that
    its annotator has changed since: that text, no longer anyone's, would ship unchecked."""
    if settled.action != "edit" or same_query(settled.edited_query, pipeline_query):
        return True
    return any(event.action == "edit" and event.source != ADJUDICATION
               and same_query(event.edited_query, settled.edited_query) for event in events)


def labels_by_pair(events: list[Event]) -> dict[tuple[str, str], dict[str, Event]]:
    """(run, pair) -> annotator -> their current labelling event (skips and adjudications dropped)."""
    labelled: dict[tuple[str, str], dict[str, Event]] = defaultdict(dict)
    for event in events:
        if event.action in LABELS and event.source != ADJUDICATION:
            labelled[(event.run_id, event.pair_id)][event.annotator] = event
    return labelled


def agreement(events: list[Event], category_of: dict[str, str],
              pipeline_queries: dict[str, str]) -> list[Agreement]:
    """Kappa per batch and per category over the labels' outcomes (pair id -> its category, and the
    pipeline's query an accept ships), over the pairs two or more annotators labelled."""
    groups: dict[tuple[str, str], list[dict[str, str]]] = defaultdict(list)
    for (_, pair_id), by_annotator in labels_by_pair(events).items():
        if len(by_annotator) < 2:
            continue
        query = pipeline_queries.get(pair_id)
        ratings = {name: outcome(event, query) for name, event in by_annotator.items()}
        groups[("batch", by_annotator[min(by_annotator)].batch_id)].append(ratings)
        groups[("category", category_of.get(pair_id, "?"))].append(ratings)
    return [scope_agreement(scope, key, rated) for (scope, key), rated in sorted(groups.items())]


def scope_agreement(scope: str, key: str, rated: list[dict[str, str]]) -> Agreement:
    """One scope's agreement (each pair: annotator -> outcome): Cohen's kappa where the same two
    annotators labelled every pair (either may be rater A: it is symmetric), Fleiss' otherwise."""
    agreed = sum(len(set(ratings.values())) == 1 for ratings in rated)
    raters = {frozenset(ratings) for ratings in rated}
    if len(raters) == 1 and len(names := sorted(next(iter(raters)))) == 2:
        kappa = cohen_kappa([(ratings[names[0]], ratings[names[1]]) for ratings in rated])
        return Agreement(scope=scope, key=key, items=len(rated), agreed=agreed, kappa=kappa, statistic=COHEN)
    kappa = fleiss_kappa([list(ratings.values()) for ratings in rated])
    return Agreement(scope=scope, key=key, items=len(rated), agreed=agreed, kappa=kappa, statistic=FLEISS)


def conflicts(events: list[Event], pipeline_queries: dict[str, str], items: dict | None = None) -> list[Conflict]:
    """Pairs whose annotators' labels would not make the same release and that no adjudication has
    settled yet (pipeline_queries: pair id -> the query an accept ships; items: pair id -> its review
    item, which withholds an edit the hard block stops)."""
    pair_events = defaultdict(list)
    for event in events:
        pair_events[(event.run_id, event.pair_id)].append(event)
    settled = {key for key, held in pair_events.items()
               if (latest := adjudication(held)) and adjudication_stands(latest, held, pipeline_queries.get(key[1]))}
    found = []
    for (run_id, pair_id), by_annotator in sorted(labels_by_pair(events).items()):
        outcomes = {outcome(event, pipeline_queries.get(pair_id)) for event in by_annotator.values()}
        if (run_id, pair_id) not in settled and len(outcomes) > 1:
            item = (items or {}).get(pair_id)
            labels = {name: shown_label(event, item) for name, event in sorted(by_annotator.items())}
            batch_id = next(iter(by_annotator.values())).batch_id
            found.append(Conflict(run_id=run_id, batch_id=batch_id, pair_id=pair_id, labels=labels))
    return found
