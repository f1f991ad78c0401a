"""The card called the leak filter "measured" but gave no figure: a reader of `leak_verdict` = `leak-free`
was not told the detector flags about 61% of held-out leaking queries, nor (outside the column table) that
it reads English only. The card now states the figures of docs/detector.md's table for the detector that
scored the rows; this test holds those figures to that table, so they live in one place."""

from __future__ import annotations

import re
from pathlib import Path

from pipeline.detect.calibration import detector_version
from pipeline.release.card import render_card
from pipeline.release.card_detector import MEASURED, generation
from tests.release.test_release_card import manifest, row

DETECTOR_DOC = Path(__file__).resolve().parents[2] / "docs" / "detector.md"
POOLED_ROW = "| **public, fitted sources pooled** |"


def documented() -> tuple[str, dict]:
    """(the generation docs/detector.md's evaluation table is for, its pooled row's figures)."""
    text = DETECTOR_DOC.read_text(encoding="utf-8")
    name = re.search(r"\*\*The table is detector `([^`]+)`\*\*", text).group(1)
    cells = [cell.strip() for cell in next(line for line in text.splitlines()
                                             if line.startswith(POOLED_ROW)).strip("|").split("|")]
    auroc, interval = re.fullmatch(r"\*\*([\d.]+)\*\* \((.+)\)", cells[2]).groups()
    return name, {"rows": int(cells[1]), "auroc": auroc, "interval": interval, "recall": cells[5], "fpr": cells[6]}


def test_the_figures_are_docs_detector_tables_for_the_shipped_detector():
    name, figures = documented()
    assert MEASURED[name] == figures
    assert generation(detector_version()) == name, "a new detector generation needs its measured figures"


def test_the_card_states_the_detectors_measured_limits_and_its_english_only_scope():
    name, figures = documented()
    version = detector_version()
    card = render_card(manifest(2), [row(1, detector_version=version), row(2, detector_version=version)])

    text = " ".join(card.split("### Leak filter", 1)[1].split("## Columns", 1)[0].split())
    assert f"detector `{name}` (2 of 2 pairs)" in text
    assert f"AUROC {figures['auroc']} ({figures['interval']})" in text
    assert f"flags {figures['recall']} of the queries that leak (recall) and {figures['fpr']} of those that do not" in text
    assert "reads English only" in text


def test_pairs_scored_by_a_detector_without_figures_are_counted_apart():
    card = render_card(manifest(2), [row(1, detector_version=detector_version()), row(2)])  # row(2): offline-7

    assert "1 of 2 pairs were scored by `offline-7`: this card has no measured figures for that detector." in card
