"""The card's Licence section is true of pool images: they and their captions keep their sources' licences,
which it lists with their pairs; only real image models are named as binding the images (not a pool's
text embedder, not a placeholder). The `source` column's meaning is the captions file's source."""

from __future__ import annotations

from pipeline.release.card import render_card
from tests.release.test_release_card import SD35, body, manifest, row, table_rows

NC = "third-party-photos (CC BY-NC 4.0, by J. Doe)"
MINILM = "all-MiniLM-L6-v2"


def pool_row(i: int, source: str, model: str = MINILM) -> dict:
    return row(i, image_backend="pool:photos", image_model=model, source=source)


def licence_section(card: str) -> str:
    return body(card).split("## Licence\n", 1)[1].split("\n## ", 1)[0]


def test_pool_sources_are_listed_with_their_pairs_and_the_embedder_is_no_image_model():
    rows = [pool_row(1, NC), pool_row(2, NC), pool_row(3, "photos", model=""),  # image-first: no model
            row(4, image_backend="diffusers", image_model=SD35, source="generation"), row(5, source="generation")]
    section = licence_section(render_card(manifest(5, license="apache-2.0"), rows))
    assert "released under the `apache-2.0` licence" in section
    assert "The images of 3 of 5 pairs come from an image pool" in section
    assert "keep the licence of the source they came from" in section and "`image_description`" in section
    assert table_rows(section, f"`{NC}`") == [[f"`{NC}`", "2"]]
    assert table_rows(section, "`photos`") == [["`photos`", "1"]]
    assert f"Images made by an image model (`{SD35}`)" in section
    assert MINILM not in section and "placeholder" not in section


def test_a_card_without_pool_images_keeps_the_one_licence_line_and_names_no_embedder():
    section = licence_section(render_card(manifest(2, license="cc-by-4.0"), [row(1), row(2)]))
    assert section.strip() == "This dataset is released under the `cc-by-4.0` licence."


def test_a_source_that_would_write_markdown_stays_in_its_cell():
    section = licence_section(render_card(manifest(1), [pool_row(1, "evil | `x`\n## Licence")]))
    assert section.count("\n| ") == 2 and "\n## " not in section  # the header row and one source row


def test_the_role_table_says_a_pool_model_is_the_embedder_and_the_source_column_is_the_pools_source():
    card = render_card(manifest(1), [pool_row(1, NC)])
    [images] = table_rows(card, "images")
    assert images[:4] == ["images", "`pool:photos`", f"`{MINILM}`", "1"] and "no image model" in images[4]
    [source] = table_rows(card, "`source`")
    assert "captions file" in source[2] and "name of the image pool" not in source[2]
