"""How one grow judges proposals: a description cosine at max_similarity is a near-duplicate, a
proposal accepted earlier in the same grow counts as known, a synonym that repeats a known name is
a repeat, and the store records the version each entry joined in."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from pipeline.config import load_config
from pipeline.elements.grow import GrowReport, Grower
from pipeline.elements.novelty import NoveltyIndex
from pipeline.elements.store import ElementStore, StoredElement
from pipeline.llm.roles import ProposedElement
from pipeline.records import Element
from pipeline.taxonomy import load_elements
from tests.support.embedders import ScriptedEmbedder, basis

SUB = "Cybercrime"
KNOWN = next(element for element in load_elements() if element.sub_category == SUB)
FAR = basis(383)  # what the library's and store's descriptions, which no test names, embed to


def proposal(name: str, description: str) -> ProposedElement:
    return ProposedElement(element=name, kind="object", description=description,
                           synonyms=[f"{name} kit", f"{name} tool"], broader=["fraud device"])


def judged(tmp_path, vectors: dict[str, np.ndarray], proposals: list[ProposedElement], max_similarity: float):
    config = load_config(None, [f"elements.max_similarity={max_similarity}", f"elements.store='{tmp_path}'"])
    grower = Grower(config, client=None, embedder=ScriptedEmbedder(vectors, other=FAR), run_id="grow-test",
                    store=ElementStore(tmp_path))
    report = GrowReport(run_id="grow-test", wanted={SUB: len(proposals)})
    answer = SimpleNamespace(output=SimpleNamespace(elements=proposals),
                             provenance=SimpleNamespace(backend="scripted", model="m", prompt_hash="h"))
    grower.judge(SUB, answer, len(proposals), report)
    return [decision.reason.split(":")[0] for _, _, decision in grower.decisions], report


def test_a_description_at_exactly_max_similarity_is_a_near_duplicate(tmp_path):
    wafer = "A card shimming wafer held in tweezers above the chip slot of a card terminal."
    at_threshold = 0.5 * basis(0) + np.float32(np.sqrt(0.75)) * basis(1)  # cosine 0.5 to KNOWN exactly
    codes, report = judged(tmp_path, {KNOWN.description: basis(0), wafer: at_threshold},
                           [proposal("card shimming wafer", wafer)], max_similarity=0.5)
    assert codes == ["element.near_duplicate"] and not report.added


def test_a_proposal_accepted_earlier_in_the_same_grow_counts_as_known(tmp_path):
    first = "A card shimming wafer held in tweezers above the chip slot of a card terminal."
    second = "A chip skimmer overlay pressed onto the card slot of a payment terminal."
    codes, report = judged(tmp_path, {first: basis(5), second: basis(5)},
                           [proposal("card shimming wafer", first), proposal("chip skimmer overlay", second)],
                           max_similarity=0.85)
    assert codes == ["element.novel", "element.near_duplicate"] and report.added[SUB] == 1


def test_a_synonym_that_is_a_known_name_is_a_repeat():
    known = Element(category="c", sub_category=SUB, element="lock pick", description="A lock pick.")
    index = NoveltyIndex([known], basis(0)[None, :], ScriptedEmbedder({}, other=FAR), max_similarity=0.85)
    new = Element(category="c", sub_category=SUB, element="tension wrench", synonyms=("lock picks", "torque bar"),
                  description="A tension wrench.")
    assert index.measure(new, basis(1)).duplicate_of == "lock pick"


def test_store_entries_carry_the_version_they_joined_in(tmp_path):
    store = ElementStore(tmp_path)
    element = Element(category="c", sub_category=SUB, element="card shimming wafer", description="A wafer.")
    entry = StoredElement(element=element, backend="b", model="m", prompt_hash="h", run_id="r", novelty=0.5,
                          nearest="x", version=0)
    assert store.add_version([entry], basis(0)[None, :], [], "r", {}) == 1
    assert store.add_version([entry], basis(1)[None, :], [], "r", {}) == 2
    assert [stored.version for stored in store.entries()] == [1, 2]


def test_a_name_a_guardrail_stopped_is_not_sent_back_to_the_writer(tmp_path):
    private = ProposedElement(element="laura whitfield's laptop", kind="object",
                              description="Laura Whitfield's laptop open on her desk at 14 Elm Street.",
                              synonyms=["laura whitfield's computer", "her notebook"], broader=["laptop"])
    config = load_config(None, [f"elements.store='{tmp_path}'"])
    grower = Grower(config, client=None, embedder=ScriptedEmbedder({}, other=FAR), run_id="grow-test", store=ElementStore(tmp_path))
    answer = SimpleNamespace(output=SimpleNamespace(elements=[private]),
                             provenance=SimpleNamespace(backend="scripted", model="m", prompt_hash="h"))
    grower.judge(SUB, answer, 1, GrowReport(run_id="grow-test", wanted={SUB: 1}))
    assert grower.decisions[0][2].reason.startswith("element.guardrail")
    assert not [name for name in grower.request(SUB, 1).known_elements if "whitfield" in name.lower()]
