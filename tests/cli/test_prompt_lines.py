"""A role template's unknown filter is named at its own line by the build preflight, whether jinja
meets it when the template compiles or only when it renders (inside an `{% if %}`).

Each test works on a copy of prompts/ (the repository's own files are never edited)."""

from __future__ import annotations

import pytest

from tests.cli.test_prompt_files import LLM_REWRITER, build, edit, one_line_error


def line_of(path, text: str) -> int:
    return next(number for number, line in enumerate(path.read_text().splitlines(), 1) if text in line)


@pytest.mark.parametrize("old, new, message", [
    ("{{ query }}", "{{ query | shout }}", "No filter named 'shout'."),  # compiled: jinja says where
    ("{{ category }}", "{{ category | shout }}", "No filter named 'shout' found."),  # met rendering
], ids=["at_compile_time", "at_render_time"])
def test_an_unknown_filter_is_named_at_its_line(prompts, tmp_path, old, new, message):
    template = prompts / "leak_rewriter.j2"
    edit(template, old, new)
    runs = tmp_path / "runs"
    error = one_line_error(build(runs, *LLM_REWRITER), runs)
    assert f"leak_rewriter.j2:{line_of(template, 'shout')}: {message}" in error, error
