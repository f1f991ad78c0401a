"""The labelled rows the detector is fitted and measured on, each tagged with its source.

Two kinds of data:
- the public VSIL corpus (`../shared/public_vsil/pairs.jsonl`: twelve public sources,
  read from a path, never copied into the repository). Sources whose licences allow
  testing only (`evaluation_only` in `evaluation_sets.toml`) are never fitted on;
- the team's own sets (`tests/data/detector_*.jsonl`), deduplicated across sets;
- VLSBench's 60 released rows (`../shared/reference/vlsbench_dev_sample.json`), evaluation
  only, read from a path like the corpus: their licence does not let the repository copy them.

Folds are by source (a public source, or a team set), never by row.
"""

from __future__ import annotations

import json
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

from pipeline.env import PROJECT_ROOT
from pipeline.hashing import sha256_file
from pipeline.json_lines import numbered_lines
from pipeline.messages import first_few

TEAM_DATA = PROJECT_ROOT / "tests" / "data"
# Relative to the folder a command runs in, as `--data ../shared/public_vsil/pairs.jsonl` is
VLSBENCH_SAMPLE = Path("../shared/reference/vlsbench_dev_sample.json")
SAMPLE_OPTION = "--vlsbench-sample"
EVALUATION_SETS = Path(__file__).with_name("evaluation_sets.toml")
_NOT_WORD = re.compile(r"\W+")


@dataclass(frozen=True)
class LabelledRow:
    id: str
    query: str
    image_description: str     # "" for a text-only row
    label: int                 # 1 leaks (harmful on its own, or names the risk), 0 leakless
    source: str                # a public source's name, or "team:<set>"
    kind: str = ""
    twin_of: str | None = None  # the leaky row this one was masked from


def match_key(text: str) -> str:
    """A text as duplicate checks compare it: lower case, every run of non-word characters one space."""
    return _NOT_WORD.sub(" ", text.lower()).strip()


def evaluation_sets() -> dict:
    return tomllib.loads(EVALUATION_SETS.read_text(encoding="utf-8"))


def evaluation_only_sources() -> frozenset[str]:
    return frozenset(evaluation_sets()["public_vsil"]["evaluation_only"])


def read_public(path: Path) -> list[LabelledRow]:
    """The public corpus; a malformed line is an error naming its line (the file is ours to trust)."""
    rows = []
    with Path(path).open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
                rows.append(LabelledRow(str(record["id"]), record["query"], record.get("image_description") or "",
                                        int(record["label"]), record["source"], record.get("kind", "")))
            except (ValueError, KeyError, TypeError) as error:
                raise ValueError(f"{path}:{number}: not a corpus row ({error})") from None
    return rows


def read_team_sets(folder: Path = TEAM_DATA) -> list[LabelledRow]:
    """Every team set, in order; a (query, description) pair already in an earlier set is dropped.
    A folder without one is a FileNotFoundError: fitted or scored without them, every figure would
    silently be another one."""
    sets = sorted(Path(folder).glob("detector_*.jsonl"), key=_set_order)
    if not sets:
        raise FileNotFoundError(f"{folder}: no detector_*.jsonl set (the team's sets ship in the source "
                                "checkout's tests/data, not in the package: pass --team-data)")
    rows, seen = [], set()
    for path in sets:
        name = path.stem.removeprefix("detector_")
        for record in _jsonl(path):
            key = (match_key(record["query"]), match_key(record["image_description"]))
            if key in seen:
                continue
            seen.add(key)
            rows.append(LabelledRow(f"{name}:{record['id']}", record["query"], record["image_description"],
                                    int(record["label"]), f"team:{name}", record.get("kind", ""),
                                    f"{name}:{record['twin_of']}" if record.get("twin_of") else None))
    return rows


def sample_missing(path: Path) -> str:
    """The one line that says the VLSBench sample is not at `path`, and which option to pass."""
    return (f"{path}: no such file (VLSBench's sample is read where the shared reference folder has it, "
            f"never copied into the project: pass {SAMPLE_OPTION} PATH)")


def chosen_sample(given: Path | None) -> Path | None:
    """The sample a user named (FileNotFoundError if it is not there), else the shared one where it
    is, else None: for a command that can do without it and says so."""
    if given is not None and not given.is_file():
        raise FileNotFoundError(sample_missing(given))
    return given or (VLSBENCH_SAMPLE if VLSBENCH_SAMPLE.is_file() else None)


def sample_hash_problem(sample: Path) -> str | None:
    """Why `sample` is not the VLSBench sample evaluation_sets.toml records, or None when it is."""
    if sha256_file(sample) == evaluation_sets()["vlsbench_sample"]["sha256"]:
        return None
    return f"{sample.name}'s sha256 differs"


def read_vlsbench_sample(path: Path) -> list[LabelledRow]:
    """VLSBench's 60 released pairs, all leakless by construction: evaluation only."""
    return [LabelledRow(f"vlsbench:{record['instruction_id']}", record["instruction"], record["image_description"],
                        0, "vlsbench-sample") for record in json.loads(path.read_text(encoding="utf-8"))]


def refuse_unrecorded_sets(team_folder: Path, sample: Path) -> None:
    """A ValueError naming the VLSBench sample, and each team set under `team_folder`, that is not a
    file evaluation_sets.toml records: `eval-public` scores whatever it is given, so another file
    would change every team or sample figure without a word."""
    problems = [problem for problem in [sample_hash_problem(sample)] if problem]
    team = evaluation_sets()["team_sets"]["sha256"]
    present = {path.name: path for path in Path(team_folder).glob("detector_*.jsonl")}
    changed = [name for name in team if name in present and sha256_file(present[name]) != team[name]]
    for what, names in (("changed", changed), ("not recorded", sorted(set(present) - set(team))),
                        ("missing", [name for name in team if name not in present])):
        if names:
            problems.append(f"{len(names)} team set(s) {what}: {first_few(names)}")
    if problems:
        raise ValueError(f"{team_folder}: not the sets recorded in evaluation_sets.toml ({'; '.join(problems)}); "
                         "a changed evaluation set needs a new record, made before it is scored")


def fitting_rows(public_path: Path, team_folder: Path = TEAM_DATA) -> list[LabelledRow]:
    """The public rows a fit may use, then the team sets; none of the former is an error, not a fit on the
    team's writing alone (which would then stand as the shipped calibration)."""
    excluded = evaluation_only_sources()
    public = [row for row in read_public(public_path) if row.source not in excluded]
    if not public:
        raise ValueError(f"{public_path}: no public corpus rows to fit on (empty, or only evaluation-only sources)")
    return public + read_team_sets(team_folder)


def fingerprint(public_path: Path, rows: list[LabelledRow]) -> dict:
    """What a calibration was fitted on: the input's hash and the rows per source."""
    counts: dict[str, int] = {}
    for row in rows:
        counts[row.source] = counts.get(row.source, 0) + 1
    return {"file": Path(public_path).name, "sha256": sha256_file(Path(public_path)),
            "rows": len(rows), "rows_per_source": dict(sorted(counts.items()))}


def _jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for _, line in numbered_lines(path.read_text(encoding="utf-8"))]


def _set_order(path: Path) -> tuple[int, str]:
    # dev, holdout, then blind2, blind3, ... blind28 in number order (the order they were written)
    name = path.stem.removeprefix("detector_")
    digits = name.removeprefix("blind")
    return (int(digits) if digits.isdigit() else -1, name)
