"""The retrieval stage asks the pool only for element-first seeds: an image-first seed's pairs (which
bring their own pool image) pass through it untouched, beside the retrieved ones (mutation round 3:
keeping only the served seeds' pairs lost every image-first pair of a mixed batch)."""

from __future__ import annotations

from PIL import Image

from pipeline.pool import PoolRetriever, RetrievalConfig, load_pool
from pipeline.stages.retrieval import RetrievalStage
from tests.pool.test_retrieval_stage import CAPTIONS, batch_of, seed
from tests.support.embedders import ScriptedEmbedder, basis

KNIFE = "A large chef's knife on a chopping block in a kitchen"


def test_an_image_first_seeds_pairs_pass_retrieval_untouched(tmp_path):
    folder = tmp_path / "pool"
    folder.mkdir()
    for n in range(2):
        image = Image.new("RGB", (40, 40), (60 * n, 120, 200))
        image.paste((250, 20, 20), (5, 5, 20, 30))  # one flat colour would be skipped as blank
        image.save(folder / f"img{n}.png")
    (folder / "captions.jsonl").write_text("\n".join(f'{{"file": "img{n}.png", "caption": "{CAPTIONS[n]}"}}'
                                                     for n in range(2)), encoding="utf-8")
    pool = load_pool(folder, name="kitchen")
    embedder = ScriptedEmbedder({CAPTIONS[0]: basis(0), KNIFE: basis(0)}, other=basis(5))
    retriever = PoolRetriever(pool, tmp_path / "index", embedder, RetrievalConfig(min_similarity=0.5),
                              serving=["img1.png"])
    knife = seed("chef's knife", KNIFE)
    own = seed("handgun", CAPTIONS[1]).model_copy(
        update={"image_path": str(pool.images[1].path), "image_sha256": pool.images[1].sha256})
    batch = batch_of(knife, own)
    out = RetrievalStage(retriever, tmp_path / "run")(batch)
    assert [pair for pair in out.pairs if pair.seed_id == own.id] == [p for p in batch.pairs if p.seed_id == own.id]
    assert {pair.image_description for pair in out.pairs if pair.seed_id == knife.id} == {CAPTIONS[0]}
    assert own.id not in out.images and not out.failures
