"""A manifest whose `files` is no list is no release manifest: named in one line, not a crash while its
entries are read."""

from __future__ import annotations

import pytest

from pipeline.release.claims import manifest_key_problem

KEYS = {"name": "bench", "version": 1, "rows": 0, "preview": False, "shards": []}


@pytest.mark.parametrize("files", [None, "README.md", 3])
def test_files_that_is_not_a_list_is_named(files):
    assert manifest_key_problem({**KEYS, "files": files}) == "`files` is not a list"


def test_a_manifest_without_files_is_still_a_manifest():
    assert manifest_key_problem(KEYS) is None
