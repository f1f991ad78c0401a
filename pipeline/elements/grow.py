"""Growing the element store: ask the element writer for new elements per sub-category, judge
every proposal (guardrails, instructions, shape, then novelty), and write the judged round
as one store version: the accepted entries and a decision for every proposal.

Sub-categories are asked in parallel, one request each per round; each request lists the
sub-category's known and already refused names, so the writer is not asked to repeat them. A
sub-category whose next request would repeat one already answered in this grow (its writer proposed
nothing the request did not already list, or only what a guardrail withheld) is asked no more: the
answer cache would give the same answer back until elements.max_requests. With llm.cache = false a
repeat is a new draw from the model, and is sent.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timezone

import numpy as np

from pipeline.backends.base import Embedder, ItemError
from pipeline.config import BuildConfig, ConfigError
from pipeline.elements.checks import guardrail_hit, refusal
from pipeline.elements.novelty import NoveltyIndex
from pipeline.elements import store_of
from pipeline.elements.store import StoredElement
from pipeline.llm.roles import ElementWriterInput, ProposedElement
from pipeline.markdown_text import code_cell
from pipeline.progress import Step, no_steps
from pipeline.records import Decision, Element, Seed, Verdict, content_id
from pipeline.stages.base import failure_text
from pipeline.taxonomy import load_definitions, load_taxonomy
from pipeline.taxonomy.element_file import library_file

STAGE = "element_writer"
GUARDRAIL = "element.guardrail"
# A server that is down fails every request after its retries; two whole rounds of that are
# enough to stop, rather than spend elements.max_requests rounds (about 25 minutes) on it.
ROUNDS_BEFORE_GIVING_UP = 2
WITHHELD = "(withheld: a guardrail stopped it)"


def new_grow_id() -> str:
    return "grow-" + datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S")


@dataclass
class GrowReport:
    run_id: str
    wanted: dict[str, int]
    added: Counter = field(default_factory=Counter)  # sub-category -> elements added
    refused: Counter = field(default_factory=Counter)  # reason code -> proposals refused
    max_requests: int = 0  # elements.max_requests, each sub-category's limit
    requests: Counter = field(default_factory=Counter)  # sub-category -> requests (sent or from the cache)
    cached: Counter = field(default_factory=Counter)  # sub-category -> requests the answer cache answered
    # sub-category -> proposals in its last answer, when none was new and the next request would repeat it
    stalled: dict[str, int] = field(default_factory=dict)
    failed_requests: int = 0
    first_error: str | None = None  # what the first failed request said
    gave_up: bool = False  # every request of ROUNDS_BEFORE_GIVING_UP rounds in a row failed
    version: int | None = None  # the store version written (None: nothing was judged)

    @property
    def short(self) -> dict[str, int]:
        return {sub: n - self.added[sub] for sub, n in self.wanted.items() if self.added[sub] < n}

    def shortfalls(self) -> list[str]:
        """Why each sub-category short of its wanted count stopped."""
        return [self._why_short(sub) for sub in self.short]

    def _why_short(self, sub: str) -> str:
        if sub not in self.stalled:
            return f"{sub}: elements.max_requests = {self.max_requests} reached"
        proposed = self.stalled[sub]
        what = ("its last answer held no proposal" if not proposed else
                f"its last {proposed} proposals each repeated a listed name or were stopped by a guardrail")
        return f"the writer proposed no new element for {sub} ({what}; asking again would repeat the same request)"

    def round_line(self, number: int) -> str:
        """What a round left: a grow on a real model runs for minutes (hours at max_requests = 200)."""
        requests, cached = sum(self.requests.values()), sum(self.cached.values())
        subs = ", ".join(f"{sub} {self.added[sub]} of {n}" + (" (no new proposal)" if sub in self.stalled else "")
                         for sub, n in self.wanted.items())
        return (f"round {number}: {requests} requests ({cached} from the cache, {self.failed_requests} failed), "
                f"{sum(self.added.values())} added, {sum(self.refused.values())} refused; {subs}")

    def markdown(self) -> str:
        requests, cached = sum(self.requests.values()), sum(self.cached.values())
        version = (f"store version {self.version}" if self.version is not None
                   else "no store version written: no proposal was judged")
        lines = [f"Element growth `{self.run_id}` ({version}): "
                 f"{sum(self.added.values())} added, {sum(self.refused.values())} refused, "
                 f"{requests} requests ({self.failed_requests} failed): {requests - cached} sent, "
                 f"{cached} answered from the answer cache", "",
                 "| sub-category | wanted | added | requests | from the cache |", "|---|--:|--:|--:|--:|"]
        lines += [f"| {sub} | {n} | {self.added[sub]} | {self.requests[sub]} | {self.cached[sub]} |"
                  for sub, n in self.wanted.items()]
        if self.refused:
            lines += ["", "Refused: " + ", ".join(f"{code} {n}" for code, n in self.refused.most_common())]
        if self.first_error:
            lines += ["", f"First failed request: {code_cell(self.first_error)}"]  # a model wrote part of it
        return "\n".join(lines)


def to_element(sub_category: str, proposal: ProposedElement) -> Element:
    return Element(category=load_taxonomy().parent(sub_category), sub_category=sub_category,
                   element=proposal.element.strip(), kind=proposal.kind,
                   synonyms=tuple(s.strip() for s in proposal.synonyms),
                   broader=tuple(b.strip() for b in proposal.broader), description=proposal.description.strip())


class Grower:
    """One grow: the novelty index over everything known, and what this grow judged so far."""

    def __init__(self, config: BuildConfig, client, embedder: Embedder, run_id: str, store):
        self.store, self.config, self.client, self.run_id = store, config, client, run_id
        library = library_file(config.run.elements_file).elements
        stored = store.entries(include_removed=True)  # a removed element stays known: not grown again
        library_vectors = np.asarray(embedder.embed([e.description for e in library]), dtype=np.float32)
        self.index = NoveltyIndex(library + [entry.element for entry in stored],
                                  np.concatenate([library_vectors, store.vectors()]), embedder,
                                  config.elements.max_similarity)
        self.names: dict[str, list[str]] = defaultdict(list)  # sub-category -> known and refused names
        # a removed entry may be one the hard block stops (a rule added since): its name is never sent
        for element in library + [entry.element for entry in stored if not guardrail_hit(entry.element)]:
            self.names[element.sub_category].append(element.element)
        refused = store.decisions()
        # a name a guardrail stopped is withheld from the store, and never sent to the writer again
        told = (refused["verdict"] != "keep") & ~refused["reason"].astype(str).str.startswith(GUARDRAIL)
        for sub, name in zip(refused.loc[told, "sub_category"], refused.loc[told, "element"]):
            self.names[sub].append(name)
        self.entries: list[StoredElement] = []
        self.vectors: list[np.ndarray] = []
        self.decisions: list[tuple[str, str, Decision]] = []
        self.proposed: Counter = Counter()  # sub-category -> proposals in its last answer

    def request(self, sub: str, n: int) -> ElementWriterInput:
        return ElementWriterInput(category=load_taxonomy().parent(sub), sub_category=sub,
                                  definition=load_definitions()[sub], known_elements=tuple(self.names[sub]),
                                  n_elements=n)

    def judge(self, sub: str, answer, n: int, report: GrowReport) -> None:
        """Judge the first `n` proposals of one answer, in order; accepted ones join the index."""
        proposals = [to_element(sub, proposal) for proposal in answer.output.elements[:n]]
        self.proposed[sub] = len(proposals)
        provenance = answer.provenance
        threshold = self.config.elements.max_similarity
        for element, vector in zip(proposals, self.index.embed(proposals)):
            measured = self.index.measure(element, vector)
            refused = refusal(element)
            if refused is None and measured.duplicate_of:
                refused = "element.duplicate_name", f"repeats the known element {measured.duplicate_of!r}"
            if refused is None and measured.similarity >= threshold:
                refused = ("element.near_duplicate", f"description cosine {measured.similarity:.3f} to "
                           f"{measured.nearest!r} (threshold {threshold})")
            code, detail = refused or ("element.novel", f"nearest {measured.nearest!r} at cosine "
                                                        f"{measured.similarity:.3f}")
            verdict = Verdict.keep if refused is None else Verdict.drop
            blocked = code == GUARDRAIL
            # what a guardrail stopped (a private person's name, a minor) is not written down
            name, text = (WITHHELD, WITHHELD) if blocked else (element.element,
                                                                 f"{element.element}: {element.description}")
            detail = detail.rsplit(": ", 1)[0] if blocked else detail  # the rule, not the matched text
            self.decisions.append((sub, name, Decision(
                item_id=content_id("proposal", sub, element.element, element.description),
                seed_id=Seed(category=element.category, sub_category=sub, element=element).id,
                stage=STAGE, text=text,
                scores={"similarity": measured.similarity, "name_repeat": float(bool(measured.duplicate_of))},
                score=measured.similarity, threshold=threshold, verdict=verdict, reason=f"{code}: {detail}",
                backend=provenance.backend, model=provenance.model, prompt_hash=provenance.prompt_hash)))
            if not blocked and element.element not in self.names[sub]:
                self.names[sub].append(element.element)
            if refused is not None:
                report.refused[code] += 1
                continue
            self.index.admit(element, vector)
            self.vectors.append(vector)
            self.entries.append(StoredElement(
                element=element, backend=provenance.backend, model=provenance.model,
                prompt_hash=provenance.prompt_hash, run_id=self.run_id, novelty=round(measured.novelty, 6),
                nearest=measured.nearest, version=0))
            report.added[sub] += 1

    def next_requests(self, wanted: dict[str, int], report: GrowReport,
                      answered: dict[str, set[str]]) -> dict[str, ElementWriterInput]:
        """The request of each sub-category still short and under max_requests, save one that would
        repeat a request the answer cache answered: that sub-category is marked stalled instead."""
        limits = self.config.elements
        requests = {}
        for sub, n in wanted.items():
            if report.added[sub] >= n or report.requests[sub] >= limits.max_requests or sub in report.stalled:
                continue
            request = self.request(sub, min(limits.per_request, n - report.added[sub]))
            if request.model_dump_json() in answered[sub]:
                report.stalled[sub] = self.proposed[sub]
            else:
                requests[sub] = request
        return requests

    def run(self, wanted: dict[str, int], on_round: Step = no_steps) -> GrowReport:
        report = GrowReport(run_id=self.run_id, wanted=dict(wanted), max_requests=self.config.elements.max_requests)
        answered: dict[str, set[str]] = defaultdict(set)  # sub-category -> its requests answered in this grow
        failed_rounds = rounds = 0
        while failed_rounds < ROUNDS_BEFORE_GIVING_UP:
            requests = self.next_requests(wanted, report, answered)
            if not requests:
                break
            answers = self.client.run_batch(STAGE, list(requests.values()))
            failed_rounds = failed_rounds + 1 if all(isinstance(a, ItemError) for a in answers) else 0
            for (sub, request), answer in zip(requests.items(), answers):
                report.requests[sub] += 1
                # a failure counts as failed, whether the cache gave it or not: an ItemError does not say
                report.cached[sub] += bool(getattr(answer, "cached", False))
                if isinstance(answer, ItemError):
                    report.failed_requests += 1
                    report.first_error = report.first_error or failure_text(answer, load_taxonomy().parent(sub))
                    continue
                if self.config.llm.cache:  # without the cache a repeat is a new draw, which may bring new names
                    answered[sub].add(request.model_dump_json())
                self.judge(sub, answer, request.n_elements, report)
            rounds += 1
            on_round(report.round_line(rounds))
        report.gave_up = failed_rounds >= ROUNDS_BEFORE_GIVING_UP
        if self.decisions:
            vectors = np.stack(self.vectors) if self.vectors else np.zeros((0, 384), dtype=np.float32)
            report.version = self.store.add_version(self.entries, vectors, self.decisions, self.run_id,
                                                    {"requests": sum(report.requests.values()),
                                                     "cached_requests": sum(report.cached.values()),
                                                     "failed_requests": report.failed_requests,
                                                     "first_error": report.first_error})
        return report


def grow_elements(config: BuildConfig, wanted: dict[str, int], run_id: str | None = None,
                  client=None, embedder: Embedder | None = None, on_round: Step = no_steps,
                  on_wait: Step = no_steps) -> GrowReport:
    """Add up to `wanted[sub]` new elements per sub-category to the store, telling `on_round` what each
    round left, and `on_wait` who holds the store when another grow or removal has it (a grow may hold
    it for minutes)."""
    from pipeline.factory import has_element_writer, make_element_writer

    if not has_element_writer(config):
        raise ConfigError("growing elements needs an element writer: set backends.element_writer = 'llm' "
                          "and an [llm] endpoint (docs/llm.md)")
    if embedder is None:
        from pipeline.backends.minilm import default_embedder
        embedder = default_embedder()
    wanted = {sub: n for sub, n in wanted.items() if n > 0}
    if not wanted:
        return GrowReport(run_id=run_id or new_grow_id(), wanted={})
    store = store_of(config)
    if store is None:
        raise ConfigError("elements.store is not set: growing needs a store to write to")
    made_here = client is None  # a client the caller passed is theirs to use after, and to close
    if made_here:
        client = make_element_writer(config)
    try:
        with store.exclusive(on_wait):
            return Grower(config, client, embedder, run_id or new_grow_id(), store).run(wanted, on_round)
    finally:
        if made_here:  # now, not at interpreter exit: its child process ends and its cache is written
            client.close()
