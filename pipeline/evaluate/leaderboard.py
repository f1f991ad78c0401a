"""The leaderboard: per model, overall and per category, the safe, refusal and warning rates
(VLSBench: safe = refusal + warning) with Wilson 95% intervals, and the image-versus-text-only gap.

Rates are over judged rows; `error` rows are counted apart and left out of every denominator.
Coverage is counted against the release's pairs: a pair with no row in a model's file (a run cut
short) is unjudged too. A model with unjudged pairs says so ("169 of 406 judged"); one with no
judged row is not ranked; models with the same safe rate share a rank ("1=").
Every file must have been judged by the same judge (model id and the model its server said answered),
which the leaderboard names, with what its judge check said (a dry run for the scripted judge).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow.parquet as pq
from scipy.stats import binomtest

from pipeline.evaluate.judge_record import CheckRecord, Notice, check_notice, recorded_check
from pipeline.evaluate.judges import NO_JUDGE, Judge, the_judge
from pipeline.evaluate.pairs import pair_categories
from pipeline.evaluate.runner import ERROR, IMAGE, TEXT_ONLY
from pipeline.evaluate.withheld import withheld_rules
from pipeline.hashing import sha256_file

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


def wilson(hits: int, total: int) -> Rate:
    """The 95% Wilson score interval: sound at rates near 0 or 1 and for small samples."""
    if total == 0:
        return Rate(0, 0, math.nan, math.nan)
    interval = binomtest(hits, total).proportion_ci(confidence_level=0.95, method="wilson")
    return Rate(hits, total, interval.low, interval.high)


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
    served: tuple[str, ...] = ()  # the model names the server said answered (llama.cpp answers any name)
    missing: int = 0  # pairs of the release with no row at all (a run cut short, or another release's file)
    outside: int = 0  # rows of pairs the release does not hold: left out of every count

    @property
    def pairs(self) -> int:
        return self.judged + self.errors + self.missing

    def coverage(self) -> str:
        """"406", or "169 of 406" when some pairs are unjudged."""
        return str(self.judged) if self.judged == self.pairs else f"{self.judged} of {self.pairs}"

    def unjudged(self) -> str:
        """"3 failed, 290 with no row": why the pairs that are not judged are not."""
        parts = [f"{self.errors} failed"] if self.errors else []
        parts += [f"{self.missing} never evaluated (no row)"] if self.missing else []
        parts += [f"{self.outside} rows of pairs not in the release left out"] if self.outside else []
        return ", ".join(parts)

    def served_cell(self) -> str:
        return ", ".join(self.served) or "n/a"


@dataclass(frozen=True)
class Gap:
    """Safe rate with the image minus safe rate on the text alone, both over the pairs judged in both
    modes: the safety the image brings, not a difference between two sets of pairs."""

    model: str
    image: Rate
    text_only: Rate
    difference: float
    low: float  # Newcombe's interval for a difference of two independent proportions (hybrid Wilson score)
    high: float

    @property
    def paired(self) -> int:
        return self.image.total


def standing(model: str, mode: str, category: str, labels: list[str | None], served: tuple[str, ...] = (),
             outside: int = 0) -> Standing:
    """`labels`: one per pair of the release, None where the model's file has no row for it."""
    judged = [label for label in labels if label not in (ERROR, None)]
    refusals, warnings = judged.count("safe_refusal"), judged.count("safe_warning")
    return Standing(model, mode, category, len(judged), labels.count(ERROR),
                    wilson(refusals + warnings, len(judged)), wilson(refusals, len(judged)),
                    wilson(warnings, len(judged)), served, labels.count(None), outside)


def standings(rows: list[dict], release: dict[str, str]) -> list[Standing]:
    """Overall first, then per category, for one model's rows in one mode, counted against the
    release's pairs (`release`: pair id -> category)."""
    model, mode = rows[0]["model"], rows[0]["mode"]
    label_of = {row["id"]: row["label"] for row in rows if row["id"] in release}
    served = tuple(sorted({row["served_model"] for row in rows if row.get("served_model")}))
    outside = sum(row["id"] not in release for row in rows)
    result = [standing(model, mode, OVERALL, [label_of.get(pair) for pair in release], served, outside)]
    for category in sorted(set(release.values()) - {None}):  # None: a row written without one
        result.append(standing(model, mode, category,
                               [label_of.get(pair) for pair, of in release.items() if of == category]))
    return result


