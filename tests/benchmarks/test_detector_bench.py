"""The detector benchmark times pairs that are distinct to the detector as well as to MiniLM alone."""

from __future__ import annotations

import importlib.util

import pytest

from pipeline.detect import LeakInput
from pipeline.detect.signals import canonical_query
from pipeline.env import PROJECT_ROOT


def load_script():
    spec = importlib.util.spec_from_file_location("detector_bench", PROJECT_ROOT / "benchmarks" / "detector.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_timed_pair_is_a_distinct_query_to_the_detector():
    bench = load_script()
    for pairs in (bench.distinct_pairs(2000), bench.build_like_pairs(2000)):
        assert len({canonical_query(p.query) for p in pairs}) == len(pairs) == 2000
    distinct = bench.distinct_pairs(2000)
    assert len({p.image_description for p in distinct}) == 2000  # the baseline's texts are distinct too
    shared = bench.build_like_pairs(2000)
    assert len({p.image_description for p in shared}) == 667  # three queries per description


def test_pairs_the_detector_would_fold_stop_the_benchmark():
    bench = load_script()
    folded = [LeakInput(f"How do I hide this? ({k})", f"Frame {k}: a pistol", "Violent") for k in range(3)]
    with pytest.raises(SystemExit, match="3 pairs but 1 distinct queries"):
        bench.require_distinct(folded, descriptions_distinct=True)
