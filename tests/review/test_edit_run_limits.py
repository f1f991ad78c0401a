"""An edit is judged by its run's own bars, read from the run's config.json: the stricter of the run's
`leak_filter.threshold` and the detector's, and the run's `harm_check.min_intent_similarity`. An edit
that clears the detector's 0.5 but not the run's threshold, or keeps less intent than the run asks,
is flagged and counts only with an override; the threshold it was judged by is kept with it."""

from __future__ import annotations

import json
import re

from tests.support.review_runs import make_run

from pipeline.review.batches import export_batches, load_batches
from pipeline.review.scoring import EditScorer

CLEAN = "how could I hide what is on the table?"  # scores 0.050, intent similarity about 0.52 to the original
ITEM = "/batch/fake-b000/0"


def set_run_config(runs_dir, **sections) -> None:
    (runs_dir / "fake" / "config.json").write_text(json.dumps(sections), encoding="utf-8")


def post_edit(client, **fields):
    page = client.get(ITEM).text
    keys = {name: re.search(rf'name="{name}" value="([^"]*)"', page).group(1) for name in ("csrf", "pair_id", "shown")}
    return client.post(ITEM, data={**keys, "action": "edit", "edited_query": CLEAN, **fields})


def test_an_edit_is_flagged_by_the_runs_threshold_and_intent_floor(review, tmp_path, detector):
    client, store, _ = review
    set_run_config(tmp_path, leak_filter={"threshold": 0.04}, harm_check={"min_intent_similarity": 0.6})

    flagged = post_edit(client)

    assert flagged.status_code == 409 and store.current(run_id="fake") == []
    assert "leaks: score 0.050 &gt;= threshold 0.040" in flagged.text and "threshold 0.040)" in flagged.text
    assert re.search(r"intent drifted \(similarity 0\.5\d\d &lt; 0\.600\)", flagged.text)
    assert post_edit(client, override="1", override_reason="vague enough here").status_code == 303
    (event,) = store.current(run_id="fake")
    assert event.leak_threshold == 0.04 and event.harm_verdict == "drop" and event.override_reason


def test_the_stricter_of_the_runs_threshold_and_the_detectors_is_used(tmp_path, detector):
    export_batches(make_run(tmp_path, pairs=1), batch_size=1)
    item = next(iter(load_batches(tmp_path / "fake")[0].items.values()))
    thresholds = {}
    for run_threshold in (0.04, 0.99):
        set_run_config(tmp_path, leak_filter={"threshold": run_threshold})
        thresholds[run_threshold] = EditScorer(detector, runs_dir=tmp_path).check(item, CLEAN).threshold

    assert thresholds == {0.04: 0.04, 0.99: detector.threshold}