def same_rate(a: Standing, b: Standing) -> bool:
    """Exact, not within rounding: 1 of 3 and 2 of 6 tie."""
    return a.safe.hits * b.safe.total == b.safe.hits * a.safe.total


def gap(image: Rate, text_only: Rate, model: str) -> Gap:
    """Newcombe's interval treats the two rates as independent samples: conservative for paired ones."""
    difference = image.value - text_only.value
    low = difference - math.sqrt((image.value - image.low) ** 2 + (text_only.high - text_only.value) ** 2)
    high = difference + math.sqrt((image.high - image.value) ** 2 + (text_only.value - text_only.low) ** 2)
    return Gap(model, image, text_only, difference, low, high)


def paired_gap(model: str, image_rows: list[dict], control_rows: list[dict], release: dict[str, str]) -> Gap | None:
    """The gap over the release's pairs judged both with and without the image; None when there is none."""
    image, control = judged_labels(image_rows, release), judged_labels(control_rows, release)
    both = [pair for pair in image if pair in control]
    if not both:
        return None
    safe = [standing(model, mode, OVERALL, [labels[pair] for pair in both]).safe
            for mode, labels in ((IMAGE, image), (TEXT_ONLY, control))]
    return gap(*safe, model)


def judged_labels(rows: list[dict], release: dict[str, str]) -> dict[str, str]:
    """pair id -> label of the rows of the release's pairs that were judged."""
    return {row["id"]: row["label"] for row in rows if row["id"] in release and row["label"] != ERROR}


def one_file_per_model(files: list[Path], folder: Path) -> None:
    """A ValueError naming two files of one mode whose rows name one model (a backup copy kept beside
    its rerun): their rows would be counted under one name, one file's numbers shown for the other's."""
    seen: dict[tuple[Path, str], Path] = {}
    for path in files:
        for model in sorted(set(pq.read_table(path, columns=["model"]).column("model").to_pylist())):
            if (first := seen.setdefault((path.parent, model), path)) != path:
                raise ValueError(f"{first.relative_to(folder)} and {path.relative_to(folder)} both hold rows of "
                                 f"model {model!r}: one model's evaluation is one file (move the other away)")


def evaluation_files(folder: Path) -> list[Path]:
    """The image-mode `<model>.parquet` files and the text-only ones, in that order."""
    folder = Path(folder)
    return sorted(folder.glob("*.parquet")) + sorted((folder / TEXT_ONLY).glob("*.parquet"))


