"""Which queries the detector was fitted on, as hashes: `eval-detector` leaves their repeats out.

A labelled row whose normalised query (`corpus.match_key`) equals a fitting row's was scored by
readers that learned it: its figures are in-sample, not held out (`eval-public` leaves such rows
out too). The fitting texts stay in `../shared` and the source checkout, so what ships beside
`calibration.json` is `fitting_keys.json`: the first `HASH_CHARS` hex digits of each key's sha256,
no text, and what the calibration says it was fitted on, so a stale file is refused. It changes no
score, so it is not part of the detector's version. `leakless calibrate` writes it; for the
calibration at hand:

    python -m pipeline.detect.fitting_keys --data ../shared/public_vsil/pairs.jsonl [--team-data DIR]

Only exact repeats can be checked this way: a near repeat (MiniLM cosine >= 0.95, which
`eval-public` also leaves out) needs the fitting texts.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from pipeline.detect.corpus import TEAM_DATA, LabelledRow, fingerprint, fitting_rows, match_key
from pipeline.detect.detector import CALIBRATION_FILE
from pipeline.hashing import sha256_text
from pipeline.storage import atomic_write_text

KEYS_FILE_NAME = "fitting_keys.json"
HASH_CHARS = 16  # 64 bits: a chance collision among ~10^4 keys is about 1 in 10^11 per query checked


def key_hash(query: str) -> str:
    return sha256_text(match_key(query))[:HASH_CHARS]


def write_keys(rows: list[LabelledRow], fitted_on: dict, out: Path) -> None:
    """The hashes of `rows`' normalised queries, with the calibration's `fitted_on` they belong to."""
    atomic_write_text(out, json.dumps({
        "about": "sha256 of each fitting row's normalised query (pipeline.detect.corpus.match_key), "
                 f"first {HASH_CHARS} hex digits; no text",
        "fitted_on": {key: fitted_on[key] for key in ("file", "sha256", "rows")},
        "keys": sorted({key_hash(row.query) for row in rows}),
    }, indent=0) + "\n")


def fitting_keys(calibration: Path | None = None) -> frozenset[str]:
    """The hashes beside `calibration` (the shipped one by default); a missing file, or one written for
    another fit, is a ValueError."""
    calibration = calibration or CALIBRATION_FILE  # read when called: tests point it elsewhere
    path = calibration.with_name(KEYS_FILE_NAME)
    if not path.is_file():
        raise ValueError(f"{path}: no such file, so rows the detector was fitted on cannot be told apart "
                         f"(write it: python -m pipeline.detect.fitting_keys --data <the fitting corpus>)")
    stored = json.loads(path.read_text(encoding="utf-8"))
    fitted_on = json.loads(calibration.read_text(encoding="utf-8"))["fitted_on"]
    if stored["fitted_on"] != {key: fitted_on[key] for key in stored["fitted_on"]}:
        raise ValueError(f"{path}: written for another calibration than {calibration.name}'s "
                         f"(rewrite it: python -m pipeline.detect.fitting_keys --data <the fitting corpus>)")
    return frozenset(stored["keys"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True, help="the public corpus the calibration was fitted on")
    parser.add_argument("--team-data", type=Path, default=TEAM_DATA, help="the folder of the team's sets")
    args = parser.parse_args(argv)
    rows = fitting_rows(args.data, args.team_data)
    found = fingerprint(args.data, rows)
    recorded = json.loads(CALIBRATION_FILE.read_text(encoding="utf-8"))["fitted_on"]
    if {**found, "file": recorded["file"]} != recorded:  # the file may have been renamed; its hash may not
        print(f"error: {args.data} and {args.team_data} give other rows than {CALIBRATION_FILE.name} was fitted on "
              f"({found['rows']} rows, sha256 {found['sha256'][:12]}; recorded {recorded['rows']}, "
              f"{recorded['sha256'][:12]})", file=sys.stderr)
        return 2
    out = CALIBRATION_FILE.with_name(KEYS_FILE_NAME)
    write_keys(rows, recorded, out)
    print(f"{out}: {len(rows)} fitting rows", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
