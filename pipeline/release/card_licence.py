"""What a release's licence covers, as its card and `export-vlsbench`'s LICENSE.md say it.

The chosen licence (`leakless release --license`) covers what the pipeline wrote. A pair whose image
came from an image pool (`image_backend` `pool:<name>`) ships a third party's picture and its caption as
`image_description`: those keep the licence of the source they came from, which the pool's captions
file names in `source`. So the statement lists each such source with its pairs. An image model's
terms may bind the images it made; a pool row's `image_model` is the text embedder that matched the
captions (docs/images.md), no image model, and a placeholder grid has none, so neither is named.

The card's YAML `license` says the same to the Hub: with pool images it lists `other` beside the chosen
licence (`card_licence`), and `verify` holds the card to exactly that (`card_licence_problem`).
"""

from __future__ import annotations

from collections import Counter

from pipeline.markdown_text import code_cell
from pipeline.release.card_hub_licences import hub_licence
from pipeline.release.card_sources import NOT_RECORDED, cell_text, model_label

POOL_BACKEND_PREFIX = "pool:"  # PoolRetriever's backend label, `pool:<pool name>`
NO_IMAGE_MODEL = {"", "placeholder"}  # image backends with no image model behind them
POOL_NOTE = ("images and their captions from this image pool, no image model (a model named is the text "
             "embedder that matched the captions)")
# Hugging Face's licence identifier for one outside its list: a pool source's licence is known by its
# `source` only, not as an identifier
OTHER_LICENCE = "other"
POOL_LICENCE_NAME = "image-pool-sources"  # the card's `license_name` for the pool sources' licences
# the card's `license_link` for `other`: its Licence section, which names the sources (the release folder
# ships no LICENSE.md; the VLSBench export does)
LICENCE_LINK = "README.md#licence"


def is_pool_row(row: dict) -> bool:
    return cell_text(row.get("image_backend")).startswith(POOL_BACKEND_PREFIX)


def pool_sources(rows: list[dict]) -> list[tuple[str, int]]:
    """(the `source` the pool's captions file gave, pairs) for the rows showing a pool image, most
    pairs first; a row without one counts under "—"."""
    counts = Counter(cell_text(row.get("source")) or NOT_RECORDED for row in rows if is_pool_row(row))
    return sorted(counts.items(), key=lambda item: (-item[1], item[0]))


def pool_pairs(rows: list[dict]) -> int:
    """How many of the rows show a pool image."""
    return sum(map(is_pool_row, rows))


def image_models(rows: list[dict]) -> list[str]:
    """The image models (as the card names them) that made the rows' images: not a pool's embedder,
    not a placeholder."""
    models = {model_label(row.get("image_model")) for row in rows
              if not is_pool_row(row) and cell_text(row.get("image_backend")) not in NO_IMAGE_MODEL}
    return sorted(models - {NOT_RECORDED})


def licence_text(licence: str, rows: list[dict]) -> str:
    """The licence statement (Markdown paragraphs, no heading) for a release of `rows` under `licence`."""
    chosen = code_cell(hub_licence(licence)[1] or licence)  # `other:<name>` is its name
    sources = pool_sources(rows)
    if not sources:
        paragraphs = [f"This dataset is released under the {chosen} licence."]
    else:
        paragraphs = [
            f"The texts the pipeline wrote are released under the {chosen} licence. The images of "
            f"{pool_pairs(rows)} of {len(rows)} pairs come from an image pool (`image_backend` `pool:<name>`): each such image and "
            f"its caption, shipped as `image_description`, are not covered by {chosen} and keep the licence of "
            "the source they came from, which `source` names (as the pool's captions file gives it). Check "
            "each source's terms, and the attribution it asks for, before you publish or use these pairs.",
            "| source | pairs |\n|---|---|\n" + "\n".join(
                f"| {source if source == NOT_RECORDED else code_cell(source)} | {count} |"
                for source, count in sources)]
    if models := image_models(rows):
        paragraphs.append(f"Images made by an image model ({', '.join(models)}) may also be bound by that "
                          "model's own licence terms.")
    return "\n\n".join(paragraphs)


def card_licence(licence: str, rows: list[dict]) -> str | list[str]:
    """The card's YAML `license`: the chosen licence; when pool images ship, the list of it and `other`,
    as a Hugging Face dataset card lists the licences of a dataset under several (the Licence section
    names the pool sources). A release without pool images keeps the one identifier; `other:<name>` is
    `other` (its name is the card's `license_name`)."""
    licence = hub_licence(licence)[0]
    if not pool_sources(rows) or licence == OTHER_LICENCE:
        return licence
    return [licence, OTHER_LICENCE]


def licence_naming(licence: str, rows: list[dict]) -> dict[str, str]:
    """The card's `license_name` and `license_link`, which the Hub's card template asks for beside
    `license: other`: the name `--license other:<name>` gave, else the pool sources'; none without `other`."""
    stated = card_licence(licence, rows)
    if OTHER_LICENCE not in (stated if isinstance(stated, list) else [stated]):
        return {}
    return {"license_name": hub_licence(licence)[1] or POOL_LICENCE_NAME, "license_link": LICENCE_LINK}


def card_licences(licence: str) -> list[str | list[str]]:
    """Every `license` a card of a release under `licence` may give, with or without pool images."""
    alone, mixed = card_licence(licence, []), card_licence(licence, [{"image_backend": f"{POOL_BACKEND_PREFIX}any"}])
    return [alone] if mixed == alone else [alone, mixed]


def card_licence_problem(stated, licence: str, rows: list[dict] | None) -> str | None:
    """Why a card's `license` (`stated`) is not the one the card of a release under `licence` is written
    with (`card_licence`); with the rows unknown (None: `verify` could not read them all), either form."""
    if rows is None:
        return None if stated in card_licences(licence) else f"license {stated!r}, the manifest says {licence!r}"
    expected = card_licence(licence, rows)
    if stated == expected:
        return None
    if expected == licence:
        return f"license {stated!r}, the manifest says {licence!r}"
    return (f"license {stated!r}; the manifest says {licence!r} and {pool_pairs(rows)} pair(s) show pool images, "
            f"so the card's license is {expected!r}")