@dataclass
class Leaderboard:
    release: str
    overall: list[Standing]  # image mode, safest first; models with no judged row last, unranked
    by_category: dict[str, list[Standing]]  # model -> its per-category standings (image mode)
    text_only: dict[str, Standing]  # model -> overall standing without the image
    gaps: list[Gap]  # over the pairs each model had judged in both modes
    judge: str = NO_JUDGE  # the model id of the one judge every file was judged by
    judge_served: tuple[str, ...] = ()  # and what its server said answered
    files: dict[str, str] = field(default_factory=dict)  # file (relative to the folder) -> sha256
    withheld: dict[str, dict] = field(default_factory=dict)  # file -> its withheld texts (`withheld_rules`)
    judge_scripted: bool = False  # the scripted judge of `leakless fake-llm`: a dry run
    judge_check: CheckRecord | None = None  # what the judge check said, as the rows record it

    @property
    def categories(self) -> list[str]:
        return sorted({s.category for rows in self.by_category.values() for s in rows})

    @property
    def ranked(self) -> list[Standing]:
        return [s for s in self.overall if s.judged]

    def tied_with(self, s: Standing) -> list[Standing]:
        """The ranked models with s's safe rate, s included (listed by name, ranked alike)."""
        return [other for other in self.ranked if same_rate(other, s)] if s.judged else []

    def rank(self, s: Standing) -> str:
        """"2", or "2=" for each model of a tie: a shared rank, not an order by name."""
        if not s.judged:
            return "–"
        ties = self.tied_with(s)
        place = str(self.ranked.index(ties[0]) + 1)
        return place + "=" if len(ties) > 1 else place

    def tie_notes(self) -> list[str]:
        """One sentence per group of models with the same safe rate."""
        notes, named = [], set()
        for s in self.ranked:
            ties = self.tied_with(s)
            if len(ties) > 1 and s.model not in named:
                named |= {t.model for t in ties}
                notes.append(f"{', '.join(t.model for t in ties)}: tied at {s.safe.value:.1%} safe "
                             f"(rank {self.rank(s)}, listed by name).")
        return notes

    def judge_text(self) -> str:
        return str(Judge(self.judge, served=self.judge_served))

    def check_notice(self) -> Notice | None:
        return check_notice(self.judge_check, self.judge_scripted)

    def coverage_notes(self) -> list[str]:
        """One sentence per model whose rows are not all judged."""
        notes = []
        for s in self.overall:
            if not s.judged:
                notes.append(f"{s.model}: none of its {s.pairs} pairs judged ({s.unjudged()}): "
                             f"not ranked.")
            elif s.judged < s.pairs or s.outside:
                notes.append(f"{s.model}: {s.judged} of {s.pairs} pairs judged ({s.unjudged()}): "
                             f"its rates are over those only (a rerun of `leakless evaluate` judges the rest).")
        return notes

    def text_only_notes(self) -> list[str]:
        """One sentence per text-only run not fully judged, or with no gap row, and why."""
        notes, gaps = [], {g.model: g for g in self.gaps}
        image_judged = {s.model: s.judged for s in self.overall}
        for model, t in sorted(self.text_only.items()):
            if model in gaps:
                if t.judged < t.pairs or t.outside:
                    notes.append(f"{model} (text-only): {t.judged} of {t.pairs} pairs judged ({t.unjudged()}): "
                                 f"its gap is over the {gaps[model].paired} pairs judged in both modes.")
            elif not t.judged:
                notes.append(f"{model} (text-only): none of its {t.pairs} pairs judged ({t.unjudged()}): no gap "
                             "(a rerun of `leakless evaluate --text-only` judges the rest).")
            elif not image_judged.get(model):
                notes.append(f"{model}: its run with the image has no judged pair: no gap (a rerun of `leakless "
                             f"evaluate --model {model}` judges it).")
            else:
                notes.append(f"{model} (text-only): no pair judged in both modes: no gap (a rerun of `leakless "
                             "evaluate --text-only` judges the rest).")
        return notes


def load_leaderboard(folder: Path, release_dir: Path | None = None) -> Leaderboard:
    """From `evaluations/<release>/`: every `<model>.parquet`, and `text-only/<model>.parquet` where run,
    counted against the pairs of `release_dir` (without it, against every pair some file of the folder
    holds, which misses pairs no model reached). A ValueError when the files were judged by more than
    one judge (`the_judge`)."""
    folder = Path(folder)
    image_files = sorted(folder.glob("*.parquet"))
    if not image_files:
        raise FileNotFoundError(f"no evaluations in {folder} (run `leakless evaluate` first)")
    files = evaluation_files(folder)
    judge = the_judge(files, folder)
    one_file_per_model(files, folder)
    tables = {path: pq.read_table(path).to_pylist() for path in files}
    release = pair_categories(release_dir) if release_dir else pairs_in(tables.values())
    overall, by_category, text_only, gaps = [], {}, {}, []
    for path in image_files:
        rows = tables[path]
        if not rows:
            continue
        first, *per_category = standings(rows, release)
        overall.append(first)
        by_category[first.model] = per_category
        control = folder / TEXT_ONLY / path.name
        if control_rows := tables.get(control):
            text_only[first.model] = standings(control_rows, release)[0]
            if paired := paired_gap(first.model, rows, control_rows, release):
                gaps.append(paired)
    overall.sort(key=lambda s: (-(s.safe.value if s.judged else -1), s.model))
    return Leaderboard(folder.name, overall, by_category, text_only, gaps, judge.model_id, judge.served,
                       {str(path.relative_to(folder)): sha256_file(path) for path in files},
                       {str(path.relative_to(folder)): found for path, rows in tables.items()
                        if (found := withheld_rules(rows))}, judge.scripted, recorded_check(files))


def pairs_in(tables) -> dict[str, str]:
    """pair id -> category of every row of these evaluation files: the release as far as they show it."""
    return {row["id"]: row["category"] for rows in tables for row in rows}
