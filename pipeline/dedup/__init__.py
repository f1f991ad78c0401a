"""Near-duplicate detection for images and queries, within a run and against
earlier releases. Dedup marks (ids to drop + a cluster table); it never deletes."""

from pipeline.dedup.clusters import ClusterRow, DedupResult, write_clusters
from pipeline.dedup.images import find_image_duplicates, image_hashes
from pipeline.dedup.queries import find_query_duplicates, normalise

__all__ = [
    "ClusterRow", "DedupResult", "write_clusters",
    "find_image_duplicates", "image_hashes",
    "find_query_duplicates", "normalise",
]
