"""`leakless release --license ''` was taken, and the card said "released under the `` licence"
(audit imagefirst, finding 2): an empty or blank licence id is one line and exit 2, before anything
is read or written."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from pipeline.cli.app import app  # importing the package registers every command


@pytest.mark.parametrize("licence", ["", "   "])
def test_an_empty_or_blank_licence_is_one_line_and_exit_2(tmp_path, monkeypatch, licence):
    (tmp_path / "runs" / "r1" / "data").mkdir(parents=True)
    (tmp_path / "runs" / "r1" / "manifest.json").write_text("{}", encoding="utf-8")  # a finished run, to `release`
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, ["release", "r1", "--name", "z", "--preview", "--runs-dir", "runs",
                                      "--releases-dir", "releases", "--license", licence])
    assert result.exit_code == 2, result.output
    assert result.stderr == ("error: --license is empty: give the licence id the card names "
                             "(apache-2.0, cc-by-4.0, other:<name>, ...)\n")
    assert not (tmp_path / "releases").exists(), "a refused release writes nothing"
