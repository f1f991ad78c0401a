"""Who is asking: a Bearer token for the JSON API, a session cookie for the browser.

A browser opens the app once with `?token=...`; that GET swaps the token for a
server-side session (the cookie holds a random session id, never the token) and
redirects to the same address without it. A link carrying another annotator's
token never switches a signed-in browser silently: it asks first. Form POSTs
carry a CSRF token derived from the session, and the access log never holds a
token (`RedactTokens`).
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import logging
import re

from fastapi import HTTPException, Request

from pipeline.review.store import ReviewStore, Token

COOKIE = "leakless_session"
TOKEN_IN_QUERY = re.compile(r"(?<=[?&]token=)[^&\s\"]*")


def csrf_token(session: str) -> str:
    """Per-session and unguessable without the session id, so no other site can forge a form post."""
    return hmac.new(session.encode("utf-8"), b"leakless-review-csrf", hashlib.sha256).hexdigest()[:32]


def bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    return header[7:].strip() if header.lower().startswith("bearer ") else None


def api_token(request: Request, store: ReviewStore) -> Token:
    """The API takes only `Authorization: Bearer`: no cookie, so no cross-site request can ride on it."""
    token = store.token(bearer(request))
    if token is None:
        raise HTTPException(401, "a valid review token is required (Authorization: Bearer <token>)",
                            headers={"WWW-Authenticate": "Bearer"})
    return token


def browser_token(request: Request, store: ReviewStore) -> Token:
    token = store.session(request.cookies.get(COOKIE))
    if token is None:
        raise HTTPException(401, "you are not signed in: open the review link with ?token=... you were given")
    return token


def check_csrf(request: Request, form: dict[str, str]) -> None:
    session = request.cookies.get(COOKIE) or ""
    if not session or not hmac.compare_digest(form.get("csrf", ""), csrf_token(session)):
        raise HTTPException(403, "this form is stale or did not come from the review app: reload the page")


def set_session_cookie(response, request: Request, session: str) -> None:
    response.set_cookie(COOKIE, session, httponly=True, samesite="strict", secure=request.url.scheme == "https")


class RedactTokens(logging.Filter):
    """Blanks `token=...` in access-log lines (uvicorn logs the full path with its query)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(TOKEN_IN_QUERY.sub("[redacted]", arg) if isinstance(arg, str) else arg
                                for arg in record.args)
        record.msg = TOKEN_IN_QUERY.sub("[redacted]", str(record.msg))
        return True


def log_config() -> dict:
    """uvicorn's logging set-up with `RedactTokens` on the access logger."""
    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    config.setdefault("filters", {})["redact_tokens"] = {"()": RedactTokens}
    config["loggers"]["uvicorn.access"]["filters"] = ["redact_tokens"]
    return config
