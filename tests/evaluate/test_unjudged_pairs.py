"""Pairs no model answered: the leaderboard counts them as unjudged, `leakless select` refuses
(or, with --common-pairs, leaves them out under their own code), and tied models share a rank.

The two cases of the audit: an evaluation cut short (a file with some of the release's pairs),
and another release's evaluations (a few shared pairs, rows of pairs the release does not hold).
"""

from __future__ import annotations

import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from tests.support.evaluate_release import build_release
from typer.testing import CliRunner

from pipeline.cli.app import app
from pipeline.evaluate.leaderboard import load_leaderboard
from pipeline.evaluate.report import markdown
from pipeline.evaluate.runner import IMAGE, evaluation_path, write_rows
from pipeline.evaluate.select_release import UNJUDGED, select_release
from pipeline.evaluate.selection import select_pairs

PAIRS = [f"p{i}" for i in range(10)]


def bare_release(root, name: str = "bench-v1"):
    """A release folder as far as the leaderboard and a refused selection read it: one shard."""
    folder = root / "releases" / name
    (folder / "data").mkdir(parents=True)
    pq.write_table(pa.Table.from_pylist([
        {"id": pair, "seed_id": f"seed-{pair}", "category": ("Violent", "Privacy")[i % 2],
         "sub_category": ("Weapons", "Doxxing")[i % 2], "instruction": f"question {i}"}
        for i, pair in enumerate(PAIRS)]), folder / "data" / "train-00000.parquet")
    (folder / "manifest.json").write_text("{}")
    return folder


def evaluated(root, release: str, model: str, labels: dict[str, str]) -> None:
    write_rows(evaluation_path(root / "evaluations", release, model, IMAGE), [
        {"id": pair, "instruction_id": i, "category": ("Violent", "Privacy")[i % 2], "mode": IMAGE,
         "model": model, "label": label, "judge_model_id": "judge", "judge_prompt_hash": "h"}
        for i, (pair, label) in enumerate(labels.items())])


def alternate(pairs) -> dict[str, str]:
    return {pair: ("safe_refusal", "unsafe")[i % 2] for i, pair in enumerate(pairs)}


def test_a_model_cut_short_shows_its_unjudged_pairs_even_when_it_is_the_only_model(tmp_path):
    release = bare_release(tmp_path)
    evaluated(tmp_path, release.name, "m-image", dict.fromkeys(PAIRS[:4], "safe_refusal"))
    text = markdown(load_leaderboard(tmp_path / "evaluations" / release.name, release))
    assert "| 1 | m-image | 100.0% [" in text and "| 4 of 10 | 0 |" in text
    assert "- m-image: 4 of 10 pairs judged (6 never evaluated (no row))" in text


def test_without_the_release_the_pairs_other_files_hold_still_count(tmp_path):
    evaluated(tmp_path, "bench-v1", "m-image", dict.fromkeys(PAIRS[:4], "safe_refusal"))
    evaluated(tmp_path, "bench-v1", "m-text", dict.fromkeys(PAIRS, "unsafe"))
    board = load_leaderboard(tmp_path / "evaluations" / "bench-v1")
    assert {s.model: s.coverage() for s in board.overall} == {"m-image": "4 of 10", "m-text": "10"}
    assert {c.category: c.coverage() for c in board.by_category["m-image"]} == {"Privacy": "2 of 5",
                                                                               "Violent": "2 of 5"}


def test_rows_of_another_release_are_left_out_of_the_counts_and_named(tmp_path):
    release = bare_release(tmp_path)
    evaluated(tmp_path, release.name, "m", {**dict.fromkeys(PAIRS[:3], "unsafe"), "other-1": "safe_refusal"})
    board = load_leaderboard(tmp_path / "evaluations" / release.name, release)
    assert board.overall[0].coverage() == "3 of 10" and board.overall[0].safe.value == 0.0
    assert "7 never evaluated (no row), 1 rows of pairs not in the release left out" in markdown(board)


def test_tied_models_share_a_rank_and_are_named_as_tied(tmp_path):
    evaluated(tmp_path, "bench-v1", "b", alternate(PAIRS))
    evaluated(tmp_path, "bench-v1", "a", alternate(PAIRS))
    evaluated(tmp_path, "bench-v1", "c", dict.fromkeys(PAIRS, "unsafe"))
    board = load_leaderboard(tmp_path / "evaluations" / "bench-v1")
    assert [board.rank(s) for s in board.overall] == ["1=", "1=", "3"]
    text = markdown(board)
    assert "| 1= | a | 50.0% [" in text and "| 1= | b | 50.0% [" in text and "| 3 | c | 0.0% [" in text
    assert "- a, b: tied at 50.0% safe (rank 1=, listed by name)." in text


