"""What the card says of the leak detector's measured limits, so a reader of `leak_verdict` = `leak-free`
knows how far to trust it.

The figures are docs/detector.md's evaluation table (`leakless eval-public`: public sources held out of the
fitting, pooled), per detector generation (the part of `detector_version` before its first `+`).
tests/release/test_card_detector_limits.py reads that table and the shipped detector's generation, so the
figures here cannot drift from the docs, and a new generation without figures fails until they are added.
"""

from __future__ import annotations

from collections import Counter

from pipeline.release.card_sources import cell_text

# generation -> its row "public, fitted sources pooled" of docs/detector.md's table
MEASURED = {
    "offline-11": {"rows": 3643, "auroc": "0.792", "interval": "0.775–0.808", "recall": "60.8%", "fpr": "19.5%"},
}
DOCS = "leakless's docs/detector.md"


def generation(detector_version: object) -> str:
    """'offline-11' of 'offline-11+1a2b3c4d+…': the detector's code and fitting, without its data digests."""
    return cell_text(detector_version).split("+", 1)[0]


def detector_limits(rows: list[dict]) -> str:
    """The card's paragraph on the detector's measured limits, for the generations that scored `rows`."""
    counts = Counter(generation(row.get("detector_version")) for row in rows)
    measured = [(name, count) for name, count in sorted(counts.items()) if name in MEASURED]
    unmeasured = sorted((name or "not recorded", count) for name, count in counts.items() if name not in MEASURED)
    parts = [measured_text(name, count, len(rows)) for name, count in measured]
    if unmeasured:
        parts.append("; ".join(f"{count} of {len(rows)} pairs were scored by `{name}`" for name, count in unmeasured)
                     + ": this card has no measured figures for that detector.")
    parts.append("The detector reads English only: a query in another language gets `leak_verdict` = "
                 "`not-english`, and its `leak_score` says nothing.")
    return "\n\n".join(parts)


def measured_text(name: str, count: int, rows: int) -> str:
    figures = MEASURED[name]
    return (f"**How much the leak filter misses**: detector `{name}` ({count} of {rows} pairs) was measured on "
            f"public data held out of its fitting ({DOCS}, `leakless eval-public`: {figures['rows']:,} queries, "
            f"each source scored by a detector fitted without it): AUROC {figures['auroc']} "
            f"({figures['interval']}); at its threshold it flags {figures['recall']} of the queries that leak "
            f"(recall) and {figures['fpr']} of those that do not. So `leak_verdict` = `leak-free` means the "
            "detector did not flag the query, not that no reader could see the risk in it.")
