"""The hard block on what an evaluation keeps of the words a model wrote.

`leakless evaluate` measures what a model says to a harmful pair, so the judge reads the answer as
written and the row keeps its label whatever the answer holds: blocking the row would hide what is
measured. The texts a row keeps (the model's answer, the judge's rationale, a failed request's error)
are read by the hard block as every model-written text a run keeps is (`guardrails.kept_start`),
with the pair's texts beside them (a minor in the image description and a sexual word in the answer
are one hit) and its category; one it stops is kept as `(withheld: guardrail <rule>)`. A released
pair passed the hard block itself (release, verify), so what stops a text is the text, or the text
with its pair. The leaderboard counts the withheld texts of each file (`withheld_notes`).
"""

from __future__ import annotations

import re
from collections import Counter
from typing import TYPE_CHECKING

from pipeline.guardrails import check_texts, kept_whole
from pipeline.stages.base import failure_kind

if TYPE_CHECKING:
    from pipeline.evaluate.pairs import Pair

JUDGE_FAILED, MODEL_FAILED = "judge: ", "model: "  # how an error row the judge, or the model, caused begins
WITHHELD = re.compile(r"\(withheld: guardrail ([\w:]+)\)\Z")  # the whole text, or an error's end
MODEL_TEXT_COLUMNS = ("answer", "rationale", "error")  # of an evaluation file's rows


def kept_texts(row: dict, pair: Pair) -> dict:
    """The row with its answer, rationale and error as it keeps them. The three are first read together
    with the pair: most rows hold nothing to stop, and a part read beside fewer texts finds no more than
    the whole, so such a row costs one reading."""
    texts = [row.get(column) or "" for column in MODEL_TEXT_COLUMNS]
    if check_texts([*pair_texts(pair), *texts], pair.category) is None:
        return row
    kept = dict(row)
    if row.get("answer"):
        kept["answer"] = kept_whole(row["answer"], pair_texts(pair), pair.category)
    beside = pair_texts(pair, kept.get("answer"))
    if row.get("rationale"):
        kept["rationale"] = kept_whole(row["rationale"], beside, pair.category)
    if row.get("error"):
        who, _, error = row["error"].partition(": ")  # "model", "judge": ours
        kept["error"] = kept_error(f"{who}: ", error, beside, pair.category)
    return kept


def pair_texts(pair: Pair, answer: str | None = None) -> tuple[str, ...]:
    """What a model-written text of the pair's row is read beside: the pair's texts, and the answer as
    the row keeps it (the rationale speaks of it: a minor it names and a sexual word in the rationale
    are one hit); a withheld answer's note is no model's words."""
    kept = (answer,) if answer and not is_withheld(answer) else ()
    return (pair.instruction, pair.image_description, pair.safety_reason, *kept)


def kept_error(prefix: str, error: str, beside: tuple[str, ...] = (), category: str | None = None) -> str:
    """A failed request's error as the row keeps it, after `prefix` ("model: ", "judge: "). Its text
    may quote what a model wrote (an answer that stayed invalid); a withheld one keeps its opening
    words where they are ours ("invalid answer after one repair"), as failure records do."""
    said = kept_whole(error, beside, category)
    if said != error and (kind := failure_kind(error)):
        said = f"{kind}: {said}"
    return prefix + said


def is_withheld(text: str | None) -> bool:
    return bool(text) and WITHHELD.fullmatch(text) is not None


def withheld_rules(rows: list[dict]) -> dict[str, Counter]:
    """Column -> rule -> how many of the rows' texts in that column the hard block withheld."""
    counts = {column: Counter() for column in MODEL_TEXT_COLUMNS}
    for row in rows:
        for column in MODEL_TEXT_COLUMNS:
            if found := WITHHELD.search(row.get(column) or ""):
                counts[column][found.group(1)] += 1
    return {column: rules for column, rules in counts.items() if rules}


def withheld_notes(withheld: dict[str, dict[str, Counter]]) -> list[str]:
    """One sentence per evaluation file (relative to its folder) with withheld texts."""
    notes = []
    for file, columns in sorted(withheld.items()):
        texts = ", ".join(counted(sum(rules.values()), column) for column, rules in columns.items())
        rules = sum(columns.values(), Counter())
        named = ", ".join(f"{rule} {count}" for rule, count in sorted(rules.items()))
        notes.append(f"{file}: {texts} withheld by the hard block ({named}): the file holds the rule in "
                     f"place of the text; the rows keep their labels.")
    return notes


def counted(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"