@pytest.mark.parametrize("case", ["cut short", "another release"])
def test_select_refuses_models_lacking_pairs_naming_each_and_how_many(tmp_path, case):
    release = bare_release(tmp_path)
    if case == "cut short":
        evaluated(tmp_path, release.name, "m-image", dict.fromkeys(PAIRS[:4], "safe_refusal"))
        evaluated(tmp_path, release.name, "m-text", dict.fromkeys(PAIRS, "unsafe"))
        expected = "m-image lacks 6 of the 10 pairs; judge the rest"
    else:
        other = {**dict.fromkeys(PAIRS[:3], "unsafe"), "other-1": "unsafe", "other-2": "unsafe"}
        evaluated(tmp_path, release.name, "x", {**other, "p0": "safe_refusal"})
        evaluated(tmp_path, release.name, "y", other)
        expected = "x lacks 7 of the 10 pairs (and holds 2 rows of pairs not in it); y lacks 7 of the 10 pairs"
    with pytest.raises(ValueError, match="--common-pairs") as refused:
        select_release(release, tmp_path / "evaluations" / release.name, per_sub_category=2)
    assert expected in str(refused.value)
    assert not (release.parent / "bench-v2").exists()


def test_the_refusal_is_one_line_and_exit_2(tmp_path):
    release = bare_release(tmp_path)
    evaluated(tmp_path, release.name, "m-image", dict.fromkeys(PAIRS[:4], "safe_refusal"))
    evaluated(tmp_path, release.name, "m-text", dict.fromkeys(PAIRS, "unsafe"))
    result = CliRunner().invoke(app, ["select", str(release), "--per-sub-category", "2",
                                      "--evaluations", str(tmp_path / "evaluations" / release.name)])
    assert result.exit_code == 2 and result.output.count("\n") == 1, result.output
    assert result.output.startswith("error: not every model judged every pair of bench-v1: m-image lacks 6 of")


def test_no_pair_a_model_did_not_judge_is_kept_as_quota_fill():
    labels = {"a": {"p": "safe_refusal", "q": "unsafe"}, "b": {"p": "unsafe", "q": "unsafe"}}
    with pytest.raises(ValueError, match=r"pairs without a judged row \(a 1 of 3, b 1 of 3\)"):
        select_pairs(labels, {"p": "sub", "q": "sub", "never-asked": "sub"}, per_sub_category=3)


@pytest.mark.slow  # a release built with the MiniLM embedder (~10 s)
def test_common_pairs_selects_among_the_pairs_every_model_judged_and_says_over_how_many(tmp_path):
    release = build_release(tmp_path, per_sub_category=2, planted=1)
    ids = pq.read_table(release / "data", columns=["id"])["id"].to_pylist()
    judged = ids[: len(ids) // 2]
    evaluated(tmp_path, release.name, "careful", alternate(judged))
    evaluated(tmp_path, release.name, "reckless", dict.fromkeys(ids, "unsafe"))
    result = CliRunner().invoke(app, ["select", str(release), "--per-sub-category", "2", "--common-pairs",
                                      "--evaluations", str(tmp_path / "evaluations" / release.name)])
    assert result.exit_code == 0, result.output
    target = release.parent / f"{release.name.rsplit('-v', 1)[0]}-v2"
    assert "pairs every model judged" in result.output and str(target) in result.output
    chosen = pq.read_table(target / "data", columns=["id"])["id"].to_pylist()
    decisions = pq.read_table(target / "decisions.parquet").to_pandas().set_index("item_id")
    unjudged = decisions.loc[ids[len(judged):]]
    assert (unjudged["code"] == UNJUDGED).all() and (unjudged["verdict"] == "drop").all()
    assert unjudged["score"].isna().all() and unjudged["reason"].str.startswith("not judged by every model").all()
    assert set(chosen) <= set(judged)
    manifest = json.loads((target / "manifest.json").read_text())["selection"]
    assert manifest["pairs"] == {"release": len(ids), "full": len(judged), "selected": len(chosen)}
    assert manifest["only_common_pairs"] is True


def test_a_judge_that_failed_on_every_answer_is_named_not_unrecorded(tmp_path):
    """Every row names the judge it was sent to; the heading said "(not recorded)"."""
    release = bare_release(tmp_path)
    evaluated(tmp_path, release.name, "m-image", dict.fromkeys(PAIRS, "error"))
    text = markdown(load_leaderboard(tmp_path / "evaluations" / release.name, release))
    assert "Judge: judge (labelled no row)." in text and "(not recorded)" not in text
