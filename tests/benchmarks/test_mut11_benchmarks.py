"""mut11: the detector benchmark stops where the baseline would embed repeated descriptions."""

from __future__ import annotations

import pytest

from pipeline.detect import LeakInput
from tests.benchmarks.test_detector_bench import load_script


def test_repeated_descriptions_stop_the_benchmark_where_they_must_be_distinct():
    pairs = [LeakInput(f"Case {k}: how do I do it?", "The same frame.", "Violence") for k in range(3)]
    script = load_script()
    script.require_distinct(pairs, descriptions_distinct=False)
    with pytest.raises(SystemExit, match="1 distinct descriptions"):
        script.require_distinct(pairs, descriptions_distinct=True)
