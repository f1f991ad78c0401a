"""The review app's security, through real requests: the URL token is swapped once for a session,
no login CSRF, CSRF tokens on form posts, images per assigned pair, request ids per annotator,
tokens never in the access log, HTML error pages for browsers."""

from __future__ import annotations

import logging
import re

import httpx
import pytest
from fastapi.testclient import TestClient
from tests.support.review_runs import make_run, serving

from pipeline.review.app import create_app
from pipeline.review.auth import COOKIE, log_config
from pipeline.review.batches import export_batches
from pipeline.review.store import ReviewStore


@pytest.fixture()
def setup(tmp_path):
    export_batches(make_run(tmp_path, pairs=6), batch_size=3)
    store = ReviewStore.for_runs(tmp_path)
    tokens = {"ann": store.add_token("ann", ["fake-b000"]), "bob": store.add_token("bob", ["fake-b000"])}
    return create_app(tmp_path, store), store, tokens


def browser(app, base_url: str = "http://testserver") -> TestClient:
    return TestClient(app, base_url=base_url, follow_redirects=False)


def sign_in(client: TestClient, token: str) -> None:
    response = client.get(f"/batch/fake-b000/0?token={token}")
    assert response.status_code == 303, response.text


def csrf_of(page: str) -> str:
    return re.search(r'name="csrf" value="([0-9a-f]+)"', page).group(1)


def test_url_token_is_swapped_for_a_session_cookie_and_dropped_from_the_url(setup):
    app, store, tokens = setup
    client = browser(app)
    response = client.get(f"/batch/fake-b000/1?token={tokens['ann']}")
    assert response.status_code == 303 and response.headers["location"] == "/batch/fake-b000/1"
    cookie = response.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Secure" not in cookie
    session = client.cookies[COOKIE]
    assert session != tokens["ann"] and tokens["ann"] not in cookie   # the cookie never holds the token
    assert store.session(session).annotator == "ann"
    assert client.get("/batch/fake-b000/1").status_code == 200       # from now on the session is enough
    https = browser(app, "https://testserver").get(f"/?token={tokens['ann']}")
    assert "Secure" in https.headers["set-cookie"]


def test_token_in_the_query_is_not_accepted_on_a_post(setup):
    app, store, tokens = setup
    response = browser(app).post(f"/batch/fake-b000/0?token={tokens['ann']}", data={"action": "accept"})
    assert response.status_code == 401 and store.current(run_id="fake") == []
    api = browser(app).post(f"/api/decisions?token={tokens['ann']}",
                            json={"batch_id": "fake-b000", "pair_id": "pair0001", "action": "accept"})
    assert api.status_code == 401 and store.current(run_id="fake") == []


def test_a_link_with_another_annotators_token_does_not_switch_silently(setup):
    app, store, tokens = setup
    client = browser(app)
    sign_in(client, tokens["ann"])
    ann_session = client.cookies[COOKIE]
    asked = client.get(f"/?token={tokens['bob']}")
    assert asked.status_code == 409 and "signed in as <strong>ann</strong>" in asked.text
    assert "set-cookie" not in asked.headers and store.session(ann_session).annotator == "ann"
    forged = client.post("/switch", data={"token": tokens["bob"], "next": "/"})   # no CSRF token: refused
    assert forged.status_code == 403 and store.session(client.cookies[COOKIE]).annotator == "ann"
    switched = client.post("/switch", data={"token": tokens["bob"], "next": "/", "csrf": csrf_of(asked.text)})
    assert switched.status_code == 303 and store.session(client.cookies[COOKIE]).annotator == "bob"


