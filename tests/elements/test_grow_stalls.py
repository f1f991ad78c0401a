"""A sub-category whose writer proposes nothing new stops at once. An audit's stand-in answered
`{"elements": []}`: every next request was byte-identical, the answer cache gave the same empty answer
back, and the grow reported 200 requests (the server saw one), blaming elements.max_requests."""

from __future__ import annotations

from types import SimpleNamespace

from pipeline.config import load_config
from pipeline.elements.grow import Grower
from pipeline.elements.store import ElementStore
from tests.elements.test_grow_judging import FAR, KNOWN, proposal
from tests.support.embedders import ScriptedEmbedder

SUB = KNOWN.sub_category


class CachingWriter:
    """Answers every request with `proposals`; a request it answered before comes from its 'cache'."""

    def __init__(self, proposals):
        self.proposals, self.seen, self.sent = proposals, set(), 0

    def run_batch(self, stage, requests):
        answers = []
        for request in requests:
            key = request.model_dump_json()
            cached = key in self.seen
            self.seen.add(key)
            self.sent += not cached
            answers.append(SimpleNamespace(output=SimpleNamespace(elements=self.proposals), cached=cached,
                                           provenance=SimpleNamespace(backend="scripted", model="m", prompt_hash="h")))
        return answers


def grow(tmp_path, writer: CachingWriter, *settings: str):
    config = load_config(None, ["elements.per_request=4", "elements.max_requests=50", f"elements.store='{tmp_path}'",
                                *settings])
    grower = Grower(config, client=writer, embedder=ScriptedEmbedder({}, other=FAR), run_id="grow-test",
                    store=ElementStore(tmp_path))
    return grower.run({SUB: 4})


def test_an_empty_answer_stops_the_sub_category_and_says_the_writer_proposed_nothing(tmp_path):
    writer = CachingWriter([])
    report = grow(tmp_path, writer)
    assert writer.sent == 1 and report.requests[SUB] == 1 and report.cached[SUB] == 0
    assert report.shortfalls() == [f"the writer proposed no new element for {SUB} (its last answer held no "
                                   "proposal; asking again would repeat the same request)"]
    assert "max_requests" not in report.markdown() and "no store version written" in report.markdown()


def test_proposals_that_only_repeat_listed_names_stop_it_too(tmp_path):
    # refused as repeats; their names are already in the request, so the next one would be the same
    writer = CachingWriter([proposal(KNOWN.element, f"A {KNOWN.element} on a desk.")])
    report = grow(tmp_path, writer)
    assert report.requests[SUB] == 1 and report.stalled == {SUB: 1} and report.version == 1


def test_answers_from_the_cache_are_counted_apart_from_requests_sent(tmp_path):
    writer = CachingWriter([])
    grow(tmp_path, writer)  # the first grow sends the request
    report = grow(tmp_path, writer)
    assert report.requests[SUB] == 1 and report.cached[SUB] == 1
    assert "1 requests (0 failed): 0 sent, 1 answered from the answer cache" in report.markdown()


def test_without_the_answer_cache_a_repeated_request_is_asked_again_up_to_max_requests(tmp_path):
    """With llm.cache = false a repeat is a new draw from the model (review 33: a sub-category whose every
    proposal a guardrail stopped gave up after one round)."""
    writer = CachingWriter([])
    report = grow(tmp_path, writer, "llm.cache=false")
    assert report.requests[SUB] == 50 and report.stalled == {}
    assert report.shortfalls() and "max_requests" in report.shortfalls()[0]
