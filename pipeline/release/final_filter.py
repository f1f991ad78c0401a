"""Final filtration: the pair checker / categoriser, re-checking every pair before release.

The paper's last step: a VLM checks that image and query match and that the
pair is harmful, and GPT-4o assigns the category. A checker here is anything
with `check(pairs) -> one PairCheck (or ItemError) per pair`; the offline one,
`RulesPairChecker` (backend "rules"), decides:

- matched: the query and the image description are about the same scene
  (MiniLM cosine >= `min_match_similarity`, a low floor), or the description
  names the pair's element (by its name or a synonym its run's seed carried);
- harmful: the build's harm check kept the pair (its decision in the run's
  decisions.parquet: the image still shows the element, the intent was kept);
- categorised: the sub-category belongs to the category in the taxonomy, and
  the element is filed under that category: by the run's seed where the run
  keeps it (a custom or grown element is filed where its run filed it), else by
  the shipped library.

An LLM checker (role "pair_checker", whose output has matched, harmful,
category, sub_category, explanation) plugs in by returning `PairCheck` with
`categorised = (category, sub_category) == the pair's` and `made_by`, the provenance of the answer: its
decision names the model that answered (a fallback, the server's own name for it), not the
one configured.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from pipeline.backends.base import Embedder
from pipeline.contracts import ItemError, PairCheck, PairChecker, PairToCheck, Provenance, ReasonCode, StageName
from pipeline.lexicon import contains_term
from pipeline.progress import Advance, in_slices, no_advance
from pipeline.records import Decision, Element, Verdict
from pipeline.taxonomy import load_elements, load_taxonomy

STAGE = StageName.final_filter
# Pairs given to the checker at a time, so a bar moves as they are done (a pair's check is its own,
# whatever else is in the call). 64, an LLM endpoint's default max_in_flight: a slice still keeps
# an LLM checker as busy as all the pairs did, and the rules checker embeds 128 texts, one batch.
CHECK_SLICE = 64


def harm_check_verdicts(run_dirs: Iterable[Path]) -> dict[str, bool]:
    """pair id -> did the build's harm check keep it (its last attempt)."""
    kept = {}
    for run_dir in run_dirs:
        frame = pd.read_parquet(Path(run_dir) / "decisions.parquet", columns=["item_id", "stage", "attempt", "verdict"])
        frame = frame[frame["stage"] == StageName.harm_check].sort_values("attempt")
        kept.update(zip(frame["item_id"], frame["verdict"] == Verdict.keep.value))
    return kept


class RulesPairChecker:
    backend = "rules"
    prompt_hash = ""

    def __init__(self, embedder: Embedder, harm_kept: dict[str, bool], min_match_similarity: float = 0.2,
                 seed_elements: Mapping[str, Element] | None = None):
        """`seed_elements`: seed id -> the element the runs' seeds carried (`RunElements.seeds()`)."""
        self.embedder = embedder
        self.harm_kept = harm_kept
        self.min_match_similarity = min_match_similarity
        self.seed_elements = seed_elements or {}
        self.taxonomy = load_taxonomy()
        self.element_categories: dict[str, set[str]] = defaultdict(set)
        for element in load_elements():
            self.element_categories[element.element].add(element.category)

    @property
    def model(self) -> str:
        """The embedder that made the match cosines, as it names itself (with its precision where it is
        not float32), which the decisions and the release's manifest then name."""
        return self.embedder.model

    def check(self, pairs: list[PairToCheck]) -> list[PairCheck | ItemError]:
        if not pairs:
            return []
        queries = self.embedder.embed([pair.query for pair in pairs])
        descriptions = self.embedder.embed([pair.image_description for pair in pairs])
        similarities = np.einsum("ij,ij->i", queries, descriptions)
        return [self._check_one(pair, float(similarity)) for pair, similarity in zip(pairs, similarities)]

    def element_terms(self, pair: PairToCheck) -> tuple[str, ...]:
        """What the description may name the element by: its name, and the synonyms its run's seed carried."""
        seeded = self.seed_elements.get(pair.seed_id)
        return (pair.element, *(seeded.synonyms if seeded else ()))

    def _check_one(self, pair: PairToCheck, similarity: float) -> PairCheck:
        seeded = self.seed_elements.get(pair.seed_id)
        named = contains_term(pair.image_description, self.element_terms(pair))
        harmful = self.harm_kept.get(pair.id)
        in_taxonomy = self.taxonomy.parent(pair.sub_category) == pair.category
        # An element outside the shipped library (a custom file, a pool image) has no filing to contradict.
        filed_under = {seeded.category} if seeded else self.element_categories.get(pair.element)
        element_agrees = filed_under is None or pair.category in filed_under
        failed = []
        if not (similarity >= self.min_match_similarity or named):
            failed.append(f"query and image description differ (cosine {similarity:.3f} "
                          f"< {self.min_match_similarity:.3f}, element not in the description)")
        if harmful is None:
            failed.append("no harm_check decision in the run")
        elif not harmful:
            failed.append("the build's harm check dropped it")
        if not in_taxonomy:
            failed.append(f"sub-category {pair.sub_category!r} is not under {pair.category!r}")
        if not element_agrees:
            failed.append(f"element {pair.element!r} is filed under {', '.join(sorted(filed_under))}")
        return PairCheck(
            matched=similarity >= self.min_match_similarity or named, harmful=bool(harmful),
            categorised=in_taxonomy and element_agrees,
            explanation="; ".join(failed) or "query matches the image, pair harmful, category right",
            scores={"match_similarity": similarity, "element_in_description": float(named),
                    "harm_check_kept": float(bool(harmful)), "sub_category_in_category": float(in_taxonomy),
                    "element_category_agrees": float(element_agrees)},
            score=similarity, threshold=self.min_match_similarity,
        )


