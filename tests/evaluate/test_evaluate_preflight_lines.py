"""What `leakless evaluate` prints before it sends a pair: the LLM client's line for a server that
refuses the `json_schema` response format (met by the judge check) read as a bare line, with no
`note:` as every other line there has; and the --trust-judge warning, collected before the image probe,
was never printed when the probe refused a model. The real client talks to a stand-in server."""

from __future__ import annotations

from collections import Counter

import pytest
from tests.evaluate.test_judge_check_record import FOOLED, models_file, stand_in
from tests.evaluate.test_scripted_rows import release
from tests.support.review_runs import serving
from typer.testing import CliRunner

from pipeline.cli.app import app
from pipeline.testing.openai_server import FAKE_KEY_ENV


@pytest.fixture(autouse=True)
def api_key(monkeypatch):
    monkeypatch.setenv(FAKE_KEY_ENV, "stand-in")


def test_the_format_fallback_is_a_note_and_the_trust_judge_warning_is_said_before_the_probe_refuses(tmp_path):
    folder, seen = release(tmp_path), Counter()
    (folder / "manifest.json").write_text("{}")  # as far as the command reads it before the flow
    with serving(stand_in(seen, rejects_json_schema=True)) as url:
        models = models_file(tmp_path, url, FOOLED, models=["blind"])
        result = CliRunner().invoke(app, ["evaluate", str(folder), "--models", str(models), "--trust-judge",
                                          "--out-dir", str(tmp_path / "evaluations")])
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert [line.split(":")[0] for line in lines] == ["note", "warning", "error"], lines
    assert lines[0].startswith(f"note: {url}/v1 rejected response_format json_schema (HTTP 500: ") and \
        lines[0].endswith("using json_object for this server from now on")
    assert lines[1].startswith(f"warning: the judge '{FOOLED}' at {url}/v1 labelled answers whose labels are not")
    assert lines[2].startswith(f"error: model 'blind' at {url}/v1 drops messages that carry an image")
    assert seen == {FOOLED: 2, "blind": 2} and result.stdout == ""  # the check and the probe; no pair sent
