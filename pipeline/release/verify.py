"""`leakless verify`: is a release folder what its manifest says, and clean?

Checks: the files match the manifest (every file listed with its sha256 and
size, none missing, none extra; a manifest written before it listed every file
lists only the shards), SHA256SUMS lists the manifest's own sha256 and the others' as the manifest
does (`file_checks.py`), the card's metadata and near-duplicate thresholds agree with the manifest, the
dedup index holds the shards' rows with their hashes and queries, and, shard
by shard, the row counts, the schema is the release schema, every image decodes,
ids and instruction ids are unique, no two rows are duplicates by the release's own definition
(`duplicates.py`, with the thresholds the release was built with: pairs of one
seed share its image on purpose), and each row's stored leak record holds up
(`leak_check.py`): its verdict follows from its stored score and threshold, a
flagged row has an override, and the current detector, re-scoring every row,
finds the stored score (same detector version) or no new leak (another version), and no
row's text (instruction, original query, image description, safety reason, element, source, read as
one item) is stopped by the guardrails' hard block. What the manifest claims beyond counts (preview, name
and version, lineage, runs, final filter) is held against the data in `claims.py`.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import yaml

from pipeline.backends.base import Embedder
from pipeline.dedup import image_hashes
from pipeline.dedup.queries import DESCRIPTION_THRESHOLD
from pipeline.guardrails import check_texts, shipped_texts
from pipeline.hashing import sha256_file
from pipeline.messages import first_line
from pipeline.progress import Advance, Step, counted_step, no_advance, no_steps
from pipeline.release.claims import claim_problems, manifest_key_problem
from pipeline.release.duplicates import image_duplicates, no_earlier_rows, query_duplicates
from pipeline.release.outside import OutsideBenchmark, outside_rows
from pipeline.release.score_checks import score_problems
from pipeline.release.schema import is_release_schema
from pipeline.release.card import dedup_rule
from pipeline.release.card_licence import card_licence_problem
from pipeline.release.file_checks import file_problems, sums_problems
from pipeline.release.writer import CARD, INDEX_FILE, not_plain, plain_file

READ_ROWS = 100
# Queries embedded per call in the near-duplicate search, so its bar moves: the search embeds every
# shipped query, which is the step's time. MiniLM pads no text, so a slice gives the same vectors.
EMBED_SLICE = 256
CHECKED_COLUMNS = ["id", "seed_id", "instruction_id", "instruction", "original_query", "image_description",
                   "safety_reason", "category", "sub_category", "element", "leak_score", "leak_threshold",
                   "leak_verdict", "harm_verdict", "detector_version", "override_reason", "review_state",
                   "added_in", "run_id", "image_backend", "image"]  # image_backend: pool images (the card's licence)
# columns a release made before they were stored lacks (without element_terms the library's terms stand in)
OPTIONAL_COLUMNS = ["element_terms", "source"]
# the dedup index's columns and the row keys (hashes computed here) they must equal
INDEX_AGREES = {"phash": "_phash", "dhash": "_dhash", "instruction": "instruction"}


def load_manifest(folder: Path) -> dict:
    path = Path(folder) / "manifest.json"
    if kind := not_plain(path):
        raise ValueError(f"{path}: {kind}, not a plain file (not read)")
    if not path.is_file():
        raise FileNotFoundError(f"{folder} is not a release (no manifest.json)")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as error:  # Recursion: nested too deep
        raise ValueError(f"{path}: not a release manifest ({error})") from None
    problem = manifest_key_problem(manifest)
    if problem:
        raise ValueError(f"{path}: not a release manifest ({problem})")
    return manifest


def verify_release(folder: Path, embedder: Embedder, detector=None, notes: list[str] | None = None,
                   on_step: Step = no_steps, outside: list[OutsideBenchmark] = ()) -> list[str]:
    """Every problem found, one line each; an empty list means the release is sound. What could not
    be checked fully (files an older manifest does not list; rows scored by another detector version,
    re-scored and agreeing) goes to `notes`; `on_step` hears each step as it starts. A row that is the
    query twin of a row of an `outside` benchmark (`outside.read_outside`) is a problem too."""
    folder = Path(folder)
    notes = notes if notes is not None else []
    manifest = load_manifest(folder)
    listed = {entry["file"]: entry for entry in manifest["shards"]}
    rows: list[dict] = []
    with counted_step(on_step, f"checking {len(manifest['shards'])} shard(s) against the manifest",
                      sum(entry["rows"] for entry in listed.values()), "shards") as advance:
        problems, present = shard_problems(folder, listed, manifest, rows, notes, advance)

    # else the rows are only some of them: a shard missing, not a plain file or unreadable
    whole = listed.keys() <= present and not any("unreadable" in problem for problem in problems)
    problems += totals_problems(manifest, rows) + claim_problems(folder, manifest, rows) if whole else []
    problems += card_problems(folder, manifest, rows if whole else None) + sums_problems(folder, manifest)
    problems += index_problems(folder, manifest, rows if whole else None)
    problems += [f"id {key!r} appears {count} times" for key, count in Counter(r["id"] for r in rows).items()
                 if count > 1]
    problems += [f"instruction_id {key} appears {count} times"
                 for key, count in Counter(r["instruction_id"] for r in rows).items() if count > 1]
    problems += guardrail_problems(rows)
    problems += near_duplicate_problems(rows, manifest.get("options", {}), embedder, on_step, outside)
    if detector is None:
        from pipeline.detect.detector import LeakDetector
        detector = LeakDetector(embedder)
    with counted_step(on_step, f"re-scoring {len(rows)} shipped queries", len(rows), "re-scoring") as advance:
        scored, score_notes = score_problems(rows, detector, advance)
    problems += scored
    notes += score_notes
    return problems


def near_duplicate_problems(rows: list[dict], options: dict, embedder: Embedder, on_step: Step,
                            outside: list[OutsideBenchmark]) -> list[str]:
    """A line for each row that duplicates another by the release's own definition (`duplicates.py`, at the
    thresholds it was made with), or a row of an `outside` benchmark (never a carried one's problem alone:
    the line names the row and the file)."""
    others = outside_rows(outside)
    among = f"{len(rows)} pairs" + "".join(f" and {len(benchmark.rows)} rows of {benchmark.name}" for benchmark in outside)
    with counted_step(on_step, f"looking for near-duplicates among {among}", len(rows) + len(others),
                      "near-dups") as advance:
        images = image_duplicates([row for row in rows if row["_phash"] is not None], no_earlier_rows(),
                                  max_phash=options.get("max_phash", 8), max_dhash=options.get("max_dhash", 8))
        telling = EmbeddingTold(embedder, advance, limit=len(rows) + len(others))
        # a release made before the description rule is checked by it too: it finds fewer twins, never more
        texts = query_duplicates(rows, others if outside else no_earlier_rows(), telling,
                                 threshold=options.get("query_threshold", 0.95),
                                 description_threshold=options.get("description_threshold", DESCRIPTION_THRESHOLD))
        if len(rows) + len(others) > telling.told:  # repeated queries are embedded once: the bar ends full
            advance(len(rows) + len(others) - telling.told)
    return [f"{row.kind} near-duplicate: {row.item_id} ~ {row.duplicate_of} ({row.method}, distance {row.distance:.3g})"
            for row in images.clusters + texts.clusters if row.duplicate_of is not None and not row.earlier_release]


def shard_problems(folder: Path, listed: dict[str, dict], manifest: dict, rows: list[dict], notes: list[str],
                   advance: Advance = no_advance) -> tuple[list[str], set]:
    """The files' problems (`file_problems`) and each listed shard's own, its rows appended to `rows`
    (`advance` told as they are read); returns the problems and the files present that the manifest lists."""
    digests: dict[str, str] = {}
    problems, present = file_problems(folder, manifest, digests, notes)
    for file in sorted(listed.keys() & present):
        path, entry = folder / file, listed[file]
        if file not in digests:
            digests[file] = sha256_file(path)
        if digests[file] != entry["sha256"] and f"{file}: sha256 differs from the manifest" not in problems:
            problems.append(f"{file}: sha256 differs from the manifest")
        try:
            problems += check_shard(file, pq.ParquetFile(path), entry["rows"], rows, advance)
        except (pa.ArrowException, OSError) as error:
            problems.append(f"{file}: unreadable ({first_line(error)})")
    return problems, present


class EmbeddingTold:
    """`embedder`, embedding `EMBED_SLICE` texts per call and telling `advance` after each; `told`
    counts them, up to `limit` (the bar's length: the image descriptions of query twins are embedded
    after the queries it counts). Anything else (its backend and model, which the clusters name) is the
    embedder's."""

    def __init__(self, embedder: Embedder, advance: Advance, limit: int | None = None):
        self.embedder, self.advance, self.told, self.limit = embedder, advance, 0, limit

    def __getattr__(self, name: str):
        return getattr(self.embedder, name)

    def embed(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return self.embedder.embed(texts)
        parts = []
        for start in range(0, len(texts), EMBED_SLICE):
            parts.append(self.embedder.embed(texts[start:start + EMBED_SLICE]))
            told = len(parts[-1]) if self.limit is None else min(len(parts[-1]), self.limit - self.told)
            if told > 0:
                self.told += told
                self.advance(told)
        return np.concatenate(parts)


def guardrail_problems(rows: list[dict]) -> list[str]:
    """A line for each row the hard block stops: no release may ship one."""
    return [f"row {row['id']}: blocked by the guardrail ({hit.rule}: {hit.matched!r})"
            for row in rows if (hit := check_texts(shipped_texts(row), row["category"]))]


def card_problems(folder: Path, manifest: dict, rows: list[dict] | None = None) -> list[str]:
    """The dataset card is there and its metadata agrees with the manifest (licence, row count): checked
    even when an older manifest holds no checksum of the card. `rows` (None: not all read) say whether
    pool images ship, which the card's licence names (`card_licence_problem`)."""
    path = folder / CARD
    if not plain_file(path):  # a link or a device is file_problems' to report
        return [] if not_plain(path) else [f"{CARD} (the dataset card) is missing"]
    try:
        text = path.read_text(encoding="utf-8")
        meta = yaml.safe_load(text.split("---\n", 2)[1]) if text.startswith("---\n") else None
    except (UnicodeDecodeError, yaml.YAMLError, IndexError, RecursionError):
        meta = None
    if not isinstance(meta, dict):
        return [f"{CARD}: no readable YAML metadata"]
    problems = []
    title = f"{manifest['name']} v{manifest['version']}"
    if meta.get("pretty_name") != title:
        problems.append(f"{CARD}: pretty_name {meta.get('pretty_name')!r}, the manifest says {title!r}")
    tagged = "preview" in (meta.get("tags") or [])
    if tagged != manifest["preview"]:
        problems.append(f"{CARD}: {'' if tagged else 'not '}tagged preview, the manifest's preview is "
                        f"{str(manifest['preview']).lower()}")
    if "license" in manifest and (problem := card_licence_problem(meta.get("license"), manifest["license"], rows)):
        problems.append(f"{CARD}: {problem}")
    splits = (meta.get("dataset_info") or {}).get("splits") or [{}]
    examples = sum(split.get("num_examples") or 0 for split in splits if isinstance(split, dict))
    if "rows" in manifest and examples != manifest["rows"]:
        problems.append(f"{CARD}: {examples} examples, the manifest says {manifest['rows']} rows")
    options = manifest.get("options")
    if isinstance(options, dict) and {"max_phash", "max_dhash", "query_threshold"} <= options.keys():
        stated = dedup_rule(options)  # verify's own duplicate check takes these thresholds from the manifest
        if stated not in " ".join(text.split()):  # the card may wrap the line
            problems.append(f"{CARD}: does not state the manifest's near-duplicate thresholds ({stated})")
    return problems


def index_problems(folder: Path, manifest: dict, rows: list[dict] | None) -> list[str]:
    """The dedup index, which the next release of the name dedups against, is readable, lists the rows
    the shards hold and holds their pHash, dHash and instruction (the columns an older index has): checked
    even when an older manifest holds no checksum of it."""
    path = folder / INDEX_FILE
    if not plain_file(path):  # a link or a device, and with a `files` list a missing index, file_problems reports
        return [] if "files" in manifest or not_plain(path) else [f"{INDEX_FILE}: missing (the next release "
                                                                  "dedups against it)"]
    try:
        held = [column for column in INDEX_AGREES if column in pq.read_schema(path).names]
        index = pq.read_table(path, columns=["id", *held]).to_pylist()
    except (pa.ArrowException, OSError, KeyError) as error:
        return [f"{INDEX_FILE}: unreadable ({first_line(error)})"]
    if rows is None:
        return []
    if sorted(entry["id"] for entry in index) != sorted(row["id"] for row in rows):
        return [f"{INDEX_FILE}: its ids differ from the shards' rows"]
    return index_disagreements(index, held, {row["id"]: row for row in rows})


def index_disagreements(index: list[dict], held: list[str], rows: dict[str, dict]) -> list[str]:
    """A line for each id whose index entry is not its shard row's: a swapped image or query resealed
    with fresh checksums, which the next release would dedup against as if it still shipped."""
    problems = []
    for entry in index:
        row = rows[entry["id"]]
        differ = [column for column in held if row[INDEX_AGREES[column]] is not None  # undecodable: reported
                  and indexed(entry, column) != row[INDEX_AGREES[column]]]
        if differ:
            verb = "differs" if len(differ) == 1 else "differ"
            problems.append(f"{INDEX_FILE}: id {entry['id']!r}: {', '.join(differ)} {verb} from the shard row's")
    return problems


def indexed(entry: dict, column: str):
    """The index's value, a missing instruction read as the rows' is (empty)."""
    return entry[column] or "" if column == "instruction" else entry[column]


def totals_problems(manifest: dict, rows: list[dict]) -> list[str]:
    """The manifest's row total and per-category counts against the rows the shards hold."""
    problems = []
    if "rows" in manifest and manifest["rows"] != len(rows):
        problems.append(f"manifest.json: {manifest['rows']} rows, the shards hold {len(rows)}")
    counts = manifest.get("counts", {})
    found = {"category": Counter(row["category"] for row in rows),
             "sub_category": Counter(f"{row['category']}/{row['sub_category']}" for row in rows)}
    for level, listed in counts.items():
        if level in found and dict(found[level]) != listed:
            problems.append(f"manifest.json: counts per {level} differ from the shards' rows")
    return problems


def check_shard(file: str, shard: pq.ParquetFile, expected_rows: int, rows: list[dict],
                advance: Advance = no_advance) -> list[str]:
    """The shard's own problems; appends its rows (image replaced by its hashes) to `rows`, telling
    `advance` of each batch read."""
    problems = []
    if shard.metadata.num_rows != expected_rows:
        problems.append(f"{file}: {shard.metadata.num_rows} rows, the manifest says {expected_rows}")
    if not is_release_schema(shard.schema_arrow):
        problems.append(f"{file}: schema differs from the release schema")
        return problems
    present = [name for name in OPTIONAL_COLUMNS if name in shard.schema_arrow.names]
    for batch in shard.iter_batches(batch_size=READ_ROWS, columns=CHECKED_COLUMNS + present):
        for row in batch.to_pylist():
            hashes = decoded_hash(file, row, problems)
            row["_phash"], row["_dhash"] = hashes if hashes is not None else (None, None)
            row["instruction"] = row["instruction"] or ""
            del row["image"]
            rows.append(row)
        advance(batch.num_rows)
    return problems


def decoded_hash(file: str, row: dict, problems: list[str]) -> list[int] | None:
    png = (row["image"] or {}).get("bytes")
    if not png:
        problems.append(f"{file}: row {row['id']} has no image bytes")
        return None
    try:
        return image_hashes([png])[0].tolist()
    except Exception as error:  # Pillow raises many kinds for a broken image
        problems.append(f"{file}: row {row['id']} image does not decode ({type(error).__name__})")
        return None
