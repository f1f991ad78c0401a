"""The release's row layout: the build's pair columns plus what a release adds.

A release adds a stable integer `instruction_id` (VLSBench's key, assigned in
release order and never reused), the pipeline's query before human review, the
review state, the version that first published the row, and the leak filter's
and harm check's word on the shipped `instruction` (`leak_score` is the
detector's score of that text: see `leak_check.py`).
"""

from __future__ import annotations

import json

import pyarrow as pa

from pipeline.writers.shards import IMAGE_TYPE, PAIR_FIELDS

RELEASE_FIELDS = [
    PAIR_FIELDS[0],  # id
    ("instruction_id", pa.int64()),
    *PAIR_FIELDS[1:],
    ("instruction_pipeline", pa.string()),  # the build's query; `instruction` is the reviewed one
    ("edited_by", pa.string()),  # the annotator whose edit `instruction` is, else null
    ("review_state", pa.string()),  # "accepted", or "unreviewed" in a preview release
    ("added_in", pa.int64()),  # the release version that first published the row
    ("leak_threshold", pa.float64()),  # the stricter of the run's and the detector's, for `leak_score`
    ("leak_verdict", pa.string()),  # "leak-free"; "leaks" or "not-english" (shipped only with an override)
    ("harm_verdict", pa.string()),  # the harm check on the shipped text: "keep" or "drop"
    ("detector_version", pa.string()),  # the detector that computed `leak_score`
    ("override_reason", pa.string()),  # an annotator's reason to keep a flagged edit, else null
    ("element_terms", pa.string()),  # JSON list: the terms naming the element when `leak_score` was computed
]

_HF_DTYPES = {pa.string(): "string", pa.float64(): "float64", pa.int64(): "int64"}


def hf_features(fields: list[tuple] = RELEASE_FIELDS) -> dict:
    """The Hugging Face `datasets` feature spec: the image struct is an Image feature."""
    return {name: {"_type": "Image"} if kind == IMAGE_TYPE else {"dtype": _HF_DTYPES[kind], "_type": "Value"}
            for name, kind in fields}


def _with_features(fields: list[tuple]) -> pa.Schema:
    return pa.schema(fields, metadata={"huggingface": json.dumps({"info": {"features": hf_features(fields)}})})


RELEASE_SCHEMA = _with_features(RELEASE_FIELDS)
# A version made by `leakless select` adds why each pair was kept.
SELECTED_SCHEMA = _with_features([*RELEASE_FIELDS, ("selection_reason", pa.string())])
# Columns added after the first releases, newest first (element_terms later, the others on 2026-12-05): a
# release made before one was added lacks it and every newer one, and stays valid.
LATER_COLUMNS = ("element_terms", "seed_model", "edited_by")
VALID_SCHEMAS = tuple(pa.schema([field for field in schema if field.name not in LATER_COLUMNS[:missing]])
                      for missing in range(len(LATER_COLUMNS) + 1) for schema in (RELEASE_SCHEMA, SELECTED_SCHEMA))


def is_release_schema(schema: pa.Schema) -> bool:
    """The column names and types (metadata aside) of one of the layouts a release may have."""
    found = [(field.name, field.type) for field in schema]
    return any(found == [(field.name, field.type) for field in valid] for valid in VALID_SCHEMAS)


# Everything but the image: what selection, filtering and dedup work on.
META_SCHEMA = pa.schema([field for field in RELEASE_SCHEMA if field.name != "image"])
