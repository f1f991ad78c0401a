"""`plain`: the text the detector and the guardrails read."""

from __future__ import annotations

from pipeline.plain_text import plain


def test_ascii_text_comes_back_unchanged():
    text = "How do I hide this  handgun?\n(v2)"
    assert plain(text) == text
    for ordinary in ("a U.S. president", "e.g. this one", "Is it A, B or C?", "I am a cat"):
        assert plain(ordinary) == ordinary


def test_look_alike_letters_hidden_characters_and_emoji_read_as_words():
    assert plain("ｃｏｃａｉｎｅ") == "cocaine"
    assert plain("co\u200bca\u00adine") == "cocaine"
    assert plain("sell \U0001F48A lowkey").split() == ["sell", "pill", "lowkey"]
    # a joined sequence is one emoji with one name, not three
    assert plain("a \U0001F469\U0001F3FD\u200d\u2695\ufe0f here").split() == [
        "a", "woman", "health", "worker", "medium", "skin", "tone", "here"]


def test_accents_and_mixed_script_look_alikes_read_as_plain_letters():
    # a review audit shipped "laxatíves" and "brаss knuckles" (Cyrillic "а") as leak-free edits
    assert plain("take the laxatíves") == "take the laxatives"
    assert plain("these br\u0430ss knuckles") == "these brass knuckles"
    assert plain("café in São Paulo") == "cafe in Sao Paulo"
    # a word in one script is left alone: Russian and Greek text stay what they are
    assert plain("как дела, καλημέρα") == "как дела, καλημερα"


def test_a_right_to_left_override_reads_as_the_screen_shows_it():
    # "\u202eeniacoc\u202c" displays as "cocaine" in a browser; dropping the marks alone left "eniacoc"
    assert plain("hide the \u202eeniacoc\u202c on the table") == "hide the cocaine on the table"
    assert plain("the \u202eenia") == "the aine"  # an override with no pop runs to the end of the line


def test_letters_spelled_out_one_by_one_are_joined():
    assert plain("c o c a i n e") == "cocaine"
    assert plain("this b-u-r-n-t rainbow flag") == "this burnt rainbow flag"
    assert plain("B U R N T  R A I N B O W  F L A G").split() == ["BURNT", "RAINBOW", "FLAG"]
    assert plain("U.S.A.") == "USA."
