"""Lexicon hygiene: the shipped lexicon holds no phrase that only our own items show."""

from __future__ import annotations

from pipeline.detect.hygiene import item_specific_terms, main
from pipeline.detect.lexicon import CUES_FILE


def test_the_shipped_lexicon_has_no_item_specific_phrase(public_corpus):
    assert item_specific_terms(public_corpus) == []
    assert main(["--data", str(public_corpus)]) == 0


def test_a_phrase_copied_from_a_team_item_is_found_and_a_general_one_is_not(public_corpus, tmp_path):
    cues = tmp_path / "cues.toml"
    cues.write_text(CUES_FILE.read_text(encoding="utf-8") + '''
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
''', encoding="utf-8")
    found = {(concept, term): dict(hits) for concept, term, hits in item_specific_terms(public_corpus, cues)}
    # copied from one holdout item; "look like an accident" is in public data too; a plain name is not checked
    assert set(found) == {("planted", "bruises stay hidden")}
    assert found[("planted", "bruises stay hidden")] == {"team:holdout": 1}


def test_a_missing_corpus_is_one_line_and_exit_2(tmp_path, capsys):
    assert main(["--data", str(tmp_path / "missing.jsonl")]) == 2
    assert capsys.readouterr().err.strip() == f"error: {tmp_path / 'missing.jsonl'}: no such file"
