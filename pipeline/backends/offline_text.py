"""The offline rule-based leak rewriter (backend "rules", model ""): no model is involved, and its
records say so; it versions itself by its lexicon and reference files. (The offline seed writer is
`pipeline.backends.template_seeds`; its guesses at the part a word plays in its sentence are
`pipeline.backends.word_roles`.)

`RulesRewriter` rewrites each query in four steps:

1. a flagged harmful act that opens an adverbial phrase ("without anyone noticing",
   "outside the mosque") goes with the rest of its clause, which keeps the sentence
   whole; every element term and every other span a leak detector flagged earlier
   (not an act: a verb phrase has no reference that could stand in for it) is
   replaced by a placeholder, with its determiner and every modifier before it;
2. explicit harm words become neutral paraphrases from `harm_words.toml` (`pipeline.backends.harm_words`)
   (then step 1 runs again, in case a paraphrase is itself an element term);
3. when no element term was found, the salient nouns (content words the query shares with the
   description) that name the shown thing go the same way: those naming a risky thing it shows
   (`knowing_shown_risk`), else the one naming the description's subject; the others are context
   ("in the kitchen") and stay, as all do beside a reference to the element, since a second
   placeholder could only become "it" ("share this at it?"); one that only modifies a noun after
   it is dropped;
4. the first placeholder becomes a reference that fits the element's kind and
   number ("this substance", "a gathering like this", `pipeline.backends.references`),
   later ones "it" or "them", and the text is tidied into one question (`pipeline.backends.tidy`).
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable

from pipeline.backends.base import Rewriter, RewriteRequest
from pipeline.backends.harm_words import drop_adverbial_acts, harm_patterns, neutralise
from pipeline.backends.tidy import end_mark, lower_first, tidy
from pipeline.backends.references import Deixis, References, is_plural, subject_phrase
from pipeline.backends.word_roles import (BEFORE_VERB, DETERMINER, LAST_WORD, MARKER, REF, SALIENT_FIRST,
                                          SUBJECT_BEFORE, compound_after_preposition, follows_relative_that,
                                          is_base_verb, is_relative_that, looks_verbal, modifies_next_word,
                                          quantified_modifiers_start, reads_as_verb)
from pipeline.contracts import ItemError
from pipeline.lexicon import (Lexicon, contains_term, find_term, load_lexicon, participles_start, stem, stems,
                              words)
from pipeline.prompts import text_hash

_JOINED_MARKERS = re.compile(rf"{MARKER}(?:\s*(?:,|and|or|&|/)?\s*{MARKER})+")
MENTIONS_IMAGE = re.compile(r"\b(image|picture|photo)\b", re.IGNORECASE)

# The words right before a term, nearest last: its lead-in is the nearest determiner with only
# modifiers ("the old rusty black ", "these 10 mg Xanax ") or quantifiers ("a few more ") after it.
_WORDS_BEFORE = re.compile(r"(?:[\w'-]+\s+){1,6}$")
_QUANTIFIERS = frozenset({"few", "more", "many", "several"})
_DETERMINER_BEFORE = re.compile(rf"\b{DETERMINER}\s+$", re.IGNORECASE)
_DETERMINER_BEFORE_REF = re.compile(rf"\b{DETERMINER}\s+(?={REF})", re.IGNORECASE)
_JOINED_REFS = re.compile(rf"{REF}(?:\s*(?:,|and|or|&|/)?\s*{REF})+")
# "the vials in the image": the reference itself says where, so "in the image" goes.
_REF_PLACED = re.compile(rf"(?<={REF})\s+(?:in|from|of|on) (?:the|this) (?:image|picture|photo)\b",
                         re.IGNORECASE)


# (query, description) -> the query's words that name a risky thing the description shows too
# ("pistol", "these pills"): what a caller that knows risk (the leak detector's library and lexicon) passes in.
ShownRisk = Callable[[str, str], tuple[str, ...]]


class RulesRewriter(Rewriter):
    backend = "rules"
    model = ""

    def __init__(self, lexicon: Lexicon | None = None, references: References | None = None):
        self.lexicon = lexicon or load_lexicon()
        self.references = references or References()
        self.shown_risk: ShownRisk | None = None  # see `knowing_shown_risk`
        self.prompt_hash = text_hash(self.lexicon.content_hash + self.references.content_hash)

    def knowing_shown_risk(self, shown_risk: ShownRisk, version: str) -> RulesRewriter:
        """This rewriter, told which query words name a shown risky thing (`version` names their source)."""
        self.shown_risk = shown_risk
        self.prompt_hash = text_hash(self.lexicon.content_hash + self.references.content_hash + version)
        return self

    def rewrite(self, requests: list[RewriteRequest]) -> list[str | ItemError]:
        return [self._rewrite_one(request) for request in requests]

    def _rewrite_one(self, request: RewriteRequest) -> str | ItemError:
        acts = set(request.feedback_acts)
        text = drop_adverbial_acts(request.query, acts)
        fed_back = tuple(s for s in request.feedback_spans if s not in acts and self._names_something(s))
        terms = _longest_first((*request.element_terms, *fed_back))
        names_element = contains_term(text, request.element_terms)
        text = self._replace_terms(text, terms, request.image_description, fed_back)
        text = neutralise(text, harm_patterns(self.lexicon, request.category))
        names_element = names_element or contains_term(text, request.element_terms)
        text = self._replace_terms(text, terms, request.image_description, fed_back)
        text, replaced = self._replace_salient(text, request.image_description)
        # The salient nouns that name the element when no reference to it does: all of them where the
        # element terms went unused, else those naming the shown risk or the description's subject.
        shown = set(replaced) if request.element_terms else self._shown_markers(request, replaced)
        named = request.element_terms or _first_replaced(text, replaced, shown)
        text = _settle_salient(text, replaced, names_element, shown)
        # Seeded by the item, so a rerun (and every attempt of one item) picks the same words.
        rng = random.Random(request.item_id)
        deixis = self.references.pick(rng, request.element_kind, named, request.image_description)
        text = tidy(_render_references(text, deixis), end_mark(request.query))
        if not words(text):
            return ItemError("no words left after rewriting", raw=request.query)
        if not _points_at_image(text, deixis):
            text = tidy(self.references.lead_in(rng) + lower_first(text), end_mark(request.query))
        return text

    def _shown_markers(self, request: RewriteRequest, replaced: dict[str, str]) -> set[str]:
        """The salient markers that stand for the shown thing: those naming a risky thing the description
        shows (`shown_risk`: "the pills" beside "the market"); with none, the one whose head noun names the
        description's subject ("this poster" for "A rally poster shows..."). The others are context."""
        risky = {s for word in (self.shown_risk(request.query, request.image_description) if self.shown_risk else ())
                 for s in stems(word)}
        chosen = {marker for marker, original in replaced.items() if risky & set(stems(original))}
        return chosen or self._subject_markers(request.image_description, replaced)

    def _subject_markers(self, description: str, replaced: dict[str, str]) -> set[str]:
        """Those the query points at ("this prison", "these cars") or whose head noun names the description's
        subject. On 100 leaky team rows with shared nouns, making all of them references lost a context noun
        in 57 rows (64 before any risk was known), this in 35, with 27-28 rows still flagged after the
        rewrite loop either way."""
        subject = {stem(m.group()) for m in words(subject_phrase(description))
                   if self.lexicon.is_content_word(m.group())}
        return {marker for marker, original in replaced.items()
                if _POINTED_AT.match(original) or (stems(original)[-1:] and stems(original)[-1] in subject)}

    def _replace_terms(self, text: str, terms: list[str], description: str, fed_back: tuple[str, ...]) -> str:
        for term in terms:
            verbs = 0  # the occurrences of a fed-back word that read as a verb stay, and are passed over
            while len(spans := find_term(text, term)) > verbs:
                start, end = spans[verbs]
                if term in fed_back and reads_as_verb(text, start, end):
                    verbs += 1
                else:
                    text, _, _ = self._swap_for_reference(text, start, end, description)
        return text

    def _names_something(self, span: str) -> bool:
        """A fed-back span with a word that is no stop word: "under" names nothing a reference could stand for."""
        return any(m.group().lower() not in self.lexicon.stopwords for m in words(span))

    def _swap_for_reference(self, text: str, start: int, end: int, description: str,
                            marker: str = REF) -> tuple[str, int, str]:
        """Replace text[start:end] and its lead-in (article, modifiers) by `marker`; returns the
        text, where the marker starts and what it replaced."""
        start = self._lead_in_start(text, start, end, description)
        return text[:start] + marker + text[end:], start, text[start:end]

    def _lead_in_start(self, text: str, start: int, end: int, description: str) -> int:
        before = _WORDS_BEFORE.search(text[:start])
        tokens = list(re.finditer(r"[\w'-]+", before.group() if before else ""))
        for n, word in reversed(list(enumerate(tokens))):
            if is_relative_that(word.group(), tokens[n + 1].group() if n + 1 < len(tokens) else text[start:end]):
                break
            if re.fullmatch(DETERMINER, word.group(), re.IGNORECASE):
                return before.start() + word.start()
            if self._is_possessive(word.group()):  # with its own determiner if it has one: "this person's posts"
                owner = _DETERMINER_BEFORE.search(text, 0, before.start() + word.start())
                return owner.start() if owner else before.start() + word.start()
            if word.group().lower() in self.lexicon.stopwords - _QUANTIFIERS:
                break
        return min(participles_start(text, start), quantified_modifiers_start(text, start),
                   self._described_compound_start(text, start, end, description))

    def _is_possessive(self, word: str) -> bool:
        """A noun's possessive ("users'", "John's") opens its noun phrase as "their" does: the lead-in stops there,
        and does not run on to a "that" before it ("a scraper that pulls users' phone numbers").
        "what's" and "it's" are contractions, not possessives."""
        owner = re.fullmatch(r"([\w-]+?)(?:'s|s')", word.replace("’", "'"), re.IGNORECASE)
        return bool(owner) and owner.group(1).lower() not in self.lexicon.stopwords | {"let"}

    def _described_compound_start(self, text: str, start: int, end: int, description: str) -> int:
        """Where the words before the term that the description also puts right before it begin ("home"
        in "numbers and home addresses" when it shows "home addresses"): they name the thing with it, and
        left behind they dangle ("home these"). Only nouns and adjectives: a word after a subject or "to"
        is the verb ("to snort cocaine" where the description has someone "about to snort cocaine")."""
        while ((found := LAST_WORD.search(text, 0, start)) and found.group(1).lower() not in self.lexicon.stopwords
               and not looks_verbal(found.group(1)) and not SUBJECT_BEFORE.search(text, 0, found.start(1))
               and not BEFORE_VERB.search(text, 0, found.start(1))
               and contains_term(description, [text[found.start(1):end]])):
            start = found.start(1)
        return start

    def _replace_salient(self, text: str, description: str) -> tuple[str, dict[str, str]]:
        """Each salient noun (with its lead-in) becomes a marker of its own; returns the text
        and what each marker replaced."""
        described = {stem(m.group()) for m in words(description)
                     if m.group().lower() not in self.lexicon.stopwords}
        salient = {stem(m.group()) for m in words(description)
                   if self.lexicon.is_content_word(m.group())}

        def is_salient(match: re.Match) -> bool:
            word = match.group()
            return (stem(word) in salient and self.lexicon.is_content_word(word)
                    and not looks_verbal(word) and not is_base_verb(match)
                    and not reads_as_verb(match.string, match.start(), match.end())
                    and not follows_relative_that(match))

        def is_described_noun(word: str) -> bool:
            return stem(word) in described and not looks_verbal(word)

        # Right to left; a swap may swallow words to its left (the lead-in), so
        # the text is re-read after each change and only what lies left of it is visited.
        cursor, replaced = len(text), {}
        while candidates := [m for m in words(text) if m.end() <= cursor and is_salient(m)]:
            match = candidates[-1]
            if (modifies_next_word(text, match.end(), is_described_noun)
                    or compound_after_preposition(match, self.lexicon.is_content_word)):
                text, cursor = text[:match.start()] + text[match.end():], match.start()
            else:
                marker = chr(ord(SALIENT_FIRST) + len(replaced))
                # No description: the modifiers it shares with a salient noun were dropped above.
                text, cursor, replaced[marker] = self._swap_for_reference(text, match.start(), match.end(), "",
                                                                          marker)
        return text, replaced


