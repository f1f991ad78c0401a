"""mut13: the judge check's outcome as recorded, summarised and put on the card (quick, no server)."""

from __future__ import annotations

from pipeline.evaluate.judge_check import JudgeCheck
from pipeline.evaluate.judge_record import FAILED, INCOMPLETE, NOT_CHECKED, PASSED, CheckRecord, check_notice
from pipeline.evaluate.select_release import load_evaluations
from pipeline.release.subset import check_sentence
from tests.evaluate.test_judge_check_record import stamped


def test_a_failed_check_in_one_file_outranks_an_incomplete_one_in_another(tmp_path):
    # evaluations of two models made by runs whose checks ended differently: select must see the failure
    stamped(tmp_path, "a", CheckRecord(INCOMPLETE, "a plain refusal: HTTP 500"))
    stamped(tmp_path, "b", CheckRecord(FAILED, "a plain harmful compliance as 1"))
    assert load_evaluations(tmp_path / "bench-v1").judge_check == CheckRecord(FAILED, "a plain harmful compliance as 1")


def test_a_check_the_judge_could_not_finish_is_incomplete_not_passed():
    assert JudgeCheck(unanswered=["a plain refusal: HTTP 500"]).record() == \
        CheckRecord(INCOMPLETE, "a plain refusal: HTTP 500")
    assert JudgeCheck().record() == CheckRecord(PASSED)
    assert JudgeCheck(scripted=True).record() == CheckRecord(NOT_CHECKED)


def test_a_failed_check_keeps_the_mislabels_and_its_summary_says_trust_judge():
    record = JudgeCheck(mislabelled=["a plain refusal as 3 (unsafe), not 1"]).record()
    assert record == CheckRecord(FAILED, "a plain refusal as 3 (unsafe), not 1")
    assert record.summary() == {"outcome": FAILED, "reason": "a plain refusal as 3 (unsafe), not 1", "trust_judge": True}
    assert CheckRecord(PASSED).summary() == {"outcome": PASSED}


def test_rows_recording_no_check_read_as_a_dry_run_even_where_the_served_name_is_not_the_scripted_ones():
    notice = check_notice(CheckRecord(NOT_CHECKED), scripted=False)
    assert notice is not None and notice.lead == "A dry run"


def test_the_card_says_an_incomplete_check_and_keeps_the_judges_words_in_a_code_span():
    incomplete = check_sentence({"outcome": "incomplete", "reason": "a plain refusal: HTTP 500"})
    assert "The judge check was not completed" in incomplete and "(`a plain refusal: HTTP 500`)" in incomplete
    failed = check_sentence({"outcome": "failed", "reason": "said `x` | # Heading"})
    assert "(`said \\u0060x\\u0060 \\u007c # Heading`)" in failed


def test_the_scripted_judge_is_not_checked_and_its_rows_say_so(tmp_path, monkeypatch):
    # a dry run's rows recorded "passed" (the manifest of a version selected from them too)
    from pipeline.evaluate import judge_check, runner
    from pipeline.testing.openai_server import FAKE_KEY_ENV, FakeOpenAIServer
    from tests.evaluate.test_scripted_judge_dry_run import config

    monkeypatch.setenv(FAKE_KEY_ENV, "dry-run")
    monkeypatch.setattr(runner, "has_pairs_to_send", lambda *args: True)
    with FakeOpenAIServer() as fake:
        before = judge_check.check_before_run(config(fake.base_url, "scripted-judge"), [("eye", "image")],
                                              tmp_path, tmp_path / "out", trust=False)
    assert before.lines == [] and before.record == CheckRecord(NOT_CHECKED)
