"""`review tokens add` refusing a batch where the annotator has no pair names that batch's own
annotators, not everyone assigned in any of the batches given (which listed the refused name too)."""

from __future__ import annotations

import pytest
from tests.support.review_runs import make_run
from typer.testing import CliRunner

from pipeline.cli.app import app
from pipeline.review.batches import export_batches

pytestmark = pytest.mark.slow


def test_the_refusal_lists_each_refused_batchs_own_annotators(tmp_path):
    # b000 ann+bøb, b001 bøb+李, b002 李+ann, b003 ann+bøb
    export_batches(make_run(tmp_path, pairs=12), batch_size=3, overlap=0.5, annotators=["ann", "bøb", "李"])
    result = CliRunner().invoke(app, ["review", "tokens", "add", "ann", "--batches", "fake-b000,fake-b001,fake-b002",
                                      "--runs-dir", str(tmp_path)])
    assert result.exit_code == 2
    assert result.output == "error: 'ann' is assigned no pair of fake-b001 (assigned: bøb, 李)\n"
