"""A lab member who may not write the review store only reads it (`review status`, a release counting
its events): they leave no -wal or -shm file behind, which would lock the store's owner out (lab
audit #3), and a store they cannot write is named by the file that refuses them."""

from __future__ import annotations

import os
import sqlite3

import pytest
from typer.testing import CliRunner

from pipeline.cli.app import app
from pipeline.review.batches import export_batches
from pipeline.review.decisions import DecisionIn
from pipeline.review.store import ReviewStore
from pipeline.review.store_connection import StoreChangedWhileRead, StoreNeedsWriter, StoreNotWritable
from tests.support.review_runs import make_run


def another_users_store(monkeypatch, path) -> None:
    """`path` and its -wal and -shm files read as not writable by this user (tests may run as root,
    who may write any file)."""
    access = os.access
    refused = {str(path), f"{path}-wal", f"{path}-shm"}
    monkeypatch.setattr(os, "access", lambda name, mode: (access(name, mode) and not
                                                          (mode & os.W_OK and str(name) in refused)))


def sidecars(tmp_path) -> list[str]:
    return sorted(path.name for path in tmp_path.glob("review.sqlite-*"))


def decide(store, action="accept", pair="p1"):
    store.record(DecisionIn(batch_id="fake-b000", pair_id=pair, action=action, reason="low_quality"
                            if action == "reject" else None), annotator="ann", run_id="fake")


def test_a_member_who_may_not_write_the_store_reads_it_and_leaves_nothing(tmp_path, monkeypatch):
    export_batches(make_run(tmp_path, pairs=2), batch_size=2, annotators=["ann"])
    store = ReviewStore.for_runs(tmp_path)
    decide(store)
    assert sidecars(tmp_path) == []  # the owner's last connection checkpointed and removed them
    another_users_store(monkeypatch, store.path)

    result = CliRunner().invoke(app, ["review", "status", "fake", "--runs-dir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert ReviewStore.events_in(tmp_path, "fake") == 1  # what `release` counts
    assert sidecars(tmp_path) == []
    with pytest.raises(StoreNotWritable):
        ReviewStore.for_runs(tmp_path).add_token("bob", ["fake-b000"])
    assert sidecars(tmp_path) == []


def test_a_member_reads_through_the_files_of_a_writer_that_has_the_store_open(tmp_path, monkeypatch):
    store = ReviewStore.for_runs(tmp_path)
    decide(store)
    writer = sqlite3.connect(store.path, isolation_level=None)  # the owner's `review serve`, say
    writer.execute("INSERT INTO events (run_id, batch_id, pair_id, annotator, action, at, source) "
                   "VALUES ('fake', 'fake-b000', 'p2', 'bob', 'accept', '2026-01-01', 'web')")
    assert sidecars(tmp_path) == ["review.sqlite-shm", "review.sqlite-wal"]
    another_users_store(monkeypatch, store.path)
    assert ReviewStore.events_in(tmp_path, "fake") == 2  # the writer's event, still only in the -wal
    writer.close()


def test_a_read_the_owner_checkpoints_into_is_refused_not_half_read(tmp_path, monkeypatch):
    store = ReviewStore.for_runs(tmp_path)
    decide(store)
    another_users_store(monkeypatch, store.path)
    with pytest.raises(StoreChangedWhileRead, match="changed while it was read.*run the command again"):
        with ReviewStore.for_runs(tmp_path).connect() as db:
            db.execute("SELECT COUNT(*) FROM events").fetchone()
            monkeypatch.undo()
            decide(store, "reject", "p2")  # the owner's decision, checkpointed as its connection closes


def test_not_writable_names_the_file_that_refuses(tmp_path, monkeypatch):
    store = ReviewStore.for_runs(tmp_path)
    (tmp_path / "review.sqlite-wal").write_bytes(b"")  # left by a member's read under an older version
    access = os.access
    monkeypatch.setattr(os, "access", lambda name, mode: access(name, mode) and not str(name).endswith("-wal"))
    assert str(StoreNotWritable(store.path)).startswith(
        f"cannot write the review store {store.path} (review.sqlite-wal is -rw")


def test_a_wal_file_without_its_shm_is_refused_to_a_reader_not_read_around(tmp_path, monkeypatch):
    # a writer stopped mid-way, or a copy made without -shm: the -wal holds a decision the store file
    # lacks, which an `immutable` read would silently miss (mutation round 7)
    store = ReviewStore.for_runs(tmp_path)
    decide(store)
    writer = sqlite3.connect(store.path, isolation_level=None)
    writer.execute("INSERT INTO events (run_id, batch_id, pair_id, annotator, action, at, source) "
                   "VALUES ('fake', 'fake-b000', 'p2', 'bob', 'accept', '2026-01-01', 'web')")
    copy = tmp_path / "copy"
    copy.mkdir()
    for name in ("review.sqlite", "review.sqlite-wal"):
        (copy / name).write_bytes((tmp_path / name).read_bytes())
    writer.close()
    another_users_store(monkeypatch, copy / "review.sqlite")

    with pytest.raises(StoreNeedsWriter, match=r"changes only in review.sqlite-wal .*open it once as a user"):
        ReviewStore.events_in(copy, "fake")
    monkeypatch.undo()
    assert ReviewStore.events_in(copy, "fake") == 2  # its owner's connection folds the -wal in


def test_a_wal_without_its_shm_for_a_moment_is_a_closing_writer_not_refused(tmp_path, monkeypatch):
    # SQLite removes -shm before -wal when its last connection closes: a read in that moment waits for
    # the -wal to go instead of telling the member a writer was stopped (review 35)
    import pipeline.review.store_connection as store_connection

    store = ReviewStore.for_runs(tmp_path)
    decide(store)
    wal = tmp_path / "review.sqlite-wal"
    wal.write_bytes(b"\0" * 32)
    another_users_store(monkeypatch, store.path)
    monkeypatch.setattr(store_connection.time, "sleep", lambda seconds: wal.unlink())  # the writer's close ends

    assert ReviewStore.events_in(tmp_path, "fake") == 1
