"""The offline backends' tables (prompts/offline/*.toml) are rendered with sample values by the build
preflight, as the backends fill them: a placeholder they do not fill, a frame or core without the one
it must carry, or a missing table or one of the wrong type is one line naming the file (and line), exit 2,
before any work.
Otherwise a misspelt `{elemnt}` shipped as text in accepted pairs, and a misspelt `{holdr}` stopped
the build in its rewrite stage with a bare KeyError.

Each test works on a copy of prompts/ (the repository's own files are never edited)."""

from __future__ import annotations

import re

import pytest

from tests.cli.test_prompt_files import build, edit, one_line_error


@pytest.fixture
def offline(prompts):
    return prompts / "offline"


def line_of(path, text: str) -> int:
    return next(number for number, line in enumerate(path.read_text().splitlines(), 1) if text in line)


def refused(tmp_path) -> str:
    runs = tmp_path / "runs"
    return one_line_error(build(runs), runs)


@pytest.mark.parametrize("old, new, wrong", [
    ('  "carry the {element} into', '  "carry the {elemnt} into', "{elemnt}"),  # a core
    ('  "How can I {core}?"', '  "How can I {cor}?"', "{cor}"),  # a frame
    ('  "carry the {element} into', '  "carry the {core} into', "{core}"),  # a core is not framed again
], ids=["core", "frame", "core_in_core"])
def test_an_unknown_placeholder_in_the_seed_queries_is_named_at_its_line(offline, tmp_path, old, new, wrong):
    table = offline / "seed_queries.toml"
    edit(table, old, new)  # the indent: an entry, not the header comment that quotes it
    error = refused(tmp_path)
    assert f"seed_queries.toml:{line_of(table, new)}: unknown placeholder {wrong}" in error, error


@pytest.mark.parametrize("old, new, missing", [
    ('  "How can I {core}?"', '  "How can I?"', "{core}"),
    ('  "carry the {element} into', '  "carry the gun into', "{element}"),
], ids=["frame_without_core", "core_without_element"])
def test_a_text_without_the_placeholder_it_must_carry_is_named(offline, tmp_path, old, new, missing):
    table = offline / "seed_queries.toml"
    edit(table, old, new)
    error = refused(tmp_path)
    assert f"seed_queries.toml:{line_of(table, new)}: " in error and f"no {missing}" in error, error


def test_seed_queries_without_frames_is_named(offline, tmp_path):
    edit(offline / "seed_queries.toml", "frames = [", "frame = [")
    assert "seed_queries.toml: no `frames`" in refused(tmp_path)


@pytest.mark.parametrize("old, new, wrong", [
    ('"what {holder} is holding"', '"what {holdr} is holding"', "{holdr}"),  # held
    ('"what\'s on {their} {cue}"', '"what\'s on {their} {cu}"', "{cu}"),  # cued
    ('"this place", "a place like this"', '"this {cue}", "a place like this"', "{cue}"),  # used as written
], ids=["held", "cued", "plain"])
def test_an_unknown_placeholder_in_the_references_is_named_at_its_line(offline, tmp_path, old, new, wrong):
    table = offline / "references.toml"
    edit(table, old, new)
    error = refused(tmp_path)
    assert f"references.toml:{line_of(table, new.split(',')[0])}: unknown placeholder {wrong}" in error, error


def test_references_without_a_table_the_rewriter_reads_is_named(offline, tmp_path):
    edit(offline / "references.toml", "[held]", "[hold]")
    assert "references.toml: no `held`" in refused(tmp_path)


@pytest.mark.parametrize("file, pattern, new, problem", [
    ("references.toml", r"^\[\[cued\]\]\n(?:.+\n)*", "", "`cued` must be an array of tables"),
    ("references.toml", r"^\[held\]\n(?:.+\n)*", "", "`held` must be a table"),
    ("references.toml", r'^plural = \["what \{holder\}.*', 'plural = "what {holder} is holding"',
     "`held.plural` must be a list of strings"),
    ("seed_queries.toml", r'(?<=^\["Weapon-Related Violence"\]\n)object = \[', 'object = "x"\nunread = [',
     "`Weapon-Related Violence.object` must be a list of strings"),
], ids=["cued_a_string", "held_an_array", "held_plural_a_string", "cores_a_string"])
def test_an_offline_table_of_the_wrong_type_is_named(offline, tmp_path, file, pattern, new, problem):
    # Before: an AttributeError or TypeError traceback, or a string's characters read as its texts.
    table = offline / file
    text, edits = re.subn(pattern, new, table.read_text(), flags=re.MULTILINE)
    assert edits
    top = {"`cued`": 'cued = "x"\n', "`held`": "held = []\n"}.get(problem.split()[0], "")  # before any header
    table.write_text(top + text)
    assert f"{file}: {problem}" in refused(tmp_path)
