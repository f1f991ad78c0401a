"""A Prefect database another user made is readable (0644) but not writable by this one: that is the
case the home check exists for, so a database (or its SQLite -wal/-shm file) this user can read but
not write is refused before anything loads."""

from __future__ import annotations

import os

import pytest

from pipeline import prefect_server
from pipeline.cli.preflight import check_prefect_home


@pytest.mark.parametrize("name", ["prefect.db", "prefect.db-wal"])
def test_a_database_file_readable_but_not_writable_is_refused(tmp_path, monkeypatch, name):
    home = tmp_path / "prefect"
    home.mkdir()
    (home / name).write_bytes(b"")
    monkeypatch.setattr(prefect_server, "configured_api_url", lambda: None)
    monkeypatch.setenv("PREFECT_HOME", str(home))
    monkeypatch.delenv("PREFECT_API_DATABASE_CONNECTION_URL", raising=False)
    access = os.access
    # another user's 0644 file, as os.access sees it (root may write any file): read yes, write no
    monkeypatch.setattr(os, "access", lambda path, mode: access(path, mode) and not (
        str(path).endswith(name) and mode & os.W_OK))
    with pytest.raises(ValueError, match=rf"Prefect's home {home} holds a database this user cannot write"):
        check_prefect_home()
