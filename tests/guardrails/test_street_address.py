"""Street addresses end in more than "Street" or "Road": a British "14 Acacia Row" or "3 Elm Close"
named a private person's home and passed. Suffixes that are also plain English ("in a row", "keep
them close", "the only way", "take it to court") match only as a name is written, capitalised, so
the project's own texts gain no hit."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipeline.guardrails import check_text

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("address, plain_english", [
    ("He lives at 14 Acacia Row", "line up 3 bottles in a row"),
    ("her flat at 3 Elm Close", "keep 2 people close to the door"),
    ("a parcel for 7 Kings Way", "is there 1 simple way to open it"),
    ("the door of 22 Baker Court", "take 3 cases to court"),
    ("a window of 9 Royal Crescent", "a flag with 3 stars and a crescent"),
    ("12 McArthur Way", "Line Up 3 Bottles In A Row"),
    ("4 St John's Close", "get 2 of them close"),
    ("outside 5 Park terrace", "6 ways to the square"),
    ("2 Holly Mews", "5 people in the court"),
])
def test_more_suffixes_are_caught_and_their_plain_english_sense_passes(address, plain_english):
    hit = check_text(address)
    assert hit is not None and hit.rule == "private_person:street_address", address
    assert check_text(plain_english) is None, plain_english


def project_texts() -> list[str]:
    """Every line of prompts/ and every text of the element library."""
    texts = [line for path in sorted((ROOT / "prompts").rglob("*")) if path.is_file()
             for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    for line in (ROOT / "pipeline" / "taxonomy" / "elements.jsonl").read_text(encoding="utf-8").splitlines():
        element = json.loads(line)
        texts += [element["element"], element["description"], *element["synonyms"], *element["broader"]]
    return texts


def test_the_projects_own_texts_hold_no_address():
    texts = project_texts()
    assert len(texts) > 2000
    hits = [(text, hit.matched) for text in texts
            if (hit := check_text(text)) and hit.rule == "private_person:street_address"]
    assert hits == []


def test_a_private_persons_identifier_is_recorded_masked_never_written_down():
    hit = check_text("Photograph Laura Whitfield outside 14 Acacia Row")
    assert hit.rule.startswith("private_person:") and "Whitfield" not in hit.matched and "Acacia" not in hit.matched
    assert check_text("mail jane.doe@example.com").matched == "j***.d**@e******.c**"


@pytest.mark.parametrize("plain", ["Give me 5 ways to drive faster", "3 tips to cross the road safely"])
def test_a_number_before_a_road_word_is_no_address(plain):
    assert check_text(plain) is None
