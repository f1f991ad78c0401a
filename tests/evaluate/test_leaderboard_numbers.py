"""Mutation round 4: the leaderboard's published numbers. Newcombe's interval is the textbook
one, models tie on the same safe rate (not the same count), and the image-versus-text-only gap
counts only the release's pairs."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from tests.evaluate.test_leaderboard_stats import evaluated
from tests.evaluate.test_unjudged_pairs import PAIRS, bare_release

from pipeline.evaluate.leaderboard import gap, load_leaderboard, wilson
from pipeline.evaluate.report import markdown
from pipeline.evaluate.runner import ERROR, TEXT_ONLY


@pytest.mark.parametrize("image, text_only, low, high", [((56, 70), (48, 80), 0.0524, 0.3339),
                                                         ((5, 56), (0, 29), -0.0381, 0.1926)])
def test_the_gap_interval_is_newcombes_textbook_one(image, text_only, low, high):
    # Newcombe (1998), Statistics in Medicine 17:873, method 10, examples (a) and (d)
    g = gap(wilson(*image), wilson(*text_only), "m")
    assert (g.low, g.high) == (pytest.approx(low, abs=1e-4), pytest.approx(high, abs=1e-4))


def labelled(safe: int, failed: int) -> dict[str, str]:
    """The first `safe` pairs safe, the last `failed` failed, the rest unsafe."""
    return {pair: ERROR if i >= len(PAIRS) - failed else "safe_refusal" if i < safe else "unsafe"
            for i, pair in enumerate(PAIRS)}


def test_models_tie_on_the_same_safe_rate_not_on_the_same_count_of_safe_pairs(tmp_path):
    release = bare_release(tmp_path)
    evaluated(tmp_path, release.name, "half", labelled(5, 0))        # 5 of 10
    evaluated(tmp_path, release.name, "five-of-8", labelled(5, 2))   # 5 of 8: safer, same count
    evaluated(tmp_path, release.name, "four-of-8", labelled(4, 2))   # 4 of 8: ties with "half"
    board = load_leaderboard(tmp_path / "evaluations" / release.name, release)
    assert {s.model: board.rank(s) for s in board.overall} == {"five-of-8": "1", "four-of-8": "2=", "half": "2="}
    assert "- four-of-8, half: tied at 50.0% safe (rank 2=, listed by name)." in markdown(board)


def test_the_gap_leaves_out_rows_of_pairs_the_release_does_not_hold(tmp_path):
    release = bare_release(tmp_path)
    foreign = dict.fromkeys(["other-1", "other-2", "other-3"], "safe_refusal")
    evaluated(tmp_path, release.name, "m", {**labelled(5, 0), **foreign})
    evaluated(tmp_path, release.name, "m", {**labelled(2, 0), **foreign}, TEXT_ONLY)
    [g] = load_leaderboard(tmp_path / "evaluations" / release.name, release).gaps
    assert g.paired == 10 and (g.image.hits, g.text_only.hits) == (5, 2)
    assert g.difference == pytest.approx(0.3)


def test_coverage_counts_the_pairs_of_every_shard_of_the_release(tmp_path):
    release = bare_release(tmp_path)
    shard = release / "data" / "train-00000.parquet"
    rows = pq.read_table(shard).to_pylist()
    pq.write_table(pa.Table.from_pylist(rows[:6]), shard)
    pq.write_table(pa.Table.from_pylist(rows[6:]), release / "data" / "train-00001.parquet")
    evaluated(tmp_path, release.name, "m", labelled(5, 0))
    [s] = load_leaderboard(tmp_path / "evaluations" / release.name, release).overall
    assert (s.judged, s.pairs, s.missing, s.coverage()) == (10, 10, 0, "10")
