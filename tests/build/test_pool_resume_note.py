"""A resume whose image pool changed (new pixels, an edited caption, an added or removed image) plans
other image-first seeds, as docs/images.md says: the build says so in a note naming the files, once,
instead of silently building other seeds under the same run id."""

from __future__ import annotations

from pipeline.config import load_config
from pipeline.factory import _open_pool
from pipeline.plan import plan_seeds
from pipeline.rundir import RunDir
from tests.pool.test_pool_audit import captioned_pool, picture

SUB = {"category": "Violent", "sub_category": "Weapon-Related Violence"}


def config(tmp_path, pool):
    return load_config(None, ["run.size=1", "run.sub_categories=['Weapon-Related Violence']",
                              f"run.runs_dir='{tmp_path / 'runs'}'", "backends.images='pool'",
                              f"images.pool.folder='{pool}'", "images.pool.name='mypool'",
                              "images.pool.image_first=true"])


def test_a_changed_pool_is_named_on_resume_once(tmp_path):
    pool = tmp_path / "pool"
    captioned_pool(pool, {"a.png": "A revolver on a table.", "b.png": "A knife in a sink.",
                          "c.png": "A crossbow on a wall."}, **SUB)
    settings = config(tmp_path, pool)
    run = RunDir(settings.run.runs_dir, "r1")
    run.claim(settings, plan_seeds(settings))
    assert run.pool_changes_note(plan_seeds(settings)) is None  # the same pool: nothing to say

    picture(99).save(pool / "b.png")  # new pixels: a new seed
    picture(98).save(pool / "d.png")
    (pool / "captions.jsonl").write_text((pool / "captions.jsonl").read_text().replace(
        '"c.png"', '"d.png"'), encoding="utf-8")  # c.png's caption now names d.png: c.png is uncaptioned
    _open_pool.cache_clear()  # a process reads a pool once; the resume is a new process
    seeds = plan_seeds(settings)
    note = run.pool_changes_note(seeds)
    assert note is not None and note.startswith("the image pool changed since run r1 last ran: ")
    assert "2 image-first seed(s) no longer planned (" in note and "2 new (" in note
    assert "b.png" in note and "c.png" in note and "d.png" in note

    run.claim(settings, seeds)  # the resume builds them: the next one has nothing to say
    assert run.pool_changes_note(plan_seeds(settings)) is None


def test_a_run_without_a_pool_records_no_pool_seeds(tmp_path):
    settings = load_config(None, ["run.size=1", f"run.runs_dir='{tmp_path / 'runs'}'"])
    run = RunDir(settings.run.runs_dir, "r1")
    run.claim(settings, plan_seeds(settings))
    assert not run.pool_seeds_record.exists() and run.pool_changes_note(plan_seeds(settings)) is None
