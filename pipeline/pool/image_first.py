"""The image-first path: captioned pool images become Seeds, as VLSBench did with
MultiTrust, MLLMGuard, Ch3Ef, UnsafeBench and COCO images.

Category and sub-category come from the captions file when it has them, else
from the defaults the caller passes (one pool usually holds one theme). The
element is the file's `element` column, else a short phrase cut from the caption.
"""

from __future__ import annotations

import re

from pipeline.pool.pool import Pool, PoolImage, Skipped
from pipeline.records import Element, Seed
from pipeline.taxonomy import load_taxonomy

# The subject of a caption usually ends where its setting begins.
_SETTING_START = re.compile(r"[,.;:]| (?:in|on|at|near|under|beside|behind|next to|inside|against) ")
_ARTICLE = re.compile(r"^(?:a|an|the|some|two|three|several) ", re.IGNORECASE)
MAX_PHRASE_WORDS = 6


def element_phrase(caption: str) -> str:
    """A short element name from a caption: its subject, article dropped, at most six words."""
    subject = _SETTING_START.split(caption.strip(), maxsplit=1)[0]
    subject = _ARTICLE.sub("", subject.strip())
    return " ".join(subject.split()[:MAX_PHRASE_WORDS]).lower() or caption.strip().lower()


def seeds_from_pool(pool: Pool, default_category: str | None = None,
                    default_sub_category: str | None = None) -> tuple[list[Seed], list[Skipped]]:
    """One Seed per captioned image; images with no known category are skipped with a reason."""
    taxonomy = load_taxonomy()
    seeds, skipped = [], []
    for image in pool.images:
        category = image.category or default_category
        sub_category = image.sub_category or default_sub_category
        # Parent mismatches are tolerated: the released data has a few (see VLSBENCH.md).
        if category not in taxonomy.categories or taxonomy.parent(sub_category or "") is None:
            skipped.append(Skipped(image.file, f"no known category/sub-category "
                                               f"({category!r}/{sub_category!r})"))
            continue
        seeds.append(_seed(image, category, sub_category))
    return seeds, skipped


def _seed(image: PoolImage, category: str, sub_category: str) -> Seed:
    element = Element(category=category, sub_category=sub_category,
                      element=image.element or element_phrase(image.caption),
                      kind="scene_or_event", description=image.caption)
    return Seed(category=category, sub_category=sub_category, element=element,
                source=image.source, image_path=str(image.path), image_sha256=image.sha256)
