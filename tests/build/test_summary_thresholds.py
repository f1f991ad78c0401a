"""The build summary names the thresholds that dropped pairs (the leak threshold and where it came from, the
offline harm check's min_intent_similarity), read from the run's own records: config.json and the leak
filter's decisions, not from today's defaults."""

from __future__ import annotations

import json

from pipeline.batch import Batch
from pipeline.build import finalize
from pipeline.build_thresholds import summary_line
from pipeline.config import load_config
from pipeline.records import Decision, Verdict
from pipeline.rundir import RunDir


def leak_decision(threshold: float) -> Decision:
    return Decision(item_id="p1", seed_id="s1", stage="leak_filter", score=0.1, threshold=threshold,
                    verdict=Verdict.keep, code="leak.none", reason="leak-free", backend="offline-detector",
                    model="m", prompt_hash="")


def summary_of(tmp_path, overrides: list[str], *, edit_record=None, decisions=()) -> str:
    """summary.md of a run claimed with `overrides`, whose config.json `edit_record` may change first
    (a run made by an older leakless), finished with one batch holding `decisions`."""
    config = load_config(None, [f"run.runs_dir='{tmp_path}'", *overrides])
    run = RunDir(tmp_path, "r1")
    run.claim(config)
    if edit_record is not None:
        stored = run.stored_config()
        edit_record(stored)
        run.config_record.write_text(json.dumps(stored), encoding="utf-8")
    finalize([Batch(seeds=[], decisions=list(decisions))], config, run, 0.0)
    return (run.path / "summary.md").read_text(encoding="utf-8")


def test_the_summary_names_a_set_leak_threshold_and_the_intent_threshold(tmp_path):
    markdown = summary_of(tmp_path, ["leak_filter.threshold=0.3", "harm_check.min_intent_similarity=0.5"],
                          decisions=[leak_decision(0.3)])
    assert ("Thresholds: leak 0.3 (`leak_filter.threshold`); harm check intent similarity 0.5 "
            "(`harm_check.min_intent_similarity`).") in markdown


def test_an_unset_leak_threshold_is_the_detectors_own_as_its_decisions_recorded_it(tmp_path):
    markdown = summary_of(tmp_path, [], decisions=[leak_decision(0.47)])
    assert "Thresholds: leak 0.47 (the detector's own: `leak_filter.threshold` unset); " in markdown
    assert "harm check intent similarity 0.35 " in markdown


def test_the_runs_record_is_read_not_the_config_in_hand(tmp_path):
    def made_at_other_settings(stored):
        stored["leak_filter"]["threshold"] = 0.2
        stored["harm_check"]["min_intent_similarity"] = 0.6

    markdown = summary_of(tmp_path, [], edit_record=made_at_other_settings, decisions=[leak_decision(0.2)])
    assert "leak 0.2 (`leak_filter.threshold`); harm check intent similarity 0.6 " in markdown


def test_a_run_whose_config_lacks_the_keys_says_unknown(tmp_path):
    def made_before_the_settings(stored):
        del stored["leak_filter"], stored["harm_check"], stored["backends"]["harm_check"]

    markdown = summary_of(tmp_path, [], edit_record=made_before_the_settings)
    assert ("Thresholds: leak unknown (the run's config.json does not say whether `leak_filter.threshold` was "
            "set); harm check intent similarity unknown (`harm_check.min_intent_similarity`).") in markdown


def test_an_old_run_with_leak_decisions_still_gives_their_threshold():
    line = summary_line({}, [leak_decision(0.5), leak_decision(0.5)])
    assert line.startswith("Thresholds: leak 0.5 (the run's config.json does not say whether")


def test_an_llm_harm_check_has_no_threshold_to_name():
    config = {"leak_filter": {"threshold": None}, "backends": {"harm_check": "llm"},
              "harm_check": {"min_intent_similarity": 0.35}}
    assert summary_line(config, [leak_decision(0.5)]) == (
        "Thresholds: leak 0.5 (the detector's own: `leak_filter.threshold` unset).")


def test_no_run_record_at_all_is_no_crash():
    assert summary_line(None, []) == ("Thresholds: leak unknown (the run's config.json does not say whether "
                                      "`leak_filter.threshold` was set); harm check intent similarity unknown "
                                      "(`harm_check.min_intent_similarity`).")
