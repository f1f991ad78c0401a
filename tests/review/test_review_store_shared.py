"""A review store in a runs folder a lab shares: made with the user's umask, read without being
written, and a store this user may not write is one `error:` line naming it (not an sqlite traceback)."""

from __future__ import annotations

import errno
import json
import os
import sqlite3
import stat
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from pipeline.cli.app import app
from pipeline.review.batches import ReviewBatch, export_batches, load_batches
from pipeline.review.store import ReviewStore
from pipeline.review.store_connection import StoreNotWritable
from tests.support import ROOT
from tests.support.review_runs import make_run


def open_read_only(monkeypatch) -> None:
    """From now on every SQLite database opens read-only, as another user's 0644 store does (the
    tests may run as root, who may write any file)."""
    connect = sqlite3.connect
    monkeypatch.setattr(sqlite3, "connect",
                        lambda path, **options: connect(f"file:{path}?mode=ro", uri=True, **options))


def invoke(*args: str):
    return CliRunner().invoke(app, ["review", *args])


def assert_one_line_naming(result, fragment: str) -> None:
    assert result.exit_code == 2, result.output
    assert result.output.count("\n") == 1 and result.output.startswith("error: "), result.output
    assert fragment in result.output


def test_the_store_is_made_with_the_users_umask(tmp_path):
    make = "import sys; from pipeline.review.store import ReviewStore; ReviewStore(sys.argv[1]).add_token('a', ['b'])"
    subprocess.run([sys.executable, "-c", make, str(tmp_path / "review.sqlite")], cwd=ROOT, check=True,
                   preexec_fn=lambda: os.umask(0o002))
    assert stat.S_IMODE((tmp_path / "review.sqlite").stat().st_mode) == 0o664


def test_a_current_store_is_read_without_being_written(tmp_path, monkeypatch):
    ReviewStore(tmp_path / "review.sqlite").add_token("ann", ["fake-b000"])
    open_read_only(monkeypatch)
    store = ReviewStore(tmp_path / "review.sqlite")
    assert [token.annotator for token in store.tokens()] == ["ann"]
    with pytest.raises(StoreNotWritable, match=f"cannot write the review store {tmp_path}/review.sqlite"):
        store.add_token("bob", ["fake-b000"])


def test_review_commands_on_a_store_this_user_may_not_write_are_one_line(tmp_path, monkeypatch):
    export_batches(make_run(tmp_path, pairs=2), batch_size=2, annotators=["ann"])
    ReviewStore.for_runs(tmp_path).add_token("ann", ["fake-b000"])
    open_read_only(monkeypatch)
    assert invoke("status", "fake", "--runs-dir", str(tmp_path)).exit_code == 0
    assert_one_line_naming(invoke("tokens", "add", "ann", "--batches", "fake-b000", "--runs-dir", str(tmp_path)),
                           f"cannot write the review store {tmp_path}/review.sqlite (review.sqlite is -rw")
    assert_one_line_naming(invoke("tokens", "revoke", "ann", "--runs-dir", str(tmp_path)), "review.sqlite")


def test_a_batch_folder_this_user_may_not_read_is_one_line(tmp_path, monkeypatch):
    export_batches(make_run(tmp_path, pairs=2), batch_size=2)
    manifest = tmp_path / "fake/review/batches/fake-b000/manifest.json"

    def unreadable(folder):
        raise PermissionError(errno.EACCES, "Permission denied", str(manifest))

    monkeypatch.setattr(ReviewBatch, "load", unreadable)  # root reads any folder; chmod 000 stops others
    assert_one_line_naming(invoke("tokens", "add", "ann", "--batches", "fake-b000", "--runs-dir", str(tmp_path)),
                           str(manifest))


def test_a_label_studio_import_into_a_store_this_user_may_not_write_is_one_line(tmp_path, monkeypatch):
    from tests.review.test_review_labelstudio import choice, shaped_like_an_export

    export_batches(make_run(tmp_path, pairs=2), batch_size=2, annotators=["alice"])
    ReviewStore.for_runs(tmp_path).add_token("alice", ["fake-b000"])
    exported = shaped_like_an_export(load_batches(tmp_path / "fake"))
    exported[0]["annotations"] = [{"id": 1, "completed_by": 7, "result": [choice("verdict", "accept")]}]
    path = tmp_path / "export.json"
    path.write_text(json.dumps(exported), encoding="utf-8")
    open_read_only(monkeypatch)
    assert_one_line_naming(invoke("labelstudio-import", "fake", str(path), "--runs-dir", str(tmp_path),
                                  "--user", "7=alice"), f"cannot write the review store {tmp_path}/review.sqlite")
