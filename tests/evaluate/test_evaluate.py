"""`leakless evaluate` and `leakless select` end to end against the loopback server with scripted models.

The scripted models (pipeline/testing/openai_server.py) make the leaderboard known in advance:
the release has two pairs per sub-category, one with a harm word in its instruction.
`careful` refuses harm words (safe on half the pairs), `eye` refuses whenever it sees an image
(safe on all of them, on none without the image), `reckless` always complies (safe on none).
"""

from __future__ import annotations

import json

import pyarrow.parquet as pq
import pytest
from scipy.stats import binomtest
from tests.support.evaluate_release import PLANTED, build_release, models_file
from typer.testing import CliRunner

from pipeline.backends.minilm import default_embedder
from pipeline.cli.app import app
from pipeline.evaluate.leaderboard import load_leaderboard
from pipeline.evaluate.runner import EVALUATION_SCHEMA
from pipeline.prompts import prompt_hash
from pipeline.release.verify import verify_release
from pipeline.testing.openai_server import FAKE_KEY_ENV, FakeOpenAIServer, FaultPlan

pytestmark = pytest.mark.slow
MODELS = {"careful": "refuses-harm-words", "eye": "refuses-image", "reckless": "complies"}


@pytest.fixture(scope="module")
def release(tmp_path_factory):
    return build_release(tmp_path_factory.mktemp("evaluate"), per_sub_category=2, planted=1)


@pytest.fixture(scope="module")
def server():
    with FakeOpenAIServer() as running:
        yield running


@pytest.fixture(autouse=True)
def api_key(monkeypatch):
    monkeypatch.setenv(FAKE_KEY_ENV, "sk-test")


@pytest.fixture(autouse=True)
def prefect(prefect_harness):
    """`leakless evaluate` runs a Prefect flow: against the session's temporary server."""
    yield


def released(release) -> list[dict]:
    return pq.read_table(release / "data").to_pylist()


def is_planted(row: dict) -> bool:
    return row["instruction"].startswith(PLANTED.split("(")[0])


def invoke(*args) -> object:
    result = CliRunner().invoke(app, [str(arg) for arg in args])
    assert result.exit_code == 0, result.output
    return result


def sent(server) -> int:
    return sum(server.state.requests.values())


def test_evaluate_end_to_end_gives_the_scripted_leaderboard_and_a_rerun_sends_nothing(release, server, tmp_path):
    models = models_file(tmp_path / "models.toml", server.base_url, MODELS, cache_path=tmp_path / "llm.sqlite")
    before = sent(server)
    result = invoke("evaluate", release, "--models", models, "--text-only", "--out-dir", tmp_path / "evaluations")
    full = released(release)
    pairs, planted = len(full), sum(is_planted(row) for row in full)
    # six answer runs; the judge is asked once per distinct (pair, answer): a refusal or a compliance
    assert pairs >= 19 and 0 < planted < pairs and sent(server) - before == 6 * pairs + 2 * pairs
    folder = tmp_path / "evaluations" / release.name

    board = load_leaderboard(folder)
    safe = {s.model: (s.safe.hits, s.safe.total) for s in board.overall}
    assert safe == {"eye": (pairs, pairs), "careful": (planted, pairs), "reckless": (0, pairs)}
    assert [s.model for s in board.overall] == ["eye", "careful", "reckless"]
    careful = next(s for s in board.overall if s.model == "careful")
    wilson = binomtest(planted, pairs).proportion_ci(method="wilson")
    assert careful.safe.low == pytest.approx(wilson.low) and careful.safe.high == pytest.approx(wilson.high)
    expected = {category: sum(is_planted(r) for r in full if r["category"] == category)
                / sum(r["category"] == category for r in full) for category in board.categories}
    assert {c.category: c.safe.value for c in board.by_category["careful"]} == pytest.approx(expected)
    gaps = {g.model: g.difference for g in board.gaps}
    assert gaps == {"eye": 1.0, "careful": 0.0, "reckless": 0.0}
    assert "| 1 | eye | 100.0%" in result.output and f"| 2 | careful | {planted / pairs:.1%}" in result.output

    rows = pq.read_table(folder / "careful.parquet")
    assert rows.schema.names == EVALUATION_SCHEMA.names and rows.num_rows == pairs
    rows = rows.to_pylist()
    planted = {row["id"] for row in rows if row["label"] == "safe_refusal"}
    assert planted == {row["id"] for row in full if is_planted(row)}
    assert all(row["answer_prompt_hash"] == prompt_hash("answerer.j2") for row in rows)
    assert all(row["judge_prompt_hash"] == prompt_hash("safety_judge.j2") for row in rows)
    assert all(row["served_model"] == "scripted-fake:refuses-harm-words" and row["rationale"] for row in rows)
    assert all(row["latency_s"] > 0 and row["prompt_tokens"] > 0 for row in rows)
    assert (folder / "leaderboard.md").read_text().startswith(f"# Leaderboard: {release.name}")
    assert 'class="fill"' in (folder / "report.html").read_text()

    before = sent(server)
    again = invoke("evaluate", release, "--models", models, "--text-only", "--out-dir", tmp_path / "evaluations")
    assert sent(server) == before
    assert again.output.count(f"{pairs} kept from an earlier run, 0 evaluated") == 6


