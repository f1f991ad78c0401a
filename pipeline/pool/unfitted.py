"""What building a finished run again says about its seeds that no pool image fitted.

A run retrieves each seed once: a finished run is not built again, and a resume matches again only
the seeds whose retrieved file changed (`pipeline/run_pool.py`). A seed that found no image is no
such seed, so images added to the pool since never reach it. Telling how the pool grew would take a
record of the pool at every retrieval; the user who added images for those seeds is told instead to
start a new run, which matches every seed against the pool as it is.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from pipeline.contracts import StageName
from pipeline.pool.retrieval import NO_FIT


def unfitted_seeds(run_dir: Path) -> int:
    """How many of the run's seeds failed at retrieval for want of a fitting pool image (0 for a run
    without a pool, or whose failures file is missing or unreadable)."""
    try:
        failures = pd.read_parquet(Path(run_dir) / "failures.parquet", columns=["seed_id", "stage", "error"])
    except (OSError, ValueError, KeyError):
        return 0
    unfitted = failures[(failures["stage"] == StageName.retrieval.value)
                        & failures["error"].astype(str).str.startswith(NO_FIT)]
    return int(unfitted["seed_id"].nunique())


def unfitted_note(run_dir: Path, run_id: str) -> str | None:
    """The note for a finished run built again, when some of its seeds found no pool image; else None."""
    count = unfitted_seeds(run_dir)
    if not count:
        return None
    return (f"{count} seed(s) of run {run_id} failed at retrieval with '{NO_FIT}' and are not matched again, "
            "even against images added to the pool since: build a new run (another --run-id, or none) "
            "to match every seed against the pool as it is now")
