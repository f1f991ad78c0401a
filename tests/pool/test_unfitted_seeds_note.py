"""Images added to the pool after a run's seeds found none that fits did not give those seeds another try:
building the finished run again said only "nothing rebuilt" (audit poolretrieve, finding 3). A run
matches each seed once, so the rebuild now says how many seeds no pool image fitted and that a new run
matches them against the pool as it is."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from pipeline.build import build_without_orchestration
from pipeline.cli.app import app  # importing the package registers every command
from pipeline.config import load_config
from pipeline.factory import _open_pool
from pipeline.pool.unfitted import unfitted_seeds
from tests.pool.test_pool import draw

HARBOUR, BAKERY = "A quiet harbour at dawn with fishing boats", "Loaves of bread cooling on a bakery shelf"


def overrides(tmp_path, pool):
    return ["run.size=1", "run.sub_categories=['Weapon-Related Violence']", f"run.runs_dir='{tmp_path / 'runs'}'",
            "backends.images='pool'", f"images.pool.folder='{pool}'", "images.pool.min_similarity=0.6"]


@pytest.fixture
def finished_unfitted_run(tmp_path, monkeypatch):
    """A finished pool run whose one seed found no image: the pool shows only harbours and bakeries."""
    monkeypatch.setenv("LEAKLESS_ARTIFACTS", str(tmp_path / "artifacts"))  # the pool's caption index
    pool = tmp_path / "pool"
    pool.mkdir()
    draw(1).save(pool / "harbour.png")
    draw(2).save(pool / "bakery.png")
    (pool / "captions.csv").write_text(f"file,caption\nharbour.png,{HARBOUR}\nbakery.png,{BAKERY}\n", encoding="utf-8")
    _open_pool.cache_clear()
    settings = overrides(tmp_path, pool)
    ledger = build_without_orchestration(load_config(None, settings), "r1")
    assert [entry.state for entry in ledger] == ["failed"]
    yield tmp_path / "runs" / "r1", settings
    _open_pool.cache_clear()


@pytest.mark.slow
def test_building_the_finished_run_again_says_a_new_run_matches_its_unfitted_seeds(finished_unfitted_run):
    run_dir, settings = finished_unfitted_run
    assert unfitted_seeds(run_dir) == 1
    rebuilt = CliRunner().invoke(app, ["build", "--run-id", "r1", "--no-progress",
                                       *(arg for setting in settings for arg in ("--set", setting))])
    assert rebuilt.exit_code == 0, rebuilt.output
    assert "note: run r1 is finished and has no seed to try again: nothing rebuilt" in rebuilt.output
    assert ("note: 1 seed(s) of run r1 failed at retrieval with 'no pool image fits' and are not matched again, "
            "even against images added to the pool since: build a new run (another --run-id, or none) to match "
            "every seed against the pool as it is now") in rebuilt.output


def test_a_run_whose_seeds_all_found_an_image_says_nothing_of_the_kind(tmp_path):
    assert unfitted_seeds(tmp_path) == 0  # no failures file: no note
