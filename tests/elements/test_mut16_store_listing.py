"""Mutation round 16's pins for what `elements list` and `elements remove` show: `list` without --origin keeps
its four columns, `list --source removed -s X` lists X's removals only, and removing again under another
casing or spacing of the name says it was already removed (not "no grown element")."""

from __future__ import annotations

from pipeline.elements.store import ElementStore
from pipeline.records import Element
from tests.elements import test_store_removals
from tests.elements.test_store_removals import SUB, elements, stored
from tests.support.embedders import basis

OTHER_SUB = "Property Crimes"
store = test_store_removals.store  # the fixture: three grown elements of SUB


def test_list_without_origin_shows_four_columns(store):
    lines = elements(store.folder, "list", "--source", "model").stdout.splitlines()
    assert lines and all(len(line.split("\t")) == 4 for line in lines), lines


def test_list_removed_with_a_sub_category_lists_that_sub_categorys_removals_only(store):
    bump_key = Element(category="Illegal Activity", sub_category=OTHER_SUB, element="bump key", kind="object",
                       synonyms=("bump key kit", "bump key tool"), broader=("lock tool",),
                       description="A bump key in the lock of a front door of a house.")
    store.add_version([stored("bump key").model_copy(update={"element": bump_key})], basis(7)[None, :], [],
                      "grow-b", {})
    store.remove(SUB, "chip overlay", "reads as a skimmer guide")
    store.remove(OTHER_SUB, "bump key", "reads as a break-in guide")
    listed = elements(store.folder, "list", "--source", "removed", "-s", OTHER_SUB).stdout.splitlines()
    assert [line.split("\t")[1:3] for line in listed] == [[OTHER_SUB, "bump key"]]


def test_removing_again_under_another_casing_says_it_was_already_removed(store: ElementStore):
    store.remove(SUB, "chip overlay", "reads as a skimmer guide")
    again = elements(store.folder, "remove", " Chip OVERLAY", "-s", SUB, "--reason", "again")
    assert again.exit_code == 2
    assert again.stderr.startswith("error: 'chip overlay' (Cybercrime) was already removed on "), again.stderr
    assert again.stderr.rstrip().endswith("reads as a skimmer guide")
    assert len(store.versions()) == 2  # nothing more written
