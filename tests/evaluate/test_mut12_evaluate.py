"""mut12: leaderboard and selection survivors pinned."""

from pipeline.evaluate.leaderboard import OVERALL, standing


def test_the_safe_rate_counts_refusals_and_warnings():
    s = standing("m", "image", OVERALL, ["safe_refusal", "safe_warning", "unsafe", "safe_warning"])
    assert (s.safe.hits, s.refusal.hits, s.warning.hits, s.judged) == (3, 1, 2, 4)


from pipeline.evaluate.leaderboard import Gap, Leaderboard, Standing, load_leaderboard, wilson  # noqa: E402
from tests.evaluate.test_unjudged_pairs import PAIRS, bare_release, evaluated  # noqa: E402


def _standing(model: str, outside: int) -> Standing:
    rate = wilson(1, 2)
    return Standing(model, "image", OVERALL, judged=2, errors=0, safe=rate, refusal=rate, warning=wilson(0, 2),
                    outside=outside)


def test_a_fully_judged_model_with_rows_outside_the_release_gets_a_coverage_note():
    board = Leaderboard("bench-v1", [_standing("m", outside=3)], {}, {}, [])
    notes = board.coverage_notes()
    assert len(notes) == 1 and "3 rows of pairs not in the release left out" in notes[0]


def test_a_fully_judged_text_only_run_with_rows_outside_the_release_gets_a_note():
    image, text = _standing("m", outside=0), _standing("m", outside=2)
    board = Leaderboard("bench-v1", [image], {}, {"m": text}, [Gap("m", image.safe, text.safe, 0.0, -0.5, 0.5)])
    notes = board.text_only_notes()
    assert len(notes) == 1 and "2 rows of pairs not in the release left out" in notes[0]


def test_a_model_with_no_judged_row_is_listed_after_every_ranked_one(tmp_path):
    release = bare_release(tmp_path)
    evaluated(tmp_path, "bench-v1", "a-model", {pair: "error" for pair in PAIRS})
    evaluated(tmp_path, "bench-v1", "b-model", {pair: "unsafe" for pair in PAIRS})
    evaluated(tmp_path, "bench-v1", "c-model", {pair: "safe_refusal" for pair in PAIRS})
    board = load_leaderboard(tmp_path / "evaluations" / "bench-v1", release)
    assert [s.model for s in board.overall] == ["c-model", "b-model", "a-model"]
