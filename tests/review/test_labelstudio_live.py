"""A live Label Studio round trip (slow; CI runs it): export -> import through its API, images
served by its local-files storage -> annotations through its API -> snapshot export ->
`review labelstudio-import` -> the decisions in the run and in a release."""

from __future__ import annotations

import json
import time
from pathlib import Path

import httpx
import pandas as pd
import pytest
from tests.support.ci import needed_but_missing
from typer.testing import CliRunner

from pipeline.cli.app import app
from pipeline.config import load_config
from pipeline.review.importer import reviewed_pairs
from pipeline.review.labelstudio_users import access_token, fetch_emails
from pipeline.review.store import ReviewStore
from pipeline.testing.local_servers import LABELSTUDIO_VENV, label_studio, missing_install

pytestmark = pytest.mark.slow
LEAD = "lead@example.org"  # the user label_studio() creates; mapped to our annotator "ann"


@pytest.fixture(scope="session")
def labelstudio(tmp_path_factory):
    """One Label Studio for the session; its local-files document root holds the runs."""
    why = missing_install(LABELSTUDIO_VENV, "scripts/setup_labelstudio.sh")
    if why:
        needed_but_missing("the Label Studio tests", why)
    root = tmp_path_factory.mktemp("labelstudio")
    with label_studio(root / "data", root / "files", root / "label-studio.log") as server:
        api = httpx.Client(base_url=server.url, headers={"Authorization": f"Token {server.token}"},
                           timeout=120)
        yield server, api, root / "files"
        api.close()


@pytest.fixture(scope="session")
def personal_access_token(labelstudio) -> str:
    """The lead's Personal Access Token (a JWT refresh token): what Account & Settings gives
    in a new organization, where legacy tokens are off."""
    _, api, _ = labelstudio
    return ok(api.post("/api/token/"))["token"]


def cli(*args: str, code: int = 0, env: dict | None = None) -> str:
    result = CliRunner().invoke(app, list(args), env=env)
    assert result.exit_code == code, result.output
    return result.output


def ok(response: httpx.Response) -> dict | list:
    assert response.status_code in (200, 201), f"{response.request.url}: {response.text[:500]}"
    return response.json()


def choice(name: str, value: str) -> dict:
    return {"from_name": name, "to_name": "query", "type": "choices", "value": {"choices": [value]}}


def edit(text: str) -> dict:
    return {"from_name": "edited_query", "to_name": "query", "type": "textarea", "value": {"text": [text]}}


def snapshot_export(api: httpx.Client, project: int, drafts_in_full: bool = False) -> list[dict]:
    """Full annotations come back only through an export snapshot (which lists drafts by id unless asked)."""
    options = {"predictions": {"only_id": False}} | ({"drafts": {"only_id": False}} if drafts_in_full else {})
    export = ok(api.post(f"/api/projects/{project}/exports/", json={
        "title": "leakless", "serialization_options": options}))
    for _ in range(120):
        if ok(api.get(f"/api/projects/{project}/exports/{export['id']}"))["status"] == "completed":
            break
        time.sleep(0.5)
    response = api.get(f"/api/projects/{project}/exports/{export['id']}/download",
                       params={"exportType": "JSON"})
    assert response.status_code == 200, response.text[:500]
    return response.json()


