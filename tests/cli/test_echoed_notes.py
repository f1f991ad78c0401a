"""`echoed_notes`: what a command noted (stale staging folders it removed) is said on stderr even when
the command then fails, before its one `error:` line; and once, when it succeeds."""

from __future__ import annotations

import pytest
import typer

from pipeline.cli.errors import echoed_notes, fail, user_errors


def test_notes_are_said_before_the_error_line_when_the_command_fails(capsys):
    with pytest.raises(typer.Exit) as stop:
        with user_errors(), echoed_notes([]) as notes:
            notes.append("removed a killed export's staging folder out/.staging-1")
            raise ValueError("out: no space for the release")
    assert stop.value.exit_code == 2
    assert capsys.readouterr().err == ("note: removed a killed export's staging folder out/.staging-1\n"
                                       "error: out: no space for the release\n")


def test_notes_are_said_once_when_the_command_succeeds(capsys):
    with echoed_notes([]) as notes:
        notes.append("one")
    assert capsys.readouterr().err == "note: one\n"


def test_a_fail_inside_still_says_the_notes(capsys):
    with pytest.raises(typer.Exit):
        with echoed_notes(["kept"]):
            raise fail("refused")
    assert "note: kept\n" in capsys.readouterr().err
