"""Element discovery through the loopback server: proposals are judged (repeats and near
duplicates refused, with reasons), the store grows in versions, and extend grows elements
when the library runs dry, then builds nothing once the targets are met."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from pipeline.backends.base import Embedder
from pipeline.cli.app import app
from pipeline.config import load_config
from pipeline.elements import known_library
from pipeline.elements.checks import refusal
from pipeline.elements.grow import grow_elements
from pipeline.elements.store import ElementStore
from pipeline.extend import plan_from_files
from pipeline.prompts import prompt_hash
from pipeline.taxonomy import load_elements
from pipeline.testing.openai_server import FAKE_KEY_ENV, FakeOpenAIServer

WEAPONS = "Weapon-Related Violence"
CYBER = "Cybercrime"


@pytest.fixture(scope="module")
def server():
    with FakeOpenAIServer() as running:
        yield running


def overrides(server, tmp_path: Path) -> list[str]:
    return ["backends.element_writer='llm'", f"elements.store='{tmp_path / 'store'}'",
            "elements.per_request=5", f"llm.endpoints.default.base_url='{server.base_url}'",
            f"llm.endpoints.default.api_key_env='{FAKE_KEY_ENV}'", f"llm.cache_path='{tmp_path / 'llm.sqlite'}'"]


def test_grow_refuses_repeats_and_near_duplicates_and_versions_the_store(server, tmp_path, monkeypatch):
    monkeypatch.setenv(FAKE_KEY_ENV, "test-key")
    config = load_config(None, overrides(server, tmp_path))
    first = grow_elements(config, {WEAPONS: 6, CYBER: 2}, run_id="grow-a")
    assert first.added == {WEAPONS: 6, CYBER: 2} and first.version == 1
    store = ElementStore(tmp_path / "store")
    decisions = store.decisions()
    codes = decisions["reason"].str.split(":").str[0]
    refused = decisions[decisions["verdict"] != "keep"]
    # the scripted writer repeats "handgun" as "Handguns" and rewords its photo as "replica handgun"
    assert set(zip(refused["element"], refused["reason"].str.split(":").str[0])) == {
        ("Handguns", "element.duplicate_name"), ("replica handgun", "element.near_duplicate")}
    assert (refused["score"][codes != "element.duplicate_name"] >= 0.85).all()
    assert (decisions.loc[decisions["verdict"] == "keep", "score"] < 0.85).all()
    assert set(decisions["prompt_hash"]) == {prompt_hash("element_writer.j2")}
    assert set(decisions["run_id"]) == {"grow-a"} and decisions["seed_id"].str.len().min() == 16

    entries = store.entries()
    assert len(entries) == 8 and {e.version for e in entries} == {1} and {e.run_id for e in entries} == {"grow-a"}
    assert all(e.model.startswith("scripted-fake:") and 0 < e.novelty < 1 and e.nearest for e in entries)
    assert all(refusal(e.element) is None for e in entries)

    second = grow_elements(config, {WEAPONS: 3}, run_id="grow-b")
    assert second.added == {WEAPONS: 3} and second.version == 2
    names = [element.element.lower() for element in known_library(config).elements]
    assert len(names) == len(set(names)) == 380 + 11
    meta = json.loads((tmp_path / "store" / "v0002" / "meta.json").read_text())
    assert meta["run_id"] == "grow-b" and meta["added"] == 3


def test_a_guardrail_hit_or_instructions_are_refused_before_novelty():
    base = load_elements()[0]
    named = base.model_copy(update={"description": "Emily Carter holding a black handgun in an alley."})
    assert refusal(named)[0] == "element.guardrail"
    steps = base.model_copy(update={"description": "Step 1: load the handgun in the alley."})
    assert refusal(steps)[0] == "element.instructions"
    unnamed = base.model_copy(update={"description": "A dark alley at night with a parked van."})
    assert refusal(unnamed) == ("element.shape", "the description names neither the element nor a synonym")
    assert refusal(base) is None


def test_cli_grow_needs_an_element_writer_and_stats_count_by_source(server, tmp_path, monkeypatch):
    runner = CliRunner()
    result = runner.invoke(app, ["elements", "grow", "-s", CYBER, "--n", "2",
                                 "--set", f"elements.store='{tmp_path / 'store'}'"])
    assert result.exit_code == 2 and len(result.stderr.strip().splitlines()) == 1
    assert "needs an element writer" in result.stderr
    monkeypatch.setenv(FAKE_KEY_ENV, "test-key")
    sets = [arg for o in overrides(server, tmp_path) for arg in ("--set", o)]
    result = runner.invoke(app, ["elements", "grow", "-s", CYBER, "--n", "2", *sets])
    assert result.exit_code == 0, result.output
    result = runner.invoke(app, ["elements", "stats", *sets])
    assert result.exit_code == 0, result.output
    (line,) = [line for line in result.output.splitlines() if CYBER in line]
    assert line.replace("│", " ").split()[1:] == ["20", "2", "22"]
    result = runner.invoke(app, ["elements", "list", "--source", "model", *sets])
    assert len(result.output.strip().splitlines()) == 2 and result.output.startswith(f"model\t{CYBER}\t")


@pytest.mark.slow  # an extend flow run, 9-13 s, after the session's Prefect server (20-40 s to start)
def test_extend_above_the_library_grows_elements_then_builds_nothing(prefect_harness, server, tmp_path,
                                                                     monkeypatch, capsys):
    """Two sub-categories with one library element each; a target needing two seeds each."""
    from flows.extend import extend_flow

    monkeypatch.setenv(FAKE_KEY_ENV, "test-key")
    library = tmp_path / "library.jsonl"
    chosen = [e for sub in (WEAPONS, CYBER) for e in [x for x in load_elements() if x.sub_category == sub][:1]]
    library.write_text("".join(e.model_dump_json() + "\n" for e in chosen))
    runs = tmp_path / "runs"
    targets = tmp_path / "targets.toml"
    sets = [*overrides(server, tmp_path), f"run.elements_file='{library}'", "run.batch_size=64"]
    targets.write_text("\n".join([
        'name = "bench"', f"runs_dir = '{runs}'", f"releases_dir = '{tmp_path / 'releases'}'",
        f"overrides = {json.dumps(sets)}", "[targets]", f'"{WEAPONS}" = 4', f'"{CYBER}" = 4']) + "\n")

    first = extend_flow(str(targets), show_progress=True)
    # with progress on (the CLI's default), extend's growth is told round by round, as `elements grow`'s is
    assert "extend: elements grow: round 1: " in capsys.readouterr().err
    assert first["elements_grown"] == 2 and first["planned_seeds"] == 4  # ceil(4 / 3) = 2 seeds each
    ledger = pd.read_parquet(Path(first["run_dir"]) / "ledger.parquet")
    grown = {entry.element.element for entry in ElementStore(tmp_path / "store").entries()}
    assert len(grown) == 2 and grown <= set(ledger["element"])
    shards = pd.read_parquet(Path(first["run_dir"]) / "data")
    assert (shards["sub_category"].value_counts() >= 4).all(), "the first run meets both targets"

    second = extend_flow(str(targets))
    assert second["missing"] == 0 and second["run_id"] is None and second["elements_grown"] == 0
    assert [p.name for p in runs.iterdir()] == [first["run_id"]]
    assert len(ElementStore(tmp_path / "store").versions()) == 1


def test_without_an_element_writer_extend_says_what_growing_needs(tmp_path):
    library = tmp_path / "library.jsonl"
    library.write_text(load_elements()[0].model_dump_json() + "\n")
    targets = tmp_path / "targets.toml"
    targets.write_text("\n".join([
        'name = "bench"', f"runs_dir = '{tmp_path / 'runs'}'", f"releases_dir = '{tmp_path / 'releases'}'",
        f"overrides = [\"run.elements_file='{library}'\", \"elements.store='{tmp_path / 'store'}'\"]",
        "[targets]", f'"{WEAPONS}" = 9']) + "\n")
    _, _, plan = plan_from_files(targets)
    assert plan.to_grow == {} and plan.rows[0].shortfall == 2
    assert plan.rows[0].note.endswith("growing more needs an element writer (backends.element_writer = 'llm')")
    assert [e.element for e in plan.elements] == [load_elements()[0].element]  # what there is gets built


def test_a_proposal_a_guardrail_stops_is_refused_withheld_and_never_sent_back(server, tmp_path, monkeypatch):
    """Such a proposal crashed the grow (a verdict that does not exist), on every rerun from the
    cache; and its text, a private person's name, was stored and sent back to the writer."""
    from pipeline.testing.scripted_elements import PRIVATE_PERSON_SUB_CATEGORY as PRIVACY

    monkeypatch.setenv(FAKE_KEY_ENV, "test-key")
    config = load_config(None, overrides(server, tmp_path))
    report = grow_elements(config, {PRIVACY: 5}, run_id="grow-g")
    assert report.added == {PRIVACY: 5} and report.refused["element.guardrail"] >= 1
    store = ElementStore(tmp_path / "store")
    stopped = store.decisions().query("reason.str.startswith('element.guardrail')")
    assert len(stopped) >= 1 and set(stopped["verdict"]) == {"drop"}
    assert set(stopped["reason"]) == {"element.guardrail: guardrail private_person:full_name"}
    stored_text = store.decisions().to_csv() + "".join(e.model_dump_json() for e in store.entries())
    assert "carter" not in stored_text.lower()
    # the next grow tells the writer every known and refused name, but not this one
    from pipeline.backends.minilm import default_embedder
    from pipeline.elements.grow import Grower

    told = Grower(config, None, default_embedder(), "probe", store).request(PRIVACY, 1).known_elements
    assert len(told) > 20 and not [name for name in told if "carter" in name.lower() or "withheld" in name]


