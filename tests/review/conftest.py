"""The review app signed in as one annotator over a three-pair batch, with the real detector."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from tests.support.review_runs import make_run

from pipeline.detect.detector import LeakDetector
from pipeline.review.app import create_app
from pipeline.review.batches import export_batches
from pipeline.review.store import ReviewStore


@pytest.fixture(scope="session")
def detector():
    return LeakDetector()


@pytest.fixture()
def review(tmp_path, detector):
    """(client, store, ann's token) for the app over a run of three pairs in batch fake-b000."""
    export_batches(make_run(tmp_path, pairs=3), batch_size=3)
    store = ReviewStore.for_runs(tmp_path)
    token = store.add_token("ann", ["fake-b000"])
    client = TestClient(create_app(tmp_path, store, detector=detector), follow_redirects=False)
    assert client.get(f"/?token={token}").status_code == 303
    return client, store, token
