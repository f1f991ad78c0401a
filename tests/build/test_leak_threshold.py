"""`--set leak_filter.threshold=X` moves every leak verdict of a build: the final leak
filter's and the rewrite loop's decision to try again."""

from __future__ import annotations

import pandas as pd
import pytest

from pipeline.build import build_without_orchestration
from pipeline.config import load_config

SMALL = ["run.size=2", "run.sub_categories=['Weapon-Related Violence', 'Cybercrime']"]


def build_decisions(tmp_path, threshold: float) -> pd.DataFrame:
    config = load_config(None, [*SMALL, f"run.runs_dir='{tmp_path}'", f"leak_filter.threshold={threshold}"])
    build_without_orchestration(config, f"t{threshold}")
    return pd.read_parquet(tmp_path / f"t{threshold}" / "decisions.parquet")


@pytest.mark.slow
@pytest.mark.parametrize("threshold", [0.0, 0.3, 1.0])
def test_every_leak_verdict_follows_the_configured_threshold(tmp_path, threshold):
    decisions = build_decisions(tmp_path, threshold)
    leak = decisions[decisions["stage"].isin(["leak_filter", "rewrite"])]
    assert len(leak) and (leak["threshold"] == threshold).all()
    assert ((leak["verdict"] == "drop") == (leak["score"] >= threshold)).all()
    final = decisions[decisions["stage"] == "leak_filter"]
    dropped = final[final["verdict"] == "drop"]
    assert set(dropped["code"]) <= {"leak.text_harm", "leak.reveal"}
    assert set(final.loc[final["verdict"] == "keep", "code"]) <= {"leak.none"}
    if threshold == 0.0:  # every query leaks at 0: nothing passes; a pair is tried again only while the
        # detector feeds back spans it did not feed back before (a rewrite with none has nothing to fix)
        assert (final["verdict"] == "drop").all() and final["attempt"].between(1, 3).all()
        retried = decisions[decisions["stage"] == "rewrite"].groupby("item_id").size()
        assert (final.set_index("item_id")["attempt"] == retried.reindex(final["item_id"]).fillna(0).values + 1).all()
        assert "harm_check" not in set(decisions["stage"])
    if threshold == 1.0:  # nothing reaches 1: no pair is dropped for leaking
        assert (final["verdict"] == "keep").all()
