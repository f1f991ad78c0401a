"""The answer cache: reruns send nothing, edits and model changes miss, the key never leaks."""

from __future__ import annotations

import logging
import shutil
import sqlite3
import threading
import time

import pytest
from typer.testing import CliRunner

import pipeline.prompts
from pipeline.cli import app
from pipeline.contracts import ItemError
from pipeline.llm.cache import AnswerCache
from pipeline.llm.client import LLMClient
from pipeline.llm.session import Answer
from pipeline.llm.limits import TokenBucket
from pipeline.llm.roles import SeedWriterInput, VSILJudgeInput
from pipeline.testing.openai_server import FAKE_KEY_ENV, FakeOpenAIServer, FaultPlan

pytestmark = pytest.mark.slow  # every test here takes more than a few seconds

SECRET = "sk-leakless-SECRET-5c1e9a7d"
SEEDS = [SeedWriterInput(category="Privacy", sub_category="Identity Theft and Impersonation",
                         element=f"stolen id card {i}") for i in range(6)]
JUDGE = [VSILJudgeInput(query=f"Where do I keep card {i}?", image_description="an id card")
         for i in range(4)]


@pytest.fixture(autouse=True)
def api_key(monkeypatch):
    monkeypatch.setenv(FAKE_KEY_ENV, SECRET)


@pytest.fixture()
def server():
    with FakeOpenAIServer() as running:
        yield running


def client_for(server, tmp_path, **roles) -> LLMClient:
    return LLMClient.from_settings(server.llm_settings(cache_path=tmp_path / "llm.sqlite", roles=roles))


def test_second_identical_batch_sends_no_request(server, tmp_path):
    first = client_for(server, tmp_path).run_batch("seed_writer", SEEDS)
    sent = server.state.requests["seed_writer"]
    rerun = client_for(server, tmp_path)  # a new process would open the same file
    second = rerun.run_batch("seed_writer", SEEDS)

    assert sent == 6 and server.state.requests["seed_writer"] == 6
    assert [a.output for a in second] == [a.output for a in first]
    assert all(a.cached for a in second) and not any(a.cached for a in first)
    assert rerun.accounting.usage("seed_writer").cache_hits == 6


def test_an_edited_prompt_resends_only_that_roles_requests(server, tmp_path, monkeypatch):
    prompts = tmp_path / "prompts"
    shutil.copytree(pipeline.prompts.prompts_dir(), prompts, copy_function=shutil.copy)
    monkeypatch.setattr(pipeline.prompts, "prompts_dir", lambda: prompts)
    client = client_for(server, tmp_path)
    client.run_batch("seed_writer", SEEDS)
    old = client.run_batch("vsil_judge", JUDGE)

    with (prompts / "vsil_judge.j2").open("a") as template:
        template.write("{# reworded #}\n")
    client.run_batch("seed_writer", SEEDS)
    new = client.run_batch("vsil_judge", JUDGE)

    assert server.state.requests == {"seed_writer": 6, "vsil_judge": 8}
    assert {a.provenance.prompt_hash for a in new}.isdisjoint({a.provenance.prompt_hash for a in old})


def test_another_model_misses(server, tmp_path):
    client_for(server, tmp_path).run_batch("seed_writer", SEEDS)
    other = client_for(server, tmp_path, seed_writer={"model": "other"})
    answers = other.run_batch("seed_writer", SEEDS)
    assert server.state.requests["seed_writer"] == 12
    assert {a.provenance.model for a in answers} == {"scripted-fake:other"}


def test_only_successes_are_cached(tmp_path):
    with FakeOpenAIServer(faults=FaultPlan(rate=0.5, kinds=("refusal",))) as server:
        first = client_for(server, tmp_path).run_batch("seed_writer", SEEDS)
        server.state.faults = FaultPlan()
        second = client_for(server, tmp_path).run_batch("seed_writer", SEEDS)
    refused = [i for i, r in enumerate(first) if isinstance(r, ItemError)]
    assert len(refused) == 3
    assert server.state.requests["seed_writer"] == 6 + len(refused)
    assert all(isinstance(r, Answer) for r in second)
    assert [i for i, r in enumerate(second) if not r.cached] == refused


