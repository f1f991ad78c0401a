"""Rewrite -> score -> feed the leaked spans back -> rewrite again, up to k attempts.

The leak filter scores each attempt and says whether to try again
(`LeakFilterStage.should_retry`: it leaks, or it still names a risky object or act).

Shared by the build's rewrite stage and `leakless rewrite FILE`. Each attempt
starts from the original query with every span flagged so far, so a
deterministic rewriter still changes its answer. An attempt that flags no new span
ends the loop: the same request would get the same answer (a rules rewriter, or an
LLM answer from the cache).

An item's texts are read by the guardrail together: its query and image description before any rewrite
(its id for names only), a blocked item never sent to the rewriter, and each rewrite with them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

from pipeline.backends.base import Rewriter, RewriteRequest
from pipeline.contracts import ItemError, Provenance
from pipeline.detect.detector import LeakInput
from pipeline.detect.lexicon import Lexicon, StemmedText
from pipeline.lexicon import load_lexicon
from pipeline.guardrails import GuardHit, check_texts, name_hit
from pipeline.plain_text import has_words
from pipeline.records import LeakScores, RewriteAttempt
from pipeline.stages.leak_filter import LeakFilterStage


@dataclass(frozen=True)
class RewriteItem:
    item_id: str
    query: str
    image_description: str
    category: str | None = None
    element_terms: tuple[str, ...] = ()
    element_kind: str = ""


@dataclass
class RewriteOutcome:
    item: RewriteItem
    attempts: list[RewriteAttempt] = field(default_factory=list)
    error: ItemError | None = None
    blocked: GuardHit | None = None
    original: LeakScores | None = None  # the item's own query's scores, when scored before any rewrite

    @property
    def final(self) -> RewriteAttempt | None:
        return self.attempts[-1] if self.attempts else None


def rewrite_until_clean(items: list[RewriteItem], rewriter: Rewriter, leak_filter: LeakFilterStage,
                        max_attempts: int, score_first: bool = False) -> list[RewriteOutcome]:
    """One outcome per item, in order. Items are told apart by position, so two rows of a
    user's file that share an id are still two items. With `score_first` (a user's file, whose
    rows may already pass; a build's queries are harmful by construction) an item whose own
    query the filter would not retry is left as it is, with its scores and no attempt."""
    outcomes = [RewriteOutcome(item, blocked=check_texts(item_texts(item), item.category) or name_hit(item.item_id))
                for item in items]
    feedback: dict[int, tuple[str, ...]] = {}
    pending = [n for n, outcome in enumerate(outcomes) if not outcome.blocked]
    if score_first:
        pending = _needing_rewrite(pending, outcomes, leak_filter)
    for _ in range(max_attempts):
        if not pending:
            break
        requests = [RewriteRequest(item_id=items[n].item_id, query=items[n].query,
                                   image_description=items[n].image_description, category=items[n].category or "",
                                   element_terms=items[n].element_terms, feedback_spans=feedback.get(n, ()),
                                   element_kind=items[n].element_kind, feedback_acts=harmful_acts(feedback.get(n, ())))
                    for n in pending]
        rewritten: list[tuple[int, str, Provenance]] = []
        for n, result in zip(pending, rewriter.rewrite_with_provenance(requests)):
            if isinstance(result, ItemError):
                outcomes[n].error = result
            elif not has_words(result[0]):  # "?" from a model: nothing to score, and nothing to ship
                outcomes[n].error = ItemError(error="the rewrite has no words", raw=result[0])
            elif copied := copied_description(result[0], items[n]):
                outcomes[n].error = ItemError(error=f"rewrite.copied_description: {copied}", raw=result[0])
            elif hit := check_texts([result[0], *item_texts(items[n])], items[n].category):
                outcomes[n].blocked = hit
            else:
                rewritten.append((n, *result))
        scores = leak_filter.score([leak_input(items[n], text) for n, text, _ in rewritten])
        pending = []
        for (n, text, made_by), leak in zip(rewritten, scores):
            # the scores name their text's writer: a retried attempt's decision is written from them
            outcomes[n].attempts.append(RewriteAttempt(query=text, made_by=made_by,
                                                       leak=leak.model_copy(update={"written_by": made_by})))
            flagged = tuple(dict.fromkeys(feedback.get(n, ()) + leak.spans))
            if leak_filter.should_retry(leak) and flagged != feedback.get(n, ()):
                feedback[n] = flagged
                pending.append(n)
    return outcomes


def _needing_rewrite(pending: list[int], outcomes: list[RewriteOutcome], leak_filter: LeakFilterStage) -> list[int]:
    scores = leak_filter.score([leak_input(outcomes[n].item, outcomes[n].item.query) for n in pending])
    for n, leak in zip(pending, scores):
        outcomes[n].original = leak
    return [n for n, leak in zip(pending, scores) if leak_filter.should_retry(leak)]


# A rewrite is the description pasted in, not a query, when at least 3 of its content words, and this
# share of them, come from the description and not from the original query (SmolLM2's "This is an image
# of a CAPTCHA. ... The solution is: ...", scored clean). Words the query had do not count: a leaky
# rewrite that keeps them is the leak filter's to judge. No rules or LLM rewrite the rewrite audit judged
# usable comes near (the highest: 0 copied words; the pasted ones 5 of 6 to 53 of 58).
COPIED_SHARE, COPIED_MIN = 0.6, 3
WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?")


def copied_description(rewrite: str, item: RewriteItem) -> str | None:
    """Why the rewrite reads as the image description rather than a query, or None."""
    words = _content_words(rewrite)
    described = set(_content_words(item.image_description)) - set(_content_words(item.query))
    copied = sum(word in described for word in words)
    if copied >= COPIED_MIN and copied >= COPIED_SHARE * len(words):
        return f"the rewrite repeats the image description ({copied} of its {len(words)} content words)"
    return None


def _content_words(text: str) -> list[str]:
    """Lower-cased content words, a plural's s dropped ("breads" meets "bread")."""
    lexicon = load_lexicon()
    return [word[:-1] if word.endswith("s") and len(word) > 3 else word
            for word in WORD.findall(text.lower()) if lexicon.is_content_word(word)]


def leak_input(item: RewriteItem, query: str) -> LeakInput:
    return LeakInput(query=query, image_description=item.image_description, category=item.category,
                     element_terms=item.element_terms)


def item_texts(item: RewriteItem) -> list[str]:
    """What the item brings beside the rewrite (its id, which a user's file ships too, is read for
    names only: `name_hit`)."""
    return [item.query, item.image_description]


@lru_cache(maxsize=1)
def _risk_lexicon() -> Lexicon:
    return Lexicon()


# A span of two words or more ending in one of these is a phrasal verb ("blows up", "go off"): no noun
# phrase ends so.
_PARTICLES = ("up", "off", "down", "out", "away")


def harmful_acts(spans: tuple[str, ...]) -> tuple[str, ...]:
    """The spans that name a harmful act: any hit of the detector's risk lexicon is an act ("stab" is
    one even though it also hits an object concept), or the span is a phrasal verb, which the lexicon
    files under the object it acts on ("go off": explosive). A rewriter must not make them references."""
    lexicon = _risk_lexicon()
    return tuple(span for span in spans
                 if _is_phrasal_verb(span)
                 or any(hit.concept.kind == "act" for hit in lexicon.hits(StemmedText.of(span))))


def _is_phrasal_verb(span: str) -> bool:
    words = span.lower().split()
    return len(words) > 1 and words[-1] in _PARTICLES