def test_faults_end_as_recorded_errors_and_the_next_run_fills_them_in(release, tmp_path):
    evaluations = tmp_path / "evaluations"
    faults = FaultPlan(rate=0.25, kinds=("429", "500", "timeout"), hang_s=3.0)
    with FakeOpenAIServer(faults=faults) as models_server, \
            FakeOpenAIServer(faults=FaultPlan(rate=1.0, kinds=("malformed",))) as judge_server:
        models = models_file(tmp_path / "models.toml", models_server.base_url, {"careful": "refuses-harm-words"},
                             cache_path=tmp_path / "llm.sqlite", judge_url=judge_server.base_url,
                             max_retries=0, timeout_s=1.0)
        invoke("evaluate", release, "--models", models, "--out-dir", evaluations)
        model_faults = sum(models_server.state.faults_sent.values())
        port = models_server.port
    pairs = len(released(release))
    rows = pq.read_table(evaluations / release.name / "careful.parquet").to_pylist()
    assert len(rows) == pairs and len({row["id"] for row in rows}) == pairs  # no row lost
    assert all(row["label"] == "error" for row in rows)
    model_errors = [row for row in rows if row["error"].startswith("model: ")]
    assert len(model_errors) == model_faults > 0
    kinds = {row["error"].split(":")[2].strip() for row in model_errors}  # "model: gave up ...: <kind>: ..."
    assert kinds == {"HTTP 429", "HTTP 500", "timeout"}
    judge_errors = [row for row in rows if row["error"].startswith("judge: invalid answer after one repair")]
    assert len(judge_errors) == pairs - model_faults and all(row["answer"] for row in judge_errors)

    with FakeOpenAIServer(port=port) as healthy:  # the same URL: the answer cache's key holds it
        models_file(models, healthy.base_url, {"careful": "refuses-harm-words"}, cache_path=tmp_path / "llm.sqlite")
        invoke("evaluate", release, "--models", models, "--out-dir", evaluations)
        # only the failed answers are asked again; every judge verdict is asked again
        assert healthy.state.requests["answerer"] == model_faults
        assert healthy.state.requests["safety_judge"] == pairs
    rows = pq.read_table(evaluations / release.name / "careful.parquet").to_pylist()
    assert len(rows) == pairs and not [row for row in rows if row["label"] == "error"]


def test_select_keeps_the_planted_pairs_and_the_ranking(release, server, tmp_path):
    models = models_file(tmp_path / "models.toml", server.base_url,
                         {"careful": "refuses-harm-words", "reckless": "complies"}, cache_path=tmp_path / "llm.sqlite")
    invoke("evaluate", release, "--models", models, "--out-dir", tmp_path / "evaluations")
    result = invoke("select", release, "--evaluations", tmp_path / "evaluations" / release.name,
                    "--per-sub-category", 1, "--releases-dir", release.parent)
    assert "Kendall's tau (full vs selected ranking): 1.000" in result.output
    selected = release.parent / release.name.replace("-v1", "-v2")
    rows = pq.read_table(selected / "data").to_pylist()
    full = pq.read_table(release / "data").to_pylist()
    planted = {row["id"] for row in full if is_planted(row)}
    with_planted = {row["sub_category"] for row in full if is_planted(row)}
    # every planted pair its sub-category kept is selected; a sub-category the release kept none for
    # fills its quota with a pair the models agree on
    assert {row["id"] for row in rows if row["sub_category"] in with_planted} == planted
    assert all(row["selection_reason"].startswith("select.separates" if row["id"] in planted else "select.quota_fill")
               for row in rows)
    by_id = {row["id"]: row for row in full}
    assert all({k: v for k, v in row.items() if k != "selection_reason"} == by_id[row["id"]] for row in rows)
    assert len({row["sub_category"] for row in rows}) == len({row["sub_category"] for row in full})
    decisions = pq.read_table(selected / "decisions.parquet").to_pandas()
    assert len(decisions) == len(full) and (decisions["verdict"] == "keep").sum() == len(rows)
    assert set(decisions.loc[decisions["verdict"] == "drop", "reason"]) == {"select.below_quota"}
    manifest = json.loads((selected / "manifest.json").read_text())
    assert manifest["selection"]["kendall_tau"] == 1.0 and manifest["rows"] == len(rows)
    assert verify_release(selected, default_embedder()) == []


def assert_user_error(result, fragment: str) -> None:
    assert result.exit_code == 2, result.output
    assert result.output.count("\n") == 1 and fragment in result.output and "Traceback" not in result.output


def test_bad_models_files_and_arguments_are_one_line_errors(release, server, tmp_path, monkeypatch):
    def run(*args):
        return CliRunner().invoke(app, [str(arg) for arg in args])

    good = models_file(tmp_path / "models.toml", server.base_url, MODELS, cache_path=tmp_path / "llm.sqlite")
    assert_user_error(run("evaluate", release, "--models", tmp_path / "nope.toml"), "models file not found")
    (tmp_path / "bad.toml").write_text(good.read_text() + "colour = 1\n")
    assert_user_error(run("evaluate", release, "--models", tmp_path / "bad.toml"), "colour: unknown key")
    twice = models_file(tmp_path / "twice.toml", server.base_url, {"a": "complies"}, cache_path=tmp_path / "c")
    (tmp_path / "twice.toml").write_text(twice.read_text() + twice.read_text().split("\n\n", 2)[2])
    assert_user_error(run("evaluate", release, "--models", twice), "model names must be unique")
    assert_user_error(run("evaluate", release, "--models", good, "--model", "ghost"), "no model 'ghost'")
    assert_user_error(run("evaluate", tmp_path / "none", "--models", good), "is not a release")
    monkeypatch.delenv(FAKE_KEY_ENV)
    assert_user_error(run("evaluate", release, "--models", good), f"{FAKE_KEY_ENV} is not set")
    assert_user_error(run("select", release, "--per-sub-category", 0), "--per-sub-category")
    assert_user_error(run("select", release, "--per-sub-category", 1, "--evaluations", tmp_path / "empty"),
                      "no evaluations")
