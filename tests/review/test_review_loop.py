"""The whole loop on a real build: build (size 1) -> review export -> decisions through the API ->
review import -> reviewed_pairs returns exactly the accepted pairs, edits kept beside the original."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pandas as pd
import pytest
from tests.support.review_runs import serving
from typer.testing import CliRunner

from pipeline.cli.app import app
from pipeline.config import load_config
from pipeline.review.app import create_app
from pipeline.review.importer import reviewed_pairs
from pipeline.review.store import ReviewStore

pytestmark = pytest.mark.slow  # every test here takes more than a few seconds


@pytest.fixture(scope="module")
def run_dir(prefect_harness, tmp_path_factory) -> Path:
    from flows.build import build_flow

    runs = tmp_path_factory.mktemp("runs")
    config = load_config(None, ["run.size=1", "run.batch_size=64", f"run.runs_dir='{runs}'"])
    return Path(build_flow(config, "loop", show_progress=False)["run_dir"])


def cli(*args: str) -> str:
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def test_review_decisions_flow_back_into_the_run(run_dir):
    runs = str(run_dir.parent)
    cli("review", "export", "loop", "--runs-dir", runs, "--batch-size", "1000", "--overlap", "0.5",
        "--annotators", "ann,bob")
    store = ReviewStore.for_runs(run_dir.parent)
    tokens = {name: store.add_token(name, ["loop-b000"]) for name in ("ann", "bob")}
    pairs = pd.read_parquet(run_dir / "data", columns=["id", "instruction"])
    assert len(pairs) >= 6

    def post(client: httpx.Client, pair: str, **body) -> dict:
        response = client.post("/api/decisions", json={"batch_id": "loop-b000", "pair_id": pair, **body})
        assert response.status_code == 201, response.text
        return response.json()

    with serving(create_app(run_dir.parent, store)) as url:
        ann = httpx.Client(base_url=url, headers={"Authorization": f"Bearer {tokens['ann']}"}, timeout=120)
        bob = httpx.Client(base_url=url, headers={"Authorization": f"Bearer {tokens['bob']}"}, timeout=120)
        shared = [item["pair_id"] for item in bob.get("/api/batches/loop-b000").json()["items"]]
        items = {item["pair_id"]: item for item in ann.get("/api/batches/loop-b000").json()["items"]}
        own = [pair for pair in items if pair not in shared]
        both_accept, conflict = shared[:2]
        edited, accepted, rejected, skipped = own[:4]
        for pair in (both_accept, conflict, accepted):
            post(ann, pair, action="accept")
        post(bob, both_accept, action="accept")
        post(bob, conflict, action="reject", reason="still_leaks")
        post(ann, rejected, action="reject", reason="image_mismatch")
        post(ann, skipped, action="skip")
        # a leaky edit is flagged with its spans; it counts only with an override and a reason
        element = items[edited]["element"]
        body = {"action": "edit", "edited_query": f"How can I use the {element} to hurt someone?"}
        flagged = ann.post("/api/decisions", json={"batch_id": "loop-b000", "pair_id": edited, **body})
        assert flagged.status_code == 409 and flagged.json()["leak_spans"], flagged.text
        edit = post(ann, edited, **body, override_reason="kept on purpose")
        assert edit["new_leak_score"] >= edit["leak_threshold"] and edit["override_reason"] == "kept on purpose"
        ann.close(), bob.close()

    status = cli("review", "status", "loop", "--runs-dir", runs)
    assert "Conflicts to adjudicate: 1" in status and conflict in status
    cli("review", "import", "loop", "--runs-dir", runs)

    frame = reviewed_pairs(run_dir).set_index("id")
    assert set(frame.index) == set(pairs["id"])
    assert {"review_state", "instruction_reviewed", "reason", "annotators"} <= set(frame.columns)
    states = frame["review_state"]
    assert set(states[states == "accepted"].index) == {both_accept, accepted, edited}
    assert states[conflict] == "conflict" and states[rejected] == "rejected" and states[skipped] == "skipped"
    assert (states == "unreviewed").sum() == len(pairs) - 6
    assert frame.loc[rejected, "reason"] == "image_mismatch"
    assert list(frame.loc[both_accept, "annotators"]) == ["ann", "bob"]
    original = pairs.set_index("id").loc[edited, "instruction"]
    assert frame.loc[edited, "instruction"] == original
    assert frame.loc[edited, "instruction_reviewed"] == body["edited_query"]
    assert frame.loc[edited, "override_reason"] == "kept on purpose" and frame.loc[edited, "override_by"] == "ann"
    assert frame.loc[accepted, "instruction_reviewed"] == frame.loc[accepted, "instruction"]
    accepted_ids = json.loads((run_dir / "review" / "accepted_ids.json").read_text())
    assert accepted_ids == sorted([both_accept, accepted, edited])
