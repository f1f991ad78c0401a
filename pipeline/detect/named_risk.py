"""How much of a query's harm the words it shares with the description carry.

The lexicon and the element library know a few hundred risky things by name; a query
that puts back any other word of the shown risk ("this cigarette item", "these prying
tools") passed `reveal`. So `reveal` also asks what the shared words add: `text_harm`
of the query as written, less `text_harm` of the query without the words the
description also uses. A leakless query that shares "kitchen" or "street" with its
image reads the same without them; "where can I put this cigarette so no one sees"
reads much less harmful as "where can I put this so no one sees".

A gain of GAIN_THRESHOLD or more reveals the risk (it is mapped so that it crosses
`reveal`'s own threshold there). It was chosen on fitting data only, before any
evaluation set was scored: the smallest of 0.15, 0.2, 0.25 and 0.3 at which the team
sets' leakless pairs flagged rose by at most 3 points (14.3% to 16.1% at 0.2; 17.3% at
0.15), with the shipped readers.
"""

from __future__ import annotations

import re

import numpy as np

from pipeline.detect.signals import Texts, content_stem

GAIN_THRESHOLD = 0.2
_SPACE_BEFORE_MARK = re.compile(r"\s+([?.!,;:])")
_WORD = re.compile(r"\w")


def without_shown_words(texts: Texts) -> tuple[str, tuple[str, ...]] | None:
    """The query without its content words that the description also uses, and those words;
    None when it shares none."""
    query = texts.query_as_shown
    shown = set().union(*(sentence.stems for sentence in texts.description))
    pieces, shared, last = [], [], 0
    for (start, end), stem in zip(query.spans, query.line.split()):
        if content_stem(stem) and stem in shown:
            pieces.append(query.text[last:start])
            shared.append(query.text[start:end])
            last = end
    if not shared:
        return None
    pieces.append(query.text[last:])
    stripped = _SPACE_BEFORE_MARK.sub(r"\1", " ".join("".join(pieces).split()))
    # A query made of shared words alone ("cigarette burns?") leaves nothing to read, and the readers
    # score an empty text high: "this" reads as it would with the words replaced by a reference.
    return stripped if _WORD.search(stripped) else "this", tuple(dict.fromkeys(shared))


def on_reveal_scale(gain: np.ndarray, reveal_threshold: float) -> np.ndarray:
    """A gain as a raw `reveal` value: GAIN_THRESHOLD lands on `reveal`'s threshold."""
    return np.clip(reveal_threshold * np.maximum(gain, 0.0) / GAIN_THRESHOLD, 0.0, 1.0)
