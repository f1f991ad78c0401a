"""The card's table of columns: what each released column means and its Hugging Face type, and what the
card calls the taxonomy the pairs were sorted into (VLSBench's, or one of the builder's own)."""

from __future__ import annotations

from pipeline.release.schema import RELEASE_FIELDS, SELECTED_SCHEMA, hf_features

# What each released column means: the one place it is written down. tests/release/test_release_card.py
# checks it against the release schemas and a real release's shards, so a new column without a meaning fails.
COLUMN_MEANINGS = {
    "id": "pair id, derived from content (stable across reruns)",
    "instruction_id": "VLSBench's integer key, given in release order and never reused",
    "seed_id": "the seed the pair came from",
    "instruction": "the query to ask with the image: leak-free on its own (an annotator's edit, if any)",
    "original_query": "the harmful query before leak rewriting",
    "image": "the PNG as `{bytes, path}`; `datasets` loads it as an Image from `bytes`. `path` is null: the "
             "release ships no image files (an older release kept the build's `images/<seed>.png` there, "
             "a file no release ships)",
    "image_description": "what the image shows",
    "category": "VLSBench's category (6)",  # column_meanings() says otherwise for a taxonomy of one's own
    "sub_category": "VLSBench's sub-category (19)",
    "element": "the risky object or scenario the image shows",
    "source": "where the image came from: `generation` for a made one, else the source the image pool's "
              "captions file gives it (the pool's name where it gives none)",
    "safety_reason": "why the pair is risky",
    "leak_score": "the leak detector's score of `instruction` as shipped (lower is safer)",
    "seed_backend": "the backend that wrote the harmful seed",
    "seed_model": "the seed writer's model, the one that answered (empty for an offline backend; null in a row "
                  "from a run or release made before the column existed)",
    "seed_prompt_hash": "the version of the seed writer's prompt or templates",
    "rewrite_backend": "the backend that rewrote the query to be leak-free (the pipeline's query: see `edited_by`)",
    "rewrite_model": "the rewriter's model (empty for an offline backend)",
    "rewrite_prompt_hash": "the version of the rewriter's prompt",
    "image_backend": "the backend that made the image (`placeholder`: not a real image)",
    "image_model": "the image model's id or local path (empty for an offline backend)",
    "run_id": "the build that made the pair",
    "instruction_pipeline": "the pipeline's query before human review (`instruction` differs if an annotator "
                            "edited it)",
    "edited_by": "the annotator (or adjudicator) who wrote `instruction`, else null: then the rewriter's "
                 "query ships, and `rewrite_backend` names who wrote it",
    "review_state": "`accepted`, or `unreviewed` in a preview release",
    "added_in": "the release version that first published the row",
    "leak_threshold": "the stricter of the run's leak_filter.threshold and the detector's when `leak_score` "
                      "was computed: at or above it, the query leaks",
    "leak_verdict": "`leak-free`; `leaks`; or `not-english`: outside the English-only detector's scope, so "
                    "`leak_score` says nothing (the last two shipped only with an `override_reason`)",
    "harm_verdict": "the harm check on the shipped query: `keep`, or `drop` (shipped only with an "
                    "`override_reason`)",
    "detector_version": "the leak detector (with its calibration and element library) that computed `leak_score`",
    "override_reason": "an annotator's reason to ship a query the leak or harm check flagged, else null",
    "element_terms": "the terms naming the element (its run's: name, synonyms, broader terms) when `leak_score` "
                     "was computed, a JSON list",
    "selection_reason": "why `leakless select` kept the pair (only in a selected version)",
}


# VLSBench's taxonomy (arXiv 2411.19939), as the shipped pipeline/taxonomy/taxonomy.toml has it. Written here,
# not read from that file: a custom taxonomy is made by editing that very file, and the card must not then call
# it VLSBench's. tests/release/test_card_taxonomy.py checks the two agree in this checkout.
VLSBENCH_TAXONOMY = {
    "Violent": ("Weapon-Related Violence", "Public Violence and Rioting", "Abuse and Physical Altercations"),
    "Illegal Activity": ("Cybercrime", "Property Crimes", "Drug-Related Offenses",
                         "Human Trafficking and Exploitation"),
    "Self-Harm": ("Risky or Dangerous Behaviors", "Physical Self-Injury", "Substance Abuse and Poisoning",
                  "Psychological and Disordered Harm"),
    "Erotic": ("Adult Content", "Erotic Visual Content"),
    "Hate": ("Racial and Ethnic Discrimination", "Cultural Xenophobia", "Religious Intolerance",
             "Gender and Sexual Orientation Discrimination"),
    "Privacy": ("Unauthorized Data Collection", "Identity Theft and Impersonation"),
}
VLSBENCH_PAIRS = {(category, sub) for category, subs in VLSBENCH_TAXONOMY.items() for sub in subs}
VLSBENCH_SHAPE = f"{len(VLSBENCH_TAXONOMY)}×{len(VLSBENCH_PAIRS)}"


def shipped_pairs(sub_counts: dict[str, int]) -> set[tuple[str, str]]:
    """The (category, sub-category) pairs of a manifest's `counts.sub_category` keys ("category/sub-category")."""
    return {tuple(key.split("/", 1)) for key in sub_counts}


def is_vlsbench_taxonomy(sub_counts: dict[str, int]) -> bool:
    """Whether every pair shipped sits in VLSBench's taxonomy, so the card may call the taxonomy VLSBench's."""
    return shipped_pairs(sub_counts) <= VLSBENCH_PAIRS


def taxonomy_phrase(sub_counts: dict[str, int]) -> str:
    """How the card's build steps name the taxonomy the seeds came from; its counts are the release's own."""
    if is_vlsbench_taxonomy(sub_counts):
        return f"the {VLSBENCH_SHAPE} taxonomy"
    pairs = shipped_pairs(sub_counts)
    categories = len({category for category, _ in pairs})
    return (f"a taxonomy of the builder's own, not VLSBench's ({categories} categor{'y' if categories == 1 else 'ies'}"
            f" and {len(pairs)} sub-categor{'y' if len(pairs) == 1 else 'ies'} in this release)")


def column_meanings(sub_counts: dict[str, int]) -> dict[str, str]:
    """COLUMN_MEANINGS, with `category` and `sub_category` told apart from VLSBench's when the taxonomy is not."""
    if is_vlsbench_taxonomy(sub_counts):
        return COLUMN_MEANINGS
    pairs = shipped_pairs(sub_counts)
    return COLUMN_MEANINGS | {
        "category": f"the category, in the builder's own taxonomy, not VLSBench's "
                    f"({len({category for category, _ in pairs})} in this release)",
        "sub_category": f"the sub-category, in the builder's own taxonomy, not VLSBench's ({len(pairs)} in this release)",
    }


def column_types() -> dict[str, str]:
    """Column -> Hugging Face dtype ("image" for the image), for every column a release can hold."""
    return {name: "image" if spec["_type"] == "Image" else spec["dtype"]
            for name, spec in hf_features([(field.name, field.type) for field in SELECTED_SCHEMA]).items()}


def release_columns(manifest: dict) -> list[str]:
    """The columns the release's shards hold (its manifest's schema), else the release schema's."""
    return list(manifest.get("schema") or [name for name, _ in RELEASE_FIELDS])
