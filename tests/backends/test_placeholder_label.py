"""The offline placeholder is never taken for a model's image: it names itself on every image and in
its provenance, and each item's picture follows its seed, so a rerun gives the same bytes."""

from __future__ import annotations

from pipeline.backends.base import ImageRequest
from pipeline.backends.placeholder import PlaceholderImages

DESCRIPTION = "A person holding a black handgun at waist height in a dim alley."


def small() -> PlaceholderImages:
    return PlaceholderImages(width=96, height=64)


def test_a_placeholder_says_it_is_one_in_its_provenance_and_its_meta():
    generator = small()

    [image] = generator.generate([ImageRequest("a", DESCRIPTION, 42)])

    assert (generator.provenance.backend, generator.provenance.model) == ("placeholder", "")
    assert (image.meta["model"], image.meta["seed"]) == ("placeholder", 42)
    assert (image.meta["width"], image.meta["height"]) == (96, 64)


def test_the_same_seed_gives_the_same_bytes_and_another_seed_other_bytes():
    requests = [ImageRequest(f"item{seed}", DESCRIPTION, seed) for seed in (1, 2, 1)]

    first, second, third = small().generate(requests)
    [again] = small().generate(requests[:1])

    assert first.png == third.png == again.png
    assert first.png != second.png
