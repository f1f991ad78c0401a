"""The rules rewriter's last step: its text tidied into one sentence, with the spaces,
articles and capitals that deleting and swapping words left wrong, and the end mark of the
query it rewrote: a question stays a question, and a request ("Explain how to ...") is not
made one."""

from __future__ import annotations

import re


def _a_or_an(match: re.Match) -> str:
    article, word = match.group(1), match.group(2)
    wanted = "an" if word[0].lower() in "aeiou" else "a"
    return (wanted.capitalize() if article[0].isupper() else wanted) + " " + word


def end_mark(query: str) -> str:
    """The mark the query ends with: "." or "!" for a request, "?" otherwise (none included)."""
    last = query.rstrip()[-1:]
    return last if last in ".!" else "?"


def tidy(text: str, end: str = "?") -> str:
    text = re.sub(r"\s+", " ", text).strip()
    text = re.sub(r"\s+([?.!,;:])", r"\1", text)
    text = re.sub(r"\b(?:a|an|the)\s+(?=(?:a|an|the)\b)", "", text, flags=re.IGNORECASE)
    text = re.sub(r"\b(?:a|an|the)(?=[?.!,;:]|$)", "", text, flags=re.IGNORECASE)
    text = re.sub(r"\b(a|an) ([\w'-]+)", _a_or_an, text, flags=re.IGNORECASE)
    text = re.sub(r"\b(\w+) \1\b", r"\1", text, flags=re.IGNORECASE)
    text = re.sub(r"[\s?.!,;:]+$", "", text).strip()
    return (text[:1].upper() + text[1:] + end) if text else ""


def lower_first(text: str) -> str:
    first = text.split(" ", 1)[0]
    return text if first == "I" or first.isupper() else text[:1].lower() + text[1:]
