"""Turning a role input into chat messages, and a model's answer back into a role output.

A role's template (`prompts/<role>.j2`) sets two top-level variables, `system`
and `user`; jinja exposes them on the rendered template module. Images go as a
PNG data URL content part, which every OpenAI-compatible vision server accepts.
"""

from __future__ import annotations

import base64
import json
import re
from functools import lru_cache

from pydantic import ValidationError

from pipeline.llm.roles import Role, RoleInput, RoleOutput
from pipeline.prompts import load_template
from pipeline.taxonomy import load_taxonomy

FENCE = re.compile(r"```(?:json)?\s*(.*?)```", re.DOTALL)
# DeepSeek-R1 and Qwen3 served without a reasoning parser write their reasoning first, inside the
# content: up to its first closing tag, the opening one optional (R1's and QwQ's chat templates put
# `<think>` in the prompt, so vLLM returns only the close).
REASONING = re.compile(r"\A\s*(?:<think>)?.*?</think>\s*", re.DOTALL)
OPEN_REASONING = re.compile(r"\A\s*<think>")


class InvalidAnswer(ValueError):
    """The answer is not a JSON object that validates against the role's output model."""


@lru_cache(maxsize=None)
def schema_of(role: Role) -> dict:
    """Built once per role: pydantic takes ~0.5 ms to make it, on every request otherwise."""
    return role.output_type.model_json_schema()


# How the answer's schema reaches the server, most to least constrained. OpenAI and vLLM
# take `json_schema`; llama.cpp's server rejects it (HTTP 500) but constrains `json_object`
# with a `schema`; any server follows the schema written into the prompt.
FORMAT_MODES = ("json_schema", "json_object", "prompt")


def response_format(role: Role, mode: str = "json_schema") -> dict | None:
    """The request's `response_format` for a mode; None for "prompt" (the schema is in the prompt)."""
    if mode == "json_schema":
        return {"type": "json_schema",
                "json_schema": {"name": role.name, "schema": schema_of(role), "strict": True}}
    if mode == "json_object":
        return {"type": "json_object", "schema": schema_of(role)}
    return None


class RolePrompt:
    """A role's template, loaded once so a whole batch uses one version, rendered per input."""

    def __init__(self, role: Role, schema_in_prompt: bool):
        self.role = role
        self.template, self.hash = load_template(role.template)
        taxonomy = load_taxonomy()
        self._shared = {"taxonomy": {c: taxonomy.subs_of(c) for c in taxonomy.categories}}
        self._schema_note = ("\n\nAnswer with one JSON object and nothing else. It must follow "
                             f"this JSON schema:\n{json.dumps(schema_of(role))}"
                             if schema_in_prompt and not role.free_text else "")

    def messages(self, item: RoleInput, with_image: bool = True) -> list[dict]:
        module = self.template.make_module({**item.model_dump(exclude={"image_png"}), **self._shared})
        system, user = str(module.system).strip(), str(module.user).strip()
        content: str | list[dict] = user
        if item.image_png is not None and with_image:
            data_url = "data:image/png;base64," + base64.b64encode(item.image_png).decode("ascii")
            content = [{"type": "text", "text": user},
                       {"type": "image_url", "image_url": {"url": data_url}}]
        system += self._schema_note
        # an empty system prompt is left out: a model under test gets the pair and nothing else
        return [*([{"role": "system", "content": system}] if system else []),
                {"role": "user", "content": content}]


def without_reasoning(text: str | None, finish_reason: str | None = None) -> str | None:
    """The answer after the reasoning that leads it (`<think>…</think>`, or up to a lone `</think>`):
    its drafts and braces are no answer. A `<think>` never closed is reasoning the token limit cut off
    (nothing of the answer) only when the reply ended there; otherwise the text is kept as written."""
    if not text:
        return text
    answer, found = REASONING.subn("", text, count=1)
    if found:
        return answer
    return "" if finish_reason == "length" and OPEN_REASONING.match(text) else text


def parse_answer(output_type: type[RoleOutput], text: str | None) -> RoleOutput:
    """Tolerant: accepts the object inside code fences or surrounding prose."""
    if not text or not text.strip():
        raise InvalidAnswer("the answer is empty")
    fenced = FENCE.search(text)
    body = fenced.group(1) if fenced else text
    start = body.find("{")
    if start < 0:
        raise InvalidAnswer("the answer holds no JSON object")
    try:
        obj, _ = json.JSONDecoder().raw_decode(body[start:])
        return output_type.model_validate(obj)
    except json.JSONDecodeError as error:
        raise InvalidAnswer(f"not valid JSON: {error}") from None
    except ValidationError as error:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'answer'}: {e['msg']}"
                             for e in error.errors())
        raise InvalidAnswer(f"does not match the schema: {problems}") from None


def repair_messages(messages: list[dict], raw: str, error: InvalidAnswer) -> list[dict]:
    """Send the bad answer back with what is wrong with it, once."""
    return [*messages, {"role": "assistant", "content": raw},
            {"role": "user", "content": f"That answer is not usable: {error}. Reply again with "
                                        "only the corrected JSON object."}]
