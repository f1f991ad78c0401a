"""An artifacts folder a team shares: Prefect's SQLite database in it is its first user's, so a
second user's build is refused in one line naming it, before anything loads (it failed only once the
temporary server could not write it)."""

from __future__ import annotations

import os

import pytest

from pipeline import prefect_server
from pipeline.cli.preflight import check_prefect_home


def test_a_prefect_database_this_user_cannot_write_is_named(tmp_path, monkeypatch):
    home = tmp_path / "art" / "prefect"
    home.mkdir(parents=True)
    (home / "prefect.db").write_bytes(b"")
    (home / "prefect.db").chmod(0o644)
    monkeypatch.setattr(prefect_server, "configured_api_url", lambda: None)
    monkeypatch.setenv("PREFECT_HOME", str(home))
    access = os.access
    # root may write any file: the database is made another user's by what os.access says of it
    monkeypatch.setattr(os, "access", lambda path, mode: access(path, mode) and not str(path).endswith(".db"))
    with pytest.raises(ValueError, match=rf"Prefect's home {home} holds a database this user cannot write "
                                         r"\(prefect.db is -rw-r--r-- \w+:\w+\): it is one user's; set PREFECT_HOME"):
        check_prefect_home()


def test_a_prefect_home_with_no_database_yet_passes(tmp_path, monkeypatch):
    monkeypatch.setattr(prefect_server, "configured_api_url", lambda: None)
    monkeypatch.setenv("PREFECT_HOME", str(tmp_path / "prefect"))
    check_prefect_home()


def test_another_users_database_is_no_problem_when_prefect_keeps_its_database_elsewhere(tmp_path, monkeypatch):
    home = tmp_path / "prefect"
    home.mkdir()
    (home / "prefect.db").write_bytes(b"")
    monkeypatch.setattr(prefect_server, "configured_api_url", lambda: None)
    monkeypatch.setenv("PREFECT_HOME", str(home))
    monkeypatch.setenv("PREFECT_API_DATABASE_CONNECTION_URL", "postgresql+asyncpg://db.example.org/prefect")
    access = os.access
    monkeypatch.setattr(os, "access", lambda path, mode: access(path, mode) and not str(path).endswith(".db"))
    check_prefect_home()