def test_one_cache_serves_batches_on_several_threads(server, tmp_path):
    client = client_for(server, tmp_path)
    results: dict[int, list] = {}

    def run(n: int) -> None:
        results[n] = client.run_batch("seed_writer", SEEDS)

    threads = [threading.Thread(target=run, args=(n,)) for n in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 3
    assert all(isinstance(a, Answer) for batch in results.values() for a in batch)
    assert {row["answers"] for row in client.cache.stats()} == {6}


def test_the_api_key_appears_nowhere(tmp_path, caplog):
    caplog.set_level(logging.DEBUG)
    faults = FaultPlan(rate=0.5, kinds=("429", "malformed", "refusal"), retry_after_s=0.01)
    with FakeOpenAIServer(faults=faults) as server:
        client = client_for(server, tmp_path)
        results = client.run_batch("seed_writer", SEEDS) + client.run_batch("vsil_judge", JUDGE)
    client.close()
    assert any(isinstance(r, ItemError) for r in results) and caplog.records  # faults were logged
    stored = b"".join(p.read_bytes() for p in tmp_path.glob("llm.sqlite*"))
    assert b"stolen id card" in stored and SECRET.encode() not in stored
    assert SECRET not in caplog.text
    assert SECRET not in repr(results) + repr(client.accounting.summary())


def test_token_bucket_makes_the_request_past_the_budget_wait():
    bucket = TokenBucket(per_minute=60)
    assert [bucket.reserve(1) for _ in range(60)] == [0.0] * 60
    assert 0.9 < bucket.reserve(1) <= 1.0  # the 61st waits for one token to refill (1/s)


def test_once_closed_the_cache_files_stop_changing(tmp_path):
    """The writer's connections closed after close() returned, and with the last one SQLite removed the
    WAL file: a test reading the files just after close() failed on the vanished llm.sqlite-wal."""
    path = tmp_path / "llm.sqlite"
    cache = AnswerCache(path)
    cache.put("k1", "seed_writer", "gpt-4o", "abc", "{}", "gpt-4o-2024-08-06")
    cache.close()
    assert not cache._writer.is_alive()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["llm.sqlite"]  # every answer in the file itself


def test_cache_cli_stats_and_clear(tmp_path):
    path = tmp_path / "llm.sqlite"
    with AnswerCache(path) as cache:
        cache.put("k1", "seed_writer", "gpt-4o", "abc", "{}", "gpt-4o-2024-08-06")
        cache.put("k2", "vsil_judge", "gpt-4o", "def", "{}", "gpt-4o-2024-08-06")
    runner = CliRunner()
    stats = runner.invoke(app, ["cache", "stats", "--path", str(path)])
    assert stats.exit_code == 0 and "seed_writer" in stats.output and "2 cached answers" in stats.output
    cleared = runner.invoke(app, ["cache", "clear", "--path", str(path), "--role", "vsil_judge"])
    assert cleared.exit_code == 0 and "deleted 1 cached answers" in cleared.output
    bad_role = runner.invoke(app, ["cache", "clear", "--path", str(path), "--role", "nope"])
    missing = runner.invoke(app, ["cache", "stats", "--path", str(tmp_path / "none.sqlite")])
    bad_faults = runner.invoke(app, ["fake-llm", "--faults", "429,flood"])
    assert bad_role.exit_code == missing.exit_code == bad_faults.exit_code == 2
    assert "Traceback" not in bad_role.output + missing.output + bad_faults.output


def committed(path) -> dict[str, str]:
    with sqlite3.connect(path) as db:
        return dict(db.execute("SELECT key, answer FROM answers").fetchall())


def test_every_answer_is_committed_as_it_arrives(tmp_path):
    path = tmp_path / "llm.sqlite"
    cache = AnswerCache(path)
    for i in range(200):
        cache.put(f"k{i}", "vsil_judge", "m", "h", f'{{"i": {i}}}', "m-served")
        assert cache.get(f"k{i}") == (f'{{"i": {i}}}', "m-served")
        assert committed(path)[f"k{i}"] == f'{{"i": {i}}}'  # another connection sees it at once: a kill loses nothing
    cache.close()
    with pytest.raises(sqlite3.ProgrammingError):
        cache.put("late", "vsil_judge", "m", "h", "{}", "m")


def test_puts_from_many_threads_all_land(tmp_path):
    path = tmp_path / "llm.sqlite"
    with AnswerCache(path) as cache:
        def put_many(thread: int) -> None:
            for i in range(100):
                cache.put(f"{thread}-{i}", "vsil_judge", "m", "h", "{}", "m")
        threads = [threading.Thread(target=put_many, args=(t,)) for t in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert len(committed(path)) == 400


def test_a_queued_answer_reads_at_once_and_is_committed_before_its_callback(tmp_path):
    path = tmp_path / "llm.sqlite"
    seen_by_callback: list[str | None] = []
    kept = threading.Event()

    def when_kept() -> None:
        seen_by_callback.append(committed(path).get("k"))
        kept.set()

    with AnswerCache(path) as cache:
        cache.put_later("k", "vsil_judge", "m", "h", '{"a": 1}', "m-served", when_kept=when_kept)
        assert cache.get("k") == ('{"a": 1}', "m-served")  # committed or not yet
        assert kept.wait(5)
    assert seen_by_callback == ['{"a": 1}']


def test_a_failed_commit_is_raised_and_still_gives_the_slot_back(tmp_path):
    path = tmp_path / "llm.sqlite"
    cache = AnswerCache(path)
    with sqlite3.connect(path) as db:
        db.execute("DROP TABLE answers")
    kept = threading.Event()
    cache.put_later("k", "vsil_judge", "m", "h", "{}", "m", when_kept=kept.set)
    assert kept.wait(5)
    with pytest.raises(sqlite3.OperationalError, match="no such table"):
        cache.flush()
    cache.close()


def test_a_request_stays_in_flight_until_its_answer_is_committed(server, tmp_path):
    """With two in flight and commits held back, the third request waits: at a kill, every
    answer not yet on disk was still counted in flight."""
    commits_may_finish = threading.Event()

    class HeldBackCache(AnswerCache):
        def put_later(self, *answer, when_kept=None):
            def held_back() -> None:
                commits_may_finish.wait()
                when_kept()
            super().put_later(*answer, when_kept=lambda: threading.Thread(target=held_back).start())

    client = LLMClient(server.llm_settings(max_in_flight=2), cache=HeldBackCache(tmp_path / "llm.sqlite"))
    results: list = []
    batch = threading.Thread(target=lambda: results.extend(client.run_batch("vsil_judge", JUDGE)))
    batch.start()
    deadline = time.monotonic() + 10
    while sum(server.state.requests.values()) < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.5)
    assert sum(server.state.requests.values()) == 2
    commits_may_finish.set()
    batch.join(10)
    assert len(results) == 4 and all(isinstance(a, Answer) for a in results)
    assert sum(server.state.requests.values()) == 4
    assert len(committed(tmp_path / "llm.sqlite")) == 4
    client.close()


def test_a_key_never_stored_is_answered_without_sqlite(tmp_path, monkeypatch):
    # A fresh build misses on nearly every lookup; each SQLite call on the client's event
    # loop gave up the GIL and waited to get it back.
    path = tmp_path / "llm.sqlite"
    with AnswerCache(path) as cache:
        cache.put("stored-before", "vsil_judge", "m", "h", '{"a": 1}', "m")
    reopened = AnswerCache(path)
    reads: list[str] = []
    real_reader = reopened._reader

    def counting_reader():
        reads.append("read")
        return real_reader()

    monkeypatch.setattr(reopened, "_reader", counting_reader)
    assert reopened.get("never-stored") is None and reads == []
    assert reopened.get("stored-before") == ('{"a": 1}', "m") and reads == ["read"]  # known at open
    reopened.put("stored-now", "vsil_judge", "m", "h", '{"b": 2}', "m")
    assert reopened.get("stored-now") == ('{"b": 2}', "m")
    reopened.clear("vsil_judge")
    assert reopened.get("stored-before") is None and reads == ["read", "read"]
    reopened.close()


def test_a_closed_cache_file_holds_every_answer_without_its_wal(tmp_path):
    """Copying llm.sqlite to share it must not leave the last answers behind in llm.sqlite-wal."""
    import shutil

    path = tmp_path / "llm.sqlite"
    cache = AnswerCache(path)
    for i in range(50):
        cache.put(f"k{i}", "vsil_judge", "m", "h", f'{{"i": {i}}}', "m-served")
    cache.close()
    alone = tmp_path / "copy" / "llm.sqlite"
    alone.parent.mkdir()
    shutil.copyfile(path, alone)  # the database file only
    assert len(committed(alone)) == 50


def test_a_cached_answer_the_output_rules_now_refuse_is_asked_again(server, tmp_path):
    # answers cached before the roles refused junk ("2" as a query) stopped the batch with a
    # ValidationError on every rerun; they are a miss now
    client_for(server, tmp_path).run_batch("seed_writer", SEEDS)
    with sqlite3.connect(tmp_path / "llm.sqlite") as db:
        db.execute("UPDATE answers SET answer = ?", ('{"image_description": "an id card", '
                                                     '"harmful_queries": ["2"], "safety_reason": "fraud"}',))
    rerun = client_for(server, tmp_path)
    answers = rerun.run_batch("seed_writer", SEEDS)
    assert server.state.requests["seed_writer"] == 12 and not any(a.cached for a in answers)
    assert all(isinstance(a, Answer) and a.output.harmful_queries[0] != "2" for a in answers)
