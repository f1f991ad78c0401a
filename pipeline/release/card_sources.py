"""Who made and checked a release's rows, as the dataset card says it: the backends and models of
each role (from the rows' own columns and the runs' and the release's decisions), the detector
versions and thresholds, and what the runs' builds dropped. Read from the data only, so the card
cannot name a model the data was not made with."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from pathlib import Path, PurePosixPath, PureWindowsPath

import pandas as pd
import pyarrow.parquet as pq

from pipeline.contracts import GUARDRAIL_PREFIX, StageName
from pipeline.markdown_text import code_cell
from pipeline.release.leak_check import STAGE as RELEASE_LEAK_STAGE
from pipeline.review.importer import reviewed_pairs
from pipeline.summary import FAILURE_CODE, drafted_pairs, pairs_ended
from pipeline.writers.shard_reader import shard_columns

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
    """One (role, backend, model, pairs) per role and backend and model that made or checked the shipped rows,
    each role counted over every shipped row: the shard columns' roles and the annotators' edits from the rows,
    the build's leak filter and harm check from the runs' decisions (each row's last), the release's final
    filter and leak check from its decisions. A row a role's decisions here do not hold is one line per
    version: carried from an earlier version (whose card names who checked it; for the release leak check,
    what the rows record of it), or not read for this card."""
    table = []
    for role, backend_column, model_column in ROW_ROLES:
        counts = Counter((cell_text(row.get(backend_column)) or "none", model_label(row.get(model_column))) for row in rows)
        table += [(role, backend, model, count) for (backend, model), count in _sorted_counts(counts)]
    if edited := annotator_edited(rows):
        table.append((EDIT_ROLE, EDIT_BACKEND, NOT_RECORDED, edited))
    release_version = (manifest or {}).get("version")
    checks = [(role, run_decisions, stage) for role, stage in RUN_ROLES]
    checks += [("final filter", decisions, StageName.final_filter),
               ("leak check (release)", decisions, RELEASE_LEAK_STAGE)]
    for role, frame, stage in checks:
        last = _last_decisions(frame, stage, {row["id"] for row in rows})
        counts = Counter((cell_text(b) or "none", model_label(m)) for b, m in zip(last["backend"], last["model"]))
        table += [(role, backend, model, count) for (backend, model), count in _sorted_counts(counts)]
        recorded = release_check_recorded if stage == RELEASE_LEAK_STAGE else None
        table += [(role, NOT_RECORDED, where, count)
                  for where, count in unread(rows, set(last["item_id"]), release_version, recorded)]
    return table


def unread(rows: list[dict], read: set[str], release_version: int | None,
           recorded: Callable[[dict], str] | None = None) -> list[tuple[str, int]]:
    """(where its record is, rows) for the shipped rows whose decision is not in `read`: a row carried from
    an earlier version was checked when that version was made. `recorded` gives what a row itself holds
    of the check ("" for nothing), said instead of sending the reader to another version's card."""
    versions = Counter((row.get("added_in", release_version), recorded(row) if recorded else "")
                       for row in rows if row["id"] not in read)
    return [(unread_where(added_in, release_version, said), count)
            for (added_in, said), count in sorted(versions.items(), key=lambda item: [str(key) for key in item[0]])]


def unread_where(added_in, release_version: int | None, said: str) -> str:
    origin = f"carried from v{added_in}" if added_in != release_version else "not read for this card"
    if said:
        return f"{origin}: {said}"
    return f"{origin}: its card says" if added_in != release_version else origin


def release_check_recorded(row: dict) -> str:
    """The release leak check as a row records it (a carried row keeps it): its detector version and
    threshold; "" for a row made before the leak-check columns."""
    version = cell_text(row.get("detector_version"))
    return (f"detector {code_cell(version)} at {_threshold(row.get('leak_threshold'))} (its rows' "
            "`detector_version`, `leak_threshold`)") if version else ""


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


def detectors_used(rows: list[dict], run_decisions: pd.DataFrame | None = None,
                   release_version: int | None = None) -> list[tuple[str, str, str, int]]:
    """(check, detector version, threshold, pairs): the release's check from the rows' own columns, the
    build's leak filter from the runs' last `leak_filter` decision of each shipped row; the rows whose
    build decision is not read here (carried, or no runs read) one line per version, as in `backends_used`."""
    checks = Counter(("release (on the shipped query)", cell_text(row.get("detector_version")) or "not recorded",
                      _threshold(row.get("leak_threshold"))) for row in rows)
    last = _last_decisions(run_decisions, "leak_filter", {row["id"] for row in rows})
    checks.update(("build (leak filter)", cell_text(version) or "not recorded", _threshold(threshold))
                  for version, threshold in zip(last["detector_version"], last["threshold"]))
    checks.update({(f"build (leak filter), {where}", NOT_RECORDED, NOT_RECORDED): count
                   for where, count in unread(rows, set(last["item_id"]), release_version)})
    return [(*key, count) for key, count in sorted(checks.items())]


def read_run_decisions(run_dirs: Iterable[Path]) -> tuple[pd.DataFrame, dict[tuple[str, str], tuple[int, str]]]:
    """The runs' decisions, and what their build dropped: (stage, reason code) -> (seeds, pairs), from
    each run's dropping decisions, guardrail blocks (`guardrail.<rule>`) and failures (`error`). A
    seed's end counts the pairs it had drafted (its batch's `drafts` checkpoint), so the pairs add up
    to the pairs drafted; "—" where that checkpoint is gone."""
    frames, drops = [], {}
    for run_dir in run_dirs:
        run_dir = Path(run_dir)
        decisions = _read(run_dir / "decisions.parquet")
        ends = []
        if decisions is not None:
            frames.append(decisions)
            # a rewrite attempt that leaked was tried again, not dropped (the ledger reads them alike)
            dropped = decisions[(decisions["verdict"] == "drop") & (decisions["stage"] != StageName.rewrite)]
            codes = dropped["code"].map(cell_text) if "code" in dropped else pd.Series("", index=dropped.index)
            ends += zip(dropped["stage"].map(str), codes.replace("", "(no code)"), dropped["item_id"],
                        _column(dropped, "seed_id"))
        if (blocked := _read(run_dir / "blocked.parquet", BLOCK_COLUMNS)) is not None:
            ends += zip(blocked["stage"].map(str), GUARDRAIL_PREFIX + blocked["rule"].map(cell_text),
                        blocked["item_id"], blocked["seed_id"])
        if (failures := _read(run_dir / "failures.parquet", BLOCK_COLUMNS)) is not None:
            ends += zip(failures["stage"].map(str), [FAILURE_CODE] * len(failures), failures["item_id"],
                        failures["seed_id"])
        for key, count in pairs_ended(ends, drafted_pairs(run_dir), accepted_pairs(run_dir)).items():
            seeds, pairs = drops.get(key, (0, 0))
            drops[key] = (seeds + len(count.seeds), None if pairs is None or count.pairs is None
                          else pairs + count.pairs)
    frame = pd.concat(frames, ignore_index=True) if frames else None
    return frame, {key: (seeds, NOT_RECORDED if pairs is None else str(pairs))
                   for key, (seeds, pairs) in sorted(drops.items())}


def run_review_states(run_dirs: Iterable[Path]) -> Counter:
    """Review state -> pairs of the runs, every pair counted: a pair the review snapshot does not hold
    is `unreviewed`, as a release reads it."""
    states = Counter()
    for run_dir in run_dirs:
        try:
            reviewed = reviewed_pairs(Path(run_dir))
            known = dict(zip(reviewed["id"], reviewed["review_state"]))
        except FileNotFoundError:  # no review imported: every pair unreviewed
            known = {}
        states.update(known.get(pair_id, "unreviewed") for pair_id in shard_columns(run_dir, ["id"])["id"])
    return states


def accepted_pairs(run_dir: Path) -> Counter:
    """Seed -> the pairs the run accepted (its shards' rows)."""
    return Counter(shard_columns(run_dir, ["seed_id"])["seed_id"])


def _column(frame: pd.DataFrame, name: str) -> pd.Series:
    """A column a run made before it existed lacks: empty then."""
    return frame[name] if name in frame else pd.Series("", index=frame.index)


DECISION_COLUMNS = ["item_id", "seed_id", "stage", "attempt", "verdict", "code", "backend", "model", "threshold",
                    "detector_version", "rule"]


BLOCK_COLUMNS = ["item_id", "seed_id", "stage", "rule"]


def _read(path: Path, columns: list[str] = DECISION_COLUMNS) -> pd.DataFrame | None:
    """The columns the card uses (a run made before one existed lacks it), or None for a missing file."""
    if not path.is_file():
        return None
    present = set(pq.read_schema(path).names)
    return pd.read_parquet(path, columns=[name for name in columns if name in present])