def test_form_posts_need_the_sessions_csrf_token(setup):
    app, store, tokens = setup
    client = browser(app)
    sign_in(client, tokens["ann"])
    page = client.get("/batch/fake-b000/0")
    assert page.text.count(f'name="csrf" value="{csrf_of(page.text)}"') == 4  # accept, reject, skip, edit
    for body in ({"action": "accept"}, {"action": "accept", "csrf": "0" * 32}):
        refused = client.post("/batch/fake-b000/0", data=body)
        assert refused.status_code == 403 and "text/html" in refused.headers["content-type"]
    assert store.current(run_id="fake") == []
    other = browser(app)
    sign_in(other, tokens["bob"])
    stolen = client.post("/batch/fake-b000/0", data={"action": "accept", "csrf": csrf_of(
        other.get("/batch/fake-b000/0").text)})                          # another session's token
    assert stolen.status_code == 403
    pair = re.search(r'name="pair_id" value="([^"]+)"', page.text).group(1)
    ok = client.post("/batch/fake-b000/0", data={"action": "accept", "csrf": csrf_of(page.text), "pair_id": pair,
                                                 "shown": "0"})
    assert ok.status_code == 303 and [e.action for e in store.current(run_id="fake")] == ["accept"]


def test_request_id_is_scoped_per_annotator(setup):
    app, store, tokens = setup
    client = browser(app)
    body = {"batch_id": "fake-b000", "pair_id": "pair0001", "request_id": "retry-1"}
    ann = client.post("/api/decisions", json={**body, "action": "accept"},
                      headers={"Authorization": f"Bearer {tokens['ann']}"}).json()
    bob = client.post("/api/decisions", json={**body, "action": "reject", "reason": "still_leaks"},
                      headers={"Authorization": f"Bearer {tokens['bob']}"}).json()
    assert (ann["annotator"], bob["annotator"]) == ("ann", "bob") and ann["id"] != bob["id"]
    assert bob["action"] == "reject"
    again = client.post("/api/decisions", json={**body, "action": "reject", "reason": "still_leaks"},
                        headers={"Authorization": f"Bearer {tokens['bob']}"}).json()
    assert again["id"] == bob["id"]                                      # bob's own retry is still recorded once
    changed = client.post("/api/decisions", json={**body, "action": "skip"},
                          headers={"Authorization": f"Bearer {tokens['bob']}"})
    assert changed.status_code == 409 and "already used by bob for another decision" in changed.json()["detail"]
    assert [e.action for e in store.current(run_id="fake", annotator="bob")] == ["reject"]


def test_browsers_get_html_error_pages_and_the_api_keeps_json(setup):
    app, _, tokens = setup
    client = browser(app)
    signed_out = client.get("/")
    assert signed_out.status_code == 401 and signed_out.headers["content-type"].startswith("text/html")
    assert "you are not signed in" in signed_out.text and "{" not in signed_out.text.split("<body>")[1]
    assert client.get("/?token=not-a-token").status_code == 401
    sign_in(client, tokens["ann"])
    missing = client.get("/batch/fake-b001/0")
    assert missing.status_code == 403 and "not scoped to batch fake-b001" in missing.text
    assert "<h1 id=\"error\">403</h1>" in missing.text
    api = client.get("/api/batches")
    assert api.status_code == 401 and api.json()["detail"].startswith("a valid review token is required")


def test_a_revoked_token_ends_its_sessions(setup):
    app, store, tokens = setup
    client = browser(app)
    sign_in(client, tokens["ann"])
    assert client.get("/").status_code == 200
    store.revoke("ann")
    assert client.get("/").status_code == 401
    assert client.get(f"/?token={tokens['ann']}").status_code == 401


def test_the_access_log_never_holds_a_token(setup, tmp_path):
    app, _, tokens = setup
    log_file = tmp_path / "access.log"
    handler = logging.FileHandler(log_file)
    access = logging.getLogger("uvicorn.access")
    with serving(app, log_config=log_config()) as url:
        access.addHandler(handler)
        try:
            with httpx.Client(base_url=url, follow_redirects=False) as client:
                assert client.get(f"/?token={tokens['ann']}").status_code == 303
                client.get(f"/batch/fake-b000/0?token={tokens['bob']}&x=1")
                client.post(f"/batch/fake-b000/0?token={tokens['ann']}", data={"action": "accept"})
                client.get("/api/batches", headers={"Authorization": f"Bearer {tokens['ann']}"})
        finally:
            access.removeHandler(handler)
            handler.close()
    logged = log_file.read_text()
    assert logged.count("token=[redacted]") == 3 and "/api/batches" in logged
    assert tokens["ann"] not in logged and tokens["bob"] not in logged
