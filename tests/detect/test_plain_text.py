"""`plain`: the text the detector and the guardrails read."""

from __future__ import annotations

from pipeline.plain_text import plain


def test_ascii_text_comes_back_unchanged():
    text = "How do I hide this  handgun?\n(v2)"
    assert plain(text) is text


def test_look_alike_letters_hidden_characters_and_emoji_read_as_words():
    assert plain("ｃｏｃａｉｎｅ") == "cocaine"
    assert plain("co\u200bca\u00adine") == "cocaine"
    assert plain("sell \U0001F48A lowkey").split() == ["sell", "pill", "lowkey"]
    # a joined sequence is one emoji with one name, not three
    assert plain("a \U0001F469\U0001F3FD\u200d\u2695\ufe0f here").split() == [
        "a", "woman", "health", "worker", "medium", "skin", "tone", "here"]


def test_other_letters_keep_their_accents():
    assert plain("café in São Paulo") == "café in São Paulo"
