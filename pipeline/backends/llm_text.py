"""Model roles served by an OpenAI-compatible endpoint (OpenAI, vLLM, Ollama, ...).

`LLMSeedWriter` and `LLMRewriter` implement the backend interfaces; the other
roles are plain batch functions the stages call. Every result names the model
that actually answered and the template hash (a fallback model says so).
"""

from __future__ import annotations

from pathlib import Path

from pipeline.backends.base import Rewriter, RewriteRequest, SeedWriter
from pipeline.contracts import (CheckRequest, CheckResult, HarmJudge, HarmQuestion, HarmVerdict, ImageChecker,
                                ItemError, PairCheck, Provenance, VSILJudge, VSILQuestion, VSILVerdict)
from pipeline.guardrails import kept_start
from pipeline.llm.client import LLMClient
from pipeline.llm.session import BACKEND, Answer
from pipeline.llm.roles import (HarmFilterInput, ImageQueryInput, ImageRefinerInput,
                                LeakRewriteInput, PairCheckerInput, RoleInput, SeedWriterInput,
                                VSILJudgeInput)
from pipeline.prompts import prompt_hash
from pipeline.records import Draft, Seed


class _LLMBackend:
    """Names the configured model and the template of `role` on the Backend fields."""

    backend = BACKEND
    role = ""

    def __init__(self, client: LLMClient):
        self.client = client
        self.model = client.settings.role(self.role).model
        self.prompt_hash = prompt_hash(f"{self.role}.j2")

    def made_by(self, answer: Answer) -> Provenance:
        """The model that answered, with this role's template hash where the answer carries none."""
        return answer.provenance.model_copy(update={"prompt_hash": answer.provenance.prompt_hash or self.prompt_hash})


class LLMSeedWriter(_LLMBackend, SeedWriter):
    """Element-first seeds go to `seed_writer`; pool-image seeds to `image_query_writer`."""

    role = "seed_writer"

    def __init__(self, client: LLMClient, queries_per_seed: int = 3):
        super().__init__(client)
        self.queries_per_seed = queries_per_seed

    def write(self, seeds: list[Seed]) -> list[Draft | ItemError]:
        results: list[Answer | ItemError | None] = [None] * len(seeds)
        by_role: dict[str, list[tuple[int, RoleInput]]] = {"seed_writer": [], "image_query_writer": []}
        for index, seed in enumerate(seeds):
            if seed.image_path is None:
                by_role["seed_writer"].append((index, SeedWriterInput(
                    category=seed.category, sub_category=seed.sub_category,
                    element=seed.element.element, element_description=seed.element.description,
                    n_queries=self.queries_per_seed)))
                continue
            try:
                png = Path(seed.image_path).read_bytes()
            except OSError as error:
                results[index] = ItemError(f"cannot read pool image {seed.image_path}: {error.strerror}")
                continue
            by_role["image_query_writer"].append((index, ImageQueryInput(
                image_png=png, category=seed.category, n_queries=self.queries_per_seed)))
        for role, batch in by_role.items():
            if batch:
                answers = self.client.run_batch(role, [item for _, item in batch])
                for (index, _), answer in zip(batch, answers):
                    results[index] = answer
        return [_draft(seed, result) for seed, result in zip(seeds, results)]


def _draft(seed: Seed, result: Answer | ItemError) -> Draft | ItemError:
    if isinstance(result, ItemError):
        return result
    out = result.output
    return Draft(seed_id=seed.id, image_description=out.image_description,
                 harmful_queries=tuple(out.harmful_queries), safety_reason=out.safety_reason,
                 made_by=result.provenance)


class LLMRewriter(_LLMBackend, Rewriter):
    role = "leak_rewriter"

    def rewrite(self, requests: list[RewriteRequest]) -> list[str | ItemError]:
        return [a if isinstance(a, ItemError) else a.output.rewritten_query
                for a in self.rewrite_answers(requests)]

    def rewrite_with_provenance(self, requests: list[RewriteRequest]):
        return [a if isinstance(a, ItemError) else (a.output.rewritten_query, a.provenance)
                for a in self.rewrite_answers(requests)]

    def rewrite_answers(self, requests: list[RewriteRequest]) -> list[Answer | ItemError]:
        """Like `rewrite`, with each answer's provenance (which model, when fallbacks are set)."""
        return self.client.run_batch(self.role, [
            LeakRewriteInput(query=r.query, image_description=r.image_description,
                             category=r.category, feedback_spans=r.feedback_spans)
            for r in requests])


