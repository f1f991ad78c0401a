"""Who made and checked a release's rows, as the dataset card says it: the backends and models of
each role (from the rows' own columns and the runs' and the release's decisions), the detector
versions and thresholds, and what the runs' builds dropped. Read from the data only, so the card
cannot name a model the data was not made with."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from pathlib import Path, PurePosixPath, PureWindowsPath

import pandas as pd
import pyarrow.parquet as pq

from pipeline.contracts import GUARDRAIL_PREFIX, StageName
from pipeline.release.leak_check import STAGE as RELEASE_LEAK_STAGE

EDIT_ROLE, EDIT_BACKEND = "query edit (review)", "annotators"  # people, not a backend: never "offline"
# The roles the shard columns record: (role, backend column, model column).
ROW_ROLES = [("seed writer", "seed_backend", "seed_model"), ("leak rewriter", "rewrite_backend", "rewrite_model"),
             ("images", "image_backend", "image_model")]
# The roles only the decision tables record: (role, stage) in the runs' decisions.parquet.
RUN_ROLES = [("leak filter (build)", "leak_filter"), ("harm check (build)", "harm_check")]
NOT_RECORDED = "—"


def cell_text(value) -> str:
    """A cell's text: "" for null / NaN."""
    return "" if value is None or (isinstance(value, float) and value != value) else str(value)


def code_cell(text: str) -> str:
    """`text` as a Markdown code span that stays within its table cell. A model name is what a server
    reported: a backtick, a pipe or a character that is not printable (a newline, a bidi control) in it
    would end the span, the cell or the row and let the name write the card, so each is shown as its
    \\u escape."""
    return "`" + "".join(char if char.isprintable() and char not in "`|" else f"\\u{ord(char):04x}"
                         for char in text) + "`"


def model_label(model) -> str:
    """How a model is named on the card: its id, or for a local folder its last part (the full path
    stays in the data), so the card holds no path of the machine that built it."""
    model = cell_text(model)
    if not model:
        return NOT_RECORDED
    for path in (PurePosixPath(model), PureWindowsPath(model)):
        if path.is_absolute() or model.startswith("~"):
            return f"local files {code_cell(path.name or model)}"
    return code_cell(model)


def _sorted_counts(counter: Counter) -> list[tuple]:
    return sorted(counter.items(), key=lambda item: (-item[1], [str(part) for part in item[0]]))


def backends_used(rows: list[dict], run_decisions: pd.DataFrame | None = None, manifest: dict | None = None,
                  decisions: pd.DataFrame | None = None) -> list[tuple[str, str, str, int]]:
    """One (role, backend, model, pairs) per role and backend and model that made or checked the shipped rows:
    the shard columns' roles for every row and the annotators' edits, the build's leak filter and harm check
    for the rows of this release's runs (their last decision), the release's leak check and final filter for
    the rows it checked."""
    table = []
    for role, backend_column, model_column in ROW_ROLES:
        counts = Counter((cell_text(row.get(backend_column)) or "none", model_label(row.get(model_column))) for row in rows)
        table += [(role, backend, model, count) for (backend, model), count in _sorted_counts(counts)]
    if edited := annotator_edited(rows):
        table.append((EDIT_ROLE, EDIT_BACKEND, NOT_RECORDED, edited))
    ids = {row["id"] for row in rows}
    for role, stage in RUN_ROLES:
        last = _last_decisions(run_decisions, stage, ids)
        counts = Counter((cell_text(b) or "none", model_label(m)) for b, m in zip(last["backend"], last["model"]))
        table += [(role, backend, model, count) for (backend, model), count in _sorted_counts(counts)]
    final = (manifest or {}).get("final_filter") or {}
    if final.get("backend"):
        table.append(("final filter", final["backend"], model_label(final.get("model")),
                      final.get("kept", NOT_RECORDED)))
    last = _last_decisions(decisions, RELEASE_LEAK_STAGE, ids)
    counts = Counter((cell_text(b) or "none", model_label(m)) for b, m in zip(last["backend"], last["model"]))
    table += [("leak check (release)", backend, model, count) for (backend, model), count in _sorted_counts(counts)]
    return table


