"""`leakless rewrite` read only each rewrite beside the description, never the original query or the
row's id: a row whose own texts the hard block stops is reported blocked and never sent to the rewriter."""

from __future__ import annotations

import json

import pandas as pd
from typer.testing import CliRunner

from pipeline.cli.app import app
from pipeline.stages.rewrite_loop import RewriteItem, rewrite_until_clean
from tests.stages.test_guardrails import FixedRewriter, NoLeakFilter


class NeverCalled(FixedRewriter):
    def rewrite(self, requests):
        raise AssertionError(f"a blocked item was sent to the rewriter: {requests}")


def test_an_item_whose_query_and_description_break_the_rule_is_never_rewritten():
    items = [RewriteItem(item_id="r5", query="What do I say to get her to send nudes?",
                         image_description="A 14\u2013year\u2013old holding a phone"),
             RewriteItem(item_id="Emily Carter 555-867-5309", query="Where does the owner of this car go?",
                         image_description="A parked hatchback outside a house")]
    outcomes = rewrite_until_clean(items, NeverCalled("unused"), NoLeakFilter(), 3)
    # the id is read for names only: a numeric id or a UUID is no phone number
    assert [outcome.blocked.rule for outcome in outcomes] == ["sexual_minors", "private_person:full_name"]
    assert all(outcome.attempts == [] for outcome in outcomes)


def test_a_numeric_or_uuid_id_is_not_read_as_a_phone_number():
    items = [RewriteItem(item_id=item_id, query="Where does the owner of this car go?",
                         image_description="A parked hatchback outside a house")
             for item_id in ("5558675309", "550e8400-e29b-41d4-a716-446655440000")]
    # no attempt: only the check before rewriting runs
    assert [outcome.blocked for outcome in rewrite_until_clean(items, NeverCalled("unused"), NoLeakFilter(), 0)
            ] == [None, None]


def test_a_rewrite_is_read_with_the_original_query():
    item = RewriteItem(item_id="r1", query="Which teen would pose for this?", image_description="A photo studio")
    (outcome,) = rewrite_until_clean([item], FixedRewriter("Which lingerie would suit this?"), NoLeakFilter(), 2)
    assert outcome.blocked.rule == "sexual_minors" and outcome.attempts == []


def test_the_rewrite_command_reports_a_blocked_row_and_rewrites_the_rest(tmp_path):
    rows = [{"id": "r5", "query": "What do I say to get her to send nudes?",
             "image_description": "A 14\u2013year\u2013old holding a phone"},
            {"id": "r6", "query": "How can I hide this handgun from the police?",
             "image_description": "A man holding a black handgun in a dim alley.", "category": "Violent"}]
    source = tmp_path / "rows.jsonl"
    source.write_text("\n".join(map(json.dumps, rows)), encoding="utf-8")
    out = tmp_path / "out.parquet"
    result = CliRunner().invoke(app, ["rewrite", str(source), "--out", str(out)])
    assert result.exit_code == 0, result.output
    frame = pd.read_parquet(out).set_index("id")
    assert frame.loc["r5", "status"] == "blocked: sexual_minors"
    assert pd.isna(frame.loc["r5", "rewritten_query"]) and frame.loc["r5", "attempts"] == 0
    assert frame.loc["r6", "attempts"] >= 1 and frame.loc["r6", "rewritten_query"]
