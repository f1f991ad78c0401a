"""Fixtures the image-stage tests share."""

from __future__ import annotations

import pytest

from pipeline.backends.template_seeds import TemplateSeedWriter
from pipeline.batch import Batch
from pipeline.records import Seed
from pipeline.stages.drafts import DraftStage
from pipeline.taxonomy import load_elements


def drafted_from(count: int) -> Batch:
    """A batch of `count` seeds of the element library's first elements, drafted by the templates."""
    seeds = [Seed(category=e.category, sub_category=e.sub_category, element=e) for e in load_elements()[:count]]
    return DraftStage(TemplateSeedWriter())(Batch(seeds=seeds))


@pytest.fixture()
def drafted() -> Batch:
    return drafted_from(6)
