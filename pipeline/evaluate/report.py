"""The leaderboard written out: `leaderboard.md` and a self-contained `report.html` (inline CSS,
no script, no external request) with per-category bars, next to the evaluation files."""

from __future__ import annotations

from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from pipeline.evaluate.leaderboard import Leaderboard, markdown
from pipeline.storage import atomic_write_text

TEMPLATES = Path(__file__).parent / "templates"


def render_html(board: Leaderboard) -> str:
    environment = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=True, undefined=StrictUndefined)
    return environment.get_template("evaluation.html.j2").render(board=board)


def write_reports(board: Leaderboard, folder: Path) -> tuple[Path, Path]:
    folder = Path(folder)
    atomic_write_text(folder / "leaderboard.md", markdown(board))
    atomic_write_text(folder / "report.html", render_html(board))
    return folder / "leaderboard.md", folder / "report.html"
