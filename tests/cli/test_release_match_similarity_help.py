"""`release --min-match-similarity` takes a negative cosine (unlike the other thresholds, which refuse one
below 0), so its --help says the range it accepts."""

from __future__ import annotations

from typer.testing import CliRunner

from pipeline.cli import app


def test_the_help_says_the_range_min_match_similarity_accepts():
    result = CliRunner().invoke(app, ["release", "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    help_text = " ".join(result.output.split())
    assert "--min-match-similarity" in help_text
    assert "query~description cosine floor, from -1 to 1 (a cosine can be negative)" in help_text
