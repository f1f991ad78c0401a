"""How one grow asks: a request is for what is still missing (at most `per_request`), and a round
counts as failed only when every request of it failed, so a sub-category whose writer fails does not
stop the others; the grow gives up after ROUNDS_BEFORE_GIVING_UP such rounds in a row."""

from __future__ import annotations

from types import SimpleNamespace

from pipeline.backends.base import ItemError
from pipeline.config import load_config
from pipeline.elements.grow import ROUNDS_BEFORE_GIVING_UP, Grower
from pipeline.elements.store import ElementStore
from tests.elements.test_grow_judging import FAR, proposal
from tests.support.embedders import ScriptedEmbedder, basis

WORKS, FAILS = "Cybercrime", "Property Crimes"


class ScriptedWriter:
    """Proposes `n_elements` new elements (each description its own direction, so all are novel),
    except for the sub-categories in `failing`, whose every request fails."""

    def __init__(self, failing: set[str]):
        self.failing, self.asked, self.vectors = failing, [], {}

    def run_batch(self, stage, requests):
        answers = []
        for request in requests:
            self.asked.append((request.sub_category, request.n_elements))
            if request.sub_category in self.failing:
                answers.append(ItemError(error="HTTP 500: upstream down"))
                continue
            proposals = []
            for _ in range(request.n_elements):
                number = len(self.vectors) + 1
                description = f"A gadget {number} on a workbench beside a laptop."
                self.vectors[description] = basis(number)
                proposals.append(proposal(f"gadget {number}", description))
            answers.append(SimpleNamespace(output=SimpleNamespace(elements=proposals),
                                           provenance=SimpleNamespace(backend="scripted", model="m", prompt_hash="h")))
        return answers


def grower(tmp_path, writer: ScriptedWriter) -> Grower:
    config = load_config(None, ["elements.per_request=4", f"elements.store='{tmp_path}'"])
    return Grower(config, client=writer, embedder=ScriptedEmbedder(writer.vectors, other=FAR), run_id="grow-test",
                  store=ElementStore(tmp_path))


def test_each_request_asks_for_what_is_still_missing_at_most_per_request(tmp_path):
    writer = ScriptedWriter(failing=set())
    report = grower(tmp_path, writer).run({WORKS: 6})
    assert writer.asked == [(WORKS, 4), (WORKS, 2)] and report.added[WORKS] == 6


def test_a_failing_sub_category_does_not_stop_the_others_then_gives_up_alone(tmp_path):
    writer = ScriptedWriter(failing={FAILS})
    report = grower(tmp_path, writer).run({WORKS: 12, FAILS: 8})
    assert report.added[WORKS] == 12  # three rounds, each with a failed request beside a working one
    # then FAILS is asked alone: two rounds in which every request failed end the grow
    assert report.requests == {WORKS: 3, FAILS: 3 + ROUNDS_BEFORE_GIVING_UP} and report.gave_up
