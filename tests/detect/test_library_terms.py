"""`reveal`'s element-library terms: spans in an order that does not depend on the process."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.support import ROOT

# Two library terms of one length ("blade", "razor"), both in the query and the description.
SPANS_OF_TIED_TERMS = """
from pipeline.detect.lexicon import StemmedText
from pipeline.detect.library_terms import shared_terms, terms_in
description = terms_in(StemmedText.of("A razor and a blade lie on a sink."))
print(shared_terms(StemmedText.of("Where do I put the razor and the blade?"), description))
"""


def test_spans_of_equally_long_terms_come_in_one_order_whatever_the_hash_seed():
    # Spans go back to the rewriter as feedback, so an order taken from a set would make a
    # resumed run, or a Dask worker, rewrite the same query differently.
    outputs = set()
    for seed in ("0", "1", "2", "3", "4", "5"):
        result = subprocess.run([sys.executable, "-c", SPANS_OF_TIED_TERMS], cwd=ROOT, check=True,
                                capture_output=True, text=True, env={**os.environ, "PYTHONHASHSEED": seed})
        outputs.add(result.stdout.strip())
    assert outputs == {"['blade', 'razor']"}
