"""mut12b: plan survivors pinned (mutation round 12b, pipeline/plan.py)."""

from __future__ import annotations

from pipeline.config import load_config
from pipeline.plan import choose_elements, plan_seeds, pool_skipped
from tests.pool.test_pool_audit import KNIFE, captioned_pool, picture

SUB = {"category": "Violent", "sub_category": "Weapon-Related Violence"}


def pool_config(tmp_path, pool, image_first: bool):
    return load_config(None, ["run.size=1", "run.sub_categories=['Weapon-Related Violence']",
                              f"run.runs_dir='{tmp_path / 'runs'}'", "backends.images='pool'",
                              f"images.pool.folder='{pool}'", "images.pool.name='mypool'",
                              f"images.pool.image_first={str(image_first).lower()}"])


def test_a_pool_used_for_retrieval_only_makes_no_image_first_seeds(tmp_path):
    # P15: plan_seeds without its `pool.image_first` condition added one seed per pool image to a
    # retrieval-only run (and reserved those images, so retrieval could not serve them)
    pool = tmp_path / "pool"
    captioned_pool(pool, {"a.png": KNIFE, "b.png": "A revolver on a table."}, **SUB)
    seeds = plan_seeds(pool_config(tmp_path, pool, image_first=False))
    assert seeds and all(seed.image_path is None for seed in seeds)
    assert len(plan_seeds(pool_config(tmp_path, pool, image_first=True))) == len(seeds) + 2


def test_pool_skipped_names_the_pools_own_unusable_images(tmp_path):
    # P17: pool_skipped kept only the image-first skips, so pool_skipped.json (and the summary's
    # count) lost the uncaptioned and unreadable images
    pool = tmp_path / "pool"
    captioned_pool(pool, {"a.png": KNIFE}, **SUB)
    picture(5).save(pool / "uncaptioned.png")
    (pool / "broken.png").write_bytes(b"not a png")
    for image_first in (False, True):
        files = {row["file"] for row in pool_skipped(pool_config(tmp_path, pool, image_first))}
        assert {"uncaptioned.png", "broken.png"} <= files, image_first


def test_the_notes_of_a_run_without_a_store_do_not_name_one(tmp_path):
    # P12: "0 from the store" and "(library and store)" for a run that has no element store
    config = load_config(None, [f"run.runs_dir='{tmp_path / 'runs'}'", "elements.store=null",
                                "run.sub_categories=['Cybercrime']", "run.size=100000"])
    notes = choose_elements(config).notes(config)
    assert notes[0].startswith("elements used: ") and "store" not in notes[0]
    assert "(library)" in notes[1] and "store" not in notes[1]
