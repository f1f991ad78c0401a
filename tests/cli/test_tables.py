"""Tables written to a log or a pipe are printed whole, not cut to 80 columns."""

from __future__ import annotations

from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.llm.cache import AnswerCache

LONG_MODEL = "meta-llama/Llama-3.3-70B-Instruct-Turbo-with-a-long-deployment-name"
FULL_HASH = "9f2c1e7a" * 8


def test_a_table_in_a_log_keeps_every_name_whole(tmp_path, monkeypatch):
    monkeypatch.delenv("COLUMNS", raising=False)
    path = tmp_path / "llm.sqlite"
    with AnswerCache(path) as cache:
        cache.put("k1", "pair_checker", LONG_MODEL, FULL_HASH, "{}", LONG_MODEL)
    result = CliRunner().invoke(app, ["cache", "stats", "--path", str(path)])  # not a terminal
    assert result.exit_code == 0, result.output
    assert LONG_MODEL in result.output and FULL_HASH in result.output and "…" not in result.output


def test_an_explicit_width_still_wins(tmp_path, monkeypatch):
    monkeypatch.setenv("COLUMNS", "60")
    path = tmp_path / "llm.sqlite"
    with AnswerCache(path) as cache:
        cache.put("k1", "pair_checker", LONG_MODEL, FULL_HASH, "{}", LONG_MODEL)
    result = CliRunner().invoke(app, ["cache", "stats", "--path", str(path)])
    assert result.exit_code == 0, result.output
    assert max(len(line) for line in result.output.splitlines()) <= 60


def test_text_from_the_users_data_prints_as_written_not_as_markup(tmp_path, monkeypatch):
    # a model name is the user's text: "[/]" crashed Rich's markup reader, "[bold]" and ":smile:" vanished
    monkeypatch.delenv("COLUMNS", raising=False)
    path = tmp_path / "llm.sqlite"
    odd_model = "my-model [/] [bold]v2[/bold] :smile:"
    with AnswerCache(path) as cache:
        cache.put("k1", "pair_checker", odd_model, FULL_HASH, "{}", odd_model)
    result = CliRunner().invoke(app, ["cache", "stats", "--path", str(path)])
    assert result.exit_code == 0, result.output
    assert odd_model in result.output
