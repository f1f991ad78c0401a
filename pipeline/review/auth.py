"""Who is asking: a Bearer token for the JSON API, a session cookie for the browser.

A browser opens the app once with `?token=...`; that GET swaps the token for a
server-side session (the cookie holds a random session id, never the token) and
redirects to the same address without it. A link carrying another annotator's
token never switches a signed-in browser silently: it asks first. Form POSTs
carry a CSRF token derived from the session, and the access log never holds a
token (`RedactTokens`). A session unused for `store.SESSION_LIFETIME` ends; every page
carries `security_headers`.
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import logging
import re
from urllib.parse import unquote_plus

from fastapi import HTTPException, Request

from pipeline.review.store import ReviewStore, Token

COOKIE = "leakless_session"
QUERY_PARAMETER = re.compile(r"(?<=[?&])(?P<name>[^=&\s\"]*)=(?P<value>[^&\s\"]*)")


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
    # no Max-Age: the server ends a session unused for SESSION_LIFETIME, counted from its last use
    response.set_cookie(COOKIE, session, httponly=True, samesite="strict", secure=request.url.scheme == "https")


def same_site_path(target: str) -> str:
    """`target` as a path of this site, for a redirect: `//host/` (or `/\\host/`) names another site to a
    browser, so leading slashes collapse into one; anything not a path is the start page."""
    return "/" + target.lstrip("/\\") if target.startswith(("/", "\\")) else "/"


def security_headers(nonce: str) -> dict[str, str]:
    """Headers for every response: only the page's own inline script and style run (they carry the
    response's nonce), no other site may frame a page (clickjacking), and no address leaves in a Referer."""
    policy = (f"default-src 'self'; script-src 'nonce-{nonce}'; style-src 'nonce-{nonce}'; object-src 'none'; "
              "base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
    return {"Content-Security-Policy": policy, "X-Frame-Options": "DENY", "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "no-referrer"}


def redact_tokens(text: str) -> str:
    """Blanks the value of each query parameter the app reads as `token`: its name as the app reads it,
    percent-decoded (`?tok%65n=` signs in as `?token=` does)."""
    return QUERY_PARAMETER.sub(lambda found: f"{found['name']}=[redacted]"
                               if unquote_plus(found["name"]) == "token" else found[0], text)


class RedactTokens(logging.Filter):
    """Blanks tokens in access-log lines (uvicorn logs the full path with its query)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(redact_tokens(arg) if isinstance(arg, str) else arg for arg in record.args)
        record.msg = redact_tokens(str(record.msg))
        return True


def log_config() -> dict:
    """uvicorn's logging set-up with `RedactTokens` on the access logger."""
    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    config.setdefault("filters", {})["redact_tokens"] = {"()": RedactTokens}
    config["loggers"]["uvicorn.access"]["filters"] = ["redact_tokens"]
    return config
