"""VLSBench's iterative image generation: generate, ask a checker, regenerate with its prompt.

The checker (in the paper a VLM, Qwen2-VL-72B) says whether the image shows the
harmful element and, if not, proposes a better prompt. Every round is kept, so
a reviewer can see how an image came to be.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from pipeline.backends.base import GeneratedImage, ImageGenerator, ImageRequest
from pipeline.contracts import CheckRequest, ImageChecker, ItemError, Provenance
from pipeline.guardrails import GuardHit

@dataclass(frozen=True)
class RefineRequest:
    item_id: str
    element: str
    description: str  # also the first round's prompt
    seed: int


@dataclass(frozen=True)
class Round:
    round: int
    prompt: str
    seed: int
    sha256: str | None  # None when generation failed
    shows_element: bool | None  # None when generation or the check failed
    explanation: str


@dataclass
class RefineOutcome:
    item_id: str
    rounds: list[Round] = field(default_factory=list)
    image: GeneratedImage | None = None  # the last image made, accepted or not
    error: str | None = None
    transient: bool = False  # the error was a server down or failing: a rerun may succeed
    checked_by: Provenance | None = None  # the model that answered the last check (a fallback says so)
    blocked: GuardHit | None = None  # the guardrail hit of a refined prompt, which never ran

    @property
    def accepted(self) -> bool:
        return bool(self.rounds) and self.rounds[-1].shows_element is True

    def stop(self, last_round: Round, error: ItemError) -> None:
        self.rounds.append(last_round)
        self.error, self.transient = error.error, error.transient


def refine_images(requests: list[RefineRequest], generator: ImageGenerator, checker: ImageChecker,
                  max_rounds: int = 3,
                  guard: Callable[[RefineRequest, str], GuardHit | None] = lambda request, prompt: None,
                  ) -> list[RefineOutcome]:
    """Run up to `max_rounds` generate -> check rounds; only items not yet shown go again.

    Each round is one batch call to the generator and one to the checker. A
    round's seed is the item's seed plus the round index, so a round that reuses
    the prompt (no refinement offered) still gets a new picture, reproducibly.
    The checker writes prompts too: `guard` sees each refined prompt before the
    image model does, and a prompt it stops ends its item with `blocked` set.
    """
    outcomes = [RefineOutcome(request.item_id) for request in requests]
    prompts = [request.description for request in requests]
    pending = list(range(len(requests)))
    for round_index in range(max_rounds):
        if not pending:
            break
        image_requests = [ImageRequest(requests[i].item_id, prompts[i],
                                       (requests[i].seed + round_index) % 2**32) for i in pending]
        made = []
        for i, ask, image in zip(pending, image_requests, generator.generate(image_requests)):
            if isinstance(image, ItemError):
                outcomes[i].stop(Round(round_index + 1, ask.prompt, ask.seed, None, None,
                                       f"generation failed: {image.error}"), image)
            else:
                made.append((i, ask, image))
        verdicts = checker.check([CheckRequest(image.png, requests[i].element, requests[i].description)
                                  for i, _, image in made]) if made else []
        pending = []
        for (i, ask, image), verdict in zip(made, verdicts):
            outcome = outcomes[i]
            outcome.image = image
            sha = image.meta["sha256"]
            if isinstance(verdict, ItemError):
                outcome.stop(Round(round_index + 1, ask.prompt, ask.seed, sha, None,
                                   f"check failed: {verdict.error}"), verdict)
                continue
            outcome.rounds.append(Round(round_index + 1, ask.prompt, ask.seed, sha,
                                        verdict.shows_element, verdict.explanation))
            outcome.checked_by = verdict.made_by
            if not verdict.shows_element:
                prompts[i] = verdict.refined_prompt or prompts[i]
                outcome.blocked = guard(requests[i], prompts[i]) if verdict.refined_prompt else None
                if outcome.blocked is None:
                    pending.append(i)
    return outcomes
