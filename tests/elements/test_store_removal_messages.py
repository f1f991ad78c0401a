"""`elements remove` says what happened when it cannot remove (an element removed before: when,
in which store version and why) and when it must wait (another grow or removal holds the store);
`elements stats` counts removed elements, not removal lines. Before, a second removal answered
"no grown element", an element grown in two versions and removed once counted as 2 removals, and a
removal behind a grow waited without a word."""

from __future__ import annotations

import fcntl
import os
from datetime import datetime, timezone

import numpy as np
import pytest

from pipeline.elements import store as store_module
from pipeline.elements.store import ElementStore
from tests.elements.test_store_removals import SUB, elements, stored
from tests.support.embedders import basis


@pytest.fixture
def twice_grown(tmp_path) -> ElementStore:
    """'chip overlay' in v0001 and again in v0002 (two grows that each stored it)."""
    store = ElementStore(tmp_path / "store")
    store.add_version([stored("chip overlay"), stored("skimmer bar")], np.stack([basis(0), basis(1)]), [], "grow-a", {})
    store.add_version([stored("chip overlay")], np.stack([basis(2)]), [], "grow-b", {})
    return store


def test_removing_an_element_again_says_when_and_why_it_was_removed(twice_grown):
    first = elements(twice_grown.folder, "remove", "Chip Overlay", "-s", SUB, "--reason", "reads as a skimmer guide")
    assert first.exit_code == 0 and "grown in v0001, v0002" in first.stdout, first.output
    again = elements(twice_grown.folder, "remove", "chip overlay", "-s", SUB, "--reason", "again")
    today = datetime.now(timezone.utc).date().isoformat()
    assert again.exit_code == 2
    assert again.stderr.strip() == (f"error: 'chip overlay' (Cybercrime) was already removed on {today} "
                                    "(store version 3): reads as a skimmer guide")


def test_a_name_never_grown_is_still_named_as_such(twice_grown):
    missing = elements(twice_grown.folder, "remove", "card trapper", "-s", SUB, "--reason", "x")
    assert missing.exit_code == 2 and "no grown element 'card trapper' in Cybercrime" in missing.stderr


def test_stats_counts_an_element_removed_from_two_versions_once(twice_grown):
    twice_grown.remove(SUB, "chip overlay", "reads as a skimmer guide")
    assert len(twice_grown.removals()) == 2  # one line per version that held it
    assert "1 grown elements removed by a curator" in elements(twice_grown.folder, "stats").stdout


def test_a_removal_behind_another_holder_says_it_waits_then_removes(twice_grown, monkeypatch):
    """The test holds the store's lock as a grow would; the blocking flock that `remove` makes after
    its message releases the test's hold first, so the removal goes on without a sleep."""
    holder = open(twice_grown.folder / ".lock", "a+")
    fcntl.flock(holder, fcntl.LOCK_EX)
    holder.truncate(0)
    holder.write("4242")
    holder.flush()
    real_flock = fcntl.flock

    def flock(handle, operation):
        if operation == fcntl.LOCK_EX and not holder.closed:  # remove now blocks: the "grow" ends
            holder.close()
        return real_flock(handle, operation)

    monkeypatch.setattr(store_module.fcntl, "flock", flock)
    done = elements(twice_grown.folder, "remove", "chip overlay", "-s", SUB, "--reason", "reads as a skimmer guide")
    assert done.exit_code == 0, done.output
    assert done.stderr == (f"the element store {twice_grown.folder} is in use by another process (a grow or a "
                           "removal, pid 4242): waiting for it to end\n")
    assert done.stdout.startswith("removed 'chip overlay'")
    assert (twice_grown.folder / ".lock").read_text() == str(os.getpid())  # the next waiter names this one


def test_a_free_store_is_removed_from_without_a_word_on_stderr(twice_grown):
    done = elements(twice_grown.folder, "remove", "skimmer bar", "-s", SUB, "--reason", "x")
    assert done.exit_code == 0 and done.stderr == ""
