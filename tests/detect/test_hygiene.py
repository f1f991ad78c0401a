"""Lexicon hygiene: the shipped lexicon holds no phrase that only our own items show."""

from __future__ import annotations

import pytest

from pipeline.detect.hygiene import item_specific_terms, main
from pipeline.detect.lexicon import CUES_FILE


@pytest.fixture(scope="module")
def sample(reference_dir):
    """VLSBench's released rows, read where the shared folder has them: more evidence a phrase is general."""
    return reference_dir / "vlsbench_dev_sample.json"


def test_the_shipped_lexicon_has_no_item_specific_phrase(public_corpus, sample):
    assert item_specific_terms(public_corpus, sample=sample) == []
    assert main(["--data", str(public_corpus), "--vlsbench-sample", str(sample)]) == 0


def shipped_lexicon_and(planted: str, folder):
    cues = folder / "cues.toml"
    cues.write_text(CUES_FILE.read_text(encoding="utf-8") + planted, encoding="utf-8")
    return cues


def test_a_phrase_copied_from_a_team_item_is_found_and_a_general_one_is_not(public_corpus, sample, tmp_path):
    cues = shipped_lexicon_and('''
[[concept]]
name = "planted"
kind = "act"
weight = 1.0
terms = ["bruises stay hidden", "look like an accident"]

[[concept]]
name = "planted_object"
kind = "object"
weight = 1.0
terms = ["petrol bomb"]
''', tmp_path)
    found = {(concept, term): dict(hits) for concept, term, hits in item_specific_terms(public_corpus, cues, sample)}
    # copied from one holdout item; "look like an accident" is in public data too; a plain name is not checked
    assert set(found) == {("planted", "bruises stay hidden")}
    assert found[("planted", "bruises stay hidden")] == {"team:holdout": 1}


def test_a_missing_corpus_is_one_line_and_exit_2(tmp_path, capsys):
    assert main(["--data", str(tmp_path / "missing.jsonl")]) == 2
    assert capsys.readouterr().err.strip() == f"error: {tmp_path / 'missing.jsonl'}: no such file"


def test_pronoun_variants_are_judged_together(public_corpus, sample, tmp_path):
    cues = shipped_lexicon_and('''
[[concept]]
name = "planted"
kind = "act"
weight = 1.0
terms = ["make him sick", "make her sick", "shoot her", "shoot someone"]
''', tmp_path)
    found = {term: dict(hits) for concept, term, hits in item_specific_terms(public_corpus, cues, sample)
             if concept == "planted"}
    # "make him sick" is one team item's phrase, so "make her sick" goes with it although it
    # matches nothing; "shoot someone" is in public data, so "shoot her" stays with it
    assert set(found) == {"make him sick", "make her sick"}
    assert found["make him sick"] == found["make her sick"]  # the variants' texts, together
    assert 1 <= sum(found["make him sick"].values()) <= 2
