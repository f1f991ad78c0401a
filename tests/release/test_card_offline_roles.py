"""The card says "No language model was used as the <role>" only for a role that every shipped row
had played by an offline backend: a release mixing a templates run and a model's run must not call
its model-written seeds model-free."""

from __future__ import annotations

from pipeline.release.card import render_card
from tests.release.test_release_card import manifest, row


def model_free_sentence(rows: list[dict]) -> str:
    card = render_card(manifest(len(rows)), rows)
    return next((line for line in card.splitlines() if "No language model was used" in line), "")


def test_a_role_some_rows_had_a_model_play_is_not_called_model_free():
    rows = [row(1), row(2, seed_backend="openai-compatible", seed_model="gpt-4o-mini")]
    sentence = model_free_sentence(rows)
    assert sentence.endswith("No language model was used as the leak rewriter.")


def test_roles_every_row_had_played_offline_are_named_together():
    sentence = model_free_sentence([row(1), row(2)])
    assert sentence.endswith("No language model was used as the seed writer or leak rewriter.")
