"""Retrieval at its edges (mutation round 3): a similarity exactly at `min_similarity` fits, an image that
a dropped item gives back is free for the next run that reads the assignments file, and a caption index
written by another embedder is embedded again rather than mixed with the new one's vectors."""

from __future__ import annotations

import json

import numpy as np
from PIL import Image, ImageDraw

from pipeline.backends.base import GeneratedImage, ImageRequest
from pipeline.pool import CaptionIndex, PoolRetriever, RetrievalConfig, load_pool
from pipeline.pool.retrieval import assign
from tests.support.embedders import ScriptedEmbedder, basis

KNIFE, GUN = "A kitchen knife on a cutting board", "A handgun on a car seat"


def small_pool(tmp_path):
    folder = tmp_path / "pool"
    folder.mkdir()
    for name, colour in (("knife.png", (200, 40, 40)), ("gun.png", (40, 40, 200))):
        image = Image.new("RGB", (48, 48), colour)
        ImageDraw.Draw(image).ellipse((6, 6, 40, 30), fill=(250, 250, 20))
        image.save(folder / name)
    (folder / "captions.jsonl").write_text(json.dumps({"file": "knife.png", "caption": KNIFE}) + "\n"
                                           + json.dumps({"file": "gun.png", "caption": GUN}) + "\n",
                                           encoding="utf-8")
    return load_pool(folder, name="kitchen")


def embedder(model="scripted"):
    scripted = ScriptedEmbedder({KNIFE: basis(0), GUN: basis(1), "a knife": basis(0)})
    scripted.model = model
    return scripted


def test_a_similarity_exactly_at_the_minimum_fits():
    assert assign(np.array([[0.4, 0.1]]), np.array([1, 1]), 0.4) == {0: 0}
    assert assign(np.array([[0.4 - 1e-6, 0.1]]), np.array([1, 1]), 0.4) == {}


def test_an_image_given_back_is_free_for_the_next_retriever_of_the_run(tmp_path):
    pool, assignments = small_pool(tmp_path), tmp_path / "assignments.json"

    def made():  # a retriever as another process of the run makes it, from the assignments file
        return PoolRetriever(pool, tmp_path / "index", embedder(), RetrievalConfig(min_similarity=0.5),
                             assignments_file=assignments)

    (first,) = made().generate([ImageRequest("a", "a knife", 0)])
    assert isinstance(first, GeneratedImage) and first.meta["file"] == "knife.png"
    made().release({"a"})  # the filters dropped item "a" (another process of the run)
    assert json.loads(assignments.read_text(encoding="utf-8")) == {}
    (second,) = made().generate([ImageRequest("b", "a knife", 0)])
    assert isinstance(second, GeneratedImage) and second.meta["file"] == "knife.png"


def test_an_index_written_by_another_embedder_is_embedded_again(tmp_path):
    pool = small_pool(tmp_path)
    CaptionIndex(tmp_path / "index", embedder("old-model")).update(pool.images)
    index = CaptionIndex(tmp_path / "index", embedder("new-model"))
    index.update(pool.images)
    assert index.embedded_last_update == 2
    rows = json.loads((tmp_path / "index" / "rows.json").read_text(encoding="utf-8"))
    assert rows["model"] == "new-model"
