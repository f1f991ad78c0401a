"""The image-first path: captioned pool images become Seeds, as VLSBench did with
MultiTrust, MLLMGuard, Ch3Ef, UnsafeBench and COCO images.

Category and sub-category come from the captions file when it has them, else
from the defaults the caller passes (one pool usually holds one theme); a row's
sub-category alone names its category, and a pair from two categories is skipped. The
element is the file's `element` column, else a short phrase cut from the caption.
"""

from __future__ import annotations

import re

from pipeline.config import in_category
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
    """One Seed per captioned image; an image with no known category and sub-category of that
    category is skipped with a reason (a release would drop its pairs as release.miscategorised)."""
    seeds, skipped = [], []
    for image in pool.images:
        pair = category_pair(image, default_category, default_sub_category)
        if isinstance(pair, str):
            skipped.append(Skipped(image.file, pair))
        else:
            seeds.append(_seed(image, *pair))
    return seeds, skipped


def category_pair(image: PoolImage, default_category: str | None,
                  default_sub_category: str | None) -> tuple[str, str] | str:
    """The image's (category, sub-category), or why it has none that go together. A row's own
    sub-category names its category; a default fills in only what the row leaves out, and only
    within the row's category, since one pool's default theme says nothing of a row filed elsewhere."""
    taxonomy = load_taxonomy()
    if image.sub_category:
        sub_category = image.sub_category
        category = image.category or taxonomy.parent(sub_category)
    else:
        sub_category = default_sub_category
        category = image.category or default_category or taxonomy.parent(sub_category or "")
    parent = taxonomy.parent(sub_category or "")
    if category not in taxonomy.categories or parent is None:
        return f"no known category/sub-category ({category!r}/{sub_category!r})"
    if parent != category:
        return _mismatch(image, category, sub_category, parent)
    return category, sub_category


def _mismatch(image: PoolImage, category: str, sub_category: str, parent: str) -> str:
    given = "the default " if image.sub_category is None else ""
    category_by = "the row's" if image.category else "the default"
    return (f"{given}{in_category(sub_category, parent)}, not {category_by} category {category!r}: "
            "a release drops such a pair (release.miscategorised); give the row a sub-category of its category")


def _seed(image: PoolImage, category: str, sub_category: str) -> Seed:
    element = Element(category=category, sub_category=sub_category,
                      element=image.element or element_phrase(image.caption),
                      kind="scene_or_event", description=image.caption)
    return Seed(category=category, sub_category=sub_category, element=element,
                source=image.source, image_path=str(image.path), image_sha256=image.sha256)
