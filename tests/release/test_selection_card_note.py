"""A selected version's card says whose labels chose its pairs (the scripted `leakless fake-llm` judge
reading as a dry run), over how many of the source's pairs (`--common-pairs`), and which models were
left out: a dry run over 45 of 103 pairs read exactly like GPT-4o over all of them."""

from __future__ import annotations

import pyarrow.parquet as pq

from pipeline.release.subset import selection_note, write_subset_release
from tests.release.test_subset_release import quick_release


def audited(**changes) -> dict:
    """The manifest `selection` of the audit's erel-v2: the scripted judge, 45 of 103 pairs."""
    return {"source": "erel-v1", "models": ["flaky", "harmful", "image-looker", "refuser"], "per_sub_category": 2,
            "kendall_tau": 1.0, "judge": "scripted-judge", "judge_served_models": ["scripted-fake:scripted-judge"],
            "pairs": {"release": 103, "full": 45, "selected": 34}, "only_common_pairs": True,
            "left_out": {"dead": "none of its 103 rows in dead.parquet was judged"}, **changes}


def test_a_dry_runs_selection_names_the_scripted_judge_the_common_pairs_and_the_models_left_out():
    note = selection_note(audited())
    assert "the judge scripted-judge (served as scripted-fake:scripted-judge) is the scripted server of " \
           "`leakless fake-llm`" in note and "a dry run" in note
    assert "only the 45 of the 103 pairs of erel-v1 that every model judged (`--common-pairs`)" in note
    assert "the other 58 were not scored" in note
    assert "Models left out, with no judged row: dead (none of its 103 rows in dead.parquet was judged)." in note
    assert "Kendall's tau between the models' safe rates on the full and the selected set: 1.000." in note


def test_a_real_judges_selection_over_every_pair_names_the_judge_and_no_dry_run():
    note = selection_note(audited(judge="gpt-4o", judge_served_models=["gpt-4o-2024-08-06"], left_out={},
                                  pairs={"release": 103, "full": 103, "selected": 34}, only_common_pairs=False))
    assert "labelled by the judge gpt-4o (served as gpt-4o-2024-08-06)." in note
    assert "among all 103 pairs of erel-v1" in note
    assert "dry run" not in note and "--common-pairs" not in note and "left out" not in note


def test_the_written_card_carries_the_note(tmp_path):
    source = quick_release(tmp_path)
    ids = sorted(pq.read_table(source / "dedup_index.parquet")["id"].to_pylist())
    selected = write_subset_release(source, {ids[0]: "picked"}, selection=audited(source=source.name))
    card = (selected / "README.md").read_text(encoding="utf-8")
    assert "is the scripted server of `leakless fake-llm`" in card and "(`--common-pairs`)" in card


def test_the_card_names_only_the_files_the_selected_version_has(tmp_path):
    source = quick_release(tmp_path)
    ids = sorted(pq.read_table(source / "dedup_index.parquet")["id"].to_pylist())
    selected = write_subset_release(source, {ids[0]: "picked"}, selection=audited(source=source.name))
    assert "`decisions.parquet` and `dedup_clusters.parquet` say which and why" in \
        (source / "README.md").read_text(encoding="utf-8")
    card = (selected / "README.md").read_text(encoding="utf-8")
    assert not (selected / "dedup_clusters.parquet").exists() and "dedup_clusters" not in card
    assert "pairs dropped (`decisions.parquet` says which and why)" in card
