"""Label Studio users as our annotator names.

Label Studio exports `completed_by` as a user id. `--user ID_OR_EMAIL=NAME` maps a
user to the name the review batches were assigned to; with the server's URL and an
API token, `/api/users` supplies each id's e-mail, so a mapping by e-mail works too
and an unmapped user is at least named by e-mail.
"""

from __future__ import annotations

import base64
import json
import urllib.error
import urllib.request


def parse_user_options(options: list[str]) -> dict[str, str]:
    """`ID_OR_EMAIL=NAME` pairs, e-mails lowercased as Label Studio keeps them; a ValueError
    names the first malformed one."""
    mapping = {}
    for option in options:
        user, sep, name = option.partition("=")
        if not sep or not user.strip() or not name.strip():
            raise ValueError(f"--user {option!r}: expected LABEL_STUDIO_ID_OR_EMAIL=NAME")
        mapping[user.strip().lower()] = name.strip()
    return mapping


def fetch_emails(url: str, token: str, timeout_s: float = 30.0) -> dict[str, str]:
    """User id (as text) -> e-mail, from Label Studio's `GET /api/users`. `token` is either kind
    Account & Settings gives: a Personal Access Token (a JWT refresh token, the kind a new
    organization gives) is exchanged for an access token; a legacy token is sent as is."""
    base = url.rstrip("/")
    if is_personal_access_token(token):
        authorization = f"Bearer {access_token(base, token, timeout_s)}"
        refused = ("to the access token of a Personal Access Token: check that the organization allows "
                   "Personal Access Tokens (Organization, API Tokens Settings)")
    else:
        authorization = f"Token {token}"
        refused = ("to a legacy API token: check it on Account & Settings, and that the organization "
                   "still allows legacy tokens (Organization, API Tokens Settings: off in a new "
                   "organization), or use a Personal Access Token")
    request = urllib.request.Request(base + "/api/users", headers={"Authorization": authorization})
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as response:
            users = json.load(response)
    except urllib.error.HTTPError as error:
        raise ValueError(f"{base}/api/users answered HTTP {error.code} (is the token right?) "
                         f"{refused}") from None
    except (urllib.error.URLError, TimeoutError, json.JSONDecodeError) as error:
        raise ValueError(f"cannot read users from {base}/api/users: {error}") from None
    if isinstance(users, dict):  # newer servers page the list
        users = users.get("results", [])
    return {str(user["id"]): user["email"] for user in users if user.get("email")}


def is_personal_access_token(token: str) -> bool:
    """Whether `token` is a JWT refresh token (legacy tokens are 40 hex digits, never a JWT).
    Only the claims are read: the server checks the signature when it exchanges the token."""
    parts = token.split(".")
    if len(parts) != 3:
        return False
    try:
        claims = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    except ValueError:  # not base64 or not JSON: no JWT
        return False
    return isinstance(claims, dict) and claims.get("token_type") == "refresh"


def access_token(base: str, refresh_token: str, timeout_s: float) -> str:
    """An access token for a Personal Access Token, from Label Studio's `POST /api/token/refresh/`
    (access tokens live minutes, so each import asks for a fresh one)."""
    request = urllib.request.Request(base + "/api/token/refresh/", method="POST",
                                     data=json.dumps({"refresh": refresh_token}).encode(),
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as response:
            answer = json.load(response)
    except urllib.error.HTTPError as error:
        raise ValueError(
            f"{base}/api/token/refresh/ refused the Personal Access Token (HTTP {error.code}: "
            f"{refusal_detail(error)}): it may be revoked or expired, or from another server; "
            "make a new one on Account & Settings") from None
    except (urllib.error.URLError, TimeoutError, json.JSONDecodeError) as error:
        raise ValueError(f"cannot exchange the Personal Access Token at {base}/api/token/refresh/: "
                         f"{error}") from None
    if not isinstance(answer, dict) or not isinstance(answer.get("access"), str):
        raise ValueError(f"{base}/api/token/refresh/ answered without an access token")
    return answer["access"]


def refusal_detail(error: urllib.error.HTTPError) -> str:
    """Label Studio's reason for an HTTP error (its JSON `detail`), or the status text."""
    try:
        return str(json.load(error)["detail"])
    except (ValueError, KeyError, TypeError):
        return error.reason


def user_names(mapping: dict[str, str], emails: dict[str, str]) -> dict[str, str]:
    """Id or e-mail -> annotator name: the mapping, then every known id by its e-mail."""
    names = dict(mapping)
    for user_id, email in emails.items():
        names.setdefault(user_id, mapping.get(email.lower(), email))
    return names


def annotator_name(completed_by, users: dict[str, str]) -> str:
    """Our name for a Label Studio user; `users` maps a user id (as text) or an e-mail to it.
    Exports give `completed_by` as a bare id, older ones as {id, email}. The file's e-mail only
    matches a mapping: it never names a user itself, or an export could sign as any annotator."""
    if isinstance(completed_by, dict):
        user_id, email = completed_by.get("id"), completed_by.get("email")
    else:
        user_id, email = completed_by, None
    for key in (str(user_id), email.lower() if isinstance(email, str) else None):
        if key is not None and key in users:
            return users[key]
    return f"{UNNAMED}{user_id}"


UNNAMED = "labelstudio-user-"  # the name of a Label Studio user no --user mapping names


def is_unnamed(annotator: str) -> bool:
    return annotator.startswith(UNNAMED)


def names_emails(exported_tasks: list[dict]) -> bool:
    """Whether the export names any annotator by e-mail (older exports give `completed_by` as
    {id, email}; newer ones a bare id, which only Label Studio's /api/users turns into an e-mail)."""
    return any(isinstance(annotation, dict) and isinstance(annotation.get("completed_by"), dict)
               and annotation["completed_by"].get("email")
               for exported in exported_tasks if isinstance(exported.get("annotations"), list)
               for annotation in exported["annotations"])
