"""A manifest whose version claims to extend itself is a verify problem, however its rows were added."""

from __future__ import annotations

from pipeline.release.claims import lineage_problems


def test_a_version_that_extends_itself_is_a_problem():
    rows = [{"added_in": 1}, {"added_in": 2}]

    problems = lineage_problems({"version": 2, "extends": 2, "carried_rows": 1}, rows)

    assert problems == ["manifest.json: extends 2, but this is v2 and its carried rows were added in v1"]


def test_a_version_that_extends_the_one_before_is_sound():
    assert lineage_problems({"version": 2, "extends": 1, "carried_rows": 1}, [{"added_in": 1}, {"added_in": 2}]) == []
