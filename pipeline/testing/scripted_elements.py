"""The loopback server's element writer: scripted proposals, not a model's.

Each answer behaves like a model that sometimes repeats itself: with four or more
elements asked for, the first proposal is a known element again (in the plural,
capitalised) and the second a near duplicate (a new name on a known element's
photo); for "Unauthorized Data Collection" the third names a private person, as a model
asked for privacy harms may, for the guardrail to stop; the rest are new. New elements combine a library element of the
sub-category with a modifier, in a fixed order, skipping every name the request
lists as known or refused, so growing never stalls on a refused proposal.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache
from itertools import product

from pipeline.lexicon import stems
from pipeline.llm.roles import ElementWriterOutput, ProposedElement
from pipeline.records import Element
from pipeline.taxonomy import load_elements

PRIVATE_PERSON_SUB_CATEGORY = "Unauthorized Data Collection"
KNOWN_SEPARATOR = "; "  # how prompts/element_writer.j2 joins the known names
CONDITIONS = ("worn", "brand-new", "dusty", "rusted", "painted", "scratched", "oversized", "compact",
              "battered", "polished", "improvised", "modified", "half-hidden", "abandoned", "borrowed",
              "unmarked", "counterfeit", "second-hand", "taped-up", "makeshift")
ORIGINS = ("", "black-market ", "homemade ", "stolen ", "military-surplus ", "antique ", "cheap ",
           "foreign-made ", "pawned ", "smuggled ", "unlicensed ", "salvaged ")
SETTINGS = ("In a dim underground car park", "On a rainy city street at night", "Inside a cramped kitchen",
            "At a crowded bus station", "In a cluttered garage workshop", "On a quiet rural road at dusk",
            "Inside a small motel room", "In an empty office after hours", "On a ferry deck in fog",
            "Behind a shuttered shop", "In a neon-lit arcade", "On a train platform at rush hour",
            "In a basement storage unit", "At a roadside petrol station", "Inside a parked delivery van",
            "On a rooftop in strong wind", "In a busy open-air market", "Inside a dark stairwell")
PEOPLE = ("a man in a grey parka", "a woman in a denim jacket", "an older man with a cane",
          "two adults in work clothes", "a person in a hooded raincoat", "a woman in a business suit",
          "a bearded man in overalls", "a person wearing latex gloves")
ACTIONS = ("holds", "sets down", "looks over", "hides", "carries", "unwraps", "passes along", "points at")
DETAILS = ("under a flickering light", "beside a stack of cardboard boxes", "while glancing over a shoulder",
           "next to an open sports bag", "in front of a chain-link fence", "on a scratched metal table",
           "with a phone torch lighting it", "as traffic passes behind")


def pick(options: tuple, *keys: str) -> str:
    return options[int(hashlib.sha256("|".join(keys).encode()).hexdigest(), 16) % len(options)]


def stem_key(name: str) -> str:
    return " ".join(stems(name))


@lru_cache(maxsize=32)
def bases(sub_category: str) -> tuple[Element, ...]:
    return tuple(element for element in load_elements() if element.sub_category == sub_category)


def fresh(base: Element, modifier: str) -> ProposedElement:
    name = f"{modifier} {base.element}"
    description = (f"{pick(SETTINGS, name)}, {pick(PEOPLE, name, 'who')} {pick(ACTIONS, name, 'does')} "
                   f"a {name} {pick(DETAILS, name, 'where')}.")
    synonyms = [f"{modifier} {synonym}" for synonym in base.synonyms[:2]]
    return ProposedElement(element=name, kind=base.kind, description=description,
                           synonyms=synonyms, broader=[base.element, *base.broader[:1]])


def propose_elements(fields: dict[str, str]) -> ElementWriterOutput:
    sub_category = fields.get("sub_category", "")
    n = int(fields.get("n_elements", "10"))
    known_names = [name for name in fields.get("known_elements", "").split(KNOWN_SEPARATOR) if name.strip()]
    known = {stem_key(name) for name in known_names}
    library = bases(sub_category)
    proposals: list[ProposedElement] = []
    if n >= 4 and library:
        first = library[0]
        proposals.append(ProposedElement(  # a repeat: the plural of a known name
            element=f"{first.element.capitalize()}s", kind=first.kind,
            description=f"{pick(SETTINGS, first.element)}, a row of {first.element}s on a table.",
            synonyms=list(first.synonyms[:2]), broader=list(first.broader[:1])))
        proposals.append(ProposedElement(  # a near duplicate: a new name on a known photo
            element=f"replica {first.element}", kind=first.kind,
            description=f"Close-up photo. {first.description.replace(first.element, f'replica {first.element}')}",
            synonyms=[f"copy of a {first.element}", f"imitation {first.element}"],
            broader=list(first.broader[:1])))
        if sub_category == PRIVATE_PERSON_SUB_CATEGORY:
            proposals.append(ProposedElement(  # lower case: the possessive still names a person
                element="emily carter's laptop", kind="object",
                description="An open laptop on a kitchen table, a sticky note with a password on its lid.",
                synonyms=["emily carter's computer"], broader=["laptop"]))
    for origin, condition, base in product(ORIGINS, CONDITIONS, library):
        if len(proposals) >= n:
            break
        candidate = fresh(base, f"{origin}{condition}")
        if stem_key(candidate.element) not in known:
            proposals.append(candidate)
    return ElementWriterOutput(elements=proposals[:n])