def test_a_grow_against_a_server_that_is_down_is_refused_before_any_round(tmp_path, monkeypatch):
    """It spent elements.max_requests rounds of retries (about 25 minutes at the defaults), then
    printed 'max_requests reached' and exited 0, the connection error nowhere."""
    import socket

    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    result = grow_against(f"http://127.0.0.1:{port}/v1", tmp_path, monkeypatch)
    assert result.exit_code == 2 and "cannot be reached" in result.stderr, result.output
    assert not (tmp_path / "store").exists()


def test_a_grow_whose_every_request_fails_stops_and_says_why(tmp_path, monkeypatch):
    from pipeline.testing.openai_server import FaultPlan

    with FakeOpenAIServer(faults=FaultPlan(rate=1.0, kinds=("500",))) as failing:
        result = grow_against(failing.base_url, tmp_path, monkeypatch)
    assert result.exit_code == 1, result.output
    assert "stopped after 2 rounds in which every request failed" in result.stderr
    assert "2 requests (2 failed)" in result.output and "First failed request:" in result.output


def grow_against(base_url: str, tmp_path, monkeypatch):
    monkeypatch.setenv(FAKE_KEY_ENV, "test-key")
    sets = ["backends.element_writer='llm'", f"elements.store='{tmp_path / 'store'}'", "elements.max_requests=50",
            f"llm.endpoints.default.base_url='{base_url}'", "llm.endpoints.default.max_retries=0",
            f"llm.endpoints.default.api_key_env='{FAKE_KEY_ENV}'", f"llm.cache_path='{tmp_path / 'llm.sqlite'}'"]
    return CliRunner().invoke(app, ["elements", "grow", "-s", CYBER, "--n", "2",
                                    *[arg for s in sets for arg in ("--set", s)]])


