"""Retrieval counts the uses of an image by its content (sha256), not by its file name: byte-identical
copies under two names are one picture, and the release drops the second seed showing it as an image
duplicate. Counted per name, `max_uses = 1` handed out both copies."""

from __future__ import annotations

import shutil

from PIL import Image, ImageDraw

from pipeline.backends.base import GeneratedImage, ImageRequest
from pipeline.backends.minilm import default_embedder
from pipeline.contracts import ItemError
from pipeline.pool import PoolRetriever, RetrievalConfig, load_pool


def pool_with_a_copy(tmp_path):
    """knife.png and blade.png hold the same bytes under two captions; gun.png is another picture."""
    folder = tmp_path / "pool"
    folder.mkdir()
    for name, colour in (("knife.png", (200, 40, 40)), ("gun.png", (40, 40, 200))):
        image = Image.new("RGB", (48, 48), colour)
        ImageDraw.Draw(image).ellipse((6, 6, 40, 30), fill=(250, 250, 20))
        image.save(folder / name)
    shutil.copy(folder / "knife.png", folder / "blade.png")
    (folder / "captions.jsonl").write_text(
        '{"file": "knife.png", "caption": "A kitchen knife on a wooden cutting board"}\n'
        '{"file": "blade.png", "caption": "A chef\'s blade lying on a chopping board"}\n'
        '{"file": "gun.png", "caption": "A handgun on a car seat next to a wallet"}\n', encoding="utf-8")
    return load_pool(folder, name="kitchen")


def retriever(tmp_path, max_uses=1, serving=()):
    return PoolRetriever(pool_with_a_copy(tmp_path), tmp_path / "index", default_embedder(),
                         RetrievalConfig(min_similarity=0.35, max_uses=max_uses), serving=serving)


KNIFE = "A kitchen knife lying on a chopping board"
BLADE = "A chef's blade on a wooden cutting board"


def test_two_names_of_one_picture_serve_once_under_max_uses_1(tmp_path):
    first, second = retriever(tmp_path).generate([ImageRequest("a", KNIFE, 0), ImageRequest("b", BLADE, 0)])
    assert isinstance(first, GeneratedImage) and first.meta["file"] in {"knife.png", "blade.png"}
    assert isinstance(second, ItemError) and "is used up (max_uses 1" in second.error


def test_a_copy_of_an_image_first_seeds_picture_is_reserved_with_it(tmp_path):
    (result,) = retriever(tmp_path, serving=["knife.png"]).generate([ImageRequest("a", BLADE, 0)])
    assert isinstance(result, ItemError)
    assert "is reserved for an image-first seed of this run" in result.error


def test_under_max_uses_2_the_two_names_serve_twice_in_all(tmp_path):
    served = retriever(tmp_path, max_uses=2).generate([ImageRequest("a", KNIFE, 0), ImageRequest("b", BLADE, 0),
                                                       ImageRequest("c", KNIFE, 0)])
    assert sum(isinstance(result, GeneratedImage) for result in served) == 2
    assert "is used up (max_uses 2" in next(result.error for result in served if isinstance(result, ItemError))
