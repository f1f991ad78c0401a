"""Mutation round 16's pins for what `leakless release` says: `--license cc_by_4.0` (underscores) is refused
with the identifier it was meant to be, and the card names pairs scored by an unrecorded detector as
`not recorded`, not as an empty name."""

from __future__ import annotations

from pipeline.release.card import render_card
from pipeline.release.card_hub_licences import licence_problem
from tests.release.test_card_hub_metadata import refused
from tests.release.test_release_card import manifest, row


def test_a_licence_spelt_with_underscores_is_refused_with_its_hub_identifier(tmp_path, monkeypatch):
    message = refused(tmp_path, monkeypatch, "cc_by_4.0")
    assert "--license cc_by_4.0 is not a Hugging Face licence identifier; did you mean cc-by-4.0?" in message
    assert "did you mean cc-by-nc-4.0?" in licence_problem("CC_BY_NC_4.0")


def test_pairs_scored_by_an_unrecorded_detector_are_named_not_recorded():
    card = render_card(manifest(2), [row(1, detector_version=None), row(2, detector_version=None)])
    assert "2 of 2 pairs were scored by `not recorded`: this card has no measured figures" in card
    assert "``" not in card.split("### Leak filter", 1)[1].split("## Columns", 1)[0]
