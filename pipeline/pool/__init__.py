"""Local image pools: loading, the caption index, retrieval, and image-first seeds."""

from pipeline.pool.image_first import element_phrase, seeds_from_pool
from pipeline.pool.index import CaptionIndex
from pipeline.pool.pool import Captioner, Pool, PoolImage, Skipped, load_pool
from pipeline.pool.retrieval import PoolRetriever, RetrievalConfig

__all__ = ["CaptionIndex", "Captioner", "Pool", "PoolImage", "PoolRetriever", "RetrievalConfig",
           "Skipped", "element_phrase", "load_pool", "seeds_from_pool"]
