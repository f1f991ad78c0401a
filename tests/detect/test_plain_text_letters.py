"""`plain` reads small capitals and Armenian/Cherokee look-alikes as Latin letters, and keeps the
article out of a spelled-out word (report_multiling finding 4): "A photo of a m i n o r" read
"aminor", which no word list matches."""

from __future__ import annotations

import pytest

from pipeline.plain_text import folded_letters, plain, plain_with_origins


def test_small_capitals_read_as_latin_letters_in_any_word():
    assert plain("How do I hide this ʜᴀɴᴅɢᴜɴ?") == "How do I hide this handgun?"
    assert plain("ᴛᴇᴇɴ ɴᴜᴅᴇ") == "teen nude"
    assert len(folded_letters("ᴛᴇᴇɴ")) == 4  # character for character: spans still line up


def test_armenian_and_cherokee_look_alikes_fold_inside_a_latin_word_only():
    assert plain("n\u057dde") == "nude"        # Armenian seh
    assert plain("\u13daEX") == "SEX"          # Cherokee du
    assert plain("\u0570\u0578\u0582\u0575\u057d") == "\u0570\u0578\u0582\u0575\u057d"  # an Armenian word stays


@pytest.mark.parametrize("typed, read", [
    ("A photo of a m i n o r posing n u d e.", "A photo of a minor posing nude."),
    ("a c o c a i n e", "a cocaine"),
    ("I h a t e them", "I hate them"),
    # the rest is no word of three letters: the one-letter word is the run's first letter
    ("I B M", "IBM"),
    ("a b c", "abc"),
    # no article is written with a hyphen, dot or underscore after it
    ("a-m-m-o", "ammo"),
    ("c o c a i n e", "cocaine"),
])
def test_an_article_or_pronoun_stays_apart_from_a_spelled_out_word(typed, read):
    assert plain(typed) == read
    assert plain_with_origins(typed)[0] == read


def test_the_origins_of_a_word_after_a_kept_article_point_at_its_letters():
    read, origins = plain_with_origins("a m i n o r")
    assert read == "a minor"
    assert origins[2] == (2, 3) and origins[-1] == (10, 11)
