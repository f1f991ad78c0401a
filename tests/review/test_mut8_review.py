"""mut8: a -shm file left without its -wal (a writer killed after its last checkpoint) is no writer that has
the store open: a member who may not write it still reads the store file alone, leaving nothing new."""

from __future__ import annotations

from pipeline.review.store import ReviewStore
from tests.review.test_review_store_readers import another_users_store, decide, sidecars


def test_a_shm_without_its_wal_is_read_around(tmp_path, monkeypatch):
    store = ReviewStore.for_runs(tmp_path)
    decide(store)
    assert sidecars(tmp_path) == []
    (tmp_path / "review.sqlite-shm").write_bytes(b"")
    another_users_store(monkeypatch, store.path)
    assert ReviewStore.events_in(tmp_path, "fake") == 1
    assert sidecars(tmp_path) == ["review.sqlite-shm"]


def test_a_pages_request_id_is_kept_apart_from_the_apis_in_the_store(review):
    """The store holds the API's and Label Studio's request ids too: a page's is stored under its own
    prefix, so an API client's id can never be taken for a page's resend (or refused as reused)."""
    import re
    import sqlite3

    client, store, _ = review
    page = client.get("/batch/fake-b000/0").text
    fields = {name: re.search(rf'name="{name}" value="([^"]*)"', page).group(1)
              for name in ("csrf", "pair_id", "shown", "request_id")}
    assert client.post("/batch/fake-b000/0", data={**fields, "action": "accept"}).status_code == 303
    with sqlite3.connect(store.path) as db:
        assert [row[0] for row in db.execute("SELECT request_id FROM events")] == ["page:" + fields["request_id"]]