def test_a_live_label_studio_round_trip(prefect_harness, labelstudio, personal_access_token, tmp_path):
    from flows.build import build_flow

    server, api, files = labelstudio
    runs = files / "runs"
    config = load_config(None, ["run.size=1", "run.categories=['Violent', 'Privacy']",
                                f"run.runs_dir='{runs}'"])
    run_dir = Path(build_flow(config, "ls", show_progress=False)["run_dir"])
    cli("review", "export", "ls", "--runs-dir", str(runs), "--batch-size", "1000", "--annotators", "ann")
    out = run_dir / "review" / "labelstudio"
    prefix = f"/data/local-files/?d={out.relative_to(files)}/images/"
    cli("review", "labelstudio-export", "ls", "--runs-dir", str(runs), "--image-url-prefix", prefix)

    project = ok(api.post("/api/projects", json={"title": "leakless review",
                                                 "label_config": (out / "config.xml").read_text()}))["id"]
    ok(api.post("/api/storages/localfiles", json={"project": project, "title": "images",
                                                   "path": str(out / "images"), "use_blob_urls": False}))
    tasks = json.loads((out / "tasks.json").read_text())
    ok(api.post(f"/api/projects/{project}/import", json=tasks))
    listed = ok(api.get("/api/tasks", params={"project": project, "page_size": 1000}))
    listed = sorted(listed["tasks"] if isinstance(listed, dict) else listed, key=lambda t: t["id"])
    assert len(listed) == len(tasks) >= 7
    image = api.get(listed[0]["data"]["image"])  # served by its local-files storage, not inlined
    assert image.status_code == 200 and image.content.startswith(b"\x89PNG")

    accepted, rejected, edited, no_reason, edit_only = listed[:5]
    kept_edit = edit_only["data"]["query"].rstrip("?") + ", in short?"
    annotations = {
        accepted["id"]: [choice("verdict", "accept")],
        rejected["id"]: [choice("verdict", "reject"), choice("reason", "image_mismatch")],
        # an edit is checked as the review app checks it: this one drifts from the seed's intent
        edited["id"]: [choice("verdict", "accept"), edit("what might happen next in this scene?")],
        no_reason["id"]: [choice("verdict", "reject")],  # the API takes what the editor would not
        edit_only["id"]: [edit(kept_edit)],
    }
    for task_id, result in annotations.items():
        ok(api.post(f"/api/tasks/{task_id}/annotations/", json={"result": result, "task": task_id}))
    exported = snapshot_export(api, project)
    # Label Studio names annotators by user id: the import maps them (--url, --user)
    assert {type(a["completed_by"]) for t in exported for a in t["annotations"]} == {int}
    export_file = tmp_path / "export.json"
    export_file.write_text(json.dumps(exported))

    output = cli("review", "labelstudio-import", "ls", str(export_file), "--runs-dir", str(runs),
                 "--url", server.url, "--user", f"{LEAD}=ann", code=1,
                 env={"LABEL_STUDIO_API_KEY": server.token})
    assert f"task {no_reason['id']} annotation" in output and "a reject needs a reason" in output
    assert f"task {edited['id']} annotation" in output and "intent drifted" in output
    assert "3 new decisions recorded" in output and "labelstudio-user-" not in output
    status = cli("review", "status", "ls", "--runs-dir", str(runs))
    assert "ann" in status and "(nobody yet)" not in status
    cli("review", "import", "ls", "--runs-dir", str(runs))

    frame = reviewed_pairs(run_dir).set_index("id")
    pair = {name: task["data"]["pair_id"] for name, task in
            zip(("accepted", "rejected", "edited", "no_reason", "edit_only"), listed)}
    states = frame["review_state"]
    assert {states[pair[n]] for n in ("accepted", "edit_only")} == {"accepted"}
    assert states[pair["rejected"]] == "rejected" and frame.loc[pair["rejected"], "reason"] == "image_mismatch"
    assert states[pair["no_reason"]] == states[pair["edited"]] == "unreviewed"
    assert frame.loc[pair["edit_only"], "instruction_reviewed"] == kept_edit
    assert frame.loc[pair["edit_only"], "edit_harm_verdict"] == "keep"
    assert list(frame.loc[pair["accepted"], "annotators"]) == ["ann"]

    releases = tmp_path / "releases"
    cli("release", "ls", "--name", "lstrial", "--runs-dir", str(runs), "--releases-dir", str(releases))
    released = pd.read_parquet(next(releases.glob("lstrial-v*")) / "data", columns=["id", "instruction"])
    assert set(released["id"]) <= {pair["accepted"], pair["edit_only"]}
    assert pair["rejected"] not in set(released["id"]) and len(released) >= 1

    # each event carries the time Label Studio last changed its annotation
    (kept,) = [a for t in exported if t["id"] == edit_only["id"] for a in t["annotations"]]
    events = {e.pair_id: e for e in ReviewStore.for_runs(runs).current(run_id="ls")}
    assert events[pair["edit_only"]].at[:19] == kept["updated_at"][:19]

    # an annotation and a task deleted in Label Studio withdraw their decisions on the next import
    (gone,) = [a for t in exported if t["id"] == accepted["id"] for a in t["annotations"]]
    assert api.delete(f"/api/annotations/{gone['id']}/").status_code == 204
    assert api.delete(f"/api/tasks/{rejected['id']}/").status_code == 204
    export_file.write_text(json.dumps(snapshot_export(api, project)))
    output = cli("review", "labelstudio-import", "ls", str(export_file), "--runs-dir", str(runs),
                 "--url", server.url, "--user", f"{LEAD}=ann", code=1,  # the other kind of token
                 env={"LABEL_STUDIO_API_KEY": personal_access_token})
    assert f"ann's accept of pair {pair['accepted']} is withdrawn: its annotation is no longer" in output
    assert f"ann's reject of pair {pair['rejected']} is withdrawn: its task is no longer" in output
    # the release refuses the snapshot `review import` wrote before the withdrawals (a new name: a plain
    # release of a name with versions is refused before anything else)
    assert "run `leakless review import ls` first" in cli(
        "release", "ls", "--name", "lstrial-again", "--runs-dir", str(runs), "--releases-dir", str(releases), code=2)
    cli("review", "import", "ls", "--runs-dir", str(runs))
    states = reviewed_pairs(run_dir).set_index("id")["review_state"]
    assert states[pair["accepted"]] == states[pair["rejected"]] == "skipped"

    # the editor's Skip on a new task (a cancelled annotation carrying the result on screen), and a
    # submitted accept reopened, changed and left without pressing Update (a draft of it)
    skipped, drafted = listed[5:7]
    ok(api.post(f"/api/tasks/{skipped['id']}/annotations/", params={"was_cancelled": 1}, json={
        "result": [choice("verdict", "reject"), choice("reason", "still_leaks")], "task": skipped["id"]}))
    kept = ok(api.post(f"/api/tasks/{drafted['id']}/annotations/", json={
        "result": [choice("verdict", "accept")], "task": drafted["id"]}))
    ok(api.post(f"/api/tasks/{drafted['id']}/annotations/{kept['id']}/drafts", json={
        "result": [choice("verdict", "reject"), choice("reason", "low_quality")], "lead_time": 2.0}))
    export_file.write_text(json.dumps(snapshot_export(api, project)))  # drafts listed by id only
    output = cli("review", "labelstudio-import", "ls", str(export_file), "--runs-dir", str(runs),
                 "--url", server.url, "--user", f"{LEAD}=ann", code=1, env={"LABEL_STUDIO_API_KEY": server.token})
    assert f"task {drafted['id']}: Label Studio holds unsubmitted draft(s) (id " in output
    assert f"lists by id only, so whether one is newer than ann's accept (annotation {kept['id']})" in output
    assert f"task {skipped['id']} annotation " in output and "what was on screen (reject: still_leaks) was not used" \
        in output
    export_file.write_text(json.dumps(snapshot_export(api, project, drafts_in_full=True)))
    output = cli("review", "labelstudio-import", "ls", str(export_file), "--runs-dir", str(runs),
                 "--url", server.url, "--user", f"{LEAD}=ann", code=1, env={"LABEL_STUDIO_API_KEY": server.token})
    assert f"task {drafted['id']} annotation {kept['id']}: ann's accept is not used: ann has an unsubmitted draft " \
           "newer than it (reject: low_quality, " in output
    cli("review", "import", "ls", "--runs-dir", str(runs))
    frame = reviewed_pairs(run_dir).set_index("id")
    assert frame.loc[skipped["data"]["pair_id"], "review_state"] == "skipped"  # ann's skip, as the app records it
    assert frame.loc[drafted["data"]["pair_id"], "review_state"] == "unreviewed"  # the accept does not ship
    skips = {e.pair_id: e.action for e in ReviewStore.for_runs(runs).current(run_id="ls", annotator="ann")}
    assert skips[skipped["data"]["pair_id"]] == "skip" and drafted["data"]["pair_id"] not in skips


def test_a_personal_access_token_reads_users_where_legacy_tokens_are_off(labelstudio, personal_access_token):
    """A new organization's default (the server starts with legacy tokens on, to make the first token)."""
    server, api, _ = labelstudio
    ok(api.post("/api/jwt/settings", json={"api_tokens_enabled": True, "legacy_api_tokens_enabled": False}))
    try:
        assert LEAD in fetch_emails(server.url, personal_access_token).values()
        with pytest.raises(ValueError, match="HTTP 401 .* to a legacy API token: .* allows legacy tokens"):
            fetch_emails(server.url, server.token)
    finally:  # back on for the other tests' client, which sends the legacy token
        bearer = f"Bearer {access_token(server.url, personal_access_token, 60.0)}"
        ok(api.post("/api/jwt/settings", headers={"Authorization": bearer},
                    json={"api_tokens_enabled": True, "legacy_api_tokens_enabled": True}))
