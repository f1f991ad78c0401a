"""A grow adds no more than it was asked for, though the writer proposes more than the request's count."""

from __future__ import annotations

from pipeline.config import load_config
from pipeline.elements.grow import Grower
from pipeline.elements.store import ElementStore
from tests.elements.test_grow_judging import FAR, proposal
from tests.elements.test_grow_stalls import SUB, CachingWriter
from tests.support.embedders import ScriptedEmbedder, basis


def test_a_writer_proposing_more_than_asked_adds_only_the_count_asked_for(tmp_path):
    names = ["card shimming wafer", "chip skimmer overlay", "pinhole camera strip", "fake keypad cover",
             "cloned fob reader", "relay antenna box"]
    descriptions = [f"A {name} lying on a workbench beside a payment terminal." for name in names]
    writer = CachingWriter([proposal(name, text) for name, text in zip(names, descriptions)])
    config = load_config(None, ["elements.per_request=4", "elements.max_requests=5", f"elements.store='{tmp_path}'"])
    embedder = ScriptedEmbedder({text: basis(10 + i) for i, text in enumerate(descriptions)}, other=FAR)
    report = Grower(config, client=writer, embedder=embedder, run_id="grow-test",
                    store=ElementStore(tmp_path)).run({SUB: 2})
    assert report.added[SUB] == 2
    assert len(ElementStore(tmp_path).entries()) == 2
