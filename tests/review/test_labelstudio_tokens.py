"""Both kinds of Label Studio API token against a loopback stand-in for its token and users API:
a Personal Access Token (a JWT refresh token) is exchanged for an access token sent as `Bearer`,
a legacy token is sent as `Token`; a refusal names the kind of token and what to check."""

from __future__ import annotations

import base64
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from pipeline.review.labelstudio_users import fetch_emails


def jwt(claims: dict) -> str:
    """A JWT shaped as Label Studio's (the stand-in checks the whole string, not the signature)."""
    def part(value: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()
    return f"{part({'alg': 'HS256', 'typ': 'JWT'})}.{part(claims)}.c2lnbmF0dXJl"


PAT = jwt({"token_type": "refresh", "user_id": 1, "exp": 4102444800})
ACCESS = jwt({"token_type": "access", "user_id": 1, "exp": 4102444800})
LEGACY = "0123456789abcdef0123456789abcdef01234567"


class _LabelStudio(BaseHTTPRequestHandler):
    """POST /api/token/refresh/ and GET /api/users, each with Label Studio's checks and answers."""

    def do_POST(self):  # noqa: N802 (http.server's naming)
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        if self.path != "/api/token/refresh/" or self.headers.get("Content-Type") != "application/json":
            self.answer(404, {"detail": "Not found."})
        elif body != {"refresh": PAT}:
            self.answer(401, {"detail": "Token is invalid or expired", "code": "token_not_valid"})
        else:
            self.answer(200, {"access": ACCESS})

    def do_GET(self):  # noqa: N802
        if self.headers.get("Authorization") not in (f"Bearer {ACCESS}", f"Token {LEGACY}"):
            self.answer(401, {"detail": "Authentication credentials were not provided."})
        else:
            self.answer(200, [{"id": 1, "email": "ann@example.org"}])

    def answer(self, status: int, body) -> None:
        self.send_response(status), self.send_header("Content-Type", "application/json"), self.end_headers()
        self.wfile.write(json.dumps(body).encode())

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def url():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _LabelStudio)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown(), server.server_close()


def test_a_personal_access_token_is_exchanged_and_sent_as_bearer(url):
    assert fetch_emails(url, PAT) == {"1": "ann@example.org"}


def test_a_legacy_token_is_sent_as_token(url):
    assert fetch_emails(url, LEGACY) == {"1": "ann@example.org"}


def test_a_refused_token_says_which_kind_it_was_and_what_to_check(url):
    with pytest.raises(ValueError, match=r"refused the Personal Access Token \(HTTP 401: Token is invalid "
                                         r"or expired\).*make a new one on Account & Settings"):
        fetch_emails(url, jwt({"token_type": "refresh", "user_id": 1, "exp": 1}))
    with pytest.raises(ValueError, match=r"api/users answered HTTP 401 \(is the token right\?\) to a legacy "
                                         r"API token: .*allows legacy tokens \(Organization, API Tokens"):
        fetch_emails(url, "f" * 40)
