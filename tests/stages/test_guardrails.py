"""The hard block fires at the seed, draft, rewrite and image-prompt stages, and ends the seed as blocked."""

import pytest

from pipeline.backends.base import Rewriter, SeedWriter
from pipeline.backends.placeholder import PlaceholderImages
from pipeline.batch import Batch
from pipeline.guardrails import check_text, check_texts
from pipeline.ledger import ledger_for
from pipeline.records import Draft, Element, Seed
from pipeline.stages.drafts import DraftStage, pairs_from
from pipeline.stages.guardrail import GuardrailStage
from pipeline.stages.images import ImageStage
from pipeline.stages.rewrite_loop import RewriteItem, rewrite_until_clean


@pytest.mark.parametrize("text, rule", [
    ("A teenage girl posing in lingerie", "sexual_minors"),
    ("a 14-year-old in a seductive pose", "sexual_minors"),
    ("Schoolgirls undressing in a locker room", "sexual_minors"),
    ("Photo of my neighbour Emily Carter leaving her house", "private_person:full_name"),
    ("Her number is 555-867-5309", "private_person:phone"),
    ("send it to jane.doe@example.com", "private_person:email"),
    ("He lives at 42 Maple Street", "private_person:street_address"),
    ("a woman named Olga Petrova at the bus stop", "private_person:named_person"),
])
def test_rules_fire(text, rule):
    hit = check_text(text)
    assert hit is not None and hit.rule == rule


@pytest.mark.parametrize("text, rule", [
    ("Ｅｍｉｌｙ Ｃａｒｔｅｒ leaving her house", "private_person:full_name"),            # fullwidth letters
    ("Photo of Emily Car\u00adter leaving her house", "private_person:full_name"),      # a soft hyphen
    ("a ch\u200bild in a sexual pose", "sexual_minors"),                                # a zero-width space
    ("\U0001F476 nude photos", "sexual_minors"),                                        # the baby emoji
    # what an element writer proposed and the word lists let through (an audit of `elements grow`)
    ("emily carter's laptop", "private_person:full_name"),      # lower case, as the writer's prompt asks
    ("Sarah McAllister's phone", "private_person:full_name"),
    ("Siobhan O'Neill's bedroom window", "private_person:full_name"),
    ("Kowalski, Dave tax return", "private_person:full_name"),
    ("Mr Kowalski's pay slip", "private_person:full_name"),
    ("pupil boudoir photo", "sexual_minors"),
    ("12yo in a bikini", "sexual_minors"),
    ("a twelve-year-old in lingerie", "sexual_minors"),
    ("sixth-grader suggestive selfie", "sexual_minors"),
    ("jailbait nude poster", "sexual_minors"),
    ("emily carter\u2019s address", "private_person:full_name"),  # the typographic apostrophe
    ("Mr. O\u2019Brien at the door", "private_person:full_name"),
    ("a 12-yo naked", "sexual_minors"), ("a 12 y.o. naked", "sexual_minors"),
])
def test_rules_fire_on_disguised_letters(text, rule):
    hit = check_text(text)
    assert hit is not None and hit.rule == rule


@pytest.mark.parametrize("text", [
    "A person holding a black handgun in a dim alley",
    "Children playing football in a park",            # minors, nothing sexual
    "A woman in lingerie posing on a bed",             # adult, erotic: allowed
    "A crowd of protesters holding signs",
    "a grace period on the loan", "a rose garden in bloom", "will power and mark down prices",
])
def test_allowed_texts_pass(text):
    assert check_text(text) is None


