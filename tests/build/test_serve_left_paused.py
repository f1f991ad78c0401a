"""`leakless serve` names the deployments an earlier file registered that this one dropped or renamed:
they stay on the server, paused, and un-pausing one would fire its old parameters."""

from __future__ import annotations

from contextlib import contextmanager
from types import SimpleNamespace

import prefect.client.orchestration

from pipeline.cli.serve import left_paused, left_paused_note

ON_SERVER = {"leakless-scheduled-build": [("nightly", True), ("old-nightly", True), ("elsewhere", False)],
             "leakless-extend": [("nightly", True), ("weekly", True)]}


class FakeClient:
    def read_deployments(self, flow_filter):
        (flow,) = flow_filter.name.any_
        return [SimpleNamespace(name=name, paused=paused) for name, paused in ON_SERVER[flow]]


def test_paused_deployments_not_in_the_file_are_named_with_how_to_delete_them(monkeypatch):
    @contextmanager
    def fake_client(sync_client):
        yield FakeClient()

    monkeypatch.setattr(prefect.client.orchestration, "get_client", fake_client)
    left = left_paused("http://127.0.0.1:1/api", {("build", "nightly"), ("extend", "weekly")})
    # a running deployment is another serve's; an extend named as a build entry is another deployment
    assert left == ["leakless-extend/nightly", "leakless-scheduled-build/old-nightly"]
    assert left_paused_note(left) == (
        "note: not in this file, left paused on the server: leakless-extend/nightly, "
        "leakless-scheduled-build/old-nightly; delete with `prefect deployment delete leakless-extend/nightly`")
