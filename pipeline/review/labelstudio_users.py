"""Label Studio users as our annotator names.

Label Studio exports `completed_by` as a user id. `--user ID_OR_EMAIL=NAME` maps a
user to the name the review batches were assigned to; with the server's URL and an
API token, `/api/users` supplies each id's e-mail, so a mapping by e-mail works too
and an unmapped user is at least named by e-mail.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request


def parse_user_options(options: list[str]) -> dict[str, str]:
    """`ID_OR_EMAIL=NAME` pairs; a ValueError names the first malformed one."""
    mapping = {}
    for option in options:
        user, sep, name = option.partition("=")
        if not sep or not user.strip() or not name.strip():
            raise ValueError(f"--user {option!r}: expected LABEL_STUDIO_ID_OR_EMAIL=NAME")
        mapping[user.strip()] = name.strip()
    return mapping


def fetch_emails(url: str, token: str, timeout_s: float = 30.0) -> dict[str, str]:
    """User id (as text) -> e-mail, from Label Studio's `GET /api/users`."""
    request = urllib.request.Request(url.rstrip("/") + "/api/users",
                                     headers={"Authorization": f"Token {token}"})
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as response:
            users = json.load(response)
    except urllib.error.HTTPError as error:
        raise ValueError(f"{url}/api/users answered HTTP {error.code} (is the token right?)") from None
    except (urllib.error.URLError, TimeoutError, json.JSONDecodeError) as error:
        raise ValueError(f"cannot read users from {url}/api/users: {error}") from None
    if isinstance(users, dict):  # newer servers page the list
        users = users.get("results", [])
    return {str(user["id"]): user["email"] for user in users if user.get("email")}


def user_names(mapping: dict[str, str], emails: dict[str, str]) -> dict[str, str]:
    """Id or e-mail -> annotator name: the mapping, then every known id by its e-mail."""
    names = dict(mapping)
    for user_id, email in emails.items():
        names.setdefault(user_id, mapping.get(email, email))
    return names
