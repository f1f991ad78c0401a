"""Harm in the rules rewriter's text: a flagged harmful act that opens an adverbial phrase goes with the
rest of its clause (step 1), and explicit harm words become neutral paraphrases from
`pipeline/lexicon/harm_words.toml`, each in the grammatical form of the word it replaces (step 2)."""

from __future__ import annotations

import re
from functools import lru_cache

from pipeline.lexicon import Lexicon, find_term, stem, stems, words

# The endings that tell inflections of one stem apart ("attack", "attacked", "attacker", "attacks").
_FORM_ENDING = re.compile(r"(?:ing|ed|ers|er|ions|ion|ly|(?<!s)s)$")


def _form(word: str) -> str:
    """A word's inflection, read from its ending ("" for a base form): a paraphrase is inflected
    like its key, so a stem match may only borrow the paraphrase of a key of the same form."""
    ending = _FORM_ENDING.search(word.lower().replace("’", "'").removesuffix("'s"))
    return ending.group() if ending else ""


# What may follow an adjective that is not before its noun: the clause's end or a complement.
_PREDICATIVE_AFTER = r"(?=\s*(?:[?.!,;:]|$)|\s+(?:to|for|if|when|because|enough|in|at|around|near)\b)"

_INTENSIFIER = r"(?:(?:very|really|extremely|quite)\s+)?"


def _predicative_patterns(lexicon: Lexicon, table: dict[str, str]) -> list:
    """ "how dangerous" -> "how much of a concern", "(very) dangerous?" -> "a concern?": for each word
    the category drops, so they run before the plain drop."""
    patterns = []
    for word, phrase in lexicon.predicative.items():
        if table.get(word) != "":
            continue
        if phrase.startswith("a "):
            patterns.append((re.compile(rf"\b(how|so|too)\s+{re.escape(word)}\b", re.IGNORECASE), rf"\1 much of {phrase}"))
        patterns.append((re.compile(rf"(?<![\w-]){_INTENSIFIER}{re.escape(word)}{_PREDICATIVE_AFTER}", re.IGNORECASE), phrase))
    return patterns


# What a noun follows and a verb does not: a determiner, a possessive, a preposition or a verb that takes
# an act as its object ("cause harm", "commit murder"); at most two modifiers may come between.
_NOUN_LEAD = (r"(?:a|an|the|this|that|these|those|my|your|his|her|their|our|its|no|any|some|more|most|much|"
              r"what|which|another|such|[\w-]+'s|as|of|with|from|for|into|about|against|cause|causes|do|does|"
              r"did|commit|prevent)")
# Lower-case "s" only: an acronym such as "DDoS" is a modifier ("a DDoS attack").
_PLURAL = r"men|women|people|children|(?-i:[\w'-]*[^\Wsu]s)"
# A verb's object right after the word ("attack the bus", "murder him"): then it is no noun.
_OBJECT = r"(?:a|an|the|this|that|these|those|my|your|his|her|their|our|him|them|it|me|us|you|someone|people)"


def _noun_patterns(lexicon: Lexicon, table: dict[str, str]) -> list:
    """ "counts as abuse" -> "counts as handling", "a DDoS attack" -> "a DDoS operation": for each key of the
    category's table that is also a noun, so they run before its verb paraphrase."""
    # A modifier is no stop word, and no plural, which would be the subject of a verb ("what insults hurt her").
    modifier = rf"(?!(?:{'|'.join(map(re.escape, lexicon.stopwords))}|{_PLURAL})\b)[\w'-]+\s+"
    return [(re.compile(rf"(?<![\w'-])({_NOUN_LEAD}\s+(?:{modifier}){{0,2}}){re.escape(word)}(?![\w'-])"
                        rf"(?!\s+{_OBJECT}\b)", re.IGNORECASE), rf"\g<1>{noun}")
            for word, noun in lexicon.nouns.items() if word in table]


def _phrase_pattern(phrase: str, paraphrase: str) -> tuple:
    return (re.compile(r"(?<![\w-])" + r"\s+".join(map(re.escape, phrase.split())) + r"(?![\w-])", re.IGNORECASE),
            paraphrase)


@lru_cache(maxsize=32)
def harm_patterns(lexicon: Lexicon, category: str) -> tuple[list, dict[tuple[str, str], str]]:
    """Compiled exact-phrase patterns (longest first) and a (stem, form) table for one-word keys."""
    table = lexicon.harm_words(category)
    phrases = sorted((k for k in table if " " in k), key=lambda k: len(k.split()), reverse=True)
    # A phrase goes whole before a noun reading of its words ("rat poison"), which go before the words' own.
    patterns = (_predicative_patterns(lexicon, table) + [_phrase_pattern(p, table[p]) for p in phrases]
                + _noun_patterns(lexicon, table) + [_phrase_pattern(w, table[w]) for w in table if " " not in w])
    by_stem = {(stem(k), _form(k)): v for k, v in table.items() if " " not in k}
    return patterns, by_stem


def neutralise(text: str, harm: tuple[list, dict[tuple[str, str], str]]) -> str:
    patterns, by_stem = harm
    for pattern, paraphrase in patterns:
        text = pattern.sub(paraphrase, text)
    # A form the file does not spell out ("Weapon's") goes via a key of its stem and form; with
    # none it is left to the other rules: "attacked" -> "approaching" would not read as English.
    for match in reversed(words(text)):
        paraphrase = by_stem.get((stem(match.group()), _form(match.group())))
        if paraphrase is not None:
            text = text[:match.start()] + paraphrase + text[match.end():]
    return text


_ADVERBIAL = re.compile(r"(?:without|outside|inside|behind|under|near|in|into|at|before|after|while|unless|"
                        r"until|past|across|around|through)\b", re.IGNORECASE)
_CLAUSE_END = re.compile(r"[,.;:!?]")


def drop_adverbial_acts(text: str, acts: set[str]) -> str:
    """Each act that opens an adverbial phrase, from where it starts to the end of its clause ("...into
    someone's drink without them noticing?" -> "...into someone's drink?"); the longest first."""
    for span in sorted((a for a in acts if _ADVERBIAL.match(a)), key=lambda a: len(stems(a)), reverse=True):
        while found := find_term(text, span):
            start = found[0][0]
            end = _CLAUSE_END.search(text, found[0][1])
            text = text[:start].rstrip() + (text[end.start():] if end else "")
    return text
