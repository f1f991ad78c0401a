"""`leakless extend` checks what a build needs from outside its config (API keys, models)
before it writes anything, as `leakless build` does."""

from __future__ import annotations

from typer.testing import CliRunner

from pipeline.cli.app import app


def test_a_missing_api_key_is_one_line_exit_2_and_no_run_folder(tmp_path, monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    runs, releases = tmp_path / "runs", tmp_path / "releases"
    targets = tmp_path / "t.toml"
    targets.write_text(f"[extend]\nname = 'bench'\nruns_dir = '{runs}'\nreleases_dir = '{releases}'\n"
                       "[extend.targets]\nCybercrime = 3\n")
    result = CliRunner().invoke(app, ["extend", "--targets", str(targets), "--set", "backends.rewriter=llm"])
    assert result.exit_code == 2, result.output
    (line,) = result.output.strip().splitlines()
    assert line.startswith("error: ") and "OPENAI_API_KEY is not set" in line
    assert not runs.exists() or not any(runs.iterdir())


def test_the_build_checks_notes_are_said_by_extend_too(tmp_path):
    """extend discarded check_build_ready's notes (a renamed category's missing harm words, an unused
    [images.diffusers] section): a build said them, the same work under extend did not."""
    runs, releases = tmp_path / "runs", tmp_path / "releases"
    targets = tmp_path / "t.toml"
    targets.write_text(f"[extend]\nname = 'bench'\nruns_dir = '{runs}'\nreleases_dir = '{releases}'\n"
                       "[extend.targets]\nCybercrime = 0\n")
    result = CliRunner().invoke(app, ["extend", "--targets", str(targets),
                                      "--set", f"images.diffusers.model='{tmp_path}'", "--set", "images.diffusers.family='sd'"])
    assert result.exit_code == 0, result.output
    assert "note: [images.diffusers] is set, but backends.images = 'placeholder'" in result.stderr
    assert "nothing to build" in result.stdout