def test_a_name_written_with_or_without_spaces_or_hyphens_is_a_repeat():
    """An audit's model proposed "ransom-ware screen", "USB key logger" and "scam email" beside
    "ransomware screen", "USB keylogger" and "scam e-mail"; all three joined the store as new."""
    import numpy as np

    from pipeline.elements.novelty import NoveltyIndex
    from pipeline.records import Element

    def element(name, *synonyms):
        return Element(category="Illegal Activity", sub_category=CYBER, element=name, synonyms=synonyms,
                       description=f"A photo of a {name}.")

    known = [element("ransomware screen"), element("keylogger", "USB keylogger"), element("phishing e-mail",
                                                                                          "scam e-mail")]
    index = NoveltyIndex(known, np.eye(3, 384, dtype=np.float32), embedder=None, max_similarity=0.85)
    far = np.zeros(384, dtype=np.float32)
    far[10] = 1.0
    for proposal, repeats in [("ransom-ware screen", "ransomware screen"), ("USB key logger", "keylogger"),
                              ("scam email", "phishing e-mail"), ("Ransomware Screens", "ransomware screen"),
                              ("ransomwares screen", "ransomware screen")]:
        assert index.measure(element(proposal), far).duplicate_of == repeats, proposal
    assert index.measure(element("ransom note"), far).duplicate_of is None



def llm_client_processes() -> set[int]:
    """This process's children that are LLM client processes (`python -m pipeline.llm.process`)."""
    import psutil

    found = set()
    for child in psutil.Process().children(recursive=True):
        try:
            if "pipeline.llm.process" in child.cmdline():
                found.add(child.pid)
        except psutil.Error:  # it ended while we looked
            pass
    return found


class TextSeededEmbedder(Embedder):
    """A random unit vector per text, the same every time: distinct texts are far apart (novel), and
    no model is loaded, so the grow tests below stay quick."""
    backend, model = "text-seeded", "text-seeded"

    def embed(self, texts):
        rows = [np.random.default_rng(list(hashlib.sha256(text.encode()).digest())).standard_normal(384)
                for text in texts]
        return np.array([row / np.linalg.norm(row) for row in rows], dtype=np.float32).reshape(len(texts), 384)


class CloseRecorded:
    """The caller's client, noting whether anyone closed it."""

    def __init__(self, inner):
        self.inner, self.closed = inner, False

    def run_batch(self, role, inputs):
        return self.inner.run_batch(role, inputs)

    def close(self):
        self.closed = True


def test_a_grow_ends_the_client_process_it_started_and_leaves_a_callers_client_open(server, tmp_path,
                                                                                    monkeypatch):
    """Each grow left a `python -m pipeline.llm.process` child alive until the interpreter exited, which
    then wrote its cache into folders already gone (`sqlite3.OperationalError: disk I/O error`)."""
    from pipeline.llm.client import LLMClient

    monkeypatch.setenv(FAKE_KEY_ENV, "test-key")
    config = load_config(None, overrides(server, tmp_path))
    assert config.llm.client_process  # the grow's own client runs in a child process
    before = llm_client_processes()
    assert grow_elements(config, {CYBER: 2}, run_id="grow-own", embedder=TextSeededEmbedder()).added == {CYBER: 2}
    assert llm_client_processes() == before

    callers = CloseRecorded(LLMClient.from_settings(config.llm))
    try:
        grown = grow_elements(config, {WEAPONS: 1}, run_id="grow-passed", client=callers,
                              embedder=TextSeededEmbedder())
    finally:
        callers.inner.close()
    assert grown.added == {WEAPONS: 1}
    assert not callers.closed
