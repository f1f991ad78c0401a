"""One item's path through a role: the cache, the request, one repair round, then fallback models.

A `RoleSession` is what `LLMClient.session` yields: bound to one role, one endpoint and
the event loop it was opened on. What cannot be answered comes back as an `ItemError`.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Generic, TypeVar

from pydantic import ValidationError

from pipeline.contracts import ItemError, Provenance
from pipeline.llm.cache import FAILURE_PREFIX, SCRIPTED_MODEL_PREFIX, SCRIPTED_SERVER_HEADER, request_key
from pipeline.llm.formats import FormatRejected
from pipeline.llm.limits import EndpointLimits, Slot
from pipeline.llm.messages import (FORMAT_MODES, InvalidAnswer, RolePrompt, parse_answer, repair_messages, response_format,
                                   without_reasoning)
from pipeline.llm.roles import Role, RoleInput, RoleOutput, looks_like_refusal
from pipeline.llm.sending import Reply, Sender, release
from pipeline.llm.transport import ChatTransport

if TYPE_CHECKING:
    from pipeline.llm.client import LLMClient
    from pipeline.llm.config import EndpointConfig

BACKEND = "openai-compatible"
log = logging.getLogger("pipeline.llm")

Output = TypeVar("Output", bound=RoleOutput)


@dataclass(frozen=True)
class Answer(Generic[Output]):
    output: Output
    provenance: Provenance  # the model that actually answered, and the template hash
    cached: bool = False
    latency_s: float | None = None  # seconds waiting on the server (repair included); None if cached
    prompt_tokens: int = 0
    completion_tokens: int = 0


@dataclass(frozen=True)
class AnswerFailure:
    """A failure the model's answer itself caused (asking again at temperature 0 repeats it)."""

    failure: ItemError
    served_model: str | None = None  # the model the server named, kept with the failure in the cache


Failed = ItemError | AnswerFailure | FormatRejected