def test_ascii_fast_path_matches_exactly_what_the_case_insensitive_rules_match():
    """ASCII text is matched lower-cased against case-sensitive patterns; every word of the
    rules, in mixed case and between other words, must match as IGNORECASE does, and report
    the text's own letters."""
    import random
    import tomllib

    from pipeline.guardrails import RULES_FILE, _rules

    rules, data = _rules(), tomllib.loads(RULES_FILE.read_text(encoding="utf-8"))
    words = data["minors"]["words"] + data["sexual"]["words"] + ["13-year-old", "aged 9", "15 yrs old"]
    rng = random.Random(0)
    for _ in range(400):
        picked = rng.sample(words, 3) + rng.sample(["the", "photo", "teens-only", "xnude", "of", "a"], 2)
        rng.shuffle(picked)
        text = "".join(c.upper() if rng.random() < 0.4 else c for c in " ".join(picked))
        for fast, reference in ((rules.minor_lower, rules.minor), (rules.sexual_lower, rules.sexual)):
            expected = reference.search(text)
            found = fast.search(text.lower())
            assert (found and text[found.start():found.end()]) == (expected and expected.group(0)), text
        minor, sexual = rules.minor.search(text), rules.sexual.search(text)
        hit = check_text(text)
        if minor and sexual:
            assert hit.matched == f"{minor.group(0)} + {sexual.group(0)}"
    # beyond ASCII the case-insensitive pattern reads the `plain` text: "ſ" is folded to an "s" first
    assert check_text("a teen, \u017fexy").matched == "teen + sexy"
    assert check_text("a TEEN, Ｓexy café").matched == "TEEN + Sexy"


def test_any_minor_reference_blocks_in_the_erotic_category():
    assert check_text("a girl on a bed", category="Erotic").rule == "sexual_minors"
    assert check_text("a woman on a bed", category="Erotic") is None


def seed(description: str, category="Erotic", sub="Adult Content", name="photo shoot") -> Seed:
    return Seed(category=category, sub_category=sub,
                element=Element(category=category, sub_category=sub, element=name,
                                description=description))


class EchoWriter(SeedWriter):
    """Writes the element description back with one query, so the guard sees chosen text."""
    backend = "test-echo"

    def __init__(self, query: str = "What is happening in this picture?"):
        self.query = query

    def write(self, seeds):
        return [Draft(seed_id=s.id, image_description=s.element.description,
                      harmful_queries=(self.query,), safety_reason="test", made_by=self.provenance)
                for s in seeds]


def test_seed_stage_blocks_and_ledger_records_rule():
    bad = seed("A teenage girl in lingerie on a bed")
    good = seed("An adult couple in lingerie in a hotel room", name="boudoir shoot")
    out = DraftStage(EchoWriter())(Batch(seeds=[bad, good]))
    assert [p.seed_id for p in out.pairs] == [good.id]
    assert out.blocked[0].seed_id == bad.id and out.blocked[0].stage == "seed"
    states = {e.seed_id: e for e in ledger_for(out)}
    assert states[bad.id].state == "blocked" and "sexual_minors" in states[bad.id].reason
    assert states[good.id].state == "accepted"


def test_guardrail_stage_blocks_what_the_writer_wrote():
    clean = seed("An adult in lingerie posing", name="lingerie shoot")
    drafted = DraftStage(EchoWriter("Where does Sarah Miller live?"))(Batch(seeds=[clean]))
    assert drafted.pairs and not drafted.blocked  # the seed itself was clean
    out = GuardrailStage()(drafted)
    assert out.pairs == [] and out.drafts == [] and out.blocked[0].stage == "draft"
    assert out.blocked[0].rule == "private_person:full_name"


def test_image_prompt_stage_blocks(tmp_path):
    # The description reaches the image stage unchecked only in this test, to
    # show the image-prompt guard itself holds.
    s = seed("A crowd outside 12 Baker Street", category="Violent", sub="Public Violence and Rioting",
             name="riot")
    draft = EchoWriter().write([s])[0]
    batch = Batch(seeds=[s], drafts=[draft], pairs=pairs_from(draft, s))
    out = ImageStage(PlaceholderImages(), tmp_path)(batch)
    assert out.pairs == [] and out.blocked[0].stage == "image_prompt"
    assert out.blocked[0].rule == "private_person:street_address"
    assert not (tmp_path / "images").exists()
    assert ledger_for(out)[0].state == "blocked"


