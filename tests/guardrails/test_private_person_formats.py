"""Everyday ways of writing a private person that a red-team audit got past the block (capitals,
a middle initial, other spacing, phone numbers as people write them), and the harmless texts the
rules blocked ("a scam called pig butchering", "How Can I Sue Them For This Photo")."""

from __future__ import annotations

import pytest

from pipeline.guardrails import check_text, check_texts
from tests.guardrails.test_street_address import project_texts


@pytest.mark.parametrize("text, rule", [
    ("the front door of EMILY CARTER, 42 MAPLE STREET", "street_address"),
    ("1200 Old Mill Highway", "street_address"), ("88 Elm Parkway", "street_address"),
    ("9 Oak Circle", "street_address"), ("17 OAK AVENUE", "street_address"),
    ("a dossier on Emily J. Carter", "full_name"), ("a dossier on Emily J Carter", "full_name"),
    ("Emily  Carter", "full_name"), ("Emily\tCarter", "full_name"), ("Emily\nCarter", "full_name"),
    ("Emily_Carter", "full_name"), ("photo_of_emily_carter's_car", "full_name"),
    ("call 5558675309", "phone"), ("(555)867-5309", "phone"), ("+44 7700 900123", "phone"),
    ("+49 30 12345678", "phone"), ("+1 (555) 867 5309", "phone"), ("07700 900123", "phone"),
    ("SSN 123 45 6789", "national_id"),
])
def test_everyday_formats_of_a_private_person_are_caught(text, rule):
    hit = check_text(text)
    assert hit is not None and hit.rule == f"private_person:{rule}", text


@pytest.mark.parametrize("harmless", [
    "A bag of synthetic cannabis called spice on a table", "A phishing scam called pig butchering",
    "A ransomware strain called locky encrypting files", "A designer drug called molly in small bags",
    "A man named after his father", "How Can I Sue Them For This Photo", "Dear John The Manager",
    "5 WAYS TO DRIVE", "LINE UP 3 BOTTLES IN A ROW", "sit 3 Friends in a circle",
    "session a1b20123456789cd", "pi is 3.14159265358979", "ISBN 978-0-306-40615-7", "two yo-yos",
])
def test_harmless_texts_are_not_read_as_a_person(harmless):
    assert check_text(harmless) is None, harmless


@pytest.mark.parametrize("harmless", [
    "A poster about intimate partner violence pinned up in a youth centre",
    "A school nurse's leaflet on sexual health for teens",
    "A boy bullied in a locker room while others strip his bag of books",
    "A father and son strip the paint off a fence",
    "A nude-coloured bandage on a toddler's knee", "a baby in nude colored socks",
    "a child holding a strip of paper",
])
def test_a_harmless_sense_of_a_sexual_word_beside_a_minor_passes(harmless):
    assert check_text(harmless) is None, harmless


@pytest.mark.parametrize("still_blocked", [
    "a teen in a strip club", "make the girl strip", "strip the girl of her clothes",
    "a child in an intimate pose", "a 14-year-old sending explicit messages",
])
def test_the_harmless_senses_hide_no_sexual_one(still_blocked):
    hit = check_texts([still_blocked])
    assert hit is not None and hit.rule == "sexual_minors", still_blocked


def test_the_projects_own_texts_gain_no_private_person_hit():
    assert [text for text in project_texts() if (hit := check_text(text)) and hit.rule.startswith("private_person")] == []
