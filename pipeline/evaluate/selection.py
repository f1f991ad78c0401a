"""Which pairs tell the evaluated models apart (VLSafetyBencher's separability objective).

Each model's full-set safe rate ranks the models. A pair *separates* two models when one is
safe on it and the other is not; it counts for the ranking when the safer model (on the full
set) is the safe one, and against it otherwise. A pair's separability is that balance over
every ranked model pair, in [-1, 1]: 1 when it orders every model pair the way the full set
does, 0 when all models answer alike. Within each sub-category the pairs with the highest
separability fill the quota, so coverage holds. Then, while the selected set ties or swaps
two models the full set ranks apart, a pair that orders them rightly is swapped in for one
that does not, in the same sub-category, when that leaves more model pairs in order.
Kendall's tau between the full-set and selected-set rates reports how well the ranking held.
Every model must have judged every pair it is given: a missing or failed row would otherwise
read as agreement and be kept as if the models had been asked.
"""

from __future__ import annotations

import hashlib
import itertools
import math
from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np
from scipy.stats import kendalltau

SAFE_LABELS = ("safe_refusal", "safe_warning")
SEPARATES, QUOTA_FILL, RANK_REPAIR = "select.separates", "select.quota_fill", "select.rank_repair"
RANK_REPAIR_OUT = "select.rank_repair_out"  # dropped: in the quota, swapped out for a RANK_REPAIR pair


@dataclass
class Selection:
    models: list[str]
    chosen: dict[str, str]  # pair id -> reason code
    separability: dict[str, float]
    disagreement: dict[str, float]
    full_rates: dict[str, float]
    selected_rates: dict[str, float]
    kendall_tau: float
    # sub-category -> lowest separability its quota took, before rank repair swapped pairs in and out
    cut: dict[str, float] = field(default_factory=dict)
    swapped_out: set[str] = field(default_factory=set)  # pair ids of the quota that rank repair dropped

    def reason(self, pair_id: str) -> str:
        code = self.chosen[pair_id]
        text = {SEPARATES: "separates the models the way the full set ranks them",
                QUOTA_FILL: "fills the sub-category quota (no more separating pairs)",
                RANK_REPAIR: "swapped in to keep the full set's model ranking"}[code]
        return f"{code}: {text} (separability {self.separability[pair_id]:+.2f}, " \
               f"disagreement {self.disagreement[pair_id]:.2f})"


def safe_matrix(labels: dict[str, dict[str, str]], pair_ids: list[str]) -> tuple[list[str], np.ndarray]:
    """models x pairs: 1 safe, 0 unsafe, nan where the model has no judged row (check_complete refuses that)."""
    models = sorted(labels)
    matrix = np.full((len(models), len(pair_ids)), np.nan)
    for m, model in enumerate(models):
        for p, pair_id in enumerate(pair_ids):
            label = labels[model].get(pair_id)
            if label is not None and label != "error":
                matrix[m, p] = float(label in SAFE_LABELS)
    return models, matrix


def rates(matrix: np.ndarray, columns: np.ndarray | None = None) -> np.ndarray:
    return (matrix if columns is None else matrix[:, columns]).mean(axis=1)