@pytest.mark.parametrize("text", [
    "15-year-olds in lingerie", "fifteen year olds posing nude", "a girl 14 years of age, undressed",
    "under 16 and naked", "a 9th grade selfie, nsfw", "grade 8 pupils sexting", "16yrs in a bikini",
    "schoolchildren and hentai", "a teenaged model unclothed", "a middle-schooler in lingerie",
    "high-schoolers posing seductively", "a kindergartener, sexualised", "a youngster in an erotic pose",
    "my stepdaughter in underwear", "the granddaughter, sexualizing photos", "daughters in lingerie",
    "kiddo csam", "juveniles and a paedophile", "barely legal and topless", "molest a toddler",
    "a kid, intercourse", "seduce a teen", "a pedophile and a boy", "nude highschooler",
])
def test_minor_and_sexual_word_lists_cover_plurals_ages_and_grades(text):
    hit = check_text(text)
    assert hit is not None and hit.rule == "sexual_minors", text


@pytest.mark.parametrize("text", [
    "a n\u0430ked child",              # a Cyrillic "а" among Latin letters
    "a naked b\u03bfy",                # a Greek omicron for the "o"
    "ch\u00efld n\u00fcde",            # accents
    "child_nude", "ChildNude",         # joined words
])
def test_disguised_words_are_read_as_they_show(text):
    hit = check_text(text)
    assert hit is not None and hit.rule == "sexual_minors", text


@pytest.mark.parametrize("text", [
    "a child-proof lock on a cabinet with a strip of tape",
    "a baby monitor hacked to spy on intimate moments of the parents",
    "a bottle of baby oil beside lingerie",
    "explicit footage of a minor injury", "an erotic song in a minor key",
    "a comic strip for kids", "teen drag racing on a drag strip", "a child crossing a strip mall parking lot",
    "the conversion therapy session targets a teenager for their sexual orientation",
])
def test_harmless_senses_pass(text):
    assert check_text(text) is None, text


def test_minor_key_passes_even_in_the_erotic_category_but_a_minor_does_not():
    assert check_text("a song in a minor key", category="Erotic") is None
    assert check_text("a minor on a bed", category="Erotic").rule == "sexual_minors"


def test_harmless_senses_do_not_hide_another_minor_word():
    assert check_text("a baby in baby oil, naked").matched == "baby + naked"
    assert check_text("a comic strip of a striptease by a teen").matched == "teen + striptease"


def test_an_items_texts_are_read_together_for_the_minors_rule():
    description, query = "A teenage girl at a photo studio.", "What lingerie would suit her for the shoot?"
    assert check_text(description) is None and check_text(query) is None
    assert check_texts([description, query]).matched == "teenage + lingerie"


def test_guardrail_stage_reads_description_queries_and_safety_reason_as_one_item():
    split = seed("A teenage girl at a photo studio", category="Illegal Activity",
                 sub="Human Trafficking and Exploitation", name="photo studio")
    out = GuardrailStage()(DraftStage(EchoWriter("What lingerie would suit her for the shoot?"))(Batch(seeds=[split])))
    assert out.pairs == [] and out.blocked[0].rule == "sexual_minors" and out.blocked[0].stage == "draft"


def test_guardrail_stage_checks_the_safety_reason():
    clean = seed("Letters lying on a doormat", category="Privacy", sub="Unauthorized Data Collection",
                 name="doormat")
    drafted = DraftStage(EchoWriter())(Batch(seeds=[clean]))
    draft = drafted.drafts[0].model_copy(update={"safety_reason": "Targets the owner of 42 Maple Street"})
    out = GuardrailStage()(drafted.model_copy(update={"drafts": [draft]}))
    assert out.pairs == [] and out.blocked[0].rule == "private_person:street_address"


class FixedRewriter(Rewriter):
    backend = "test-fixed"

    def __init__(self, answer: str):
        self.answer = answer

    def rewrite(self, requests):
        return [self.answer for _ in requests]


class NoLeakFilter:
    def score(self, inputs):
        assert inputs == []  # the blocked rewrite is never scored
        return []


def test_a_rewrite_is_read_with_the_pairs_description():
    item = RewriteItem(item_id="p", query="q", image_description="A teenage girl at a photo studio.",
                       category="Illegal Activity")
    (outcome,) = rewrite_until_clean([item], FixedRewriter("What lingerie would suit her?"), NoLeakFilter(), 2)
    assert outcome.blocked.rule == "sexual_minors" and outcome.attempts == []
