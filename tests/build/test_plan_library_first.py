"""Planning seeds: an element the library and the store both hold is the library's."""

from __future__ import annotations

from pipeline.config import load_config
from pipeline.plan import Sourced, first_per_sub_category
from pipeline.records import Element


def element(name: str, description: str) -> Element:
    return Element(category="Illegal Activity", sub_category="Cybercrime", element=name, description=description)


def test_an_element_held_by_the_library_and_the_store_is_the_librarys():
    """The store may hold a name the library has, with its own description: the seed is the
    library's (library first), counted once and from the library, and the store's copy is no
    element left out by run.size."""
    config = load_config(None, ["run.size=2", "run.sub_categories=['Cybercrime']"])
    library = [Sourced("library", element("a phishing kit", "the library's")),
               Sourced("library", element("a keylogger", "the library's"))]
    store = [Sourced("store", element("a phishing kit", "the store's")),
             Sourced("store", element("a botnet panel", "the store's"))]
    chosen, available, beyond_size = first_per_sub_category(config, library + store)
    assert [(item.source, item.element.element, item.element.description) for item in chosen] == [
        ("library", "a phishing kit", "the library's"), ("library", "a keylogger", "the library's")]
    assert available == {"Cybercrime": 3}
    assert beyond_size == {"store": 1}
