"""A release judges each row by the stricter of its run's leak filter threshold (the run's config.json,
`--set leak_filter.threshold`) and the detector's, as the review judged its edit, and stores the one used:
a row a run built at 0.2 scoring 0.418 leaks (dropped, or shipped only by its override), and `verify`
agrees with the stored record. A run without a config.json keeps the detector's threshold."""

from __future__ import annotations

import json

import pytest

from pipeline.release.leak_check import LEAKS, leak_check
from pipeline.release.score_checks import score_problems
from pipeline.review.run_limits import RunLimitsByRun
from tests.release.test_release_make import FixedDetector


def run_folder(runs_dir, run_id: str, **config):
    folder = runs_dir / run_id
    folder.mkdir(parents=True)
    if config:
        (folder / "config.json").write_text(json.dumps(config), encoding="utf-8")
    return folder


def row(run_id: str, row_id: str, instruction: str, override: str | None = None) -> dict:
    return {"id": row_id, "seed_id": "s", "run_id": run_id, "instruction": instruction, "category": "Violent",
            "element": "knife", "image_description": "a knife on a table", "harm_verdict": "keep",
            "override_reason": override}


def test_a_row_is_judged_by_its_runs_stricter_threshold_and_stores_it(tmp_path):
    strict = run_folder(tmp_path, "strict", leak_filter={"threshold": 0.2}, harm_check={"min_intent_similarity": 0.6})
    plain = run_folder(tmp_path, "plain")  # no config.json: the detector's threshold
    rows = [row("strict", "leaky", "q"), row("strict", "kept", "q", override="the reference is vague"),
            row("plain", "clean", "q")]
    detector = FixedDetector({"q": 0.418})

    kept, decisions = leak_check(rows, detector, limits=RunLimitsByRun.of_runs([strict, plain]))

    assert [r["id"] for r in kept] == ["kept", "clean"]
    by_id = {d.item_id: d for d in decisions}
    assert (by_id["leaky"].code, by_id["leaky"].threshold) == ("release.leaks", 0.2)
    assert by_id["leaky"].reason == "leaks: score 0.418 >= 0.200"
    assert by_id["kept"].code == "release.overridden"
    assert (by_id["clean"].code, by_id["clean"].threshold) == ("release.leak_free", 0.5)
    assert [(r["leak_threshold"], r["leak_verdict"]) for r in kept] == [(0.2, LEAKS), (0.5, "leak-free")]
    problems, _ = score_problems(kept, detector)
    assert problems == []


def test_a_run_threshold_looser_than_the_detectors_does_not_loosen_it(tmp_path):
    loose = run_folder(tmp_path, "loose", leak_filter={"threshold": 0.9})

    kept, decisions = leak_check([row("loose", "leaky", "q")], FixedDetector({"q": 0.6}),
                                 limits=RunLimitsByRun.of_runs([loose]))

    assert kept == [] and decisions[0].threshold == 0.5


def test_an_unreadable_run_config_is_one_line_not_a_guess(tmp_path):
    broken = run_folder(tmp_path, "broken", leak_filter={"threshold": 2})

    with pytest.raises(ValueError, match=r"config.json: leak_filter.threshold: Input should be less than or equal to 1$"):
        leak_check([row("broken", "r", "q")], FixedDetector({"q": 0.1}), limits=RunLimitsByRun.of_runs([broken]))


def test_make_release_holds_each_run_to_its_own_threshold(tmp_path):
    from pipeline.backends.minilm import default_embedder
    from pipeline.release.make import NothingToRelease, make_release
    from tests.support.release_runs import accepted_run

    strict = accepted_run(tmp_path / "runs", "strict", 3)
    (strict / "config.json").write_text(json.dumps({"leak_filter": {"threshold": 0.0}}), encoding="utf-8")
    plain = accepted_run(tmp_path / "runs", "plain", 3, start=3)

    with pytest.raises(NothingToRelease, match=r"release_leak_check: release.leaks \d"):
        make_release([strict], name="strict", releases_dir=tmp_path / "releases", embedder=default_embedder())
    folder = make_release([plain], name="plain", releases_dir=tmp_path / "releases", embedder=default_embedder())
    assert json.loads((folder / "manifest.json").read_text())["dropped"]["leaks"] == 0


def test_a_run_config_with_keys_this_leakless_does_not_know_still_gives_its_limits(tmp_path):
    # a section key renamed or dropped by a later version must not stop an older run's review or release
    older = run_folder(tmp_path, "older", leak_filter={"threshold": 0.3, "a_key_since_renamed": 1},
                       harm_check={"min_intent_similarity": 0.5, "model": "x"})
    limits = RunLimitsByRun.of_runs([older]).of("older")
    assert (limits.leak_threshold, limits.min_intent_similarity) == (0.3, 0.5)
