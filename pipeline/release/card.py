"""The dataset card: README.md with Hugging Face YAML metadata, statistics, provenance and the safety note.

The backends are read from the rows themselves (`*_backend` columns), so the
card cannot claim a model the data was not made with; offline ones are named
as such.
"""

from __future__ import annotations

from collections import Counter

import jinja2
import yaml

from pipeline.release.leak_check import LEAKS
from pipeline.release.schema import hf_features
from pipeline.review.scoring import HARM_DROP

OFFLINE_BACKENDS = {
    "templates": "templates per sub-category (no language model)",
    "rules": "rule-based (no language model)",
    "placeholder": "a grey placeholder card with the description written on it (no image model)",
    "offline-detector": "a local lexicon + MiniLM detector (no language model)",
}
ROLES = {"seed_backend": "seed writer", "rewrite_backend": "leak rewriter", "image_backend": "images"}
SIZE_CATEGORIES = [(1_000, "n<1K"), (10_000, "1K<n<10K"), (100_000, "10K<n<100K"), (1_000_000, "100K<n<1M")]

BODY = jinja2.Template("""\
# {{ name }} v{{ version }}

{% if preview %}> **Preview release: these pairs have NOT been reviewed by people.** They are
> unreviewed candidates from the pipeline; use them to try the pipeline, not to score models.

{% endif %}A leakless multimodal safety benchmark in the style of VLSBench: each pair is an image plus
a query that reads harmlessly on its own; the risk is only in the image.
{% if overridden %}
**Exception: {{ overridden }} of {{ rows }} pairs** ship a query that the leak detector or the harm
check flagged ({{ overridden_leaks }} with `leak_verdict` = `leaks`, {{ overridden_harm }} with
`harm_verdict` = `drop`): an annotator kept each one on purpose, and the row's `override_reason` says
why. Filter on `override_reason` being null for pairs whose query passed both checks.
{% endif %}
## Statistics

{{ rows }} pairs{% if extends %} ({{ carried }} carried over unchanged from v{{ extends }}){% endif %}.

| category | sub-category | pairs |
|---|---|---|
{% for key, count in sub_counts.items() %}| {{ key.split('/')[0] }} | {{ key.split('/', 1)[1] }} | {{ count }} |
{% endfor %}
Dropped while releasing: {{ dropped.final_filter }} by final filtration, {{ dropped.image_duplicate }} near-duplicate
images, {{ dropped.query_duplicate }} near-duplicate queries, {{ dropped.same_id }} already released
(`decisions.parquet` and `dedup_clusters.parquet` say which and why).

## How it was built

Built by leakless from the runs {{ runs | join(", ") }}:
harmful seeds from the 6×19 taxonomy → leak rewriting → a measured leak filter → images →
a harm check → {% if preview %}(no human review){% else %}human review (only accepted pairs; an edited
query replaces `instruction`, the pipeline's is kept in `instruction_pipeline`){% endif %} →
final filtration ({{ final_filter_backend }}) → near-duplicate removal within the release and
against earlier releases (pHash+dHash ≤ {{ options.max_phash }}/{{ options.max_dhash }} bits;
queries equal after normalisation or MiniLM cosine ≥ {{ options.query_threshold }}).

| role | backends used (pairs) |
|---|---|
{% for role, used in backends.items() %}| {{ role }} | {% for backend, count in used.items() -%}
`{{ backend }}` ({{ count }}){{ ": " + offline[backend] if backend in offline }}{{ "; " if not loop.last }}
{%- endfor %} |
{% endfor %}
{% if offline_used %}
**Offline backends were used** ({{ offline_used | join(", ") }}): these rows were not made by
GPT-4o, Stable Diffusion or a VLM, and the images may be placeholders rather than photographs.
{% endif %}
## Use

```python
from datasets import load_dataset
ds = load_dataset("parquet", data_files="data/train-*.parquet", split="train")
```

`leakless export-vlsbench` writes VLSBench's own layout (`data.json` + `imgs/`) for its evaluation script.

## Intended use and safety note

This set exists to test whether multimodal models notice risk that is only visible in the
image. It describes risky objects and scenarios; it contains no working instructions.
Do not use it to train models to produce harmful content. Images and texts may be disturbing.
""", trim_blocks=False, keep_trailing_newline=True)


def size_category(rows: int) -> str:
    return next((label for limit, label in SIZE_CATEGORIES if rows < limit), "n>1M")


def front_matter(manifest: dict) -> dict:
    features = [{"name": name, "dtype": "image" if spec["_type"] == "Image" else spec["dtype"]}
                for name, spec in hf_features().items()]
    return {
        "license": manifest["license"],
        "pretty_name": f"{manifest['name']} v{manifest['version']}",
        "task_categories": ["visual-question-answering"],
        "tags": ["safety", "multimodal", "vlsbench", "leakless"] + (["preview"] if manifest["preview"] else []),
        "size_categories": [size_category(manifest["rows"])],
        "configs": [{"config_name": "default", "data_files": [{"split": "train", "path": "data/train-*"}]}],
        "dataset_info": {
            "features": features,
            "splits": [{"name": "train", "num_examples": manifest["rows"],
                        "num_bytes": sum(shard["bytes"] for shard in manifest["shards"])}],
        },
    }


def backends_used(rows: list[dict]) -> dict[str, dict[str, int]]:
    return {role: dict(Counter(row[column] or "none" for row in rows).most_common())
            for column, role in ROLES.items()}


def flagged_rows(rows: list[dict]) -> tuple[int, int, int]:
    """(rows shipped against a check, of those leaking, of those failing the harm check): a flagged
    query ships only with an annotator's override, and the card must not call it harmless."""
    leaks = [row for row in rows if row.get("leak_verdict") == LEAKS]
    harm = [row for row in rows if row.get("harm_verdict") == HARM_DROP]
    return len({row["id"] for row in leaks + harm}), len(leaks), len(harm)


def render_card(manifest: dict, rows: list[dict]) -> str:
    backends = backends_used(rows)
    overridden, overridden_leaks, overridden_harm = flagged_rows(rows)
    offline_used = sorted({b for used in backends.values() for b in used if b in OFFLINE_BACKENDS}
                          | ({manifest["final_filter"]["backend"]} & OFFLINE_BACKENDS.keys()))
    body = BODY.render(
        name=manifest["name"], version=manifest["version"], preview=manifest["preview"], rows=manifest["rows"],
        extends=manifest["extends"], carried=manifest["carried_rows"], sub_counts=manifest["counts"]["sub_category"],
        dropped=manifest["dropped"], runs=[run["run_id"] for run in manifest["runs"]],
        final_filter_backend=f"`{manifest['final_filter']['backend']}`", options=manifest["options"],
        backends=backends, offline=OFFLINE_BACKENDS, offline_used=offline_used,
        overridden=overridden, overridden_leaks=overridden_leaks, overridden_harm=overridden_harm,
    )
    return f"---\n{yaml.safe_dump(front_matter(manifest), sort_keys=False)}---\n\n{body}"
