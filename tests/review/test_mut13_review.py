"""mut13: drafts beside submitted annotations, as the Label Studio import reads them (quick, through the CLI)."""

from __future__ import annotations

from tests.review.test_labelstudio_import_annotator_acts import (ACCEPTED_7, DRAFT_OVER_ACCEPT, HELD,
                                                                 cli_import, current, draft, in_run, reason, run,
                                                                 task, verdict)

__all__ = ["run"]  # the fixture


def test_a_draft_over_the_accept_saved_before_its_last_change_still_holds_it_back(run):
    # Label Studio deletes a draft when its annotation is saved: a draft of the annotation still in the export
    # is newer whatever its time says (here the annotation's updated_at was moved after the draft's)
    moved = {**ACCEPTED_7, "updated_at": "2026-12-07T18:01:40.000000Z"}
    exported = in_run(run, task(7, [moved], [DRAFT_OVER_ACCEPT], "2026-12-07T18:01:40.100000Z"))
    result = cli_import(run, exported)
    assert result.exit_code == 1 and "alice's accept is not used: alice has an unsubmitted draft" in result.output
    assert current(run) == {}


def test_a_draft_with_no_time_in_the_export_cannot_be_shown_older_and_holds_the_accept_back(run):
    undated = {key: value for key, value in draft(5, 7, [verdict("reject"), reason("low_quality")], "", None).items()
               if key not in ("created_at", "updated_at")}
    exported = in_run(run, task(7, [ACCEPTED_7], [undated], "2026-12-07T18:01:34.267939Z"))
    result = cli_import(run, exported)
    assert result.exit_code == 1 and "(reject: low_quality, no time in the export)" in result.output
    assert current(run) == {}


def test_of_several_newer_drafts_the_latest_is_named(run):
    later = draft(6, 7, [verdict("reject"), reason("still_leaks")], "2026-12-07T18:01:50.000000Z", 12)
    exported = in_run(run, task(7, [ACCEPTED_7], [later, DRAFT_OVER_ACCEPT], "2026-12-07T18:01:34.267939Z"))
    result = cli_import(run, exported)
    assert "(reject: still_leaks, 2026-12-07T18:01:50.000+00:00)" in result.output
    assert "(reject: low_quality, " not in result.output


def test_a_draft_over_a_submitted_annotation_is_not_said_to_be_the_annotators_only_work(run):
    exported = in_run(run, task(7, [ACCEPTED_7], [DRAFT_OVER_ACCEPT], "2026-12-07T18:01:34.267939Z"))
    result = cli_import(run, exported)
    assert HELD in result.output
    assert "no submitted annotation" not in result.output


def test_a_draft_listed_by_id_beside_an_annotation_is_named_once(run):
    exported = in_run(run, task(7, [ACCEPTED_7], [2], "2026-12-07T18:01:34.267939Z"))
    result = cli_import(run, exported)
    assert result.output.count("(id 2)") == 1
    assert "nothing of them is recorded" not in result.output


def test_the_latest_of_a_users_drafts_is_the_one_noted(run):
    first = draft(7, 2, [verdict("accept")], "2026-12-07T18:01:30.000000Z", None, user=("bob@example.org", 2))
    latest = draft(8, 2, [verdict("reject"), reason("not_harmful")], "2026-12-07T18:01:45.000000Z", None,
                   user=("bob@example.org", 2))
    exported = in_run(run, task(2, [], [latest, first], "2026-12-07T18:01:45.100000Z"))
    result = cli_import(run, exported)
    assert "task 2: bob has an unsubmitted draft (reject: not_harmful, 2026-12-07T18:01:45.000+00:00)" in result.output
