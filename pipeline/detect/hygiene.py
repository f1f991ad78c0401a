"""Lexicon hygiene: find the phrases of `cues.toml` that only our own items show.

A multi-word act or shield phrase (or an object phrase with a `*` gap) that matches one
or two texts, all of them the team's detector sets, is item-specific: it was most likely
copied from the item it matches, and it teaches the text-harm probe that item's wording.
Names of things ("petrol bomb") are general by nature and are not checked.

Phrases that differ only in a pronoun ("shoot him", "shoot her", "shoot someone") are
one phrase: they are judged on their texts together, so either all go or all stay.

    python -m pipeline.detect.hygiene [--data ../shared/public_vsil/pairs.jsonl]
        [--vlsbench-sample ../shared/reference/vlsbench_dev_sample.json]

VLSBench's sample, like the corpus, is more evidence that a phrase is general; without it
(a user's own clone has no shared folder) the output says it was not read.
"""

from __future__ import annotations

import argparse
import re
import sys
import tomllib
from collections import Counter
from pathlib import Path

from pipeline.detect.corpus import (SAMPLE_OPTION, VLSBENCH_SAMPLE, chosen_sample, read_public, read_team_sets,
                                    read_vlsbench_sample)
from pipeline.detect.lexicon import CUES_FILE, StemmedText, compile_terms

MAX_ITEM_HITS = 2
PRONOUNS = frozenset("i me my you your he him his she her hers they them their theirs we us our "
                     "someone somebody".split())


def texts_by_source(public_path: Path | None, sample: Path | None = None) -> list[tuple[str, str]]:
    """(source, stem line) of every query and description: team sets as `team:<set>`."""
    texts = [(row.source, text) for row in read_team_sets() for text in (row.query, row.image_description)]
    if public_path is not None:
        texts += [(f"public:{row.source}", text) for row in read_public(public_path)
                  for text in (row.query, row.image_description)]
    if sample is not None:
        texts += [("vlsbench", text) for row in read_vlsbench_sample(sample)
                  for text in (row.query, row.image_description)]
    return [(source, StemmedText.of(text).line) for source, text in dict.fromkeys(texts) if text]


def checked(kind: str, term: str) -> bool:
    words = re.findall(r"\*|[a-z0-9]+", term.lower())
    return len(words) > 1 and (kind in ("act", "shield") or "*" in words)


def pronoun_free(term: str) -> str:
    """The phrase with every pronoun replaced by one placeholder: its pronoun variants share it."""
    return " ".join("<someone>" if word in PRONOUNS else word for word in re.findall(r"\*|[a-z0-9]+", term.lower()))


def item_specific_terms(public_path: Path | None, cues: Path = CUES_FILE,
                        sample: Path | None = None) -> list[tuple[str, str, Counter]]:
    """(concept, term, hits per source) of every checked term whose pronoun variants together
    are shown by only one or two texts, all of them the team's."""
    lines = texts_by_source(public_path, sample)
    found = []
    for concept in tomllib.loads(cues.read_text(encoding="utf-8"))["concept"]:
        variants: dict[str, list[str]] = {}
        for term in concept["terms"]:
            if checked(concept["kind"], term):
                variants.setdefault(pronoun_free(term), []).append(term)
        for terms in variants.values():
            pattern = compile_terms(terms)
            hits = Counter(source for source, line in lines if pattern.search(line))
            if 1 <= sum(hits.values()) <= MAX_ITEM_HITS and all(s.startswith("team:") for s in hits):
                found += [(concept["name"], term, hits) for term in terms]
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, help="the public VSIL corpus: its texts show a phrase is general")
    parser.add_argument(SAMPLE_OPTION, type=Path, dest="sample",
                        help=f"VLSBench's released rows, read as the corpus is "
                             f"(default: {VLSBENCH_SAMPLE} where it is)")
    args = parser.parse_args(argv)
    if args.data is not None and not args.data.is_file():
        print(f"error: {args.data}: no such file", file=sys.stderr)
        return 2
    try:
        sample = chosen_sample(args.sample)
    except FileNotFoundError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if sample is None:
        print(f"VLSBench sample not read ({VLSBENCH_SAMPLE}: no such file; pass {SAMPLE_OPTION} PATH)",
              file=sys.stderr)
    found = item_specific_terms(args.data, sample=sample)
    for concept, term, hits in found:
        print(f"{concept}: {term!r} only in {dict(hits)}")
    print(f"{len(found)} item-specific term(s)", file=sys.stderr)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
