"""A lab that renames the Erotic category ("Sexual Content") kept a hard block that looked for the name
"Erotic": a minor reference in her sexual category passed, at every stage, in the release and in `audit`.
The rule now keys on the taxonomy's `sexual = true` flag, or on a sexual word in the category's name."""

from __future__ import annotations

import pytest

import pipeline.taxonomy as taxonomy
from pipeline.guardrails import check_text, check_texts
from pipeline.io.external import BenchmarkRow
from pipeline.report.benchmark_audit import guardrail_hits

MINOR_NO_SEXUAL_WORD = ["A teenage girl posing in a hotel room", "How can I get photos of the girl in the hotel room?"]


def renamed_erotic(text: str, name: str, flag: bool) -> str:
    """The shipped taxonomy with Erotic called `name`, its `sexual = true` line kept or dropped."""
    text = text.replace('name = "Erotic"', f'name = "{name}"')
    return text if flag else text.replace("sexual = true\n", "")


@pytest.fixture
def use_taxonomy(tmp_path, monkeypatch):
    """Point the taxonomy at an edited copy of the shipped one."""
    shipped = taxonomy.TAXONOMY_FILE.read_text(encoding="utf-8")

    def use(name: str, flag: bool) -> None:
        edited = tmp_path / "taxonomy.toml"
        edited.write_text(renamed_erotic(shipped, name, flag), encoding="utf-8")
        monkeypatch.setattr(taxonomy, "TAXONOMY_FILE", edited)
        taxonomy.load_taxonomy.cache_clear()

    yield use
    taxonomy.load_taxonomy.cache_clear()


def test_the_shipped_erotic_category_is_marked_sexual_and_blocks_a_minor():
    assert taxonomy.load_taxonomy().sexual_categories == {"Erotic"}
    hit = check_texts(MINOR_NO_SEXUAL_WORD, "Erotic")
    assert hit is not None and hit.rule == "sexual_minors" and hit.matched == "teenage + Erotic category"


def test_a_renamed_category_marked_sexual_blocks_a_minor_whatever_its_name(use_taxonomy):
    use_taxonomy("Intimate Imagery", flag=True)  # no sexual word in the name: the flag alone
    assert check_texts(MINOR_NO_SEXUAL_WORD, "Intimate Imagery").rule == "sexual_minors"
    assert check_texts(MINOR_NO_SEXUAL_WORD, "intimate imagery").rule == "sexual_minors"


def test_without_the_flag_or_a_sexual_word_the_name_alone_does_not_block(use_taxonomy):
    use_taxonomy("Intimate Imagery", flag=False)
    assert check_texts(MINOR_NO_SEXUAL_WORD, "Intimate Imagery") is None


@pytest.mark.parametrize("category", ["Sexual Content", "sexual content", "NSFW", "nsfw", "Adult Content", "Porn",
                                      "Nudity & Sex", "Sexual_Content", "SexualContent", "Erotica"])
def test_a_category_named_with_a_sexual_word_blocks_a_minor_without_the_flag(use_taxonomy, category):
    use_taxonomy("Sexual Content", flag=False)  # the lab renamed Erotic and did not mark it
    hit = check_texts(MINOR_NO_SEXUAL_WORD, category)
    assert hit is not None and hit.rule == "sexual_minors" and hit.matched == f"teenage + {category} category"


@pytest.mark.parametrize("category", ["Hate", "Violent", "Gender and Sexual Orientation Discrimination",
                                      "Sex Discrimination", "Sexism", "Essex Crime", None, ""])
def test_other_categories_keep_a_minor_without_a_sexual_word(category):
    assert check_texts(MINOR_NO_SEXUAL_WORD, category) is None


def test_a_flag_that_is_no_true_or_false_is_refused_not_read_as_false(use_taxonomy):
    use_taxonomy("Intimate Imagery", flag=True)
    taxonomy.TAXONOMY_FILE.write_text(taxonomy.TAXONOMY_FILE.read_text(encoding="utf-8").replace(
        "sexual = true", 'sexual = "yes"'), encoding="utf-8")
    with pytest.raises(ValueError, match=r"category 'Intimate Imagery': sexual = 'yes' \(write sexual = true"):
        taxonomy.load_taxonomy()


def test_an_audited_benchmark_row_labelled_nsfw_is_read_as_sexual():
    rows = [BenchmarkRow(id=str(n), query="What is she holding?", image_description="A teenage girl on a bed",
                         category=category) for n, category in enumerate(["NSFW", "Sexual content", "Hate"])]
    assert [hit and hit.rule for hit in guardrail_hits(rows)] == ["sexual_minors", "sexual_minors", None]


def test_check_text_reads_the_category_as_check_texts_does():
    assert check_text("A teenage girl posing in a hotel room", category="Sexual Content").rule == "sexual_minors"
