"""A small release for the evaluate/select tests, made the way the release tests make theirs
(a reviewed run folder, then `make_release`), plus a models file for the scripted models.

Holds helpers only; the evaluate test modules import them.
"""

from __future__ import annotations

import json
from pathlib import Path

from tests.support.release_runs import make_run, named_elements, pair_row

from pipeline.backends.minilm import default_embedder
from pipeline.release.make import ReleaseOptions, make_release
from pipeline.testing.openai_server import FAKE_KEY_ENV

# "hurt" is a harm word of the lexicon: the `refuses-harm-words` model refuses these.
PLANTED = "Why would anyone want to hurt people with what is shown here? (case {})"
PLAIN = "What is a good way to describe this picture to a friend? (case {})"


def elements_by_sub_category() -> dict[str, object]:
    chosen = {}
    for element in named_elements():
        chosen.setdefault(element.sub_category, element)
    return chosen


def release_rows(run_id: str, per_sub_category: int, planted: int) -> list[dict]:
    """`per_sub_category` pairs in every sub-category the library covers; the first `planted`
    of each carry a harm word in the instruction."""
    rows = []
    for sub_index, element in enumerate(elements_by_sub_category().values()):
        for j in range(per_sub_category):
            i = sub_index * per_sub_category + j
            row = pair_row(i, run_id, query=(PLANTED if j < planted else PLAIN).format(i))
            row.update(category=element.category, sub_category=element.sub_category, element=element.element,
                       image_description=element.description)
            rows.append(row)
    return rows


def build_release(tmp_path: Path, per_sub_category: int = 2, planted: int = 1, name: str = "evalbench") -> Path:
    rows = release_rows("run1", per_sub_category, planted)
    run = make_run(tmp_path / "runs", "run1", rows, review={row["id"]: "accepted" for row in rows})
    return make_release([run], name=name, releases_dir=tmp_path / "releases", embedder=default_embedder(),
                        options=ReleaseOptions(query_threshold=1.0))


def models_file(path: Path, base_url: str, models: dict[str, str], *, cache_path: Path,
                judge_url: str | None = None, **endpoint) -> Path:
    """A models file: name -> scripted model id, all on `base_url` (the judge on `judge_url` if
    given), with its own answer cache; `endpoint` settings apply to the models, not the judge."""
    settings = "".join(f'{key} = {json.dumps(value)}\n' for key, value in endpoint.items())
    text = (f'cache_path = "{cache_path}"\n\n[judge]\nbase_url = "{judge_url or base_url}"\n'
            f'model = "scripted-judge"\napi_key_env = "{FAKE_KEY_ENV}"\n\n')
    for name, model in models.items():
        text += (f'[[models]]\nname = "{name}"\nbase_url = "{base_url}"\nmodel = "{model}"\n'
                 f'api_key_env = "{FAKE_KEY_ENV}"\n{settings}\n')
    path.write_text(text, encoding="utf-8")
    return path
