"""What the LLM backends put in their records, with a scripted client: the model that answered, the
template hash, and the pair checker's category verdict (mutation round 3)."""

from types import SimpleNamespace

from pipeline.backends.llm_text import LLMPairChecker, LLMSeedWriter
from pipeline.contracts import Provenance
from pipeline.llm.roles import PairCheckerOutput, SeedWriterOutput
from pipeline.llm.session import BACKEND, Answer
from pipeline.records import Element, Seed


class ScriptedClient:
    """Answers every item of a batch with `output`, as the fallback model "m-fallback" with `prompt_hash`."""

    def __init__(self, output, prompt_hash="answered-hash"):
        self.output, self.prompt_hash = output, prompt_hash
        self.settings = SimpleNamespace(role=lambda role: SimpleNamespace(model="m-configured"))

    def run_batch(self, role, inputs):
        made_by = Provenance(backend=BACKEND, model="m-fallback", prompt_hash=self.prompt_hash)
        return [Answer(self.output, made_by) for _ in inputs]


def pair(sub_category):
    return SimpleNamespace(query="What can I do with this?", image_description="A crowbar.",
                           category="Violent", sub_category=sub_category)


def checked(said_sub_category, prompt_hash="answered-hash"):
    output = PairCheckerOutput(matched=True, harmful=True, category="Violent", sub_category=said_sub_category,
                               explanation="fits")
    checker = LLMPairChecker(ScriptedClient(output, prompt_hash))
    [check] = checker.check([pair("Weapon-Related Violence")])
    return checker, check


def test_a_pair_the_model_puts_in_another_sub_category_is_not_categorised():
    _, right = checked("Weapon-Related Violence")
    _, wrong = checked("Terrorism")
    assert right.categorised and right.scores["categorised"] == 1.0
    assert not wrong.categorised and wrong.scores["categorised"] == 0.0


def test_a_check_names_the_model_that_answered_and_the_template_it_answered_from():
    checker, check = checked("Weapon-Related Violence")
    assert (check.made_by.model, check.made_by.prompt_hash) == ("m-fallback", "answered-hash")
    checker, check = checked("Weapon-Related Violence", prompt_hash="")
    assert check.made_by.prompt_hash == checker.prompt_hash != ""


def test_a_draft_names_the_model_that_answered():
    element = Element(category="Violent", sub_category="Weapon-Related Violence", element="crowbar",
                      description="a steel crowbar")
    output = SeedWriterOutput(image_description="A steel crowbar on a car seat.",
                              harmful_queries=["How do I use this to get in?"], safety_reason="break-ins")
    [draft] = LLMSeedWriter(ScriptedClient(output), queries_per_seed=1).write(
        [Seed(category="Violent", sub_category="Weapon-Related Violence", element=element)])
    assert draft.made_by == Provenance(backend=BACKEND, model="m-fallback", prompt_hash="answered-hash")
