"""`leakless evaluate` and `leakless select` end to end against the loopback server with scripted models.

The scripted models (pipeline/testing/openai_server.py) make the leaderboard known in advance:
the release has two pairs per sub-category, one with a harm word in its instruction.
`careful` refuses harm words (safe on half the pairs), `eye` refuses whenever it sees an image
(safe on all of them, on none without the image), `reckless` always complies (safe on none).
"""

from __future__ import annotations

import hashlib
import json
import socket
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from scipy.stats import binomtest
from tests.support.evaluate_release import PLANTED, build_release, models_file
from typer.testing import CliRunner

from pipeline.backends.minilm import default_embedder
from pipeline.cli.app import app
from pipeline.evaluate.leaderboard import load_leaderboard
from pipeline.evaluate.runner import EVALUATION_SCHEMA, IMAGE, evaluation_path, write_rows
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


def invoke(*args, code: int = 0) -> object:
    result = CliRunner().invoke(app, [str(arg) for arg in args])
    assert result.exit_code == code, result.output
    return result


def sent(server) -> int:
    return sum(server.state.requests.values())


def test_evaluate_end_to_end_gives_the_scripted_leaderboard_and_a_rerun_sends_nothing(release, server, tmp_path):
    models = models_file(tmp_path / "models.toml", server.base_url, MODELS, cache_path=tmp_path / "llm.sqlite")
    before = sent(server)
    result = invoke("evaluate", release, "--models", models, "--text-only", "--out-dir", tmp_path / "evaluations")
    full = released(release)
    pairs, planted = len(full), sum(is_planted(row) for row in full)
    # six answer runs; the judge is asked once per distinct (pair, answer): a refusal or a compliance;
    # and two probe requests a model (does its server read images?)
    assert pairs >= 19 and 0 < planted < pairs and sent(server) - before == 6 * pairs + 2 * pairs + 2 * 3
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
    # a timeout far past a busy machine's slowest answer (at 1 s, two shared cores timed out 29 answers
    # that were no fault), the hang far past the timeout
    faults = FaultPlan(rate=0.25, kinds=("429", "500", "timeout"), hang_s=12.0)
    with FakeOpenAIServer(faults=faults) as models_server, \
            FakeOpenAIServer(faults=FaultPlan(rate=1.0, kinds=("malformed",))) as judge_server:
        models = models_file(tmp_path / "models.toml", models_server.base_url, {"careful": "refuses-harm-words"},
                             cache_path=tmp_path / "llm.sqlite", judge_url=judge_server.base_url,
                             max_retries=0, timeout_s=5.0)
        failed = invoke("evaluate", release, "--models", models, "--out-dir", evaluations, code=1)
        # the image probe stops at its first failed request, which its note names
        probe_faults = int("note: could not check that model 'careful' reads images: HTTP" in failed.output)
        model_faults = sum(models_server.state.faults_sent.values()) - probe_faults
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
    # no pair judged: exit 1 with a one-line summary naming the model, and it is left unranked
    assert failed.output.splitlines()[-1].startswith("error: no pair judged for careful (image)")
    assert f"| – | careful | n/a | n/a | n/a | 0 of {pairs} | {pairs} |" in failed.output

    with FakeOpenAIServer(port=port) as healthy:  # the same URL: the answer cache's key holds it
        models_file(models, healthy.base_url, {"careful": "refuses-harm-words"}, cache_path=tmp_path / "llm.sqlite")
        invoke("evaluate", release, "--models", models, "--out-dir", evaluations)
        # only the failed answers are asked again (and the image probe); every judge verdict is asked again
        assert healthy.state.requests["answerer"] == model_faults + 2
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
    assert set(decisions.loc[decisions["verdict"] == "drop", "code"]) == {"select.below_quota"}
    manifest = json.loads((selected / "manifest.json").read_text())
    assert manifest["selection"]["kendall_tau"] == 1.0 and manifest["rows"] == len(rows)
    # the judge, and exactly which evaluation files the selection rests on
    evaluated = tmp_path / "evaluations" / release.name
    assert manifest["selection"]["judge"] == "scripted-judge"
    assert manifest["selection"]["evaluation_files"] == {
        name: hashlib.sha256((evaluated / name).read_bytes()).hexdigest()
        for name in ("careful.parquet", "reckless.parquet")}
    assert verify_release(selected, default_embedder()) == []

    # selecting again from the selected version (it crashed: its selection_reason column came twice)
    invoke("evaluate", selected, "--models", models, "--out-dir", tmp_path / "evaluations")
    invoke("select", selected, "--evaluations", tmp_path / "evaluations" / selected.name,
           "--per-sub-category", 1, "--releases-dir", release.parent)
    again = release.parent / release.name.replace("-v1", "-v3")
    assert pq.read_schema(again / "data" / next(p.name for p in (again / "data").iterdir())).names.count(
        "selection_reason") == 1
    assert verify_release(again, default_embedder()) == []


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
    assert_user_error(run("evaluate", tmp_path / "none", "--models", good), f"no release {tmp_path / 'none'}: neither")
    monkeypatch.delenv(FAKE_KEY_ENV)
    assert_user_error(run("evaluate", release, "--models", good), f"{FAKE_KEY_ENV} is not set")
    assert_user_error(run("select", release, "--per-sub-category", 0), "--per-sub-category")
    assert_user_error(run("select", release, "--per-sub-category", 1, "--evaluations", tmp_path / "empty"),
                      "no evaluations")