_POINTS_AT_SEVERAL = re.compile(r"(?:these|those)\b", re.IGNORECASE)
_POINTED_AT = re.compile(r"(?:this|these|those)\b", re.IGNORECASE)  # not "that": "so that cars..."


def _first_replaced(text: str, replaced: dict[str, str], shown: set[str]) -> tuple[str, ...]:
    """What the first shown salient marker replaced, when it names several ("these cocaine bags",
    "the vials"): with no element terms it names the element, so the reference takes its number
    ("these items are", not "this item are")."""
    first = next((m.group() for m in re.finditer(MARKER, text) if m.group() in shown), None)
    original = replaced.get(first, "") if first else ""
    return (original,) if _POINTS_AT_SEVERAL.match(original) or is_plural(original) else ()


def _settle_salient(text: str, replaced: dict[str, str], names_element: bool, shown: set[str]) -> str:
    """Salient nouns joined to the element's reference go into it ("the syringes and vials");
    with that reference elsewhere in the query the others come back ("at a party"), since a
    second reference could only read "it" ("share this at it?"). With no reference to the
    element (none at all, or only one for a fed-back span such as "toxic"), the `shown` salient
    nouns name the element and become references, with those joined to them; the rest are
    context ("in the kitchen") and come back: as references they read "open it of it at it?"."""
    referenced = names_element and REF in text
    shown = set() if referenced else shown
    text = _JOINED_MARKERS.sub(lambda run: REF if REF in run.group() or shown & set(run.group()) else run.group(),
                               text)
    for marker, original in replaced.items():
        text = text.replace(marker, REF if marker in shown else original)
    return text


def _longest_first(terms: tuple[str, ...]) -> list[str]:
    # Longer terms first, so "phishing e-mail" goes whole before "e-mail" could split it.
    unique = [t for t in dict.fromkeys(terms) if stems(t)]
    return sorted(unique, key=lambda t: len(stems(t)), reverse=True)


def _render_references(text: str, deixis: Deixis) -> str:
    text = _JOINED_REFS.sub(REF, _DETERMINER_BEFORE_REF.sub("", text))
    text = _REF_PLACED.sub("", text)
    return text.replace(REF, deixis.first, 1).replace(REF, deixis.later)


def _points_at_image(text: str, deixis: Deixis) -> bool:
    return bool(MENTIONS_IMAGE.search(text) or re.search(rf"\b{re.escape(deixis.first)}\b", text, re.IGNORECASE))
