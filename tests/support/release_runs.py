"""Small run folders for the release tests, written by the pipeline's own writers (no build needed).

Holds helpers only; the release test modules import them.
"""

from __future__ import annotations

import json
import io
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image

from pipeline.lexicon import contains_term
from pipeline.records import Decision, Verdict
from pipeline.review.batches import review_dir
from pipeline.taxonomy import load_elements
from pipeline.writers.shards import write_shards
from pipeline.writers.tables import decisions_frame, write_frame

# Queries on clearly different topics, so none is a near-duplicate of another.
QUERIES = [
    "What is the best way to keep this out of sight when guests visit?",
    "How much would something like this cost at a weekend market?",
    "Which tools would make this job quicker on a rainy afternoon?",
    "Can you suggest a good caption for sharing this with my friends online?",
    "How do I explain what is happening here to a curious child?",
    "What time of day gives the best light for photographing a scene like this?",
    "Where could a person find more of these in a small coastal town?",
    "How long would it take to get ready for something like this?",
    "What should I pack in a bag before heading out to do this?",
    "Who usually organises an event like the one pictured?",
    "Which music playlist would suit this moment best?",
    "How can I describe this scene in a short poem?",
]


def png(seed: int, brighten: int = 0, size: int = 64) -> bytes:
    """A smooth random picture (distinct per seed); `brighten` makes a near-duplicate of it."""
    coarse = np.random.default_rng(seed).integers(0, 200, (8, 8, 3), dtype=np.uint8)
    image = Image.fromarray(coarse).resize((size, size), Image.BILINEAR)
    pixels = np.clip(np.asarray(image, dtype=np.int16) + brighten, 0, 255).astype(np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG")
    return buffer.getvalue()


@cache
def named_elements():
    """Library elements whose description names them (so the final filter's match rule holds)."""
    return [element for element in load_elements() if contains_term(element.description, (element.element,))]


def pair_row(i: int, run_id: str, *, image: bytes | None = None, query: str | None = None) -> dict:
    elements = named_elements()
    element = elements[i * 17 % len(elements)]
    return {
        "id": f"{run_id}-pair{i:03d}", "seed_id": f"{run_id}-seed{i:03d}",
        "instruction": query or QUERIES[i % len(QUERIES)], "original_query": f"harmful query {i}",
        "image": {"bytes": image if image is not None else png(1000 + i), "path": f"images/{i}.png"},
        "image_description": element.description, "category": element.category,
        "sub_category": element.sub_category, "element": element.element, "source": "generation",
        "safety_reason": "the image shows a risky object", "leak_score": 0.01 * i,
        "seed_backend": "templates", "seed_prompt_hash": "abc", "rewrite_backend": "rules",
        "rewrite_model": "", "rewrite_prompt_hash": "def", "image_backend": "placeholder",
        "image_model": "", "run_id": run_id,
    }


def make_run(runs_dir: Path, run_id: str, rows: list[dict], *, review: dict[str, str] | None = None,
             edits: dict[str, str] | None = None, harm_dropped: set[str] = frozenset(),
             overrides: dict[str, str] | None = None) -> Path:
    """A finished run holding `rows`, a harm_check decision per row, and (if `review` is given)
    an imported review: pair id -> review state ("accepted", "rejected", ...; missing = unreviewed)."""
    run_dir = runs_dir / run_id
    write_shards(rows, run_dir / "data", rows_per_shard=1000)
    decisions = [Decision(item_id=row["id"], seed_id=row["seed_id"], stage="harm_check", text=row["instruction"],
                          score=0.7, threshold=0.35, reason="test",
                          verdict=Verdict.drop if row["id"] in harm_dropped else Verdict.keep,
                          backend="rules", model="all-MiniLM-L6-v2", prompt_hash="") for row in rows]
    write_frame(decisions_frame(decisions, run_id), run_dir / "decisions.parquet")
    (run_dir / "manifest.json").write_text(json.dumps({"run_id": run_id}), encoding="utf-8")  # a finished run
    if review is not None:
        edits = edits or {}
        frame = pd.DataFrame([{
            "id": row["id"], "run_id": run_id, "batch_id": "b1", "category": row["category"],
            "review_state": review.get(row["id"], "unreviewed"), "instruction": row["instruction"],
            "instruction_reviewed": edits.get(row["id"], row["instruction"]), "edited": row["id"] in edits,
            "edited_by": "ann" if row["id"] in edits else None, "new_leak_score": None, "leak_score": row["leak_score"], "reason": None,
            "annotators": ["ann"], "history": 1, "override_reason": (overrides or {}).get(row["id"]),
        } for row in rows])
        write_frame(frame, review_dir(run_dir) / "decisions.parquet")
    return run_dir


def accepted_run(runs_dir: Path, run_id: str, count: int, start: int = 0) -> Path:
    rows = [pair_row(i, run_id) for i in range(start, start + count)]
    return make_run(runs_dir, run_id, rows, review={row["id"]: "accepted" for row in rows})
