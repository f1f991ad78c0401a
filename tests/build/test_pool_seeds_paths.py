"""pool_seeds.json and the resume note named an image-first seed's file by its base name, so
`2023/IMG_0001.png` and `2024/IMG_0001.png` (a phone dump's folders) read the same. They now name
the path within the pool folder, as pool_skipped.json does; an older run's record of base names
still reads."""

from __future__ import annotations

import json

from pipeline.factory import _open_pool
from pipeline.plan import plan_seeds
from pipeline.rundir import RunDir
from tests.build.test_pool_resume_note import SUB, config
from tests.pool.test_pool_audit import captioned_pool, picture


def claimed_run(tmp_path):
    pool = tmp_path / "pool"
    (pool / "2023").mkdir(parents=True)
    (pool / "2024").mkdir()
    captioned_pool(pool, {"2023/IMG_0001.png": "A revolver on a table.",
                          "2024/IMG_0001.png": "A knife in a sink."}, **SUB)
    settings = config(tmp_path, pool)
    run = RunDir(settings.run.runs_dir, "r1")
    run.claim(settings, plan_seeds(settings))
    return run, settings, pool


def test_pool_seeds_and_the_resume_note_name_the_path_within_the_pool(tmp_path):
    run, settings, pool = claimed_run(tmp_path)
    recorded = json.loads(run.pool_seeds_record.read_text(encoding="utf-8"))
    assert sorted(recorded.values()) == ["2023/IMG_0001.png", "2024/IMG_0001.png"]

    picture(99).save(pool / "2024/IMG_0001.png")
    _open_pool.cache_clear()  # a resume is a new process
    note = run.pool_changes_note(plan_seeds(settings))
    assert "no longer planned (2024/IMG_0001.png)" in note and "1 new (2024/IMG_0001.png)" in note


def test_an_older_runs_record_of_base_names_still_reads(tmp_path):
    run, settings, pool = claimed_run(tmp_path)
    recorded = json.loads(run.pool_seeds_record.read_text(encoding="utf-8"))
    run.pool_seeds_record.write_text(json.dumps({seed: file.split("/")[-1] for seed, file in recorded.items()}))
    assert run.pool_changes_note(plan_seeds(settings)) is None

    picture(99).save(pool / "2024/IMG_0001.png")
    _open_pool.cache_clear()
    note = run.pool_changes_note(plan_seeds(settings))
    assert "no longer planned (IMG_0001.png)" in note and "1 new (2024/IMG_0001.png)" in note
