"""Pool entries the hard block stops are left out of the pool when it loads.

A pool's caption becomes the image description of every pair it serves and its `source` (or
`element`, for an image-first seed) ships beside it, so a caption naming a private person
would block each seed that retrieves the image, at that seed, over and over, none of them
matched to its next-best image. Read once here, such an entry is skipped like an unreadable
file (`pool_skipped.json`), named by its file and the rule, never by its text, and every
seed retrieves from what is left. What only the seed's own texts and a caption read together
break (a minor in one and a sexual word in the other) is still the seed's block, at the
guardrail stage.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pipeline.guardrails import check_texts

if TYPE_CHECKING:
    from pipeline.pool.pool import PoolImage


def shipped_fields(image: PoolImage) -> dict[str, str]:
    """The entry's texts that ship with its pairs, by the column they come from."""
    fields = {"caption": image.caption, "source": image.source, "element": image.element}
    return {column: text for column, text in fields.items() if text}


def hard_block_reason(image: PoolImage) -> str | None:
    """Why the hard block stops the entry, naming the rule and the column, or None. The texts are
    read together first (one check for a clean entry: the rules find in a text read with others
    whatever they find in it alone), and one at a time only to name the column."""
    fields = shipped_fields(image)
    hit = check_texts(list(fields.values()), image.category)
    if hit is None:
        return None
    where = f"its {' and '.join(fields)} read together"
    for column, text in fields.items():
        if alone := check_texts([text], image.category):
            hit, where = alone, f"its {column}"
            break
    return (f"stopped by the hard block (guardrail {hit.rule}) in {where}: not used, "
            "so no seed retrieves or starts from it")
