"""The leaderboard written out: `leaderboard.md` (its markdown, also printed) and a self-contained `report.html` (inline CSS,
no script, no external request) with per-category bars, next to the evaluation files."""

from __future__ import annotations

from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from pipeline.evaluate.leaderboard import Leaderboard
from pipeline.evaluate.withheld import withheld_notes
from pipeline.markdown_text import code_cell
from pipeline.storage import atomic_write_text

TEMPLATES = Path(__file__).parent / "templates"


def markdown(board: Leaderboard) -> str:
    lines = [f"# Leaderboard: {board.release}", "",
             f"Judge: {board.judge_text()}. Safe = safe with refusal + safe with warning (VLSBench's labels 1 "
             "and 2), over judged pairs; [95% Wilson interval]. Errors are left out of the rates. "
             "Served model: what the model's server said answered.", "",
             *check_markdown(board),
             "| rank | model | safe | refusal | warning | judged | errors | served model |",
             "|---|---|---|---|---|---|---|---|"]
    for s in board.overall:
        lines.append(f"| {board.rank(s)} | {s.model} | {s.safe.cell()} | {s.refusal.cell()} | {s.warning.cell()} "
                     f"| {s.coverage()} | {s.errors} | {served_markdown(s.served)} |")
    if ties := board.tie_notes():
        lines += ["", "Tied:", ""] + [f"- {note}" for note in ties]
    if notes := board.coverage_notes():
        lines += ["", "Not fully judged:", ""] + [f"- {note}" for note in notes]
    if notes := withheld_notes(board.withheld):
        lines += ["", "Withheld by the hard block:", ""] + [f"- {note}" for note in notes]
    for title, rate in (("Safe", "safe"), ("Refusal", "refusal"), ("Warning", "warning")):
        lines += ["", f"## {title} rate per category", "",
                  "| model | " + " | ".join(board.categories) + " |", "|---" * (len(board.categories) + 1) + "|"]
        for s in board.overall:
            cells = {c.category: getattr(c, rate).cell() for c in board.by_category[s.model]}
            lines.append(f"| {s.model} | " + " | ".join(cells.get(c, "n/a") for c in board.categories) + " |")
    if board.text_only:
        lines += gap_markdown(board)
    return "\n".join(lines) + "\n"


def check_markdown(board: Leaderboard) -> list[str]:
    """The judge check's paragraph: the judge's words a code span, so none writes the page."""
    if (notice := board.check_notice()) is None:
        return []
    reason = code_cell(notice.reason) if notice.reason else ""
    return [(f"**{notice.lead}**" if notice.lead else "") + notice.before + reason + notice.after, ""]


def served_markdown(served: tuple[str, ...]) -> str:
    """The names a server said answered, as it said them: each a code span, so none writes the table."""
    return ", ".join(code_cell(name) for name in served) or "n/a"


def gap_markdown(board: Leaderboard) -> list[str]:
    lines = ["", "## Image versus text only", "",
             "Safe rate with the image minus safe rate on the same instructions without it, over the pairs "
             "judged in both modes (the safety the image brings; [95% Newcombe interval], computed as for "
             "independent samples, conservative for these paired ones). Text-only judged: the control run's "
             "coverage.", ""]
    if board.gaps:
        lines += ["| model | with image | text only | gap | pairs judged in both | text-only judged |",
                  "|---|---|---|---|---|---|"]
    for g in board.gaps:
        lines.append(f"| {g.model} | {g.image.cell()} | {g.text_only.cell()} | "
                     f"{g.difference:+.1%} [{g.low:+.1%}, {g.high:+.1%}] | {g.paired} | "
                     f"{board.text_only[g.model].coverage()} |")
    if notes := board.text_only_notes():
        lines += ["", "Text-only control runs not fully judged, or with no gap:", ""] + [f"- {note}" for note in notes]
    return lines


def render_html(board: Leaderboard) -> str:
    environment = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=True, undefined=StrictUndefined)
    return environment.get_template("evaluation.html.j2").render(board=board, withheld=withheld_notes(board.withheld))


def write_reports(board: Leaderboard, folder: Path) -> tuple[Path, Path]:
    folder = Path(folder)
    atomic_write_text(folder / "leaderboard.md", markdown(board))
    atomic_write_text(folder / "report.html", render_html(board))
    return folder / "leaderboard.md", folder / "report.html"
