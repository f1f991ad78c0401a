"""Image-first seeds got a category and sub-category that do not go together, and the build called them
accepted although the release drops every such pair as release.miscategorised (audit imagefirst,
finding 1): a row's lone category was completed with the default sub-category of another category, a
row's lone sub-category with the default category, and a row's own mismatched pair was "tolerated".
Now a lone sub-category names its own category, and any other mismatched row is skipped with its
reason in pool_skipped.json. (Defaults from two categories: test_image_first_default_pair.py.)"""

from __future__ import annotations

import json

import pandas as pd
import pytest
from typer.testing import CliRunner

from pipeline.cli.app import app  # importing the package registers every command
from pipeline.config import load_config
from pipeline.factory import _open_pool, image_first_files
from pipeline.plan import image_first_seeds, plan_seeds, pool_skipped
from pipeline.pool import load_pool
from pipeline.rundir import RunDir
from tests.pool.test_pool import draw

CATEGORIES = ["Violent", "Hate", "Illegal Activity"]
# The audit's pool6: file -> (caption, category, sub_category)
ROWS = {"a.png": ("A swastika painted on a synagogue wall", "Hate", ""),
        "b.png": ("Two men fighting", "", ""),
        "c.png": ("A riot", "Violent", "Cybercrime"),
        "d.png": ("An axe", "", "Cybercrime")}


def make_pool(folder, rows=ROWS):
    folder.mkdir(exist_ok=True)
    lines = ["file,caption,category,sub_category"]
    for n, (file, cells) in enumerate(rows.items()):
        draw(n).save(folder / file)
        lines.append(",".join([file, *cells]))
    (folder / "captions.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    _open_pool.cache_clear()  # a pool is read once per process; these tests edit theirs
    return folder


def overrides(tmp_path, folder, default_category="Violent", default_sub="Weapon-Related Violence"):
    return ["run.size=1", f"run.categories={CATEGORIES!r}", f"run.runs_dir='{tmp_path / 'runs'}'",
            "backends.images='pool'", f"images.pool.folder='{folder}'", "images.pool.image_first=true",
            f"images.pool.default_category='{default_category}'", f"images.pool.default_sub_category='{default_sub}'"]


def planned(tmp_path, folder) -> dict[str, tuple[str, str]]:
    seeds, _ = image_first_seeds(load_config(None, overrides(tmp_path, folder)), load_pool(folder))
    return {seed.image_path.rsplit("/", 1)[-1]: (seed.category, seed.sub_category) for seed in seeds}


def test_a_row_is_never_completed_from_another_category_and_a_mismatched_row_is_skipped(tmp_path):
    folder = make_pool(tmp_path / "pool")
    assert planned(tmp_path, folder) == {"b.png": ("Violent", "Weapon-Related Violence"),
                                         "d.png": ("Illegal Activity", "Cybercrime")}
    reasons = {entry["file"]: entry["reason"]
               for entry in pool_skipped(load_config(None, overrides(tmp_path, folder)))}
    assert reasons == {
        "a.png": "the default sub-category 'Weapon-Related Violence' is in category 'Violent', not the row's "
                 "category 'Hate': a release drops such a pair (release.miscategorised); give the row a "
                 "sub-category of its category",
        "c.png": "sub-category 'Cybercrime' is in category 'Illegal Activity', not the row's category 'Violent': "
                 "a release drops such a pair (release.miscategorised); give the row a sub-category of its category"}


def test_a_rows_lone_category_takes_the_default_sub_category_of_that_category(tmp_path):
    folder = make_pool(tmp_path / "pool", {"x.png": ("A man waving a machete", "Violent", "")})
    assert planned(tmp_path, folder) == {"x.png": ("Violent", "Weapon-Related Violence")}


def test_a_row_that_turns_mismatched_leaves_the_plan_on_resume_and_is_no_longer_reserved(tmp_path):
    folder = make_pool(tmp_path / "pool", {"x.png": ("A man waving a machete", "Violent", ""),
                                           "y.png": ("Two men fighting", "", "")})
    config = load_config(None, overrides(tmp_path, folder))
    run = RunDir(config.run.runs_dir, "r1")
    run.claim(config, plan_seeds(config))

    make_pool(folder, {"x.png": ("A man waving a machete", "Hate", ""), "y.png": ("Two men fighting", "", "")})
    note = run.pool_changes_note(plan_seeds(config))
    assert "1 image-first seed(s) no longer planned (x.png), 0 new" in note
    assert image_first_files(config, load_pool(folder)) == ["y.png"]  # retrieval may serve x.png now


@pytest.mark.slow
def test_the_build_accepts_only_pairs_that_go_together_and_names_the_rest(tmp_path, monkeypatch):
    make_pool(tmp_path / "pool")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("LEAKLESS_ARTIFACTS", str(tmp_path / "artifacts"))
    sets = [word for value in overrides(tmp_path, "pool") for word in ("--set", value)]
    result = CliRunner().invoke(app, ["build", "--no-progress", "--run-id", "r1", *sets])
    assert result.exit_code == 0, result.output
    run = tmp_path / "runs" / "r1"
    skipped = json.loads((run / "pool_skipped.json").read_text(encoding="utf-8"))
    assert sorted(entry["file"] for entry in skipped) == ["a.png", "c.png"]
    seeds = json.loads((run / "pool_seeds.json").read_text(encoding="utf-8"))
    assert sorted(seeds.values()) == ["b.png", "d.png"]
    ledger = pd.read_parquet(run / "ledger.parquet").set_index("seed_id")
    assert {seeds[seed_id]: tuple(ledger.loc[seed_id, ["category", "sub_category"]]) for seed_id in seeds} == {
        "b.png": ("Violent", "Weapon-Related Violence"), "d.png": ("Illegal Activity", "Cybercrime")}
