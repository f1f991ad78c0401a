"""The card names the taxonomy its pairs were sorted into: VLSBench's 6×19 only when every shipped
(category, sub-category) is VLSBench's, else the builder's own, counted from the release's own pairs."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pipeline.taxonomy
from pipeline.release.card import render_card
from pipeline.release.card_columns import COLUMN_MEANINGS, VLSBENCH_TAXONOMY
from tests.release.test_release_card import manifest, row, table_rows

CUSTOM = {"Violence & Weapons/Weapon-Related Violence": 3, "Sexual Content/Adult Content": 2,
          "Désinformation/Manipulation électorale «fausses nouvelles» 選挙": 4, "Hate/Cultural Xenophobia": 1}


def card_for(sub_counts: dict[str, int]) -> str:
    rows = sum(sub_counts.values())
    return render_card(manifest(rows, counts={"sub_category": sub_counts}), [row(i) for i in range(rows)])


def test_a_taxonomy_of_ones_own_is_not_called_vlsbenchs_and_is_counted_from_the_release():
    card = card_for(CUSTOM)
    assert "6×19" not in card and "VLSBench's category" not in card and "VLSBench's sub-category" not in card
    assert ("harmful seeds from a taxonomy of the builder's own, not VLSBench's (4 categories and 4 "
            "sub-categories in this release) →") in card
    assert table_rows(card, "`category`") == [
        ["`category`", "string", "the category, in the builder's own taxonomy, not VLSBench's (4 in this release)"]]
    assert table_rows(card, "`sub_category`")[0][2] == (
        "the sub-category, in the builder's own taxonomy, not VLSBench's (4 in this release)")


def test_vlsbenchs_taxonomy_keeps_its_name_even_when_the_release_covers_part_of_it():
    card = card_for({"Violent/Weapon-Related Violence": 2, "Privacy/Unauthorized Data Collection": 1})
    assert "harmful seeds from the 6×19 taxonomy →" in card
    assert f"| `category` | string | {COLUMN_MEANINGS['category']} |" in card
    assert f"| `sub_category` | string | {COLUMN_MEANINGS['sub_category']} |" in card


def test_a_vlsbench_sub_category_under_another_category_is_not_vlsbenchs():
    card = card_for({"Violent/Cybercrime": 1})
    assert "6×19" not in card and "(1 category and 1 sub-category in this release)" in card


def test_the_cards_vlsbench_taxonomy_is_the_shipped_taxonomy_file():
    # A custom taxonomy is made by editing this file; in this checkout it is VLSBench's, as the card's copy.
    shipped = tomllib.loads((Path(pipeline.taxonomy.__file__).parent / "taxonomy.toml").read_text(encoding="utf-8"))
    assert {category["name"]: tuple(sub["name"] for sub in category["sub_categories"])
            for category in shipped["category"]} == VLSBENCH_TAXONOMY
