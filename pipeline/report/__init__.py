"""The audit report: one self-contained HTML file per build run (`leakless audit-report RUN`).

`audit.py` and `run_summary.py` compute every number from the run's stored tables; this module
draws them. The page must open on an offline machine, so charts are inline SVG
drawn here and the template links nothing external.
"""

from __future__ import annotations

from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup, escape

from pipeline.report.audit import (Histogram, RunTables, load_run, nearest_threshold, review_agreement,
                                   rewrite_attempts, score_histograms, threshold_sweep)
from pipeline.report.run_summary import summarise
from pipeline.review.forms import highlight
from pipeline.storage import atomic_write_text

REPORT_NAME = "audit_report.html"
TEMPLATES = Path(__file__).with_name("templates")
WIDTH, HEIGHT, LEFT, BOTTOM, TOP = 420, 160, 32, 22, 8
KEEP_COLOUR, DROP_COLOUR, THRESHOLD_COLOUR = "#4e79a7", "#f28e2b", "#c62828"


def histogram_svg(histogram: Histogram) -> Markup:
    """Stacked bars (kept below, dropped above) over scores 0..1, a dashed line at each threshold."""
    plot_width, plot_height = WIDTH - LEFT - 4, HEIGHT - BOTTOM - TOP
    tallest = max([k + d for k, d in zip(histogram.kept, histogram.dropped)] + [1])
    bar_width = plot_width / len(histogram.kept)
    x_of = lambda score: LEFT + score * plot_width  # noqa: E731
    y_of = lambda count: TOP + plot_height - count / tallest * plot_height  # noqa: E731
    parts = [f'<svg width="{WIDTH}" height="{HEIGHT}" role="img" '
             f'aria-label="leak scores, {escape(histogram.category)}">',
             f'<line x1="{LEFT}" y1="{y_of(0)}" x2="{LEFT + plot_width}" y2="{y_of(0)}" stroke="#888"/>',
             f'<text x="{LEFT - 4}" y="{TOP + 8}" text-anchor="end" font-size="10">{tallest}</text>',
             f'<text x="{LEFT - 4}" y="{y_of(0)}" text-anchor="end" font-size="10">0</text>']
    for index, (kept, dropped) in enumerate(zip(histogram.kept, histogram.dropped)):
        low, high = histogram.edges[index], histogram.edges[index + 1]
        x = x_of(low) + 0.5
        for count, base, colour in ((kept, 0, KEEP_COLOUR), (dropped, kept, DROP_COLOUR)):
            if count:
                parts.append(f'<rect x="{x:.1f}" y="{y_of(base + count):.1f}" width="{bar_width - 1:.1f}" '
                             f'height="{y_of(base) - y_of(base + count):.1f}" fill="{colour}">'
                             f'<title>{low:.2f}-{high:.2f}: {kept} kept, {dropped} dropped</title></rect>')
    for score in (0.0, 0.5, 1.0):
        parts.append(f'<text x="{x_of(score):.1f}" y="{HEIGHT - 6}" text-anchor="middle" font-size="10">'
                     f'{score:g}</text>')
    for threshold in histogram.thresholds:
        parts.append(f'<line x1="{x_of(threshold):.1f}" y1="{TOP}" x2="{x_of(threshold):.1f}" y2="{y_of(0)}" '
                     f'stroke="{THRESHOLD_COLOUR}" stroke-dasharray="4 3"><title>threshold {threshold:.3f}'
                     f'</title></line>')
    return Markup("".join(parts) + "</svg>")


def render_audit_report(tables: RunTables) -> str:
    environment = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=True, undefined=StrictUndefined)
    environment.filters["highlight"] = highlight
    final = tables.final
    return environment.get_template("audit.html.j2").render(
        summary=summarise(tables), final_count=len(final),
        histograms=[(histogram, histogram_svg(histogram)) for histogram in score_histograms(final)],
        sweep=threshold_sweep(final), nearest=nearest_threshold(final), attempts=rewrite_attempts(tables),
        review=review_agreement(tables), colours={"keep": KEEP_COLOUR, "drop": DROP_COLOUR,
                                                  "threshold": THRESHOLD_COLOUR})


def write_audit_report(run_dir: Path, out: Path | None = None) -> Path:
    """Write the run's audit report (default `<run>/audit_report.html`) in one rename."""
    tables = load_run(run_dir)
    out = Path(out) if out else Path(run_dir) / REPORT_NAME
    atomic_write_text(out, render_audit_report(tables))
    return out


__all__ = ["render_audit_report", "write_audit_report", "histogram_svg"]
