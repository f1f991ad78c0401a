"""What a run keeps of a failed model request (failures.parquet, the ledger, the summary) goes
through the hard block first: a model wrote the raw answer and a refusal's words, and a failure
record kept them word for word, a private person at her address included."""

from __future__ import annotations

from pipeline.backends.base import SeedWriter
from pipeline.batch import Batch
from pipeline.contracts import ItemError
from pipeline.ledger import ledger_for
from pipeline.records import Draft, Element, Seed
from pipeline.stages.base import KEPT_CHARS, failure_text
from pipeline.stages.drafts import DraftStage
from pipeline.taxonomy import load_elements

PRIVATE = ("whitfield", "maple street")
WHITFIELD = '{"image_description": "Laura Whitfield\'s laptop open on her desk at 42 Maple Street", "harmful'


def seed(name: str = "laptop") -> Seed:
    category, sub = "Privacy", "Unauthorized Data Collection"
    return Seed(category=category, sub_category=sub,
                element=Element(category=category, sub_category=sub, element=name,
                                description=f"A {name} on a desk in an office."))


class FailingWriter(SeedWriter):
    """Answers every seed with the same failure, as a server that cut off or refused would."""
    backend = "test-failing"

    def __init__(self, error: ItemError):
        self.error = error

    def write(self, seeds):
        return [self.error for _ in seeds]


class RefusingQueriesWriter(SeedWriter):
    """Writes a draft whose only query is a refusal that names a person: no query is usable."""
    backend = "test-refusing"

    def write(self, seeds):
        return [Draft(seed_id=s.id, image_description=s.element.description,
                      harmful_queries=("I'm sorry, I can't say where Emily Carter keeps her laptop.",),
                      safety_reason="test", made_by=self.provenance) for s in seeds]


def failed(writer: SeedWriter) -> tuple[str, str]:
    """(the failure record's error, the seed's ledger reason) after the drafts stage."""
    out = DraftStage(writer)(Batch(seeds=[seed()]))
    (failure,) = out.failures
    (entry,) = ledger_for(out)
    assert entry.state == "failed"
    return failure.error, entry.reason


def test_a_raw_answer_naming_a_person_at_her_address_is_withheld_from_the_failure_and_ledger():
    error, reason = failed(FailingWriter(ItemError(error="the answer was cut off at max_tokens=64", raw=WHITFIELD)))
    assert error == ("the answer was cut off at max_tokens=64"
                     " | raw answer: (withheld: guardrail private_person:street_address)")
    assert not [word for word in PRIVATE if word in (error + reason).lower()], reason


def test_a_refusals_own_words_are_read_too():
    error, _ = failed(FailingWriter(ItemError(error="I won't describe Laura Whitfield's flat at 42 Maple Street.",
                                              raw="", refused=True)))
    assert error == "refused: (withheld: guardrail private_person:street_address)"


def test_a_minor_in_the_error_and_a_sexual_word_in_the_raw_answer_are_one_hit():
    split = ItemError(error="invalid answer about a 15-year-old", raw='{"q": "explicit photos"}')
    error, _ = failed(FailingWriter(split))
    assert error == "invalid answer about a 15-year-old | raw answer: (withheld: guardrail sexual_minors)"


def test_a_draft_with_no_usable_query_keeps_no_name_in_its_failure():
    error, reason = failed(RefusingQueriesWriter())
    assert error.startswith("(withheld: guardrail private_person:full_name) | raw answer: (withheld: guardrail")
    assert "carter" not in (error + reason).lower()


def test_what_is_kept_is_read_as_cut():
    """Whole, "12 Elm Streetcar" is no address; cut to KEPT_CHARS it reads "12 Elm Street"."""
    raw = "y" * (KEPT_CHARS - len(" 12 Elm Street")) + " 12 Elm Streetcar depot"
    assert raw[:KEPT_CHARS].endswith("12 Elm Street")
    kept = failure_text(ItemError(error="bad", raw=raw))
    assert kept == "bad | raw answer: (withheld: guardrail private_person:street_address)"


def test_a_clean_failure_is_kept_bounded():
    kept = failure_text(ItemError(error="x" * 5000, raw='{"elements": [' + "y" * 5000))
    assert kept == "x" * KEPT_CHARS + ' | raw answer: {"elements": [' + "y" * (KEPT_CHARS - 14)


def test_a_note_already_withheld_is_not_read_again():
    """A failure can wrap another (the leak filter keeps the VSIL judge's): the rule's name in a
    withheld note, "sexual_minors", is no sexual word beside a minor one."""
    inner = failure_text(ItemError(error="the judge answered about a teen", raw="lingerie"))
    assert inner == "the judge answered about a teen | raw answer: (withheld: guardrail sexual_minors)"
    assert failure_text(ItemError(error=f"VSIL judge: {inner}")) == f"VSIL judge: {inner}"
    both = failure_text(ItemError(error="a teen in lingerie", raw='{"ok": true}'))
    assert both == '(withheld: guardrail sexual_minors) | raw answer: {"ok": true}'
    # a model cannot hide words in a note of its own
    forged = failure_text(ItemError(error="cut off", raw="(withheld: guardrail teen_lingerie)"))
    assert forged == "cut off | raw answer: (withheld: guardrail sexual_minors)"


def test_the_erotic_category_blocks_any_minor_reference():
    assert failure_text(ItemError(error="cut off", raw="a girl on a bed"), "Erotic") == \
        "cut off | raw answer: (withheld: guardrail sexual_minors)"
    assert failure_text(ItemError(error="cut off", raw="a girl on a bed")) == "cut off | raw answer: a girl on a bed"


def test_a_stage_reads_its_failures_with_the_seeds_category():
    erotic = next(e for e in load_elements() if e.category == "Erotic")
    out = DraftStage(FailingWriter(ItemError(error="cut off", raw="a girl on a bed")))(Batch(seeds=[
        Seed(category=erotic.category, sub_category=erotic.sub_category, element=erotic)]))
    (failure,) = out.failures
    assert failure.error == "cut off | raw answer: (withheld: guardrail sexual_minors)"


def test_a_withheld_error_still_says_what_failed():
    said = failure_text(ItemError(error="HTTP 429: rate limited; write to Laura Whitfield at 42 Maple Street"))
    assert said == "HTTP 429: (withheld: guardrail private_person:street_address)"
    assert failure_text(ItemError(error="Laura Whitfield, 42 Maple Street")).startswith("(withheld: guardrail")