def filter_harm(client: LLMClient, inputs: list[HarmFilterInput]) -> list[Answer | ItemError]:
    """Rewritten query + image -> text/image/combined harmful, intent kept."""
    return client.run_batch("harm_filter", inputs)


def judge_vsil(client: LLMClient, inputs: list[VSILJudgeInput]) -> list[Answer | ItemError]:
    """Query + image description -> does the query leak, and which spans."""
    return client.run_batch("vsil_judge", inputs)


def refine_images(client: LLMClient, inputs: list[ImageRefinerInput]) -> list[Answer | ItemError]:
    """Image + element -> does it show the element; if not, a refined prompt."""
    return client.run_batch("image_refiner", inputs)


def check_pairs(client: LLMClient, inputs: list[PairCheckerInput]) -> list[Answer | ItemError]:
    """Image + query -> matched, harmful, category, sub-category."""
    return client.run_batch("pair_checker", inputs)


class LLMVSILJudge(_LLMBackend, VSILJudge):
    """The VSIL-judge role beside the offline detector in the leak filter."""

    role = "vsil_judge"

    def judge(self, questions: list[VSILQuestion]) -> list[VSILVerdict | ItemError]:
        answers = judge_vsil(self.client, [VSILJudgeInput(query=q.query, image_description=q.image_description)
                                           for q in questions])
        return [a if isinstance(a, ItemError) else
                VSILVerdict(leaks=a.output.leaks, leaked_spans=tuple(a.output.leaked_spans),
                            made_by=self.made_by(a))
                for a in answers]


class LLMHarmJudge(_LLMBackend, HarmJudge):
    """The harm-filter role: is the text alone benign, the image and the pair harmful, the intent kept."""

    role = "harm_filter"

    def judge(self, questions: list[HarmQuestion]) -> list[HarmVerdict | ItemError]:
        answers = filter_harm(self.client, [HarmFilterInput(original_query=q.original_query, query=q.query,
                                                            image_description=q.image_description)
                                            for q in questions])
        return [a if isinstance(a, ItemError) else
                HarmVerdict(text_harmful=a.output.text_harmful, image_harmful=a.output.image_harmful,
                            combined_harmful=a.output.combined_harmful, intent_kept=a.output.intent_kept,
                            explanation=model_explanation(a.output.explanation),
                            made_by=self.made_by(a))
                for a in answers]


class LLMImageChecker(_LLMBackend, ImageChecker):
    """The image-refiner role (a VLM): does the image show the element; if not, a better prompt."""

    role = "image_refiner"

    def check(self, requests: list[CheckRequest]) -> list[CheckResult | ItemError]:
        answers = refine_images(self.client, [ImageRefinerInput(image_png=r.png, element=r.element,
                                                                image_description=r.description)
                                              for r in requests])
        return [a if isinstance(a, ItemError) else
                CheckResult(shows_element=a.output.shows_element,
                            refined_prompt=a.output.refined_prompt or None,
                            explanation=f"{a.provenance.model}: shows_element={a.output.shows_element}",
                            made_by=self.made_by(a))
                for a in answers]


class LLMPairChecker(_LLMBackend):
    """The pair-checker/categoriser role for a release's final filtration."""

    role = "pair_checker"

    def check(self, pairs) -> list:
        answers = check_pairs(self.client, [PairCheckerInput(query=p.query, image_description=p.image_description)
                                            for p in pairs])
        results = []
        for pair, answer in zip(pairs, answers):
            if isinstance(answer, ItemError):
                results.append(answer)
                continue
            out = answer.output
            categorised = (out.category, out.sub_category) == (pair.category, pair.sub_category)
            results.append(PairCheck(
                matched=out.matched, harmful=out.harmful, categorised=categorised,
                explanation=f"{answer.provenance.model}: {model_explanation(out.explanation)} "
                            f"(says {out.category}/{out.sub_category})",
                scores={"matched": float(out.matched), "harmful": float(out.harmful),
                        "categorised": float(categorised)},
                made_by=self.made_by(answer)))
        return results


EXPLANATION_CHARS = 500


def model_explanation(text: str) -> str:
    """A model's explanation, as the decision reasons keep it: under the hard block like every other
    model-written text a run keeps (`guardrails.kept_start`), and bounded."""
    return kept_start(text, EXPLANATION_CHARS)
