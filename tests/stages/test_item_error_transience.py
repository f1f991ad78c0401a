"""Only an item error a backend marks transient (a server down or failing) is tried again by a
rerun: a refusal or an answer that stayed invalid is a settled failure, not a retry."""

from __future__ import annotations

from pipeline.contracts import ItemError
from pipeline.stages.base import failure_from


def failure(error: ItemError):
    return failure_from(error, item_id="item", seed_id="seed", stage="rewrite", category=None)


def test_a_refusal_or_an_invalid_answer_is_not_retried_by_a_rerun():
    assert failure(ItemError("invalid answer after one repair: no JSON")).transient is False
    assert failure(ItemError("the model declined", refused=True)).transient is False


def test_a_server_failure_is_retried_by_a_rerun():
    assert failure(ItemError("HTTP 503: unavailable", transient=True)).transient is True
