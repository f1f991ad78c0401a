"""`leakless extend` run nightly: a growth whose every request fails is exit 1 after building what
there is, the table printed last is the one it built from, bad lines of the elements file are named,
a killed run resumes with fewer workers or other timeouts, and a missing API key fails the flow in
one line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pipeline.cli.app import app
from pipeline.config import load_config
from pipeline.extend import extension_run_id, grow_run_id, load_targets, plan_from_files, prepare_run
from pipeline.records import content_id
from pipeline.taxonomy import load_elements
from pipeline.testing.openai_server import FAKE_KEY_ENV, FakeOpenAIServer, FaultPlan

CYBER = "Cybercrime"
FIRST_CYBER = next(element for element in load_elements() if element.sub_category == CYBER)


def growing_targets(tmp_path: Path, base_url: str, library_lines: list[str] | None = None) -> Path:
    """A one-element library of Cybercrime, a target of 4 pairs (2 seeds at 3 pairs per seed) and an
    element writer at `base_url`: one element to grow."""
    library = tmp_path / "library.jsonl"
    library.write_text("".join(line + "\n" for line in library_lines or [FIRST_CYBER.model_dump_json()]))
    sets = ["backends.element_writer='llm'", f"elements.store='{tmp_path / 'store'}'", "run.batch_size=64",
            f"run.elements_file='{library}'", f"llm.endpoints.default.base_url='{base_url}'",
            "llm.endpoints.default.max_retries=0", f"llm.endpoints.default.api_key_env='{FAKE_KEY_ENV}'",
            f"llm.cache_path='{tmp_path / 'llm.sqlite'}'"]
    targets = tmp_path / "targets.toml"
    targets.write_text("\n".join([
        'name = "bench"', f"runs_dir = '{tmp_path / 'runs'}'", f"releases_dir = '{tmp_path / 'releases'}'",
        f"overrides = {json.dumps(sets)}", "[targets]", f'"{CYBER}" = 4']) + "\n")
    return targets


def test_a_growth_whose_every_request_fails_builds_what_there_is_then_exits_1(prefect_harness, tmp_path,
                                                                               monkeypatch):
    """It printed the pre-growth table and the build's summary and exited 0; the error was only in a
    Prefect artifact."""
    monkeypatch.setenv(FAKE_KEY_ENV, "test-key")
    with FakeOpenAIServer(faults=FaultPlan(rate=1.0, kinds=("500",))) as failing:
        targets = growing_targets(tmp_path, failing.base_url)
        result = CliRunner().invoke(app, ["extend", "--targets", str(targets), "--no-progress"])
    assert result.exit_code == 1, result.output
    (run,) = (tmp_path / "runs").iterdir()
    assert (run / "manifest.json").is_file(), "the one library element is built"
    (error,) = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert error.startswith("error: growing elements stopped after 2 rounds in which every request failed "
                            "(the first said: ")
    assert error.endswith(f"built the 1 seeds there were elements for, in {run.name}")
    assert "planned again after growing" in result.stdout


def test_a_flow_that_needs_an_unset_api_key_fails_in_one_line(prefect_harness, tmp_path, monkeypatch):
    """At 3 am the served flow failed with a 40-line LLMConfigError traceback."""
    from flows.extend import extend_flow

    monkeypatch.delenv(FAKE_KEY_ENV, raising=False)
    state = extend_flow(str(growing_targets(tmp_path, "http://127.0.0.1:9/v1")), return_state=True)
    assert state.is_failed()
    assert state.message == (f"environment variable {FAKE_KEY_ENV} is not set "
                             "(the API key of LLM endpoint 'default')")
    assert not (tmp_path / "runs").exists()


def test_bad_lines_of_the_elements_file_are_named_on_stderr_and_in_the_plan(tmp_path):
    """Extend dropped them without a word, while the build names each one."""
    unnamed = FIRST_CYBER.model_copy(update={"element": ""}).model_dump_json()
    targets = growing_targets(tmp_path, "http://127.0.0.1:9/v1", [FIRST_CYBER.model_dump_json(), "{oops", unnamed])
    result = CliRunner().invoke(app, ["extend", "--targets", str(targets), "--dry-run"])
    assert result.exit_code == 0, result.output
    notes = [line for line in result.stderr.splitlines() if line.startswith("note: skipped ")]
    assert [note.split(": ", 2)[1].rsplit(":", 1)[1] for note in notes] == ["2", "3"]
    assert notes[1].endswith("empty name or description")
    loaded, config, plan = plan_from_files(targets)
    run_dir = tmp_path / "runs" / "r"
    prepare_run(plan, loaded, config, run_dir)
    written = (run_dir / "extend_plan.md").read_text()
    assert all(note.removeprefix("note: skipped ") in written for note in notes)


def test_how_a_run_is_carried_out_does_not_change_its_run_id(tmp_path):
    """A killed extend run was not resumed after lowering runner.max_workers or raising a timeout:
    both are settings a resumed build may change. A config that changes none of them keeps the id
    it always had (the whole config hashed), so runs killed before this rule still resume."""
    targets = growing_targets(tmp_path, "http://127.0.0.1:9/v1")
    _, _, plan = plan_from_files(targets)
    config = load_config(None, ["backends.element_writer='llm'"])
    slower = load_config(None, ["backends.element_writer='llm'", "runner.max_workers=1",
                                "llm.endpoints.default.timeout_s=900", "llm.endpoints.default.max_retries=9",
                                "llm.endpoints.default.requests_per_minute=10", "images.diffusers.batch_size=1"])
    assert extension_run_id(plan, slower) == extension_run_id(plan, config)
    assert grow_run_id(plan, slower) == grow_run_id(plan, config)
    other = load_config(None, ["backends.element_writer='llm'", "run.queries_per_seed=2"])
    assert extension_run_id(plan, other) != extension_run_id(plan, config)
    whole = config.model_dump(mode="json")
    assert extension_run_id(plan, config) == "extend-" + content_id(
        [element.model_dump(mode="json") for element in plan.elements], whole)
    assert grow_run_id(plan, config) == "extend-grow-" + content_id(plan.to_grow, whole)


@pytest.mark.parametrize("entry", ["extend", "build"])
def test_serve_refuses_a_schedule_whose_api_key_is_unset_at_start(tmp_path, monkeypatch, entry):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    monkeypatch.delenv(FAKE_KEY_ENV, raising=False)
    targets = growing_targets(tmp_path, "http://127.0.0.1:9/v1")
    overrides = json.dumps(load_targets(targets).overrides)
    source = f'flow = "extend"\ntargets = "{targets}"\n' if entry == "extend" else f"overrides = {overrides}\n"
    (tmp_path / "serve.toml").write_text(f'[[schedules]]\nname = "night"\ninterval_seconds = 3600\n{source}')
    result = CliRunner().invoke(app, ["serve", "--config", "serve.toml"])
    assert result.exit_code == 2, result.output
    assert result.stderr.strip() == (f"error: schedule 'night': environment variable {FAKE_KEY_ENV} is not set "
                                     "(the API key of LLM endpoint 'default', used by the element_writer role)")


def test_an_extend_run_made_with_since_edited_prompts_is_not_resumed_under_the_same_id(tmp_path):
    """A nightly extend killed mid-run, then a prompt file edited: the same id would be refused every
    night (a resumed build refuses other prompt files) and extend has no --run-id to give."""
    import json

    from pipeline.run_records import prompt_record
    from pipeline.rundir import RunDir

    targets = growing_targets(tmp_path, "http://127.0.0.1:9/v1")
    _, _, plan = plan_from_files(targets)
    config = load_config(None, ["backends.element_writer='llm'"])
    runs = tmp_path / "runs"
    same = extension_run_id(plan, config, runs)
    assert same == extension_run_id(plan, config)  # no run yet: the id it always had
    folder = RunDir(runs, same).path
    folder.mkdir(parents=True)
    (folder / "prompts.json").write_text(json.dumps(prompt_record(config)))
    assert extension_run_id(plan, config, runs) == same  # made with these prompts: resumed
    edited = {name: "0" * 64 for name in prompt_record(config)}
    (folder / "prompts.json").write_text(json.dumps(edited))
    assert extension_run_id(plan, config, runs) not in (same, None)
    assert extension_run_id(plan, config, runs).startswith("extend-")