class RoleSession:
    """Answers one role's items on one endpoint, on the event loop it was opened on."""

    def __init__(self, owner: LLMClient, role: Role, endpoint: EndpointConfig,
                 limits: EndpointLimits, transport: ChatTransport, api_key: str):
        self.role, self.endpoint = role, endpoint
        self.owner = owner
        self.config = owner.settings.role(role.name)
        self.cache = owner.cache
        self.accounting = owner.accounting
        self.transport = transport
        self.sender = Sender(role, endpoint, limits, owner.formats, transport, api_key, self.count)
        self._scripted_probe: asyncio.Future | None = None  # GET /models, once for the whole session
        # by "schema in the prompt?": the mode can change mid-batch when the server rejects one
        self.prompts = {False: RolePrompt(role, schema_in_prompt=False),
                        True: RolePrompt(role, schema_in_prompt=True)}

    def count(self, **counts: float) -> None:
        self.accounting.add(self.role.name, **counts)

    async def answer(self, item: RoleInput) -> Answer | ItemError:
        self.count(items=1)
        if item.image_png is not None and not (self.endpoint.vision or item.answerable_without_image()):
            self.count(failures=1)
            return ItemError(error=f"{self.role.name} needs to see the image, and the endpoint at "
                                   f"{self.endpoint.base_url} is text-only (vision = false)")
        models = [self.config.model, *self.config.fallback_models]
        for position, model in enumerate(models):
            if position:
                self.count(fallbacks=1)
                log.info("%s: trying fallback model %s", self.role.name, model)
            result = await self.answer_with(model, item)
            if isinstance(result, Answer):
                return result
        self.count(failures=1, refusals=int(result.refused))
        return result

    @property
    def prompt_hash(self) -> str:
        return self.prompts[False].hash  # one template file, whichever mode

    def request_for(self, model: str, item: RoleInput, mode: str) -> dict:
        prompt = self.prompts[mode == "prompt"]
        messages = prompt.messages(item, with_image=self.endpoint.vision)
        request = {"model": model, "messages": messages, **self.config.sampling(self.endpoint.token_limit)}
        if not self.role.free_text and (wanted := response_format(self.role, mode)) is not None:
            request["response_format"] = wanted
        return request

    async def cached(self, request: dict, key: str, mode: str) -> tuple[str, str] | None:
        """The cached answer to this request, or to the same messages under `json_object` when this is
        `json_schema`: each process starts a server at `json_schema` again, and one that refused it
        before (llama.cpp) is then answered from the cache without a request to be refused."""
        if self.cache is None:
            return None
        keys = [key]
        if mode == FORMAT_MODES[0] and "response_format" in request:  # the two modes share their messages
            fallback = {**request, "response_format": response_format(self.role, FORMAT_MODES[1])}
            keys.append(request_key(self.endpoint.base_url, self.prompt_hash, fallback))
        for candidate in keys:
            hit = self.cache.get(candidate)
            if (hit is not None and (self.owner.settings.cache_failures or not hit[0].startswith(FAILURE_PREFIX))
                    and await self.served_here(hit[1])):
                return hit
        return None

    async def served_here(self, served_model: str, if_no_reply: bool = False) -> bool:
        """An answer the scripted server made (a `leakless fake-llm` dry run) is served only while that
        server is the endpoint's: a real model started later at the same URL under the same name is
        asked instead, and its answer replaces the scripted one. A server that does not reply is taken
        for another (`if_no_reply`): the request is sent, and fails or is answered on its own."""
        if not served_model.startswith(SCRIPTED_MODEL_PREFIX):
            return True
        scripted = await self.server_is_scripted()
        return if_no_reply if scripted is None else scripted

    async def server_is_scripted(self) -> bool | None:
        """Whether the endpoint's GET /models reply carries SCRIPTED_SERVER_HEADER (None: no reply):
        asked once for every item of this session waiting on it, and kept by the client once the
        server replied."""
        url = self.endpoint.base_url
        if url not in self.owner.scripted_servers:
            if self._scripted_probe is None:
                self._scripted_probe = asyncio.ensure_future(self.transport.models_reply_headers())
            headers = await asyncio.shield(self._scripted_probe)  # one item cancelled stops no other's
            if headers is None:
                return None
            self.owner.scripted_servers[url] = SCRIPTED_SERVER_HEADER in headers
        return self.owner.scripted_servers[url]

    def from_cache(self, answer: str, served_model: str, template_hash: str) -> Answer | ItemError | None:
        """A cached answer or failure; None for an answer the output model's rules now refuse (cached
        before them): it is asked again."""
        if answer.startswith(FAILURE_PREFIX):
            return ItemError(**json.loads(answer.removeprefix(FAILURE_PREFIX)))
        try:
            output = self.role.output_type.model_validate_json(answer)
        except ValidationError:
            return None
        if self.role.free_text and without_reasoning(output.text) != output.text:
            return None  # cached with the reasoning it led with, before that was left out: asked again
        return Answer(output, provenance(served_model, template_hash), cached=True)

    async def answer_with(self, model: str, item: RoleInput) -> Answer | ItemError:
        template_hash = self.prompt_hash
        held: list[Slot] = []  # the answered request's in-flight slot, until its answer is kept
        try:
            while True:  # ends: the last mode ("prompt") sends no response_format to reject
                mode = self.owner.formats.mode(self.endpoint)
                request = self.request_for(model, item, mode)
                key = request_key(self.endpoint.base_url, template_hash, request)
                hit = await self.cached(request, key, mode)
                if hit is not None and (answer := self.from_cache(*hit, template_hash)) is not None:
                    self.count(cache_hits=1)
                    return answer
                result = await self.ask(request, held)
                if isinstance(result, FormatRejected):
                    self.owner.formats.reject(self.endpoint, mode, result.why)
                    continue
                break
            if isinstance(result, AnswerFailure):
                failure = result.failure
                if (self.cache is not None and self.owner.settings.cache_failures
                        and self.config.temperature == 0):
                    self.keep(held, key, model, template_hash, FAILURE_PREFIX + json.dumps(dataclasses.asdict(failure)),
                              result.served_model or model)
                return failure
            if isinstance(result, ItemError):
                return result
            output, reply = result
            if self.cache is not None:
                self.keep(held, key, model, template_hash, output.model_dump_json(), reply.model)
            return Answer(output, provenance(reply.model, template_hash), latency_s=reply.latency_s,
                          prompt_tokens=reply.prompt_tokens, completion_tokens=reply.completion_tokens)
        finally:
            release(held)

    def keep(self, held: list[Slot], key: str, model: str, template_hash: str, answer: str,
             served_model: str) -> None:
        """Queue the answer for the cache; its request stays in flight until it is committed, so
        a kill re-asks no more than were in flight."""
        slots = list(held)
        held.clear()
        self.cache.put_later(key, self.role.name, model, template_hash, answer, served_model,
                             when_kept=lambda: release(slots))

    async def ask(self, request: dict, held: list[Slot]) -> tuple[RoleOutput, Reply] | Failed:
        """One question, plus one repair round if the answer does not validate. The slot of the
        request whose answer is returned is left in `held`."""
        reply = await self.sender.complete(request, held)
        if isinstance(reply, FormatRejected):
            return reply
        output = self.interpret(reply)
        if isinstance(output, InvalidAnswer):
            self.count(repairs=1)
            repair = repair_messages(request["messages"], reply.content or "", output)
            release(held)  # the first answer is not kept
            first, reply = reply, await self.sender.complete({**request, "messages": repair}, held)
            if isinstance(reply, FormatRejected):
                return reply
            if not isinstance(reply, ItemError):  # what the item cost: both rounds
                reply = dataclasses.replace(reply, latency_s=first.latency_s + reply.latency_s,
                                            prompt_tokens=first.prompt_tokens + reply.prompt_tokens,
                                            completion_tokens=first.completion_tokens + reply.completion_tokens)
            output = self.interpret(reply)
            if isinstance(output, InvalidAnswer):
                output = AnswerFailure(ItemError(error=f"invalid answer after one repair: {output}",
                                                 raw=reply.content or ""))
        if isinstance(output, AnswerFailure):  # named by the model that wrote it, like an answer, in the cache
            return dataclasses.replace(output, served_model=reply.model)
        return output if isinstance(output, ItemError) else (output, reply)

    @property
    def cut_off_at(self) -> str:
        return f"{self.endpoint.token_limit}={self.config.max_tokens}"

    def interpret(self, reply: Reply | ItemError) -> RoleOutput | ItemError | AnswerFailure | InvalidAnswer:
        if isinstance(reply, ItemError):
            return reply
        if self.role.free_text:
            return free_text_output(self.role, reply, self.cut_off_at)
        if reply.refusal:
            return AnswerFailure(ItemError(error=reply.refusal, raw=reply.content or "", refused=True))
        try:
            return parse_answer(self.role.output_type, reply.content)
        except InvalidAnswer as error:
            if looks_like_refusal(reply.content):
                return AnswerFailure(ItemError(error=reply.content.strip(), raw=reply.content,
                                               refused=True))
            if reply.finish_reason == "length":  # asking again would be cut off again
                return AnswerFailure(ItemError(error=f"the answer was cut off at {self.cut_off_at} ({error})",
                                               raw=reply.content or ""))
            return error


def free_text_output(role: Role, reply: Reply, cut_off_at: str) -> RoleOutput | ItemError:
    """A free-text role keeps the reply as written; a refusal is an answer, not a failure. An answer cut
    off at the token limit is kept as far as it went: leaving it out would take the long answers, most
    often the compliant ones, out of a model's rates. Cut off with nothing of the answer written (a
    reasoning model that spent the limit thinking), it fails, saying so."""
    text = reply.content if reply.content and reply.content.strip() else reply.refusal
    if not text or not text.strip():
        if reply.finish_reason == "length":
            return ItemError(error=f"the answer was cut off at {cut_off_at} before any of it was written; "
                                   "raise max_tokens")
        return ItemError(error="the server returned an empty answer")
    return role.output_type(text=text)


def provenance(served_model: str, template_hash: str) -> Provenance:
    return Provenance(backend=BACKEND, model=served_model, prompt_hash=template_hash)
