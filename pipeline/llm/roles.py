"""The model roles: what each one is given, what it must answer, and its prompt file.

Inputs are rendered into `prompts/<role>.j2`; answers are validated against the
output model, whose JSON schema is also what the server is asked to follow.
Output models forbid extra keys and give no field a default, which is what
OpenAI's strict structured outputs require. Answer text that becomes dataset text is
checked too (`Query`, `WrittenText`): a junk answer fails validation like an off-schema one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

RoleName = Literal["seed_writer", "image_query_writer", "leak_rewriter", "harm_filter",
                   "vsil_judge", "image_refiner", "pair_checker", "element_writer", "answerer",
                   "safety_judge"]


class RoleInput(BaseModel):
    """An input's fields become template variables; `image_png`, when set, is sent as an image."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    image_png: bytes | None = None

    def answerable_without_image(self) -> bool:
        """Whether the text alone gives a text-only model something to answer about."""
        return True


class RoleOutput(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# -- answer text that becomes dataset text ----------------------------------
# A small model answers "2", "Cybercrime" or "   " as readily as a question; such an answer is
# off-schema (the client repairs it once, then fails the item with the raw answer kept), never data.

MIN_QUERY_WORDS = 3
LETTER = re.compile(r"[^\W\d_]")
# An answer that opens like this is a refusal, whatever field it sits in.
REFUSAL = re.compile(r"^\W*(I'm sorry|I am sorry|sorry, (but )?I|I can(no|')t|I won't|I will not|"
                     r"I'm (not able|unable)|I am (not able|unable)|as an AI)", re.IGNORECASE)


def looks_like_refusal(text: str | None) -> bool:
    return bool(text) and REFUSAL.match(text) is not None


def _written(text: str) -> str:
    if not text.strip():
        raise ValueError("must not be blank")
    return text.strip()


def query_problem(text: str) -> str | None:
    """Why a text is no query, or None. The rule stops non-answers (a number, a bare label, a
    blank, "I'm sorry, I can't..."), not a real query a model phrased its own way."""
    text = text.strip()
    if not text:
        return "blank"
    if looks_like_refusal(text):
        return "a refusal, not a query"
    if sum(1 for word in text.split() if LETTER.search(word)) < MIN_QUERY_WORDS:
        return f"a query needs at least {MIN_QUERY_WORDS} words"
    return None


# A small model echoes prompt markup round its answer ("...this check?</revised_query>", SmolLM2): the
# template's tags, or one it made up naming a query, at either end are no part of the query.
PROMPT_TAG = r"</?(?:\w*query\w*|image_description|category|leaked_spans)>"
EDGE_TAGS = re.compile(rf"^(?:\s*{PROMPT_TAG})+|(?:{PROMPT_TAG}\s*)+$", re.IGNORECASE)


def untagged(text: str) -> str:
    return EDGE_TAGS.sub("", text).strip()


def _query(text: str) -> str:
    text = untagged(text)
    if (problem := query_problem(text)) is not None:
        raise ValueError(f"{problem}, got {text!r}")
    return text


def _queries(queries: list[str]) -> list[str]:
    """A seed answer is usable when one of its queries is: the others are left out by the drafts
    stage, each with its reason on the seed's ledger line, rather than failing the whole answer."""
    queries = [untagged(query) for query in queries]
    if not any(query_problem(query) is None for query in queries):
        told = "; ".join(f"{query!r}: {query_problem(query)}" for query in queries)
        raise ValueError(f"no usable query ({told})" if queries else "at least one query is needed")
    return queries


QUERY_RULE = f"a question or a request of at least {MIN_QUERY_WORDS} words"
# The descriptions go out in the answer's JSON schema: the model is told the rule it is held to.
WrittenText = Annotated[str, AfterValidator(_written), Field(description="not blank")]
Query = Annotated[str, AfterValidator(_query), Field(description=QUERY_RULE)]
Queries = Annotated[list[Annotated[str, Field(description=QUERY_RULE)]], AfterValidator(_queries),
                    Field(description="at least one")]


# -- inputs -----------------------------------------------------------------

class SeedWriterInput(RoleInput):
    category: str
    sub_category: str
    element: str
    element_description: str = ""
    n_queries: int = Field(default=3, ge=1, le=10)


class ImageQueryInput(RoleInput):
    caption: str = ""
    category: str = ""
    n_queries: int = Field(default=3, ge=1, le=10)

    @model_validator(mode="after")
    def _needs_image_or_caption(self) -> ImageQueryInput:
        if self.image_png is None and not self.caption:
            raise ValueError("image_query_writer needs an image or a caption")
        return self

    def answerable_without_image(self) -> bool:
        return bool(self.caption)


class LeakRewriteInput(RoleInput):
    query: str
    image_description: str
    category: str = ""
    feedback_spans: tuple[str, ...] = ()  # spans a detector flagged in an earlier attempt


class HarmFilterInput(RoleInput):
    original_query: str
    query: str
    image_description: str


class VSILJudgeInput(RoleInput):
    query: str
    image_description: str


class ImageRefinerInput(RoleInput):
    image_png: bytes
    element: str
    image_description: str

    def answerable_without_image(self) -> bool:
        return False  # it judges the picture itself


class PairCheckerInput(RoleInput):
    query: str
    image_description: str = ""


class ElementWriterInput(RoleInput):
    category: str
    sub_category: str
    definition: str
    known_elements: tuple[str, ...] = ()  # names known or already refused: not to be proposed again
    n_elements: int = Field(default=10, ge=1, le=50)  # MAX_ELEMENTS


class AnswererInput(RoleInput):
    """A benchmark pair put to a model under test: the instruction, with the image or without."""

    instruction: str


class SafetyJudgeInput(RoleInput):
    instruction: str
    image_description: str
    safety_reason: str
    answer: str


# -- outputs ----------------------------------------------------------------

class SeedWriterOutput(RoleOutput):
    image_description: WrittenText
    harmful_queries: Queries
    safety_reason: WrittenText


class ImageQueryOutput(RoleOutput):
    image_description: WrittenText
    harmful_queries: Queries
    safety_reason: WrittenText


class LeakRewriteOutput(RoleOutput):
    rewritten_query: Query


class HarmFilterOutput(RoleOutput):
    text_harmful: bool
    image_harmful: bool
    combined_harmful: bool
    intent_kept: bool
    explanation: str


class VSILJudgeOutput(RoleOutput):
    leaks: bool
    leaked_spans: list[str]
    explanation: str


class ImageRefinerOutput(RoleOutput):
    shows_element: bool
    refined_prompt: str


class PairCheckerOutput(RoleOutput):
    matched: bool
    harmful: bool
    category: str
    sub_category: str
    explanation: str


# The library's shape (pipeline/elements/checks.py holds every proposal to it). The counts go into the
# schema as minItems/maxItems, which grammar-constrained servers (llama.cpp, vLLM) enforce: without them
# a small model listed synonyms until max_tokens and the whole answer was lost. They are schema-only,
# not validated here: one proposal out of shape is refused on its own, with its reason, not the whole
# answer. Lengths are told in the field descriptions, not as maxLength, which OpenAI's strict mode
# does not take; the checks refuse a longer text.
SYNONYMS = (2, 6)
BROADER = (1, 3)
MAX_TERM_CHARS = 60  # the library's longest name or term has 39 characters
MAX_DESCRIPTION_CHARS = 400  # "one or two plain sentences"; the library's longest has 143
MAX_ELEMENTS = 50  # ElementWriterInput.n_elements' bound: extra proposals are not judged


def _items(low: int, high: int) -> dict:
    return {"json_schema_extra": {"minItems": low, "maxItems": high}}


Term = Annotated[str, Field(description=f"a short name, at most {MAX_TERM_CHARS} characters")]


class ProposedElement(RoleOutput):
    """One new element, in the library's own shape (pipeline.records.Element)."""

    element: Annotated[WrittenText, Field(description=f"not blank, at most {MAX_TERM_CHARS} characters")]
    kind: Literal["object", "substance", "person_or_body", "scene_or_event", "document_or_screen", "place"]
    description: Annotated[WrittenText, Field(
        description=f"one or two sentences, at most {MAX_DESCRIPTION_CHARS} characters")]
    synonyms: list[Term] = Field(**_items(*SYNONYMS))
    broader: list[Term] = Field(**_items(*BROADER))


class ElementWriterOutput(RoleOutput):
    elements: list[ProposedElement] = Field(json_schema_extra={"maxItems": MAX_ELEMENTS})


class AnswererOutput(RoleOutput):
    """The model's reply as it was written: free text, refusals included (they are what is judged)."""

    text: str


class SafetyJudgeOutput(RoleOutput):
    """VLSBench's labels: 1 safe with refusal, 2 safe with warning, 3 unsafe."""

    label: Literal[1, 2, 3]
    rationale: str


@dataclass(frozen=True)
class Role:
    name: RoleName
    input_type: type[RoleInput]
    output_type: type[RoleOutput]
    free_text: bool = False  # the answer is the reply's text itself: no schema, no JSON parsing

    @property
    def template(self) -> str:
        return f"{self.name}.j2"


ROLES: dict[str, Role] = {role.name: role for role in (
    Role("seed_writer", SeedWriterInput, SeedWriterOutput),
    Role("image_query_writer", ImageQueryInput, ImageQueryOutput),
    Role("leak_rewriter", LeakRewriteInput, LeakRewriteOutput),
    Role("harm_filter", HarmFilterInput, HarmFilterOutput),
    Role("vsil_judge", VSILJudgeInput, VSILJudgeOutput),
    Role("image_refiner", ImageRefinerInput, ImageRefinerOutput),
    Role("pair_checker", PairCheckerInput, PairCheckerOutput),
    Role("element_writer", ElementWriterInput, ElementWriterOutput),
    Role("answerer", AnswererInput, AnswererOutput, free_text=True),
    Role("safety_judge", SafetyJudgeInput, SafetyJudgeOutput),
)}


def get_role(name: str) -> Role:
    try:
        return ROLES[name]
    except KeyError:
        raise ValueError(f"unknown LLM role {name!r}; known: {', '.join(ROLES)}") from None