def final_filter(rows: list[dict], checker: PairChecker,
                 advance: Advance = no_advance) -> tuple[list[dict], list[Decision]]:
    """Check every row; returns the rows kept and one Decision per row, kept or dropped. `advance`
    hears how many pairs were checked, slice by slice."""
    pairs = [PairToCheck(id=row["id"], seed_id=row["seed_id"], query=row["instruction"],
                         image_description=row["image_description"], category=row["category"],
                         sub_category=row["sub_category"], element=row["element"]) for row in rows]
    kept, decisions = [], []
    for row, pair, result in zip(rows, pairs, in_slices(checker.check, pairs, CHECK_SLICE, advance)):
        if isinstance(result, ItemError):
            verdict, reason, check = Verdict.drop, f"checker error: {result.error}", PairCheck(False, False, False, "")
            code = ReasonCode.release_checker_error
        else:
            check = result
            verdict = Verdict.keep if check.matched and check.harmful and check.categorised else Verdict.drop
            reason, code = check.explanation, check_code(check)
        made_by = (check.made_by or
                   Provenance(backend=checker.backend, model=checker.model, prompt_hash=checker.prompt_hash))
        decisions.append(Decision(
            item_id=pair.id, seed_id=pair.seed_id, stage=STAGE, text=pair.query, scores=check.scores,
            score=check.score, threshold=check.threshold, verdict=verdict, code=code, reason=reason,
            backend=made_by.backend, model=made_by.model, prompt_hash=made_by.prompt_hash,
            image_description=pair.image_description, element_terms=element_terms(checker, pair),
            **text_written_by(row),
        ))
        if verdict == Verdict.keep:
            kept.append(row)
    return kept, decisions


def element_terms(checker: PairChecker, pair: PairToCheck) -> tuple[str, ...]:
    """The terms `checker` was given for the element: the rules checker's own, else (an LLM checker, which
    reads the pair as it is) the element's name."""
    terms_of = getattr(checker, "element_terms", None)  # not part of the PairChecker protocol
    return tuple(terms_of(pair)) if callable(terms_of) else (pair.element,)


def text_written_by(row: dict) -> dict[str, str]:
    """A release decision's `text_*` columns: who wrote the query it judged. The rewriter, as the row's
    `rewrite_*` name it, for the pipeline's query; for an annotator's edit, `review` and the annotator."""
    if row.get("instruction_pipeline") is not None and row["instruction"] != row["instruction_pipeline"]:
        return {"text_backend": "review", "text_model": row.get("edited_by") or "", "text_prompt_hash": ""}
    return {"text_backend": row.get("rewrite_backend") or "", "text_model": row.get("rewrite_model") or "",
            "text_prompt_hash": row.get("rewrite_prompt_hash") or ""}


def check_code(check: PairCheck) -> ReasonCode:
    """The stable reason code of a pair check: kept, or the first rule it failed (match, harm, category)."""
    if not check.matched:
        return ReasonCode.release_mismatch
    if not check.harmful:
        return ReasonCode.release_benign
    if not check.categorised:
        return ReasonCode.release_miscategorised
    return ReasonCode.release_kept
