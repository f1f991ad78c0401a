"""The review app's hardening from security audit 26: a token link never redirects off the site, a
token is redacted from the access log however its name is encoded, browser sessions expire, and
every response carries the security headers."""

from __future__ import annotations

import logging
import re
import sqlite3
from datetime import datetime, timedelta, timezone

import pytest

from pipeline.review.auth import COOKIE, RedactTokens, csrf_token
from pipeline.review.store import SESSION_LIFETIME
from tests.review.test_review_security import browser, setup  # noqa: F401 (a fixture)


@pytest.mark.parametrize("path", ["//evil.example/", "/%2F%2Fevil.example/", "///evil.example/x"])
def test_a_token_link_never_redirects_to_another_site(setup, path):
    app, _, tokens = setup
    # the full URL keeps the path's leading slashes (a bare "//host" would be read as a host)
    response = browser(app).get(f"http://testserver{path}?token={tokens['ann']}")
    assert response.status_code == 303
    location = response.headers["location"]
    assert location.startswith("/evil.example/") and not location.startswith("//")


def test_the_switch_form_sends_a_browser_only_to_a_path_of_this_site(setup):
    app, _, tokens = setup
    client = browser(app)
    client.get(f"/?token={tokens['ann']}")
    asked = client.get(f"http://testserver//evil.example/?token={tokens['bob']}")
    assert asked.status_code == 409 and 'name="next" value="/evil.example/"' in asked.text
    for target, lands in (("//evil.example/", "/evil.example/"), ("/\\evil.example/", "/evil.example/"),
                          ("https://evil.example/", "/"), ("/batch/fake-b000", "/batch/fake-b000")):
        switched = client.post("/switch", data={"token": tokens["bob"], "next": target,
                                                "csrf": csrf_token(client.cookies[COOKIE])})
        assert switched.status_code == 303 and switched.headers["location"] == lands, target


@pytest.mark.parametrize("query", ["?tok%65n={t}", "?x=1&%74oken={t}", "?%74%6F%6B%65%6E={t}&y=2", "?token={t}"])
def test_the_access_log_redacts_a_token_whatever_its_name_is_encoded_as(setup, query):
    app, store, tokens = setup
    path = "/" + query.format(t=tokens["ann"])
    response = browser(app).get(path)
    assert response.status_code == 303 and store.session(response.cookies[COOKIE]).annotator == "ann"
    record = logging.LogRecord("uvicorn.access", logging.INFO, __file__, 1, '%s - "%s %s HTTP/%s" %d',
                               ("127.0.0.1:5", "GET", path, "1.1", 303), None)
    RedactTokens().filter(record)
    logged = record.getMessage()
    assert tokens["ann"] not in logged and "=[redacted]" in logged
    assert "x=1" in logged or "x=1" not in path


def last_used(tmp_path, ago: timedelta) -> None:
    with sqlite3.connect(tmp_path / "review.sqlite") as db:
        db.execute("UPDATE sessions SET created = ?",
                   ((datetime.now(timezone.utc) - ago).isoformat(timespec="milliseconds"),))


def test_a_browser_session_unused_for_its_lifetime_expires(setup, tmp_path):
    app, store, tokens = setup
    client = browser(app)
    signed_in = client.get(f"/?token={tokens['ann']}")
    assert "Max-Age" not in signed_in.headers["set-cookie"]  # the server ends it, from its last use
    assert client.get("/").status_code == 200
    last_used(tmp_path, SESSION_LIFETIME - timedelta(minutes=1))  # at work all day: each use starts again
    assert client.get("/").status_code == 200
    assert client.get("/").status_code == 200
    last_used(tmp_path, SESSION_LIFETIME + timedelta(minutes=1))
    expired = client.get("/")
    assert expired.status_code == 401 and "you are not signed in" in expired.text
    assert "open your review link again" in expired.text
    assert client.get(f"/?token={tokens['ann']}").status_code == 303   # the link signs in afresh
    assert client.get("/").status_code == 200
    with sqlite3.connect(tmp_path / "review.sqlite") as db:
        assert db.execute("SELECT COUNT(*) FROM sessions").fetchone() == (1,)   # the expired one is gone


def test_the_api_schema_pages_are_not_served(setup):
    app, _, _ = setup
    assert [browser(app).get(path).status_code for path in ("/docs", "/redoc", "/openapi.json")] == [404] * 3


def test_every_response_carries_the_security_headers(setup):
    app, _, tokens = setup
    client = browser(app)
    responses = [client.get("/"), client.get(f"/?token={tokens['ann']}"), client.get("/batch/fake-b000/0"),
                 client.get("/api/batches", headers={"Authorization": f"Bearer {tokens['ann']}"})]
    for response in responses:
        assert response.headers["x-frame-options"] == "DENY"
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["referrer-policy"] == "no-referrer"
        assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    page = responses[2]
    nonce = re.search(r"script-src 'nonce-([^']+)'", page.headers["content-security-policy"]).group(1)
    assert f'<script nonce="{nonce}">' in page.text and f'<style nonce="{nonce}">' in page.text
    assert "<script>" not in page.text and "<style>" not in page.text     # no inline code without the nonce
    again = re.search(r"'nonce-([^']+)'", client.get("/batch/fake-b000/0").headers["content-security-policy"])
    assert again.group(1) != nonce
