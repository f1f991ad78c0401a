"""Elements beyond the shipped library: the store a model grows (store.py), the checks and
novelty test every proposal passes (checks.py, novelty.py), and the grow loop (grow.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pipeline.config import BuildConfig
from pipeline.elements.store import ElementStore

if TYPE_CHECKING:
    from pipeline.taxonomy.element_file import ElementFile


def store_of(config: BuildConfig) -> ElementStore | None:
    return ElementStore(config.elements.store) if config.elements.store is not None else None


def known_library(config: BuildConfig) -> ElementFile:
    """The library (`run.elements_file`, or the shipped one) followed by the store's elements, with
    the library's lines left out (`skipped`), for a caller to name as the build does."""
    from pipeline.taxonomy.element_file import ElementFile, library_file  # it reads through this package's checks

    store = store_of(config)
    library = library_file(config.run.elements_file)
    return ElementFile(elements=library.elements + (store.elements() if store else []), skipped=library.skipped)
