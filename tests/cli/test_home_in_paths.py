"""A `~` at the start of any path option or argument is the home folder, as in LEAKLESS_ARTIFACTS and
config paths: the shell leaves it alone in `--runs-dir=~/runs` and in quotes, and `review tokens list`
then made `./~/runs/review.sqlite` and listed nothing. A read-only listing makes no review store."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from pipeline.cli import app, main
from pipeline.cli.paths import home_expanded
from pipeline.review.store import ReviewStore


def commands(command, name="leakless"):
    if hasattr(command, "commands"):
        for sub_name, sub in command.commands.items():
            yield from commands(sub, f"{name} {sub_name}")
    else:
        yield name, command


def path_parameters():
    for name, command in commands(typer.main.get_command(app)):
        for parameter in command.params:
            annotation = str(parameter.type_descriptor.annotation)
            if "Path" in annotation:
                yield f"{name} {parameter.name}", parameter


def test_every_path_parameter_expands_the_home_folder():
    found = dict(path_parameters())
    assert len(found) > 40  # the walk reaches every command, sub-commands included
    missing = [name for name, parameter in found.items()
               if getattr(parameter.callback, "__wrapped__", parameter.callback) is not home_expanded]
    assert not missing, f"add callback=home_expanded to: {', '.join(missing)}"


def test_a_list_of_paths_and_no_path_expand_too(monkeypatch, tmp_path):
    monkeypatch.setenv("HOME", str(tmp_path))
    assert home_expanded([Path("~/a"), Path("b")]) == [tmp_path / "a", Path("b")]
    assert home_expanded(None) is None


@pytest.fixture()
def home(tmp_path, monkeypatch):
    """HOME with a runs folder whose store holds ann's token; the command runs from another folder."""
    home = tmp_path / "home"
    (home / "runs").mkdir(parents=True)
    ReviewStore.for_runs(home / "runs").add_token("ann", ["r1-b000"])
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.chdir(elsewhere)
    return home


def test_an_option_reads_a_tilde_as_home(home):
    for args in (["--runs-dir", "~/runs"], ["--runs-dir=~/runs"]):
        listed = CliRunner().invoke(app, ["review", "tokens", "list", *args])
        assert listed.exit_code == 0, listed.output
        assert listed.stdout.startswith("ann\t") and listed.stdout.endswith("\tr1-b000\n")
    assert not Path("~").exists()


def test_an_argument_reads_a_tilde_as_home(home):
    (home / "scores.parquet").write_bytes(b"not parquet")
    compared = CliRunner().invoke(app, ["eval-compare", "~/scores.parquet", "~/absent.parquet"])
    assert compared.exit_code == 2 and str(home / "absent.parquet") in compared.output


def test_a_tilde_of_no_user_is_one_error_line(home, monkeypatch, capsys):
    monkeypatch.setattr(sys, "argv", ["leakless", "review", "tokens", "list", "--runs-dir", "~nosuchuser9/runs"])
    monkeypatch.setattr(sys, "stdout", sys.stdout)  # main wraps both streams: undone after the test
    monkeypatch.setattr(sys, "stderr", sys.stderr)
    with pytest.raises(SystemExit) as exit:
        main()
    out, err = capsys.readouterr()
    assert exit.value.code == 2 and out == "" and err.count("\n") == 1
    assert err.startswith("error: ") and "~nosuchuser9 is no user's home folder" in err


def test_listing_tokens_of_a_folder_without_a_store_makes_none(tmp_path):
    typo = tmp_path / "typo"
    result = CliRunner().invoke(app, ["review", "tokens", "list", "--runs-dir", str(typo)])
    assert result.exit_code == 2 and result.output == f"error: no review store under {typo}\n"
    revoked = CliRunner().invoke(app, ["review", "tokens", "revoke", "ann", "--runs-dir", str(typo)])
    assert revoked.exit_code == 2 and not typo.exists()
