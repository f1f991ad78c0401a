"""The element store: elements a model proposed and the novelty check let in, kept beside the
run artifacts (`elements.store`, default `artifacts/elements/`), never inside the package.

Each grow adds one version folder, written under a dot-name and renamed into place whole,
so a killed grow leaves nothing half-written:

    <store>/v0001/elements.jsonl     the entries this version added (StoredElement per line)
    <store>/v0001/vectors.npy        their description vectors (MiniLM), in the same order
    <store>/v0001/decisions.parquet  every proposal judged, kept or refused, with its reason
    <store>/v0001/meta.json          run id, model, prompt hash, counts

Readers take the versions in order; the store is append-only. A curator's removal is a version
of its own, adding nothing and naming what it removes in `removed.jsonl` (removals.py).
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pandas as pd
from pydantic import ValidationError

from pipeline.config import one_line
from pipeline.elements.checks import guardrail_hit
from pipeline.elements.removals import Removal, read_removals, removal_key, write_removals
from pipeline.json_lines import numbered_lines
from pipeline.records import Decision, Element, Record
from pipeline.storage import staging_dir
from pipeline.writers.tables import decisions_frame

FORMAT = 1
VECTOR_SIZE = 384


class StoredElement(Record):
    element: Element
    source: str = "model"
    backend: str
    model: str
    prompt_hash: str
    run_id: str
    novelty: float  # 1 - the highest description cosine to any element known when it was judged
    nearest: str  # that element's name
    version: int


def _read_entries(version: Path, removed: frozenset = frozenset()) -> list[StoredElement]:
    """Raises ValueError naming the file, version and line of the first entry that does not read
    (a version is written whole, so such a line was edited by hand). An entry in `removed` is not
    held to the hard block: it goes nowhere, and removing it is how a curator drops one that a
    rule added since stops."""
    path = version / "elements.jsonl"
    entries = []
    for number, line in _entry_lines(version):
        try:
            entry = StoredElement.model_validate_json(line)
        except ValidationError as error:
            raise ValueError(f"{path}:{number}: not a store entry of version {int(version.name[1:])} "
                             f"({one_line(error, where_empty='')})") from None
        # A grow never stores what the hard block stops, so such a line was written by hand; read on, it
        # would go to the model in every grow request's list of known elements. The rule only, never the text.
        if _key(entry) not in removed and (hit := guardrail_hit(entry.element)):
            raise ValueError(f"{path}:{number}: the hard block stops this entry (guardrail {hit.rule}); store "
                             f"version {int(version.name[1:])} was edited by hand: restore it or delete its folder")
        entries.append(entry)
    return entries


def _entry_lines(version: Path) -> list[tuple[int, str]]:
    """The numbered lines of a version's `elements.jsonl`, one entry each."""
    path = version / "elements.jsonl"
    try:
        return list(numbered_lines(path.read_text(encoding="utf-8")))
    except UnicodeDecodeError as error:
        raise ValueError(f"{path}: not UTF-8 text ({error.reason} at byte {error.start}); store version "
                         f"{int(version.name[1:])} was edited by hand: restore it or delete its folder") from None


def _read_vectors(version: Path) -> np.ndarray:
    """Its vectors, one per entry: a line deleted or added by hand leaves every later vector on
    another element, so the version is refused, by name, rather than read askew. The lines are
    counted, not read again: `entries()` reads (and checks) them."""
    vectors, entries = np.load(version / "vectors.npy"), len(_entry_lines(version))
    if len(vectors) != entries:
        raise ValueError(f"store version {int(version.name[1:])} ({version}) has {entries} entries in "
                         f"elements.jsonl but {len(vectors)} vectors in vectors.npy: a line was deleted or added "
                         "by hand; delete the whole version folder to drop its elements")
    return vectors


class _Everything(frozenset):
    """Holds every key: read without the hard block, to find an entry a curator removes."""

    def __contains__(self, key) -> bool:
        return True


_ALL = _Everything()


def _key(entry: StoredElement) -> tuple[str, str, int]:
    return removal_key(entry.element.sub_category, entry.element.element, entry.version)


