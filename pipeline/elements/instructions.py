"""Whether a text reads as working instructions rather than a description of what a photo shows.

The guide's rule: seeds and prompts describe risky objects and scenarios, never how to make or
use them. A description names things and says where they are ("A pipe bomb on a workbench
beside end caps and tape"); a procedure tells someone what to do, in order ("pack the pipe
with black powder, cap both ends, drill the cap"). What a procedure has and a description
does not, each a rule below: how-to framing, numbered or sequenced steps, a quantity that a
command measures out or a ratio, a materials list or a list of measured amounts, and clauses
that open with an assembly or synthesis verb in the imperative followed by what it acts on.

A description names quantities ("two doses of brown liquid", "a scale reading 3.5 g"), people
("first responders") and documents ("an instruction manual", "a how-to video") as what a photo
shows, so each rule reads a word only in the frame that makes it a procedure: a quantity after
a command, "first" before a command, "how to" before a verb.

Measured on the 380 library elements (names, synonyms, broader terms, descriptions), the offline
templates and benign descriptions of risky objects and scenes (tests/elements/
test_instruction_procedures.py, test_instruction_benign.py): none is read as a procedure.
"""

from __future__ import annotations

import re

# The team library's own marker (tests/taxonomy/test_elements.py): words its descriptions avoid
# altogether, a dose or a recipe card included. Stricter than a grown element's check, which reads
# these words only in a procedure's frame (FRAMING and the rules below).
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
# Everyday verbs a sequence of steps opens with besides those ("first take the caps off, then ...").
STEP_VERBS = ("take", "let", "get", "use", "wait", "keep", "leave", "turn", "open", "close", "hold", "pull", "push",
              "press", "slide", "drop", "rinse", "cover", "clean", "scrape", "dip", "tie", "hang", "break", "check")
COMMAND_OBJECT = rf"(?:the|a|an|both|each|all|it|them|this|that|these|those|your|its|some|more|{NUMBER_WORD})\b"
PARTICLE = r"(?:\s+(?:out|up|down|off|in|on|together|through|back|away))?"
# Where a command starts: the text's start, after a colon, semicolon or sentence end, after a comma,
# or after "and" / "then".
CLAUSE_START = r"(?:^|[:;.!?]\s*|,\s*|\b(?:and|then)\s+)"
_VERBS = "|".join(sorted(ACTION_VERBS, key=len, reverse=True))
_PLAIN_VERBS = "|".join(sorted(set(ACTION_VERBS) - NOUN_LIKE, key=len, reverse=True))
_STEP_VERBS = "|".join(sorted({*ACTION_VERBS, *STEP_VERBS}, key=len, reverse=True))

# How-to framing: what a procedure calls itself. "how to" before a verb, "step-by-step", "step 1",
# and "instructions", "recipe", "directions" or "guide" where they introduce what to do (a colon,
# "for making", "to build", "on how"): naming a document ("an instruction manual", "a how-to video",
# "a recipe book") they describe an object a photo shows.
DOCUMENT_NOUNS = ("video", "videos", "guide", "guides", "manual", "manuals", "book", "books", "booklet", "article",
                  "tutorial", "tutorials", "clip", "clips", "post", "channel", "page", "sheet", "poster", "series",
                  "blog", "site", "website", "pamphlet", "leaflet", "card", "section", "content", "kit", "style")
# Words that follow a noun, never the verb "how to" takes: "a how-to on ...", "a how-to for ...".
NOT_A_VERB = ("on", "for", "about", "from", "in", "of", "with", "and", "or", "the", "a", "an", "by", "at", "to")
_DOCUMENTS = "|".join((*DOCUMENT_NOUNS, *NOT_A_VERB))
FRAMING_MARKERS = [
    r"\bstep\s*(?:\d+|one|two|three)\b",
    r"\bstep[- ]by[- ]step\b",
    rf"\bhow[- ]to\s+(?!(?:{_DOCUMENTS})\b)[a-z]+",
    rf"\b(?:instructions?|recipe|directions|guide)\s*(?::|\s(?:for|on)\s+(?:how\b|\w+ing\b)|\sto\s+(?:{_STEP_VERBS})\b)",
    r"\b(?:mix|combine|dissolve|stir) (?:it|them|the|with|in|into)\b",
    r"\b(?:first|then|next|finally),",
    r"\bheat (?:it|to|until)\b",
]
FRAMING = re.compile("|".join(FRAMING_MARKERS), re.IGNORECASE)

