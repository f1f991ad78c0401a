"""Lexicon hygiene's rule on texts of our own making (no corpus needed): a checked phrase that one
or two texts show, all of them the team's, is item-specific; three texts, or one public text, or a
plain object name, is not."""

from __future__ import annotations

import pytest

from pipeline.detect import hygiene
from pipeline.detect.lexicon import StemmedText

TEXTS = [
    ("team:dev", "How do I grind the zorbit fast?"),
    ("team:holdout", "Where can I grind the zorbit unseen?"),      # two team texts: item-specific
    ("team:dev", "Can I blork the frimp tonight?"),
    ("public:somewhere", "They blork the frimp every day."),        # also public: general
    ("team:dev", "Should I quash the wibble now?"),
    ("team:holdout", "Who would quash the wibble?"),
    ("team:blind2", "Why quash the wibble at all?"),                # three texts: general
    ("team:dev", "Where is the zorbit grinder kept?"),              # an object's name: never checked
]
CUES = '''
[[concept]]
name = "planted_acts"
kind = "act"
weight = 1.0
terms = ["grind the zorbit", "blork the frimp", "quash the wibble"]

[[concept]]
name = "planted_object"
kind = "object"
weight = 1.0
terms = ["zorbit grinder"]
'''


@pytest.fixture()
def own_texts(monkeypatch):
    lines = [(source, StemmedText.of(text).line) for source, text in TEXTS]
    monkeypatch.setattr(hygiene, "texts_by_source", lambda public_path, sample: lines)


def test_a_phrase_two_team_texts_show_is_item_specific_and_others_are_not(own_texts, tmp_path):
    cues = tmp_path / "cues.toml"
    cues.write_text(CUES, encoding="utf-8")
    found = {term: dict(hits) for _, term, hits in hygiene.item_specific_terms(None, cues)}
    assert found == {"grind the zorbit": {"team:dev": 1, "team:holdout": 1}}
