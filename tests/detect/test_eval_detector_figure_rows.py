"""eval-detector's table shows each figure under its own name."""

from __future__ import annotations

from types import SimpleNamespace

from rich.console import Console

from pipeline.cli.detector import _evaluation_table
from pipeline.detect.evaluate import Repeats


def test_precision_recall_and_fpr_are_each_their_own_figure():
    report = SimpleNamespace(pairs=10, leaky=5, leakless=5, threshold=0.5, auroc=0.9, auroc_interval=(0.8, 0.95),
                             precision=0.25, recall=0.5, fpr=0.125, twin_pairs=0, twin_win_rate=None)
    evaluation = SimpleNamespace(report=report, detector=SimpleNamespace(version="v1"), not_english=0,
                                 repeats=Repeats([], [], [], [], False), text_only=0, twins_dangling=0)
    console = Console(width=200, record=True)
    console.print(_evaluation_table(evaluation, "dev.jsonl", [], None))
    lines = {line.strip("│ ").split("│")[0].strip(): line for line in console.export_text().splitlines()}

    assert "25.0%" in lines["precision"] and "50.0%" in lines["recall"] and "12.5%" in lines["FPR"]