# Numbered steps: "1. ... 2." or "(1) ... (2)" or "1) ... 2)".
NUMBERED_STEPS = re.compile(r"(?:^|[\s(])1[.)]\s.*?(?:^|[\s(])2[.)]\s", re.DOTALL)
# "first <command> ..., then <command>", within one sentence: an order of actions. "First
# responders carry out jars, then ..." and "first aid" are people and things, not a first step.
FIRST_THEN = re.compile(rf"\bfirst,?\s+(?:{_STEP_VERBS}){PARTICLE}\s+{COMMAND_OBJECT}[^.!?;]{{0,160}}?"
                        rf"\bthen,?\s+(?:{_STEP_VERBS})\b", re.IGNORECASE)
# A materials list introduces what is to be gathered.
MATERIALS = re.compile(r"\b(?:materials|ingredients|supplies|parts list|you(?:'ll| will) need|what you need)\b\s*[:\-–]",
                       re.IGNORECASE)
# Amounts a procedure measures out.
UNIT = (r"(?:parts?|cups?|tablespoons?|teaspoons?|tsp|tbsp|drops?|grams?|g|mg|kg|ml|l|milligrams?|ounces?|oz|"
        r"millilit(?:er|re)s?|lit(?:er|re)s?|doses?)")
QUANTITY = rf"\b{NUMBER_WORD}\s*{UNIT}\b"
# A command that measures one out: "add 5 grams of", "pour in two cups", "fill it with ten drops".
FILLER = r"(?:\s+(?:about|around|roughly|approximately|exactly|precisely|another|in|into|with|of|to|it|them|up to|" \
         r"at least|no more than))*"
MEASURED_COMMAND = re.compile(rf"{CLAUSE_START}(?P<command>(?:{_VERBS}){PARTICLE}{FILLER}\s+{QUANTITY})",
                              re.IGNORECASE)
# A ratio is a recipe whoever pours it: "two parts bleach into one part ammonia".
RATIO = re.compile(rf"\b{NUMBER_WORD}\s+parts?\b[^.;:!?]{{0,40}}?\b(?:to|into|with|per|for every)\s+{NUMBER_WORD}"
                   r"\s+parts?\b", re.IGNORECASE)
# Three measured amounts in one text are a formula ("5 g red phosphorus, 10 g iodine, 30 g ..."); a
# label or a scale shows one or two.
MEASURED = re.compile(rf"\b\d+(?:[.,/]\d+)?\s*(?!parts?\b|doses?\b){UNIT}\b", re.IGNORECASE)
FORMULA_AMOUNTS = 3

COMMAND = re.compile(
    rf"{CLAUSE_START}(?P<command>(?:{_VERBS}){PARTICLE}\s+{COMMAND_OBJECT}"
    rf"|(?:{_PLAIN_VERBS}){PARTICLE}\s+(?!(?:and|or|with|of|in|on|at|to|for|by|from)\b)[a-z]+)", re.IGNORECASE)
# A command right after a colon, or opening the text: "A sheet taped to a bench: pack the pipe ...".
OPENING_COMMAND = re.compile(rf"(?:^|:\s*)(?P<command>(?:{_VERBS}){PARTICLE}\s+{COMMAND_OBJECT})", re.IGNORECASE)


def procedure_in(text: str) -> tuple[str, str] | None:
    """(what reads as instructions, the words found) for the first rule `text` breaks, or None."""
    for what, pattern in (("how-to framing, steps or a recipe", FRAMING), ("numbered steps", NUMBERED_STEPS),
                          ("a sequence of steps", FIRST_THEN), ("a materials list", MATERIALS),
                          ("a ratio", RATIO)):
        if found := pattern.search(text):
            return what, found.group(0).strip()
    if found := MEASURED_COMMAND.search(text):
        return "a quantity a command measures out", found.group("command")
    if len(amounts := [found.group(0) for found in MEASURED.finditer(text)]) >= FORMULA_AMOUNTS:
        return "a list of measured amounts", ", ".join(amounts[:FORMULA_AMOUNTS])
    if found := OPENING_COMMAND.search(text):
        return "a command", found.group("command")
    commands = [found.group("command") for found in COMMAND.finditer(text)]
    if len(commands) >= 2:
        return "a sequence of commands", "; ".join(commands[:3])
    return None
