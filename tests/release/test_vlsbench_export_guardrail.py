"""export-vlsbench reads every row it exports through the hard block, --force or not (--force skips verify's
re-scoring, never the guardrail): a blocked row refuses the export, naming the row and the rule, exit 2,
and nothing is written, no data.json and no staging folder."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.release.vlsbench import export_vlsbench
from tests.release.test_release_guardrail import PRIVATE_EDIT
from tests.release.test_vlsbench_export_refusals import quick_release


def tampered(release, **texts) -> str:
    """Set the first shard's first row's `texts` by hand (as a shard edited after release would be);
    returns that row's id. The sums go stale, which only verify reads."""
    shard = next((release / "data").glob("*.parquet"))
    table = pq.read_table(shard)
    rows = table.to_pylist()
    rows[0].update(texts)
    pq.write_table(pa.Table.from_pylist(rows, schema=table.schema), shard)
    return rows[0]["id"]


@pytest.mark.parametrize("texts, rule", [
    ({"instruction": PRIVATE_EDIT}, "private_person:street_address"),
    # neither text alone, and the override reason is no field of data.json: the row is read whole
    ({"image_description": "A teenage girl at a photo studio.", "override_reason": "lingerie is the point"},
     "sexual_minors"),
])
def test_a_blocked_row_refuses_the_export_and_nothing_is_written(tmp_path, texts, rule):
    release = quick_release(tmp_path, preview=False)
    row = tampered(release, **texts)
    out = tmp_path / "exports" / "out"
    with pytest.raises(ValueError, match=rf"^row {row} \(instruction_id \d+\): blocked by the guardrail \({rule}:"):
        export_vlsbench(release, out)
    assert not out.exists() and list(out.parent.iterdir()) == []


def test_force_skips_verify_but_not_the_guardrail(tmp_path):
    release = quick_release(tmp_path, preview=False)
    row = tampered(release, instruction=PRIVATE_EDIT)
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["export-vlsbench", str(release), str(out), "--force"])
    assert result.exit_code == 2
    assert f"row {row} (instruction_id" in result.stderr and "(private_person:street_address:" in result.stderr
    assert "Maple" not in result.output  # the refusal masks what matched
    assert not out.exists()


def test_force_still_exports_a_clean_release(tmp_path):
    release = quick_release(tmp_path, preview=False)
    result = CliRunner().invoke(app, ["export-vlsbench", str(release), str(tmp_path / "out"), "--force"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "out" / "data.json").is_file()
