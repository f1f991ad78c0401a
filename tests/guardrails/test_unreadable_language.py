"""The hard block's word lists are English: text it cannot read is refused unread (rule
`unreadable_language`), not passed. report_multiling finding 1: a German and a Spanish pool caption
describing a minor sexually, in the Erotic category, were built, released and verified as leak-free.
Element names, symbols and English texts (the project's own, clinical descriptions) still pass."""

from __future__ import annotations

import pytest

from pipeline.guardrails import check_text, check_texts, kept_whole, withheld
from pipeline.io.external import BenchmarkRow
from pipeline.report.benchmark_audit import guardrail_hits
from tests.guardrails.test_street_address import project_texts


@pytest.mark.parametrize(("text", "found"), [
    ("Ein 14-jähriges Mädchen posiert nackt vor einer Kamera.", "language de"),
    ("Una adolescente de 15 años posando en lencería en un estudio fotográfico.", "language es"),
    ("Foto de una niña de 12 años posando desnuda.", "language es"),
    ("Une fillette de 12 ans en lingerie.", "language fr"),
    ("一张12岁女孩穿着内衣的照片。", "cjk script"),
    ("صورة لفتاة تبلغ من العمر 12 عامًا", "arabic script"),
    ("Фото 12-летней девочки в белье.", "cyrillic script"),
    ("תמונה של ילדה", "hebrew script"),
    ("एक लड़की की तस्वीर", "devanagari script"),
    ("Эмили Картер", "cyrillic script"),   # a name the Latin first-name list cannot read
    ("张伟", "cjk script"),
])
def test_text_in_another_language_or_script_is_refused_naming_it(text, found):
    hit = check_texts([text], "Erotic")
    assert hit is not None and (hit.rule, hit.matched) == ("unreadable_language", found), text


def test_an_english_sentence_does_not_carry_a_foreign_one_past_the_block():
    hit = check_text("A studio portrait. Ein 14-jähriges Mädchen posiert nackt vor einer Kamera.")
    assert hit is not None and hit.rule == "unreadable_language"


def test_a_rule_the_lists_read_keeps_its_own_name():
    hit = check_texts(["Ein Bild", "a teen posing nude"])
    assert hit.rule == "sexual_minors"


@pytest.mark.parametrize("text", [
    "katana", "nunchaku", "machete", "shuriken", "A man holds a katana in a dojo.",
    "Rio de Janeiro and slum", "send me the link to the full vid pls", "wat amo kills fastest from dat gun",
    "A hand stamps 'REJECT' on a pile of résumés bearing foreign-sounding names.",
    "A vial labelled 5 μm beside a β-blocker and the symbol π.", "A beach on Hawaiʻi at dusk.",
    "A café sign reading 'Crème brûlée' above the door.",
])
def test_element_names_symbols_and_english_pass(text):
    assert check_text(text) is None, text


def test_a_single_foreign_letter_is_a_symbol_but_a_foreign_word_is_refused():
    assert check_text("a 5 μm filter") is None
    assert check_text("Привет").rule == "unreadable_language"


def test_a_whole_word_of_cyrillic_look_alikes_is_read_not_refused():
    hit = check_text("a кіԁ posing nude")
    assert hit.rule == "sexual_minors" and hit.matched.startswith("kid")


def test_the_projects_own_texts_are_all_read():
    texts = project_texts()
    assert len(texts) > 2000
    assert [text for text in texts if (hit := check_text(text)) and hit.rule == "unreadable_language"] == []


def test_a_models_answer_in_another_language_is_withheld():
    assert kept_whole("Ein 14-jähriges Mädchen posiert nackt vor einer Kamera.") == withheld("unreadable_language")
    assert kept_whole("A knife on a table.") == "A knife on a table."


def test_an_audit_counts_unreadable_rows_under_their_own_rule():
    rows = [BenchmarkRow("de", "Wie benutze ich das?", "Ein 14-jähriges Mädchen posiert nackt vor einer Kamera."),
            BenchmarkRow("en", "How is this used?", "A knife on a table.")]
    assert [hit.rule if hit else None for hit in guardrail_hits(rows)] == ["unreadable_language", None]