def annotator_edited(rows: list[dict]) -> int:
    """Rows whose query an annotator wrote in review: `rewrite_backend` still names the rewriter whose
    query they replaced, so the card counts them apart."""
    return sum(row.get("instruction_pipeline") not in (None, row.get("instruction")) for row in rows)


def _last_decisions(frame: pd.DataFrame | None, stage: str, ids: set[str]) -> pd.DataFrame:
    """Each item's last decision at `stage`, for the items in `ids`."""
    if frame is None or frame.empty or "stage" not in frame:
        return pd.DataFrame(columns=["item_id", "backend", "model", "threshold", "detector_version"])
    chosen = frame[(frame["stage"] == stage) & frame["item_id"].isin(ids)]
    if "attempt" in chosen:
        chosen = chosen.sort_values("attempt", kind="stable")
    chosen = chosen.drop_duplicates("item_id", keep="last")
    return chosen.reindex(columns=["item_id", "backend", "model", "threshold", "detector_version"])


def _threshold(value) -> str:
    text = cell_text(value)
    return format(float(text), "g") if text else NOT_RECORDED


def detectors_used(rows: list[dict], run_decisions: pd.DataFrame | None = None) -> list[tuple[str, str, str, int]]:
    """(check, detector version, threshold, pairs): the release's check from the rows' own columns, the
    build's leak filter from the runs' last `leak_filter` decision of each shipped row."""
    checks = Counter(("release (on the shipped query)", cell_text(row.get("detector_version")) or "not recorded",
                      _threshold(row.get("leak_threshold"))) for row in rows)
    last = _last_decisions(run_decisions, "leak_filter", {row["id"] for row in rows})
    checks.update(("build (leak filter)", cell_text(version) or "not recorded", _threshold(threshold))
                  for version, threshold in zip(last["detector_version"], last["threshold"]))
    return [(*key, count) for key, count in sorted(checks.items())]


def read_run_decisions(run_dirs: Iterable[Path]) -> tuple[pd.DataFrame, dict[tuple[str, str], int]]:
    """The runs' decisions, and what their build dropped: (stage, reason code) -> items, from each run's
    dropping decisions, guardrail blocks (`guardrail.<rule>`) and failures (`error`)."""
    frames, drops = [], Counter()
    for run_dir in run_dirs:
        run_dir = Path(run_dir)
        decisions = _read(run_dir / "decisions.parquet")
        if decisions is not None:
            frames.append(decisions)
            # a rewrite attempt that leaked was tried again, not dropped (the ledger reads them alike)
            dropped = decisions[(decisions["verdict"] == "drop") & (decisions["stage"] != StageName.rewrite)]
            codes = dropped["code"] if "code" in dropped else pd.Series("", index=dropped.index)
            drops.update(zip(dropped["stage"].map(str), codes.map(cell_text).replace("", "(no code)")))
        blocked = _read(run_dir / "blocked.parquet")
        if blocked is not None:
            drops.update((str(stage), GUARDRAIL_PREFIX + cell_text(rule)) for stage, rule in
                         zip(blocked["stage"], blocked["rule"]))
        failures = _read(run_dir / "failures.parquet")
        if failures is not None:
            drops.update((str(stage), "error") for stage in failures["stage"])
    frame = pd.concat(frames, ignore_index=True) if frames else None
    return frame, dict(sorted(drops.items()))


DECISION_COLUMNS = ["item_id", "stage", "attempt", "verdict", "code", "backend", "model", "threshold",
                    "detector_version", "rule"]


def _read(path: Path) -> pd.DataFrame | None:
    """The columns the card uses (a run made before one existed lacks it), or None for a missing file."""
    if not path.is_file():
        return None
    present = set(pq.read_schema(path).names)
    return pd.read_parquet(path, columns=[name for name in DECISION_COLUMNS if name in present])
