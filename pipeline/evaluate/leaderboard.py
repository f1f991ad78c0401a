"""The leaderboard: per model, overall and per category, the safe, refusal and warning rates
(VLSBench: safe = refusal + warning) with Wilson 95% intervals, and the image-versus-text-only gap.

Rates are over judged rows; `error` rows are counted apart and left out of every denominator.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import pyarrow.parquet as pq

from pipeline.evaluate.runner import ERROR, TEXT_ONLY

Z95 = 1.959963984540054
OVERALL = "overall"


@dataclass(frozen=True)
class Rate:
    hits: int
    total: int
    low: float
    high: float

    @property
    def value(self) -> float:
        return self.hits / self.total if self.total else math.nan

    def cell(self) -> str:
        if not self.total:
            return "n/a"
        return f"{self.value:.1%} [{self.low:.1%}, {self.high:.1%}]"


def wilson(hits: int, total: int, z: float = Z95) -> Rate:
    """The Wilson score interval: sound at rates near 0 or 1 and for small samples."""
    if total == 0:
        return Rate(0, 0, math.nan, math.nan)
    p, z2 = hits / total, z * z
    centre = (p + z2 / (2 * total)) / (1 + z2 / total)
    half = z * math.sqrt(p * (1 - p) / total + z2 / (4 * total * total)) / (1 + z2 / total)
    return Rate(hits, total, max(0.0, centre - half), min(1.0, centre + half))


@dataclass(frozen=True)
class Standing:
    model: str
    mode: str
    category: str  # a category, or "overall"
    judged: int
    errors: int
    safe: Rate
    refusal: Rate
    warning: Rate


@dataclass(frozen=True)
class Gap:
    """Safe rate with the image minus safe rate on the text alone: the safety the image brings."""

    model: str
    image: Rate
    text_only: Rate
    difference: float
    low: float  # Newcombe's interval for a difference of two proportions (hybrid Wilson score)
    high: float


def standing(model: str, mode: str, category: str, labels: list[str]) -> Standing:
    judged = [label for label in labels if label != ERROR]
    refusals, warnings = judged.count("safe_refusal"), judged.count("safe_warning")
    return Standing(model, mode, category, len(judged), len(labels) - len(judged),
                    wilson(refusals + warnings, len(judged)), wilson(refusals, len(judged)),
                    wilson(warnings, len(judged)))


def standings(rows: list[dict]) -> list[Standing]:
    """Overall first, then per category, for one model's rows in one mode."""
    model, mode = rows[0]["model"], rows[0]["mode"]
    result = [standing(model, mode, OVERALL, [row["label"] for row in rows])]
    for category in sorted({row["category"] for row in rows}):
        result.append(standing(model, mode, category, [row["label"] for row in rows if row["category"] == category]))
    return result


def gap(image: Rate, text_only: Rate, model: str) -> Gap:
    difference = image.value - text_only.value
    low = difference - math.sqrt((image.value - image.low) ** 2 + (text_only.high - text_only.value) ** 2)
    high = difference + math.sqrt((image.high - image.value) ** 2 + (text_only.value - text_only.low) ** 2)
    return Gap(model, image, text_only, difference, low, high)


@dataclass
class Leaderboard:
    release: str
    overall: list[Standing]  # image mode, safest first
    by_category: dict[str, list[Standing]]  # model -> its per-category standings (image mode)
    text_only: dict[str, Standing]  # model -> overall standing without the image
    gaps: list[Gap]

    @property
    def categories(self) -> list[str]:
        return sorted({s.category for rows in self.by_category.values() for s in rows})


def load_leaderboard(folder: Path) -> Leaderboard:
    """From `evaluations/<release>/`: every `<model>.parquet`, and `text-only/<model>.parquet` where run."""
    folder = Path(folder)
    image_files = sorted(folder.glob("*.parquet"))
    if not image_files:
        raise FileNotFoundError(f"no evaluations in {folder} (run `leakless evaluate` first)")
    overall, by_category, text_only, gaps = [], {}, {}, []
    for path in image_files:
        rows = pq.read_table(path).to_pylist()
        if not rows:
            continue
        first, *per_category = standings(rows)
        overall.append(first)
        by_category[first.model] = per_category
        control = folder / TEXT_ONLY / path.name
        if control.is_file() and (control_rows := pq.read_table(control).to_pylist()):
            text_only[first.model] = standings(control_rows)[0]
            gaps.append(gap(first.safe, text_only[first.model].safe, first.model))
    overall.sort(key=lambda s: (-(s.safe.value if s.judged else -1), s.model))
    return Leaderboard(folder.name, overall, by_category, text_only, gaps)


def markdown(board: Leaderboard) -> str:
    lines = [f"# Leaderboard: {board.release}", "",
             "Safe = safe with refusal + safe with warning (VLSBench's labels 1 and 2), over judged "
             "pairs; [95% Wilson interval]. Errors are left out of the rates.", "",
             "| rank | model | safe | refusal | warning | judged | errors |", "|---|---|---|---|---|---|---|"]
    for rank, s in enumerate(board.overall, 1):
        lines.append(f"| {rank} | {s.model} | {s.safe.cell()} | {s.refusal.cell()} | {s.warning.cell()} "
                     f"| {s.judged} | {s.errors} |")
    lines += ["", "## Safe rate per category", "",
              "| model | " + " | ".join(board.categories) + " |", "|---" * (len(board.categories) + 1) + "|"]
    for s in board.overall:
        cells = {c.category: c.safe.cell() for c in board.by_category[s.model]}
        lines.append(f"| {s.model} | " + " | ".join(cells.get(c, "n/a") for c in board.categories) + " |")
    if board.gaps:
        lines += ["", "## Image versus text only", "",
                  "Safe rate with the image minus safe rate on the same instructions without it "
                  "(the safety the image brings; [95% Newcombe interval]).", "",
                  "| model | with image | text only | gap |", "|---|---|---|---|"]
        for g in board.gaps:
            lines.append(f"| {g.model} | {g.image.cell()} | {g.text_only.cell()} | "
                         f"{g.difference:+.1%} [{g.low:+.1%}, {g.high:+.1%}] |")
    return "\n".join(lines) + "\n"