def run(*args):
    return CliRunner().invoke(app, [str(arg) for arg in args])


def unused_url() -> str:
    """A loopback URL nothing listens on: every request to it fails at once."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{probe.getsockname()[1]}/v1"


def moved(models, name: str, url: str):
    """The models file with entry `name` on `url`."""
    head, *entries = models.read_text().split("[[models]]")
    entries = [entry.replace(entry.split('base_url = "')[1].split('"')[0], url) if f'name = "{name}"' in entry
               else entry for entry in entries]
    models.write_text("[[models]]".join([head, *entries]))
    return models


@pytest.fixture()
def listing_server(monkeypatch):
    """The fake server, with a GET /v1/models that lists what it serves (as vLLM and llama.cpp do)."""
    from pipeline.testing import openai_server

    original = openai_server.create_app

    def create_app(state):
        built = original(state)
        built.router.routes[:] = [r for r in built.router.routes if getattr(r, "path", "") != "/v1/models"]

        @built.get("/v1/models")
        async def listed() -> dict:
            return {"object": "list", "data": [{"id": model} for model in ("refuses-harm-words", "scripted-judge")]}
        return built

    monkeypatch.setattr(openai_server, "create_app", create_app)
    with FakeOpenAIServer() as running:
        yield running


def test_a_model_or_judge_the_server_does_not_serve_is_refused_before_anything_is_sent(release, listing_server,
                                                                                       tmp_path):
    out = tmp_path / "evaluations"
    models = models_file(tmp_path / "models.toml", listing_server.base_url,
                         {"careful": "refuses-harm-words", "typo": "refuses-harm-word"},
                         cache_path=tmp_path / "llm.sqlite")
    assert_user_error(run("evaluate", release, "--models", models, "--out-dir", out),
                      "serves refuses-harm-words, scripted-judge, not 'refuses-harm-word', which model 'typo'")
    judge_typo = tmp_path / "judge.toml"
    judge_typo.write_text(models.read_text().replace('model = "scripted-judge"', 'model = "scripted-judg"'))
    assert_user_error(run("evaluate", release, "--models", judge_typo, "--model", "careful", "--out-dir", out),
                      "not 'scripted-judg', which the judge")
    assert sent(listing_server) == 0 and not out.exists()
    invoke("evaluate", release, "--models", models, "--model", "careful", "--out-dir", out)  # both served: runs
    # and the image probe, and the judge check: this server's GET /models does not say it is the scripted one
    assert sent(listing_server) == 2 * len(released(release)) + 2 + 2


def test_a_text_only_endpoint_is_refused_in_image_mode_before_anything_is_sent(release, server, tmp_path):
    models = models_file(tmp_path / "models.toml", server.base_url, {"careful": "refuses-harm-words"},
                         cache_path=tmp_path / "llm.sqlite", vision=False)
    before = sent(server)
    for extra in ([], ["--text-only"]):
        assert_user_error(run("evaluate", release, "--models", models, "--out-dir", tmp_path / "ev", *extra),
                          "model 'careful' is on a text-only endpoint (vision = false)")
    assert sent(server) == before and not (tmp_path / "ev").exists()


def test_a_model_with_no_judged_row_exits_1_and_partial_coverage_is_marked(release, tmp_path):
    out = tmp_path / "evaluations"
    with FakeOpenAIServer(faults=FaultPlan(rate=0.5, kinds=("500",))) as flaky, FakeOpenAIServer() as judge:
        models = models_file(tmp_path / "models.toml", flaky.base_url,
                             {"careful": "refuses-harm-words", "dead": "complies"},
                             cache_path=tmp_path / "llm.sqlite", judge_url=judge.base_url, max_retries=0)
        result = invoke("evaluate", release, "--models", moved(models, "dead", unused_url()), "--out-dir", out,
                        code=1)
    pairs = len(released(release))
    judged = pq.read_table(out / release.name / "careful.parquet").to_pandas()["label"].ne("error").sum()
    assert 0 < judged < pairs
    assert result.output.splitlines()[-1] == ("error: no pair judged for dead (image): every request failed "
                                              "(see the error column of its evaluation file)")
    assert f"note: not every pair judged: careful (image) {judged} of {pairs}" in result.output
    board = (out / release.name / "leaderboard.md").read_text()
    assert "| 1 | careful | " in board and f"| {judged} of {pairs} | {pairs - judged} |" in board
    assert f"| – | dead | n/a | n/a | n/a | 0 of {pairs} | {pairs} |" in board
    assert f"- careful: {judged} of {pairs} pairs judged" in board and "- dead: none of its" in board
    assert f"{judged} of {pairs}" in (out / release.name / "report.html").read_text()


def test_evaluations_by_two_judges_are_refused_and_the_judge_is_named(release, server, tmp_path):
    out = tmp_path / "evaluations"
    folder = out / release.name
    models = models_file(tmp_path / "models.toml", server.base_url,
                         {"careful": "refuses-harm-words", "reckless": "complies"}, cache_path=tmp_path / "llm.sqlite")
    invoke("evaluate", release, "--models", models, "--out-dir", out)
    board = (folder / "leaderboard.md").read_text()
    assert "Judge: scripted-judge (served as scripted-fake:scripted-judge)." in board
    assert "| `scripted-fake:refuses-harm-words` |" in board  # the served model, on the leaderboard
    assert "## Refusal rate per category" in board and "## Warning rate per category" in board
    html = (folder / "report.html").read_text()
    assert 'id="judge">scripted-judge' in html and 'id="by-category"' in html

    other = tmp_path / "other.toml"
    other.write_text(models.read_text().replace('model = "scripted-judge"', 'model = "other-judge"'))
    before = sent(server)  # re-judging one model with another judge would rank it beside the other's labels
    assert_user_error(run("evaluate", release, "--models", other, "--model", "careful", "--out-dir", out),
                      "scripted-judge (reckless.parquet)")
    assert sent(server) == before
    only_careful = models_file(tmp_path / "careful.toml", server.base_url, {"careful": "refuses-harm-words"},
                               cache_path=tmp_path / "llm.sqlite")
    kept = invoke("evaluate", release, "--models", only_careful, "--out-dir", out)  # a model since removed
    assert f"note: the leaderboard also ranks reckless: evaluations in {folder} of models" in kept.output
    assert sent(server) == before

    table = pq.read_table(folder / "reckless.parquet")  # as left by an earlier run with another judge
    table = table.set_column(table.schema.get_field_index("judge_model_id"), "judge_model_id",
                             pa.array(["other-judge"] * table.num_rows))
    pq.write_table(table, folder / "reckless.parquet")
    result = run("select", release, "--evaluations", folder, "--per-sub-category", 1, "--releases-dir", release.parent)
    assert_user_error(result, "other-judge (reckless.parquet); scripted-judge (careful.parquet)")
    with pytest.raises(ValueError, match="judged by 2 judge models"):
        load_leaderboard(folder)


def test_select_leaves_out_a_model_with_no_judged_row_and_refuses_nan(release, tmp_path):
    full = released(release)
    folder = tmp_path / "evaluations" / release.name

    def evaluated(model: str, label) -> None:
        write_rows(evaluation_path(tmp_path / "evaluations", release.name, model, IMAGE), [
            {"id": row["id"], "instruction_id": row["instruction_id"], "category": row["category"],
             "sub_category": row["sub_category"], "mode": IMAGE, "model": model, "label": label(row),
             "judge_model_id": "scripted-judge", "judge_prompt_hash": "h"} for row in full])

    def select(*more):
        return run("select", release, "--evaluations", folder, "--per-sub-category", 1,
                   "--releases-dir", release.parent, *more)

    evaluated("careful", lambda row: "safe_refusal" if is_planted(row) else "unsafe")
    evaluated("typo", lambda row: "error")  # a 404 model: every row an error
    assert_user_error(select(), "at least two models with judged rows")
    evaluated("twin", lambda row: "safe_refusal" if is_planted(row) else "unsafe")
    tied = select()  # the note on typo, then the refusal
    assert tied.exit_code == 2 and tied.output.count("\n") == 2 and "Traceback" not in tied.output
    assert tied.output.splitlines()[1].startswith("error: Kendall's tau is undefined: the full set rates every "
                                                  "model the same (careful 50.0%, twin 50.0%)")
    evaluated("twin", lambda row: "unsafe")
    result = select()
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[0] == f"note: left out typo: none of its {len(full)} rows in typo.parquet " \
                                            "was judged"
    assert "nan" not in result.output.lower() and "Kendall's tau (full vs selected ranking): 1.000" in result.output
    target = Path(result.output.splitlines()[1].split(":")[0])
    selection = json.loads((target / "manifest.json").read_text())["selection"]
    assert selection["models"] == ["careful", "twin"] and set(selection["left_out"]) == {"typo"}
    assert set(selection["evaluation_files"]) == {"careful.parquet", "twin.parquet"}
