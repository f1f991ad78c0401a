"""Elements beyond the shipped library: the store a model grows (store.py), the checks and
novelty test every proposal passes (checks.py, novelty.py), and the grow loop (grow.py)."""

from __future__ import annotations

from pipeline.config import BuildConfig
from pipeline.elements.store import ElementStore
from pipeline.records import Element


def store_of(config: BuildConfig) -> ElementStore | None:
    return ElementStore(config.elements.store) if config.elements.store is not None else None


def known_elements(config: BuildConfig) -> list[Element]:
    """The library (`run.elements_file`, or the shipped one) followed by the store's elements."""
    from pipeline.taxonomy.element_file import library_file  # it reads through this package's checks

    store = store_of(config)
    return library_file(config.run.elements_file).elements + (store.elements() if store else [])
