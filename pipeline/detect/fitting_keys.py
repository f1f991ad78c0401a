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
`eval-public` also leaves out) needs the fitting texts. Given them (`eval-detector --fitting-data`),
`checked_fitting_rows` reads them, refusing any that are not what `fitted_on` records, and
`nearest_fitting_cosine` compares a file's queries with theirs as `eval-public` does.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from pipeline.detect.corpus import TEAM_DATA, LabelledRow, fingerprint, fitting_rows, match_key
from pipeline.detect.calibration import CALIBRATION_FILE
from pipeline.hashing import sha256_text
from pipeline.storage import atomic_path, atomic_write_text

KEYS_FILE_NAME = "fitting_keys.json"
HASH_CHARS = 16  # 64 bits: a chance collision among ~10^4 keys is about 1 in 10^11 per query checked
COSINE_CHUNK = 2048  # queries compared at a time: 2048 x 10^4 fitting vectors is 80 MB of cosines


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
    fitted_on = recorded_fit(calibration)
    if stored["fitted_on"] != {key: fitted_on[key] for key in stored["fitted_on"]}:
        raise ValueError(f"{path}: written for another calibration than {calibration.name}'s "
                         f"(rewrite it: python -m pipeline.detect.fitting_keys --data <the fitting corpus>)")
    return frozenset(stored["keys"])


def checked_fitting_rows(public_path: Path, team_folder: Path = TEAM_DATA,
                         calibration: Path | None = None) -> list[LabelledRow]:
    """The rows `calibration` (the shipped one by default) was fitted on, read from the public corpus
    and the team's sets; a ValueError when they give other rows than its `fitted_on` records."""
    calibration = calibration or CALIBRATION_FILE  # read when called: tests point it elsewhere
    rows = fitting_rows(public_path, team_folder)
    found = fingerprint(public_path, rows)
    recorded = recorded_fit(calibration)
    if {**found, "file": recorded["file"]} != recorded:  # the file may have been renamed; its hash may not
        raise ValueError(f"{public_path} and {team_folder} give other rows than {calibration.name} was fitted on "
                         f"({found['rows']} rows, sha256 {found['sha256'][:12]}; recorded {recorded['rows']}, "
                         f"{recorded['sha256'][:12]})")
    return rows


def recorded_fit(calibration: Path) -> dict:
    return json.loads(calibration.read_text(encoding="utf-8"))["fitted_on"]


def in_sample(queries: list[str], keys: frozenset[str],
              fitting_queries: list[str] | None) -> tuple[list[bool], list[float | None]]:
    """(whether each query's normalised form hashes to one of `keys`, and for each other query its
    cosine to the nearest of `fitting_queries` where that makes it a near repeat, as `eval-public`
    leaves out: at least `folds.NEAR_DUPLICATE`; else None)."""
    from pipeline.detect.folds import NEAR_DUPLICATE  # folds imports what imports this module: late

    exact = [key_hash(query) in keys for query in queries]
    near: list[float | None] = [None] * len(queries)
    others = [i for i, hit in enumerate(exact) if not hit]
    if fitting_queries is not None and others:
        nearest = nearest_fitting_cosine([queries[i] for i in others], fitting_queries)
        for i, cosine in zip(others, nearest):
            near[i] = float(cosine) if cosine >= NEAR_DUPLICATE else None
    return exact, near


def nearest_fitting_cosine(queries: list[str], fitting_queries: list[str]) -> np.ndarray:
    """Each query's highest MiniLM cosine to a fitting query. The vectors are those `eval-public`
    compares against `folds.NEAR_DUPLICATE` (text_harm's sentence vectors: the canonical query's
    MiniLM vector); the fitting queries' are cached, being some 10^4 texts embedded the same way each time."""
    from pipeline.backends.minilm import default_embedder
    from pipeline.detect.signals import canonical_query

    embedder = default_embedder()
    vectors = embedder.embed([canonical_query(query) for query in queries])
    fitting = _cached_vectors(embedder, [canonical_query(query) for query in fitting_queries])
    nearest = np.full(len(queries), -1.0)
    if not len(fitting):
        return nearest
    for start in range(0, len(queries), COSINE_CHUNK):
        nearest[start:start + COSINE_CHUNK] = (vectors[start:start + COSINE_CHUNK] @ fitting.T).max(axis=1)
    return nearest


def _cached_vectors(embedder, texts: list[str]) -> np.ndarray:
    from pipeline.env import artifacts_dir

    key = sha256_text("\n".join([embedder.model, *texts]))[:24]
    path = artifacts_dir() / "cache" / "fitting_vectors" / f"{key}.npy"
    if path.is_file():
        return np.load(path)
    vectors = embedder.embed(texts)
    try:
        with atomic_path(path) as temporary, temporary.open("wb") as out:
            np.save(out, vectors)
    except OSError:  # a cache that cannot be written costs the next run time, not this one its figures
        pass
    return vectors


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True, help="the public corpus the calibration was fitted on")
    parser.add_argument("--team-data", type=Path, default=TEAM_DATA, help="the folder of the team's sets")
    args = parser.parse_args(argv)
    try:
        rows = checked_fitting_rows(args.data, args.team_data)
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    out = CALIBRATION_FILE.with_name(KEYS_FILE_NAME)
    write_keys(rows, recorded_fit(CALIBRATION_FILE), out)
    print(f"{out}: {len(rows)} fitting rows", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
