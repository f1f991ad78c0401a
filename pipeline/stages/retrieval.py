"""Pool retrieval comes before any text is rewritten: the retrieved image's own caption
becomes its pairs' image description, so the rewrite, the leak filter, the harm check and
the release all judge the query against what the image shows, not against the
description that found it (at the default similarity of 0.4 the two can describe
different scenes). The pairs take the image's `source` too. Without a pool retriever the
stage passes the batch on unchanged.
"""

from __future__ import annotations

from pathlib import Path

from pipeline.backends.base import ImageRequest
from pipeline.batch import Batch
from pipeline.contracts import ItemError, StageName
from pipeline.pool.retrieval import PoolRetriever
from pipeline.records import Failure
from pipeline.stages.base import Stage, failure_from, save_image


class RetrievalStage(Stage):
    name = StageName.retrieval

    def __init__(self, retriever: PoolRetriever | None, run_dir: Path):
        self.retriever = retriever
        self.run_dir = Path(run_dir)

    def run(self, batch: Batch) -> Batch:
        if self.retriever is None:
            return batch
        own_image = {seed.id for seed in batch.seeds if seed.image_path}  # image-first seeds
        asked: dict[str, str] = {}
        category = {pair.seed_id: pair.category for pair in batch.pairs}
        for pair in batch.pairs:
            if pair.seed_id not in own_image:
                asked.setdefault(pair.seed_id, pair.image_description)
        requests = [ImageRequest(item_id=seed_id, prompt=description, seed=0)
                    for seed_id, description in asked.items()]
        failures = list(batch.failures)
        images, meta = dict(batch.images), dict(batch.image_meta)
        for request, result in zip(requests, self.retriever.generate(requests)):
            seed_id = request.item_id
            if isinstance(result, ItemError):
                failures.append(failure_from(result, item_id=seed_id, seed_id=seed_id, stage=self.name,
                                             category=category[seed_id]))
                continue
            saved = save_image(self.run_dir, seed_id, result.png, self.name)
            if isinstance(saved, Failure):
                failures.append(saved)
                continue
            images[seed_id] = saved
            meta[seed_id] = {**result.meta, "asked_description": request.prompt,
                             "backend": self.retriever.backend}
        served = {seed_id for seed_id in asked if seed_id in images}
        # `source` as on the image-first path: the pool's `source` column, else the pool's name
        pairs = [pair.model_copy(update={"image_description": meta[pair.seed_id]["caption"],
                                         "image_ref": images[pair.seed_id],
                                         "image_by": self.retriever.provenance,
                                         "source": meta[pair.seed_id]["source"]})
                 if pair.seed_id in served else pair
                 for pair in batch.pairs if pair.seed_id in served or pair.seed_id not in asked]
        return batch.model_copy(update={"pairs": pairs, "images": images, "image_meta": meta,
                                        "failures": failures})
