"""Whether a text reads as working instructions rather than a description of what a photo shows.

The guide's rule: seeds and prompts describe risky objects and scenarios, never how to make or
use them. A description names things and says where they are ("A pipe bomb on a workbench
beside end caps and tape"); a procedure tells someone what to do, in order ("pack the pipe
with black powder, cap both ends, drill the cap"). What a procedure has and a description
does not, each a rule below: how-to framing, numbered or sequenced steps, quantities next to
an action, a materials list, and clauses that open with an assembly or synthesis verb in the
imperative followed by what it acts on.

Measured on the 380 library elements (names, synonyms, broader terms, descriptions) and the
offline templates (tests/elements/test_instruction_procedures.py): none is read as a procedure.
"""

from __future__ import annotations

import re

# How-to framing, step counts and recipe words: what a procedure calls itself.
INSTRUCTION_MARKERS = [
    r"\bstep\s*(?:\d+|one|two|three)\b",
    r"\bstep[- ]by[- ]step\b",
    r"\b\d+(?:\.\d+)?\s*(?:g|mg|kg|ml|l|grams?|milligrams?|ounces?|oz|cups?|tablespoons?|teaspoons?|tsp|tbsp)\b",
    r"\brecipe\b",
    r"\binstructions?\b",
    r"\bhow[- ]to\b",
    r"\b(?:mix|combine|dissolve|stir) (?:it|them|the|with|in|into)\b",
    r"\b(?:first|then|next|finally),",
    r"\bheat (?:it|to|until)\b",
]
INSTRUCTION = re.compile("|".join(INSTRUCTION_MARKERS), re.IGNORECASE)

NUMBER_WORD = r"(?:\d+(?:[.,/]\d+)?|one|two|three|four|five|six|seven|eight|nine|ten|half an?|a few)"
# Numbered steps: "1. ... 2." or "(1) ... (2)" or "1) ... 2)".
NUMBERED_STEPS = re.compile(r"(?:^|[\s(])1[.)]\s.*?(?:^|[\s(])2[.)]\s", re.DOTALL)
# "first ... then ...", within one sentence: an order of actions, not a scene.
FIRST_THEN = re.compile(r"\bfirst\b[^.!?;]{0,160}?\bthen\b", re.IGNORECASE)
# A materials list introduces what is to be gathered.
MATERIALS = re.compile(r"\b(?:materials|ingredients|supplies|parts list|you(?:'ll| will) need|what you need)\b\s*[:\-–]",
                       re.IGNORECASE)
# Amounts a procedure measures out; "two parts bleach to one part ammonia" is a ratio.
QUANTITY = re.compile(rf"\b{NUMBER_WORD}\s+(?:parts?|cups?|tablespoons?|teaspoons?|drops?|grams?|ounces?|"
                      r"millilit(?:er|re)s?|lit(?:er|re)s?|doses?)\b", re.IGNORECASE)

# Verbs of assembling, mixing, cooking or machining, which a description has no cause to put in the
# imperative. Those that are also nouns ("a drill", "tape", "wire") count only before a word that
# makes them a command ("drill the cap", "cap both ends"): a list of tools would read as commands.
ACTION_VERBS = ("add", "assemble", "attach", "boil", "combine", "connect", "crush", "dissolve", "distil", "distill",
                "evaporate", "extract", "grind", "ignite", "insert", "melt", "reflux", "solder", "stir", "tighten",
                "detonate", "pour", "mix", "heat", "build", "make", "cook", "bake", "shake", "soak", "strain",
                "unscrew", "glue", "wrap", "fill", "bend", "pack", "cap", "drill", "cut", "fit", "print", "run", "tape",
                "wire", "filter", "load", "place", "seal", "screw", "file", "sand", "mount", "plug", "set", "light",
                "remove", "spray", "apply", "inject", "prime", "arm", "mill", "dry", "wash", "cool", "stuff", "put")
NOUN_LIKE = {"pack", "cap", "drill", "cut", "fit", "print", "run", "tape", "wire", "filter", "load", "place", "seal",
             "screw", "file", "sand", "mount", "plug", "set", "light", "spray", "prime", "arm", "mill", "dry",
             "wash", "cool", "stuff", "put", "mix", "heat", "build", "make", "wrap", "fill", "bend", "pour", "shake",
             "soak", "strain", "glue", "cook", "melt", "extract"}
COMMAND_OBJECT = rf"(?:the|a|an|both|each|all|it|them|this|that|these|those|your|its|some|more|{NUMBER_WORD})\b"
PARTICLE = r"(?:\s+(?:out|up|down|off|in|on|together|through|back|away))?"
# Where a command starts: the text's start, after a colon, semicolon or sentence end, after a comma,
# or after "and" / "then".
CLAUSE_START = r"(?:^|[:;.!?]\s*|,\s*|\b(?:and|then)\s+)"
_VERBS = "|".join(sorted(ACTION_VERBS, key=len, reverse=True))
_PLAIN_VERBS = "|".join(sorted(set(ACTION_VERBS) - NOUN_LIKE, key=len, reverse=True))
COMMAND = re.compile(
    rf"{CLAUSE_START}(?P<command>(?:{_VERBS}){PARTICLE}\s+{COMMAND_OBJECT}"
    rf"|(?:{_PLAIN_VERBS}){PARTICLE}\s+(?!(?:and|or|with|of|in|on|at|to|for|by|from)\b)[a-z]+)", re.IGNORECASE)
# A command right after a colon, or opening the text: "A sheet taped to a bench: pack the pipe ...".
OPENING_COMMAND = re.compile(rf"(?:^|:\s*)(?P<command>(?:{_VERBS}){PARTICLE}\s+{COMMAND_OBJECT})", re.IGNORECASE)
# An action in any tense next to a quantity: "poured two parts bleach into one part ammonia".
ACTION = re.compile(rf"\b(?:{_VERBS})(?:s|es|ed|d|ing)?\b", re.IGNORECASE)


def procedure_in(text: str) -> tuple[str, str] | None:
    """(what reads as instructions, the words found) for the first rule `text` breaks, or None."""
    for what, pattern in (("how-to framing, steps or a recipe", INSTRUCTION), ("numbered steps", NUMBERED_STEPS),
                          ("a sequence of steps", FIRST_THEN), ("a materials list", MATERIALS)):
        if found := pattern.search(text):
            return what, found.group(0).strip()
    if (quantity := QUANTITY.search(text)) and (action := ACTION.search(text)):
        return "a quantity with an action", f"{action.group(0)} ... {quantity.group(0)}"
    if found := OPENING_COMMAND.search(text):
        return "a command", found.group("command")
    commands = [found.group("command") for found in COMMAND.finditer(text)]
    if len(commands) >= 2:
        return "a sequence of commands", "; ".join(commands[:3])
    return None
