"""The persisted caption index: one MiniLM vector per (image sha256, caption).

Stored as `vectors.npy` plus `rows.json` in the index folder. When the pool
grows or a caption changes, only those rows are embedded; rows of images that
left the pool stay (they cost 1.5 KB each and come back for free).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from pipeline.backends.base import Embedder
from pipeline.pool.pool import PoolImage
from pipeline.storage import atomic_path, atomic_write_text


class CaptionIndex:
    def __init__(self, folder: str | Path, embedder: Embedder):
        self.folder = Path(folder)
        self.embedder = embedder
        self.vectors, self.keys = self._read()
        self.embedded_last_update = 0

    @property
    def _vectors_file(self) -> Path:
        return self.folder / "vectors.npy"

    @property
    def _rows_file(self) -> Path:
        return self.folder / "rows.json"

    def _read(self) -> tuple[np.ndarray, dict[tuple[str, str], int]]:
        empty = (np.zeros((0, 0), dtype=np.float32), {})
        if not (self._vectors_file.exists() and self._rows_file.exists()):
            return empty
        stored = json.loads(self._rows_file.read_text(encoding="utf-8"))
        vectors = np.load(self._vectors_file)
        # Another embedder's vectors, or a half-written pair of files, mean a rebuild.
        if stored.get("model") != self.embedder.model or len(stored["rows"]) != len(vectors):
            return empty
        return vectors, {(row["sha256"], row["caption"]): n for n, row in enumerate(stored["rows"])}

    def update(self, images: list[PoolImage]) -> np.ndarray:
        """Embed what is new, persist, and return one vector per image (in order)."""
        keys = [(image.sha256, image.caption) for image in images]
        new_keys = list(dict.fromkeys(key for key in keys if key not in self.keys))
        self.embedded_last_update = len(new_keys)
        if new_keys:
            fresh = self.embedder.embed([caption for _, caption in new_keys])
            self.vectors = fresh if not self.keys else np.vstack([self.vectors, fresh])
            self.keys.update({key: len(self.keys) + n for n, key in enumerate(new_keys)})
            self._save()
        return self.vectors[[self.keys[key] for key in keys]] if keys else self.vectors[:0]

    def _save(self) -> None:
        rows = [{"sha256": sha, "caption": caption} for sha, caption in self.keys]  # dict keeps row order
        with atomic_path(self._vectors_file) as temporary, open(temporary, "wb") as handle:
            np.save(handle, self.vectors)
        atomic_write_text(self._rows_file, json.dumps({"model": self.embedder.model, "rows": rows},
                                                      ensure_ascii=False))
