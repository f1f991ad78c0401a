"""Retrieval as an image backend: a description picks the best unused pool image.

It implements `ImageGenerator` with the request's prompt read as the image
description, so a flow can swap text-to-image for retrieval by config.
Similarity is cosine between MiniLM embeddings of description and caption.
Uses are counted per image content (sha256): byte-identical copies under two
names are one image, as the release's image dedup sees them.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable
from pathlib import Path

import numpy as np
from PIL import Image
from pydantic import BaseModel, ConfigDict, Field
from scipy.optimize import linear_sum_assignment

from pipeline.backends.base import Embedder, GeneratedImage, ImageGenerator, ImageRequest
from pipeline.contracts import ItemError
from pipeline.hashing import sha256_text
from pipeline.images.checks import BytesChanged, shown_file
from pipeline.pool.index import CaptionIndex
from pipeline.pool.pool import Pool, PoolImage
from pipeline.storage import atomic_write_text

CANDIDATES_PER_DESCRIPTION = 32
NO_FIT = "no pool image fits"  # how a seed's retrieval failure starts when no image served it


class RetrievalConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # Cosine of MiniLM vectors: unrelated sentences score ~0.0-0.2, a paraphrase ~0.5-0.9.
    min_similarity: float = Field(0.4, ge=-1, le=1)  # below this a description gets no image
    # how often one image (by content) may serve in one run, i.e. per assignments file; a release
    # keeps the pairs of only one seed per image, so a second use is a competitor, not an extra pair
    max_uses: int = Field(1, ge=1)


def assign(similarity: np.ndarray, capacity: np.ndarray, min_similarity: float) -> dict[int, int]:
    """Rows (descriptions) -> columns (images): serve as many rows as possible, then
    maximise total similarity, with image j taking at most capacity[j] rows.

    An optimal assignment, not first-come picking: with use-once, a greedy pick
    hands a shared best image to one description and cascades the rest onto worse
    ones (on the test's 240 ambiguous paraphrases: 181 right greedy, 238 optimal).
    Each row only considers its top candidates, to keep the problem small.
    """
    if similarity.size == 0:
        return {}
    fits = np.where((capacity > 0)[None, :] & (similarity >= min_similarity), similarity, -np.inf)
    k = min(CANDIDATES_PER_DESCRIPTION, fits.shape[1])
    candidates = np.unique(np.argpartition(-fits, k - 1, axis=1)[:, :k])
    candidates = candidates[np.isfinite(fits[:, candidates]).any(axis=0)]
    slots = np.repeat(candidates, np.minimum(capacity[candidates], len(fits)))  # one column per use
    if not slots.size:
        return {}
    gain = fits[:, slots]
    # A non-fit costs more than any set of fits gains, so the solver first serves as many rows as it can.
    rows, columns = linear_sum_assignment(np.where(np.isfinite(gain), -gain, len(fits) * 2.0 + 1))
    return {int(row): int(slots[column]) for row, column in zip(rows, columns)
            if np.isfinite(gain[row, column])}


class PoolRetriever(ImageGenerator):
    def __init__(self, pool: Pool, index_dir: str | Path, embedder: Embedder,
                 config: RetrievalConfig | None = None, assignments_file: str | Path | None = None,
                 serving: Iterable[str] = ()):
        pool.require_images()
        self.pool = pool
        self.config = config or RetrievalConfig()
        self.embedder = embedder
        self.backend = f"pool:{pool.name}"
        self.model = embedder.model
        self.vectors = CaptionIndex(index_dir, embedder).update(pool.images)
        self.position = {image.file: n for n, image in enumerate(pool.images)}
        # pool position -> its content's number: byte-identical files share one count of uses
        numbers: dict[str, int] = {}
        self.content_of = np.array([numbers.setdefault(image.sha256, len(numbers)) for image in pool.images],
                                   dtype=np.int64)
        self.first_file = np.unique(self.content_of, return_index=True)[1]  # content -> its first position
        self.copies = np.setdiff1d(np.arange(len(pool.images)), self.first_file)  # the other positions
        # item id -> pool file: a rerun of the same item gets its image back without a second use.
        self.assignments_file = Path(assignments_file) if assignments_file else None
        self._assignments: dict[str, str] | None = None
        self._lock = threading.Lock()  # task threads share one retriever: uses must not race
        # pool files that already serve in this run outside retrieval (image-first seeds' own images)
        self.serving = tuple(serving)

    @property
    def assignments(self) -> dict[str, str]:
        """Read at first use, not when made: a build makes its stages before it locks the run, and another
        build of the run may write the file meanwhile."""
        if self._assignments is None:
            self._assignments = self._still_valid_assignments()
        return self._assignments

    def _still_valid_assignments(self) -> dict[str, str]:
        """The saved assignments whose file still holds the bytes and the caption it was chosen for.
        One whose file changed (new pixels or caption) or left the pool is forgotten: its item is
        matched again, against the new caption, rather than handed a picture or a caption its
        similarity was never measured on."""
        if not self.assignments_file or not self.assignments_file.exists():
            return {}
        saved = json.loads(self.assignments_file.read_text(encoding="utf-8"))
        # a file name alone was saved before the bytes were: kept while the file is in the pool, so a
        # resumed run still counts the images its finished batches use
        return {item_id: entry if isinstance(entry, str) else entry["file"] for item_id, entry in saved.items()
                if (entry in self.position if isinstance(entry, str) else self._unchanged(entry))}

    def _unchanged(self, entry: dict) -> bool:
        """Whether a saved assignment's file still reads as it did; an assignment saved before its
        caption was has only the bytes to tell by."""
        if entry.get("file") not in self.position:
            return False
        now = self._saved_as(entry["file"])
        return entry.get("sha256") == now["sha256"] and entry.get("caption_sha256", now["caption_sha256"]) == \
            now["caption_sha256"]

    def _saved_as(self, file: str) -> dict[str, str]:
        image = self.pool.images[self.position[file]]
        return {"file": file, "sha256": image.sha256, "caption_sha256": sha256_text(image.caption)}

    def _content(self, file: str) -> int:
        return int(self.content_of[self.position[file]])

    def _uses(self) -> np.ndarray:
        """Uses per content (see `content_of`), not per file name."""
        uses = np.zeros(len(self.first_file), dtype=np.int64)
        for file in (*self.serving, *self.assignments.values()):
            if file in self.position:
                uses[self._content(file)] += 1
        return uses

    def _by_content(self, similarity: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Rows x contents: the best similarity among the files of each content, and that file's position."""
        best = similarity[:, self.first_file]
        file = np.tile(self.first_file, (len(similarity), 1))
        for position in self.copies:
            content = self.content_of[position]
            better = similarity[:, position] > best[:, content]
            best[better, content] = similarity[better, position]
            file[better, content] = position
        return best, file

    def generate(self, requests: list[ImageRequest]) -> list[GeneratedImage | ItemError]:
        with self._lock:
            chosen, similarity, uses = self._choose(requests)
        return [self._serve(similarity[row], chosen[row]) if row in chosen
                else self._no_fit(similarity[row], uses) for row in range(len(requests))]

    def _choose(self, requests: list[ImageRequest]) -> tuple[dict[int, int], np.ndarray, np.ndarray]:
        """Row -> pool position for the requests that get an image; records the new uses."""
        similarity = self.embedder.embed([request.prompt for request in requests]) @ self.vectors.T
        uses = self._uses()
        chosen = {row: self.position[self.assignments[request.item_id]]
                  for row, request in enumerate(requests)
                  if self.assignments.get(request.item_id) in self.position}
        first_row = {}  # item id -> its first row: a repeated id shares that row's image
        for row, request in enumerate(requests):
            first_row.setdefault(request.item_id, row)
        fresh = [row for item_id, row in first_row.items() if row not in chosen]
        best, file = self._by_content(similarity[fresh])
        picks = assign(best, self.config.max_uses - uses, self.config.min_similarity)
        for local, content in picks.items():
            position = int(file[local, content])
            chosen[fresh[local]] = position
            uses[content] += 1
            self.assignments[requests[fresh[local]].item_id] = self.pool.images[position].file
        for row, request in enumerate(requests):
            if first_row[request.item_id] in chosen:
                chosen[row] = chosen[first_row[request.item_id]]
        self._save_assignments()
        return chosen, similarity, uses[self.content_of]

    def _no_fit(self, similarities: np.ndarray, uses: np.ndarray) -> ItemError:
        """`uses`: per pool position, of its content."""
        free = similarities[uses < self.config.max_uses]
        best_free = f"{free.max():.3f}" if free.size else "none (every image used)"
        minimum = self.config.min_similarity
        fitting = np.flatnonzero(similarities >= minimum)  # all used up, or one would have served
        if not fitting.size:
            return ItemError(f"{NO_FIT}: best unused similarity {best_free}, best overall "
                             f"{similarities.max():.3f}, minimum {minimum}")
        reserved_contents = {self._content(file) for file in self.serving if file in self.position}
        reserved = sum(self.content_of[position] in reserved_contents for position in fitting)
        if reserved == fitting.size and self.config.max_uses == 1:
            taken = "is reserved for an image-first seed of this run"
        else:
            taken = (f"is used up (max_uses {self.config.max_uses}; {reserved} of them reserved for "
                     f"image-first seeds of this run)")
        return ItemError(f"{NO_FIT}: every pool image that fits ({fitting.size}) {taken}; "
                         f"best unused similarity {best_free} < minimum {minimum}")

    def _serve(self, similarities: np.ndarray, position: int) -> GeneratedImage | ItemError:
        image = self.pool.images[position]
        try:
            png, identity = shown_file(image.path, image.sha256)
        except BytesChanged:
            return ItemError(f"cannot read pool image {image.file}: its bytes changed since the pool "
                             f"was loaded; rerun the build to match against its new content")
        except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as error:  # changed since loaded
            return ItemError(f"cannot read pool image {image.file}: {type(error).__name__}: {error}")
        meta = {"pool": self.pool.name, "file": image.file, "image_id": image.id,
                "source": image.source, "source_sha256": image.sha256, "caption": image.caption,
                "caption_by": image.caption_by, "similarity": round(float(similarities[position]), 4),
                **identity}
        return GeneratedImage(png=png, meta=meta)

    def release(self, item_ids: Iterable[str]) -> None:
        """Items that the filters dropped after retrieval give their images back to the pool."""
        with self._lock:
            for item_id in item_ids:
                self.assignments.pop(item_id, None)
            self._save_assignments()

    def reclaim(self, item_id: str, meta: dict) -> str | None:
        """An item given back and live again (a rerun redid a filter that had failed it) takes the
        image it was served (`meta`, as `_serve` made it) again: None when it does, else why not (its
        file left the pool or changed since, or another item has used it up meanwhile)."""
        file = meta["file"]
        with self._lock:
            if self.assignments.get(item_id) == file:
                return None
            image = self.pool.images[self.position[file]] if file in self.position else None
            if change := pool_file_change(meta, image):
                return (f"its retrieved pool image {file} {change} since it was retrieved, and its pairs were "
                        "written for the one it was; a rerun matches it again")
            if self._uses()[self._content(file)] >= self.config.max_uses:
                return "its retrieved pool image went to another seed while a filter had this one dropped"
            self.assignments[item_id] = file
            self._save_assignments()
            return None

    def _save_assignments(self) -> None:
        """Each file with the sha256 of the bytes and of the caption it was chosen for, so a later
        run can tell it changed."""
        if self.assignments_file is None:
            return
        saved = {item_id: self._saved_as(file) for item_id, file in self.assignments.items()}
        atomic_write_text(self.assignments_file, json.dumps(saved, indent=0, sort_keys=True))


def forget_assignments(assignments_file: Path, item_ids: Iterable[str]) -> None:
    """Drop these items' saved assignments, so the next retriever of the file matches them afresh (a
    resume whose pool files changed under them: `run_pool.stale_retrievals`)."""
    if not assignments_file.exists():
        return
    saved, forgotten = json.loads(assignments_file.read_text(encoding="utf-8")), set(item_ids)
    kept = {item_id: entry for item_id, entry in saved.items() if item_id not in forgotten}
    if kept != saved:
        atomic_write_text(assignments_file, json.dumps(kept, indent=0, sort_keys=True))


def pool_file_change(meta: dict, image: PoolImage | None) -> str | None:
    """How the pool file a retrieval served (`meta`: its `file`, `source_sha256` and `caption`) reads
    otherwise in the pool now (`image`, None where the file left it): 'left the pool', 'has new pixels',
    'has a new caption' or both; None where it is as it was."""
    if image is None:
        return "left the pool"
    changed = [what for what, then, now in (("new pixels", meta.get("source_sha256"), image.sha256),
                                            ("a new caption", meta.get("caption"), image.caption))
               if then is not None and then != now]
    return f"has {' and '.join(changed)}" if changed else None
