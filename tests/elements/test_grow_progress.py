"""A grow says what each round left, on stderr: on a real model an audit's grows ran 4 to 7 minutes
with nothing on the terminal between the first warning and the final table."""

from __future__ import annotations

from typer.testing import CliRunner

from pipeline.cli.app import app
from pipeline.testing.openai_server import FAKE_KEY_ENV, FakeOpenAIServer
from tests.elements.test_grow_rounds import FAILS, WORKS, ScriptedWriter, grower


def test_each_round_is_told_with_the_counts_so_far(tmp_path):
    told = []
    grower(tmp_path, ScriptedWriter(failing={FAILS})).run({WORKS: 6, FAILS: 1}, on_round=told.append)
    assert told[0] == (f"round 1: 2 requests (0 from the cache, 1 failed), 4 added, 0 refused; "
                       f"{WORKS} 4 of 6, {FAILS} 0 of 1")
    assert told[1].startswith("round 2: 4 requests (0 from the cache, 2 failed), 6 added")


def test_the_cli_tells_rounds_on_stderr_unless_no_progress(tmp_path, monkeypatch):
    monkeypatch.setenv(FAKE_KEY_ENV, "test-key")
    with FakeOpenAIServer() as server:
        sets = ["backends.element_writer='llm'", f"elements.store='{tmp_path / 'store'}'",
                f"llm.endpoints.default.base_url='{server.base_url}'", f"llm.endpoints.default.api_key_env='{FAKE_KEY_ENV}'",
                f"llm.cache_path='{tmp_path / 'llm.sqlite'}'"]
        args = ["elements", "grow", "-s", WORKS, "--n", "1", *[arg for s in sets for arg in ("--set", s)]]
        shown, quiet = (CliRunner().invoke(app, args + extra) for extra in ([], ["--no-progress"]))
    assert shown.exit_code == quiet.exit_code == 0, shown.output + quiet.output
    assert shown.stderr.startswith("elements grow: round 1: 1 requests") and "round 1" not in shown.stdout
    assert "round 1" not in quiet.stderr


def test_a_grow_behind_another_says_who_holds_the_store_before_it_waits(tmp_path):
    import threading

    from pipeline.config import load_config
    from pipeline.elements.grow import grow_elements
    from pipeline.elements.store import ElementStore
    from tests.elements.test_grow_judging import FAR
    from tests.elements.test_grow_rounds import ScriptedWriter
    from tests.support.embedders import ScriptedEmbedder

    config = load_config(None, ["elements.per_request=4", f"elements.store='{tmp_path}'",
                                "backends.element_writer='llm'"])
    held, told = threading.Event(), []
    release = threading.Event()

    def other_grow():
        with ElementStore(tmp_path).exclusive():
            held.set()
            release.wait(30)

    holder = threading.Thread(target=other_grow)
    holder.start()
    held.wait(30)
    writer = ScriptedWriter(failing=set())
    report = grow_elements(config, {WORKS: 2}, client=writer, embedder=ScriptedEmbedder(writer.vectors, other=FAR),
                           on_wait=lambda message: (told.append(message), release.set()))
    holder.join(30)
    assert len(told) == 1 and "is in use by another process" in told[0] and "waiting for it to end" in told[0]
    assert report.added[WORKS] == 2  # it went on once the other let go
