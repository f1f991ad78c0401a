"""The statistician's audit of the leaderboard: the image-versus-text-only gap is over the pairs
judged in both modes, and a text-only run's coverage, or its missing gap, is shown; two files of
one model are refused."""

from __future__ import annotations

import pytest
from tests.evaluate.test_unjudged_pairs import PAIRS, bare_release
from tests.support.evaluate_release import models_file
from typer.testing import CliRunner

from pipeline.cli.app import app
from pipeline.evaluate.leaderboard import load_leaderboard
from pipeline.evaluate.report import markdown, render_html
from pipeline.evaluate.runner import ERROR, IMAGE, TEXT_ONLY, evaluation_path, write_rows
from pipeline.testing.openai_server import FAKE_KEY_ENV, FakeOpenAIServer


def evaluated(root, release: str, model: str, labels: dict[str, str], mode: str = IMAGE) -> None:
    write_rows(evaluation_path(root / "evaluations", release, model, mode), [
        {"id": pair, "instruction_id": i, "category": ("Violent", "Privacy")[i % 2], "mode": mode,
         "model": model, "label": label, "judge_model_id": "scripted-judge", "judge_prompt_hash": "h"}
        for i, (pair, label) in enumerate(labels.items())])


def same_answers_with_failures(failed: list[str]) -> dict[str, str]:
    """A model that answers alike with and without the image: safe on the first half of the pairs."""
    return {pair: ERROR if pair in failed else ("safe_refusal" if i < 5 else "unsafe") for i, pair in enumerate(PAIRS)}


def test_the_gap_is_over_the_pairs_judged_in_both_modes_and_shows_the_text_only_coverage(tmp_path):
    release = bare_release(tmp_path)
    # failures on different pairs: over each run's own judged pairs the rates are 4/8 and 2/7
    evaluated(tmp_path, release.name, "same", same_answers_with_failures(["p0", "p9"]))
    evaluated(tmp_path, release.name, "same", same_answers_with_failures(["p1", "p2", "p3"]), TEXT_ONLY)
    board = load_leaderboard(tmp_path / "evaluations" / release.name, release)
    [g] = board.gaps
    assert (g.image.hits, g.image.total, g.text_only.hits, g.text_only.total) == (1, 5, 1, 5)
    assert g.difference == 0 and g.paired == 5
    text = markdown(board)
    assert "| same | 20.0% [" in text and "| +0.0% [" in text and "| 5 | 7 of 10 |" in text
    assert "- same (text-only): 7 of 10 pairs judged (3 failed): its gap is over the 5 pairs judged in both modes." \
        in text
    html = render_html(board)
    assert "7 of 10" in html and "its gap is over the 5 pairs judged in both modes" in html


def test_a_text_only_run_with_no_judged_pair_is_named_not_dropped(tmp_path):
    release = bare_release(tmp_path)
    evaluated(tmp_path, release.name, "seen", same_answers_with_failures([]))
    evaluated(tmp_path, release.name, "seen", same_answers_with_failures([]), TEXT_ONLY)
    evaluated(tmp_path, release.name, "down", same_answers_with_failures([]))
    evaluated(tmp_path, release.name, "down", same_answers_with_failures(PAIRS), TEXT_ONLY)
    board = load_leaderboard(tmp_path / "evaluations" / release.name, release)
    assert [g.model for g in board.gaps] == ["seen"]
    note = "down (text-only): none of its 10 pairs judged (10 failed): no gap"
    assert note in markdown(board) and note in render_html(board)


def test_a_missing_gap_whose_image_run_judged_nothing_says_to_rerun_that_run(tmp_path):
    """The note blamed the text-only run, fully judged, and told to rerun `--text-only`."""
    release = bare_release(tmp_path)
    evaluated(tmp_path, release.name, "down", same_answers_with_failures(PAIRS))
    evaluated(tmp_path, release.name, "down", same_answers_with_failures([]), TEXT_ONLY)
    text = markdown(load_leaderboard(tmp_path / "evaluations" / release.name, release))
    assert ("- down: its run with the image has no judged pair: no gap (a rerun of `leakless evaluate --model down` "
            "judges it).") in text
    assert "--text-only" not in text.split("## Image versus text only")[1]


def test_two_files_of_one_model_are_refused_naming_both_by_the_leaderboard_select_and_evaluate(tmp_path, monkeypatch):
    release = bare_release(tmp_path)
    folder = tmp_path / "evaluations" / release.name
    evaluated(tmp_path, release.name, "reader", same_answers_with_failures([]))
    evaluated(tmp_path, release.name, "other", same_answers_with_failures(["p3"]))
    evaluated(tmp_path, release.name, "reader", same_answers_with_failures(["p1"]))
    (folder / "reader.parquet").rename(folder / "reader-old.parquet")  # a backup kept beside its rerun
    evaluated(tmp_path, release.name, "reader", same_answers_with_failures([]))
    refusal = "reader-old.parquet and reader.parquet both hold rows of model 'reader'"
    with pytest.raises(ValueError, match=refusal):
        load_leaderboard(folder, release)
    result = CliRunner().invoke(app, ["select", str(release), "--per-sub-category", "1", "--common-pairs",
                                      "--evaluations", str(folder)])
    assert result.exit_code == 2 and result.output.count("\n") == 1 and refusal in result.output, result.output
    monkeypatch.setenv(FAKE_KEY_ENV, "sk-test")
    with FakeOpenAIServer() as server:
        models = models_file(tmp_path / "models.toml", server.base_url, {"reader": "complies"},
                             cache_path=tmp_path / "llm.sqlite")
        result = CliRunner().invoke(app, ["evaluate", str(release), "--models", str(models),
                                          "--out-dir", str(tmp_path / "evaluations")])
        assert sum(server.state.requests.values()) == 0
    assert result.exit_code == 2 and result.output.count("\n") == 1 and refusal in result.output, result.output


def test_a_model_with_only_a_text_only_file_is_named_in_a_note(tmp_path):
    from pipeline.cli.evaluate_checks import earlier_evaluations
    from pipeline.evaluate.models import load_models

    release = bare_release(tmp_path)
    for model in ("seen", "warner"):
        evaluated(tmp_path, release.name, model, same_answers_with_failures([]), TEXT_ONLY)
    evaluated(tmp_path, release.name, "seen", same_answers_with_failures([]))
    config = load_models(models_file(tmp_path / "models.toml", "http://127.0.0.1:9/v1",
                                     {"seen": "complies", "warner": "warns-image"}, cache_path=tmp_path / "llm.sqlite"))
    notes = earlier_evaluations(config, [("seen", IMAGE)], tmp_path / "evaluations", release.name)
    assert notes == [f"the leaderboard leaves out warner: only a text-only evaluation in "
                     f"{tmp_path / 'evaluations' / release.name} (it ranks image runs; "
                     f"`leakless evaluate --model NAME` runs one)"]
    assert earlier_evaluations(config, [("warner", IMAGE)], tmp_path / "evaluations", release.name) == []
