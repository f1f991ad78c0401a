"""The review app's JSON API under a real uvicorn server: auth, scoping, image paths, concurrency."""

from __future__ import annotations

import sqlite3
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from tests.support.review_runs import make_run, serving

from pipeline.review.app import create_app
from pipeline.review.batches import export_batches
from pipeline.review.store import ReviewStore

pytestmark = pytest.mark.slow  # every test here takes more than a few seconds

ANNOTATORS = [f"annotator{i}" for i in range(8)]
PAIRS = 250


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    runs = tmp_path_factory.mktemp("runs")
    export_batches(make_run(runs, "big", pairs=PAIRS), batch_size=PAIRS)
    export_batches(make_run(runs, "small", pairs=4), batch_size=2)
    store = ReviewStore.for_runs(runs)
    tokens = {name: store.add_token(name, ["big-b000"]) for name in ANNOTATORS}
    tokens["small"] = store.add_token("small", ["small-b000"])
    with serving(create_app(runs, store)) as url:
        yield url, tokens, store


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def test_no_or_wrong_token_is_401(server):
    url, _, _ = server
    assert httpx.get(f"{url}/api/batches").status_code == 401
    assert httpx.get(f"{url}/api/batches", headers=bearer("not-a-token")).status_code == 401
    assert httpx.post(f"{url}/api/decisions", json={"batch_id": "small-b000", "pair_id": "pair0000",
                                                    "action": "accept"}).status_code == 401
    assert httpx.get(f"{url}/").status_code == 401


def test_token_scoped_to_one_batch_cannot_write_another(server):
    url, tokens, _ = server
    small = bearer(tokens["small"])
    mine = httpx.get(f"{url}/api/batches/small-b000", headers=small).json()["items"][0]["pair_id"]
    ok = httpx.post(f"{url}/api/decisions", headers=small,
                    json={"batch_id": "small-b000", "pair_id": mine, "action": "accept"})
    assert ok.status_code == 201 and ok.json()["annotator"] == "small"
    other = httpx.get(f"{url}/api/batches/small-b001", headers=small)
    assert other.status_code == 403
    write = httpx.post(f"{url}/api/decisions", headers=small,
                       json={"batch_id": "small-b001", "pair_id": "pair0001", "action": "accept"})
    assert write.status_code == 403
    assert httpx.post(f"{url}/api/decisions", headers=small,
                      json={"batch_id": "small-b000", "pair_id": mine, "action": "reject"}).status_code == 422


def test_image_urls_serve_only_the_runs_images(server):
    url, tokens, _ = server
    headers = bearer(tokens["small"])
    mine = {item["image"].split("/")[-1] for item in httpx.get(f"{url}/api/batches/small-b000", headers=headers)
            .json()["items"]}
    for name in mine:
        image = httpx.get(f"{url}/image/small/{name}", headers=headers)
        assert image.status_code == 200 and image.content.startswith(b"\x89PNG")
    # same run, but a pair of another batch: not this annotator's to see
    other = sorted({f"seed{i:04d}.png" for i in range(4)} - mine)
    assert len(other) == 2 and all(httpx.get(f"{url}/image/small/{name}", headers=headers).status_code == 403
                                   for name in other)
    assert httpx.get(f"{url}/image/big/seed0000.png", headers=headers).status_code == 403  # not this token's run
    for path in ("/image/..%2F..%2Fetc%2Fpasswd", "/image/small/..%2F..%2Fetc%2Fpasswd",
                 "/image/small/%2Fetc%2Fpasswd", "/image/small/..", "/image/..%2Fsmall/seed0000.png",
                 "/image/small/..%5C..%5Cconfig.json", "/image/small/missing.png"):
        response = httpx.get(url + path, headers=headers)
        assert response.status_code in (400, 403, 404), path
        assert b"root:" not in response.content


def test_eight_concurrent_annotators_lose_and_duplicate_nothing(server):
    url, tokens, store = server

    def annotate(name: str) -> list[int]:
        actions = ({"action": "accept"}, {"action": "reject", "reason": "still_leaks"}, {"action": "skip"})
        ids = []
        with httpx.Client(base_url=url, headers=bearer(tokens[name]), timeout=60) as client:
            for i in range(PAIRS):
                body = {"batch_id": "big-b000", "pair_id": f"pair{i:04d}", "request_id": f"{name}-{i}",
                        **actions[(i + len(name)) % 3]}
                response = client.post("/api/decisions", json=body)
                assert response.status_code == 201, response.text
                ids.append(response.json()["id"])
            # a retried request (same request id) is recorded once
            retry = client.post("/api/decisions", json={"batch_id": "big-b000", "pair_id": "pair0000",
                                                        "request_id": f"{name}-0", **actions[len(name) % 3]})
            assert retry.json()["id"] == ids[0]
        return ids

    with ThreadPoolExecutor(len(ANNOTATORS)) as pool:
        event_ids = [i for ids in pool.map(annotate, ANNOTATORS) for i in ids]
    assert len(event_ids) == len(set(event_ids)) == len(ANNOTATORS) * PAIRS
    current = store.current(batch_id="big-b000")
    assert len(current) == len(ANNOTATORS) * PAIRS
    assert {(e.annotator, e.pair_id) for e in current} == {(a, f"pair{i:04d}") for a in ANNOTATORS
                                                           for i in range(PAIRS)}
    with sqlite3.connect(store.path) as db:
        assert db.execute("SELECT COUNT(*) FROM events WHERE batch_id = 'big-b000'").fetchone()[0] == 2000
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    listed = httpx.get(f"{url}/api/batches/big-b000/decisions", headers=bearer(tokens["annotator3"])).json()
    assert len(listed) == PAIRS and {e["annotator"] for e in listed} == {"annotator3"}


def test_a_changed_decision_keeps_its_history(server):
    url, tokens, store = server
    headers = bearer(tokens["small"])
    pair = httpx.get(f"{url}/api/batches/small-b000", headers=headers).json()["items"][1]["pair_id"]
    for body in ({"action": "accept"}, {"action": "reject", "reason": "image_mismatch"}):
        response = httpx.post(f"{url}/api/decisions", headers=headers,
                              json={"batch_id": "small-b000", "pair_id": pair, **body})
        assert response.status_code == 201
    last = response.json()
    assert (last["action"], last["reason"], last["previous_action"]) == ("reject", "image_mismatch", "accept")
    assert last["history"] == 2  # the reply counts as the store's current view does
    retried = httpx.post(f"{url}/api/decisions", headers=headers, json={
        "batch_id": "small-b000", "pair_id": pair, "action": "reject", "reason": "image_mismatch", "request_id": "r2"})
    again = httpx.post(f"{url}/api/decisions", headers=headers, json={
        "batch_id": "small-b000", "pair_id": pair, "action": "reject", "reason": "image_mismatch", "request_id": "r2"})
    assert (retried.json()["history"], again.json()["id"], again.json()["history"]) == (3, retried.json()["id"], 3)
    (current,) = [e for e in store.current(batch_id="small-b000") if e.pair_id == pair]
    assert current.history == 3 and current.action == "reject"