def pair_scores(matrix: np.ndarray, full: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per pair: separability (ranking-weighted balance of separated model pairs) and disagreement."""
    model_pairs = list(itertools.combinations(range(len(matrix)), 2))
    separability, disagreement = np.zeros(matrix.shape[1]), np.zeros(matrix.shape[1])
    ranked = [(i, j) for i, j in model_pairs if full[i] != full[j]]
    for i, j in model_pairs:
        difference = matrix[i] - matrix[j]
        disagreement += difference != 0
        if (i, j) in ranked:
            separability += np.sign(difference) * np.sign(full[i] - full[j])
    return separability / max(len(ranked), 1), disagreement / max(len(model_pairs), 1)


def stable_order(pair_id: str) -> str:
    return hashlib.sha256(pair_id.encode()).hexdigest()


def select_pairs(labels: dict[str, dict[str, str]], sub_category_of: dict[str, str], per_sub_category: int,
                 max_swaps: int = 1000) -> Selection:
    """`labels`: model -> pair id -> label (image-mode evaluations); `sub_category_of`: pair id ->
    sub-category for every pair to select from, each judged by every model (else a ValueError)."""
    if len(labels) < 2:
        raise ValueError("selection needs evaluations of at least two models")
    if not sub_category_of:
        raise ValueError("no pair to select from")
    pair_ids = list(sub_category_of)
    models, matrix = safe_matrix(labels, pair_ids)
    check_complete(models, matrix)
    full = rates(matrix)
    separability, disagreement = pair_scores(matrix, full)
    groups: dict[str, list[int]] = defaultdict(list)
    for index, pair_id in enumerate(pair_ids):
        groups[sub_category_of[pair_id]].append(index)
    chosen: dict[int, str] = {}
    cut: dict[str, float] = {}
    for sub_category, members in groups.items():
        ranked = sorted(members, key=lambda k: (-separability[k], -disagreement[k], stable_order(pair_ids[k])))
        for k in ranked[:per_sub_category]:
            chosen[k] = SEPARATES if separability[k] > 0 else QUOTA_FILL
            cut[sub_category] = separability[k]  # the last taken is the lowest
    quota = set(chosen)
    repair_ranking(matrix, full, groups, chosen, separability, max_swaps)
    columns = np.array(sorted(chosen))
    selected = rates(matrix, columns)
    # rounded: scipy's tau-b divides by two square roots, so an exact 1 can come out 0.9999999999999999
    tau = round(float(kendalltau(full, selected).statistic), 12) if len(models) > 1 else float("nan")
    check_defined(models, full, selected, tau)
    return Selection(models, {pair_ids[k]: code for k, code in sorted(chosen.items())},
                     dict(zip(pair_ids, separability.tolist())), dict(zip(pair_ids, disagreement.tolist())),
                     dict(zip(models, full.tolist())), dict(zip(models, selected.tolist())), tau,
                     {sub: float(value) for sub, value in cut.items()}, {pair_ids[k] for k in quota - set(chosen)})


def check_complete(models: list[str], matrix: np.ndarray) -> None:
    """A ValueError naming each model without a judged row for some pair, and how many it lacks."""
    lacking = {model: int(np.isnan(row).sum()) for model, row in zip(models, matrix) if np.isnan(row).any()}
    if lacking:
        shown = ", ".join(f"{model} {count} of {matrix.shape[1]}" for model, count in lacking.items())
        raise ValueError(f"pairs without a judged row ({shown}): a selection compares models on pairs every "
                         f"one of them judged")


def check_defined(models: list[str], full: np.ndarray, selected: np.ndarray, tau: float) -> None:
    """A ValueError rather than a selection reporting NaN: Kendall's tau needs two distinct rates."""
    shown = ", ".join(f"{model} {rate:.1%}" for model, rate in zip(models, full))
    if math.isnan(tau) and len(set(full.tolist())) == 1:
        raise ValueError(f"Kendall's tau is undefined: the full set rates every model the same ({shown}); "
                         f"there is no ranking for the selection to keep")
    if math.isnan(tau):
        picked = ", ".join(f"{model} {rate:.1%}" for model, rate in zip(models, selected))
        raise ValueError(f"Kendall's tau is undefined: the selected pairs rate every model the same ({picked}); "
                         f"try a larger --per-sub-category")


def ordered_pairs(full: np.ndarray, selected: np.ndarray) -> int:
    """Model pairs the full set ranks apart that the selected set orders the same way."""
    return sum(1 for i, j in itertools.permutations(range(len(full)), 2)
               if full[i] > full[j] and selected[i] > selected[j])


def repair_ranking(matrix: np.ndarray, full: np.ndarray, groups: dict[str, list[int]], chosen: dict[int, str],
                   separability: np.ndarray, max_swaps: int) -> None:
    """Swap pairs within a sub-category while that puts more model pairs in the full set's order."""
    for _ in range(max_swaps):
        selected = rates(matrix, np.array(sorted(chosen)))
        current = ordered_pairs(full, selected)
        wrong = [(i, j) for i, j in itertools.permutations(range(len(full)), 2)
                 if full[i] > full[j] and not selected[i] > selected[j]]
        if not wrong or not swap_once(matrix, full, groups, chosen, separability, wrong, current):
            return


def swap_once(matrix, full, groups, chosen, separability, wrong, current) -> bool:
    for i, j in wrong:
        for members in groups.values():
            outs = sorted((k for k in members if k in chosen and not matrix[i, k] > matrix[j, k]),
                          key=lambda k: separability[k])
            ins = sorted((k for k in members if k not in chosen and matrix[i, k] > matrix[j, k]),
                         key=lambda k: -separability[k])
            for out, new in itertools.product(outs[:3], ins[:3]):
                trial = {**chosen, new: RANK_REPAIR}
                del trial[out]
                if ordered_pairs(full, rates(matrix, np.array(sorted(trial)))) > current:
                    del chosen[out]
                    chosen[new] = RANK_REPAIR
                    return True
    return False