def _meta(version: Path) -> dict:
    try:
        return json.loads((version / "meta.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


class ElementStore:
    def __init__(self, folder: Path):
        self.folder = Path(folder)
        self._held = False

    @contextmanager
    def exclusive(self, on_wait: Callable[[str], None] | None = None) -> Iterator[None]:
        """Hold the store for a whole grow: a second grow waits, then reads what this one
        added, instead of judging against the same versions and writing the same elements.
        Before it waits, `on_wait` is told who holds the store (a long grow may hold it for
        minutes); the holder's pid is in the lock file."""
        self.folder.mkdir(parents=True, exist_ok=True)
        with open(self.folder / ".lock", "a+", encoding="utf-8") as lock:  # not "w": it would erase the holder's pid
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                if on_wait:
                    lock.seek(0)
                    on_wait(self._busy_message(lock.read().strip()))
                fcntl.flock(lock, fcntl.LOCK_EX)
            lock.truncate(0)
            lock.write(str(os.getpid()))
            lock.flush()
            self._held = True
            try:
                yield
            finally:
                self._held = False

    def _busy_message(self, holder: str) -> str:
        return (f"the element store {self.folder} is in use by another process (a grow or a removal"
                f"{f', pid {holder}' if holder.isdigit() else ''}): waiting for it to end")

    def versions(self) -> list[Path]:
        if self.folder.exists() and not self.folder.is_dir():  # read as empty, the store would go unseen
            raise NotADirectoryError(f"the element store {self.folder} is not a folder")
        if not self.folder.is_dir():
            return []
        return sorted(p for p in self.folder.iterdir() if p.is_dir() and p.name.startswith("v")
                      and p.name[1:].isdigit())

    def entries(self, include_removed: bool = False) -> list[StoredElement]:
        """What builds read: every entry not removed. A grow reads them all (`include_removed`): a
        removed element stays known, in step with `vectors()`, so it is not grown again."""
        removed = self.removed_keys()
        entries = [entry for version in self.versions() for entry in _read_entries(version, removed)]
        return entries if include_removed else [entry for entry in entries if _key(entry) not in removed]

    def elements(self) -> list[Element]:
        return [entry.element for entry in self.entries()]

    def removals(self) -> list[Removal]:
        return [removal for version in self.versions() for removal in read_removals(version)]

    def removed_keys(self) -> frozenset:
        return frozenset(removal_key(r.sub_category, r.element, r.version) for r in self.removals())

    def grown_at(self) -> dict[int, str]:
        """Version number -> when it was written (meta.json's created_at)."""
        return {int(version.name[1:]): _meta(version).get("created_at", "") for version in self.versions()}

    def remove(self, sub_category: str, name: str, reason: str,
               on_wait: Callable[[str], None] | None = None) -> tuple[int, list[StoredElement]]:
        """Remove the grown element `name` (any case) of `sub_category`, every version holding it, as one
        new version recording `reason`. Returns that version's number and the entries removed."""
        with nullcontext() if self._held else self.exclusive(on_wait):
            removed = self.removed_keys()
            found = [entry for version in self.versions() for entry in _read_entries(version, _ALL)
                     if entry.element.sub_category == sub_category and _key(entry) not in removed
                     and entry.element.element.strip().lower() == name.strip().lower()]
            if not found:
                raise ValueError(self._not_there(sub_category, name))
            now = datetime.now(timezone.utc).isoformat(timespec="seconds")
            removals = [Removal(sub_category=sub_category, element=entry.element.element, version=entry.version,
                                reason=reason, removed_at=now) for entry in found]
            number = self.add_version([], np.zeros((0, VECTOR_SIZE)), [], "remove-" + now,
                                      {"kind": "removal", "removed": len(removals)}, removals)
        return number, found

    def _not_there(self, sub_category: str, name: str) -> str:
        """Why `name` cannot be removed: removed before (when, in which version, why), or never grown."""
        for version in reversed(self.versions()):
            for removal in read_removals(version):
                if removal.sub_category == sub_category and removal.element.strip().lower() == name.strip().lower():
                    return (f"{removal.element!r} ({sub_category}) was already removed on {removal.removed_at[:10]} "
                            f"(store version {int(version.name[1:])}): {removal.reason}")
        return (f"no grown element {name!r} in {sub_category} in the store {self.folder} "
                f"(leakless elements list --source model -s {sub_category!r} lists them)")

    def vectors(self) -> np.ndarray:
        arrays = [_read_vectors(version) for version in self.versions()]
        return np.concatenate(arrays) if arrays else np.zeros((0, VECTOR_SIZE), dtype=np.float32)

    def decisions(self) -> pd.DataFrame:
        frames = [pd.read_parquet(version / "decisions.parquet") for version in self.versions()]
        frames = [frame for frame in frames if len(frame)]
        return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(
            columns=["sub_category", "element", "verdict", "reason", "run_id"])

    def add_version(self, entries: list[StoredElement], vectors: np.ndarray,
                    decisions: list[tuple[str, str, Decision]], run_id: str, meta: dict,
                    removals: list[Removal] = ()) -> int:
        """Write one version: `entries` (their `version` is set here), their vectors,
        `decisions` as (sub-category, element name, decision), and a curator's `removals`.
        Returns the version number."""
        with nullcontext() if self._held else self.exclusive():
            for leftover in self.folder.glob(".v*.tmp"):  # from a grow killed mid-write
                shutil.rmtree(leftover, ignore_errors=True)
            number = int(self.versions()[-1].name[1:]) + 1 if self.versions() else 1
            staging = staging_dir(self.folder, prefix=f".v{number:04d}-", suffix=".tmp")
            entries = [entry.model_copy(update={"version": number}) for entry in entries]
            (staging / "elements.jsonl").write_text(
                "".join(entry.model_dump_json() + "\n" for entry in entries), encoding="utf-8")
            np.save(staging / "vectors.npy", np.asarray(vectors, dtype=np.float32).reshape(-1, VECTOR_SIZE))
            frame = decisions_frame([decision for _, _, decision in decisions], run_id)
            frame.insert(0, "element", [name for _, name, _ in decisions])
            frame.insert(0, "sub_category", [sub for sub, _, _ in decisions])
            frame.to_parquet(staging / "decisions.parquet", index=False)
            if removals:
                write_removals(staging, list(removals))
            (staging / "meta.json").write_text(json.dumps({
                "format": FORMAT, "version": number, "run_id": run_id,
                "created_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                "added": len(entries), "judged": len(decisions), **meta}, indent=2) + "\n")
            os.rename(staging, self.folder / f"v{number:04d}")
        return number
