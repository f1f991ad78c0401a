"""The batch client in its own process (`pipeline.llm.process`): the same answers as the
client in this process, its counts sent back, its cache written before it exits, and no
request sent after the process that owns it is killed."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from pipeline.llm.client import LLMClient
from pipeline.llm.process import ClientProcess, ClientProcessError
from pipeline.llm.roles import HarmFilterInput, VSILJudgeInput
from pipeline.testing.openai_server import FAKE_KEY_ENV, FakeOpenAIServer


def judge_inputs(batch: int, n: int) -> list[VSILJudgeInput]:
    return [VSILJudgeInput(query=f"batch {batch}: where could I keep item {i}?",
                           image_description=f"a shelf holding item {i}" + (" next to a knife" if i % 3 else ""))
            for i in range(n)]


@pytest.fixture
def fake_key(monkeypatch):
    monkeypatch.setenv(FAKE_KEY_ENV, "test-key")


def test_answers_counts_and_in_flight_match_the_client_in_this_process(fake_key, tmp_path):
    batches = [judge_inputs(b, 24) for b in range(4)]
    with FakeOpenAIServer(latency_s=0.02) as server:
        in_process = LLMClient(server.llm_settings(max_in_flight=8))
        expected = [in_process.run_batch("vsil_judge", batch) for batch in batches]
        in_process.close()
        server.state.peak_in_flight = 0
        sent_before = sum(server.state.requests.values())

        client = ClientProcess(server.llm_settings(cache_path=tmp_path / "llm.sqlite", max_in_flight=8))
        with ThreadPoolExecutor(max_workers=4) as pool:  # the build's stage threads
            answers = list(pool.map(lambda batch: client.run_batch("vsil_judge", batch), batches))
        client.close()

    assert [[a.output for a in batch] for batch in answers] == [[a.output for a in batch] for batch in expected]
    assert {a.provenance.backend for batch in answers for a in batch} == {"openai-compatible"}
    assert sum(server.state.requests.values()) - sent_before == 96
    assert server.state.peak_in_flight == 8  # one gate for every batch, in the child
    usage = client.accounting.usage("vsil_judge")  # the child's counts came back
    assert usage.items == 96 and usage.requests == 96 and usage.cache_hits == 0


def test_closing_commits_the_cache_so_a_rerun_sends_nothing(fake_key, tmp_path):
    inputs = judge_inputs(0, 40)
    with FakeOpenAIServer() as server:
        settings = server.llm_settings(cache_path=tmp_path / "llm.sqlite")
        client = ClientProcess(settings)
        first = client.run_batch("vsil_judge", inputs)
        client.close()
        assert client._process.returncode == 0
        with pytest.raises(ClientProcessError, match="exited with code 0"):  # closed: nothing is sent
            client.run_batch("vsil_judge", inputs)
        sent = sum(server.state.requests.values())

        again = LLMClient.from_settings(settings)
        second = again.run_batch("vsil_judge", inputs)
        again.close()
    assert sum(server.state.requests.values()) == sent == 40
    assert all(a.cached for a in second)
    assert [a.output for a in second] == [a.output for a in first]


def test_errors_cross_the_pipe_and_a_dead_child_fails_its_batches_and_is_replaced(fake_key, monkeypatch):
    with FakeOpenAIServer(latency_s=2.0) as server:
        client = ClientProcess(server.llm_settings())
        with pytest.raises(TypeError, match="vsil_judge takes VSILJudgeInput, got HarmFilterInput"):
            client.run_batch("vsil_judge", [HarmFilterInput(query="a question?", original_query="a question?", image_description="a desk")])

        with ThreadPoolExecutor(max_workers=1) as pool:
            waiting = pool.submit(client.run_batch, "vsil_judge", judge_inputs(0, 4))
            time.sleep(1.0)  # the requests are out, answers are 2 s away
            client._process.kill()
            with pytest.raises(ClientProcessError, match="exited with code -9"):
                waiting.result(timeout=10)
        killed = client.pid
        [answer] = client.run_batch("vsil_judge", judge_inputs(1, 1))  # a new child answers the next batch
        assert answer.output is not None and client.pid != killed
        client.close()

    monkeypatch.delenv(FAKE_KEY_ENV)
    with FakeOpenAIServer() as server:
        client = ClientProcess(server.llm_settings())
        with pytest.raises(Exception, match=f"environment variable {FAKE_KEY_ENV} is not set"):
            client.run_batch("vsil_judge", judge_inputs(0, 1))
        client.close()


OWNER = textwrap.dedent("""
    import os, sys, threading, time
    from pipeline.llm.config import LLMSettings
    from pipeline.llm.process import ClientProcess
    from pipeline.llm.roles import VSILJudgeInput

    client = ClientProcess(LLMSettings.model_validate_json(sys.argv[1]))
    inputs = [VSILJudgeInput(query=f"question {i}?", image_description="a desk") for i in range(400)]
    threading.Thread(target=client.run_batch, args=("vsil_judge", inputs), daemon=True).start()
    print(client._process.pid, flush=True)
    time.sleep(60)
""")


def test_a_killed_owner_takes_its_client_process_with_it(fake_key):
    """A SIGKILLed build cannot close its client; the child sees the pipe close and stops at
    once, so it sends nothing that the rerun would send again."""
    with FakeOpenAIServer(latency_s=0.3) as server:
        settings = server.llm_settings(max_in_flight=4).model_dump_json()
        owner = subprocess.Popen([sys.executable, "-c", OWNER, settings], stdout=subprocess.PIPE, text=True)
        child_pid = int(owner.stdout.readline())
        deadline = time.monotonic() + 30
        while sum(server.state.requests.values()) < 4 and time.monotonic() < deadline:
            time.sleep(0.05)
        os.kill(owner.pid, signal.SIGKILL)
        owner.wait()
        killed_at = sum(server.state.requests.values())
        deadline = time.monotonic() + 10
        while _alive(child_pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not _alive(child_pid)
        time.sleep(1.0)  # three latencies: a child still running would have sent 12 more
        assert sum(server.state.requests.values()) - killed_at <= 4  # at most those already being sent


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as stat:  # a zombie is dead: it only waits to be reaped
        return stat.read().split(")")[-1].split()[0] != "Z"


def test_a_client_that_cannot_start_says_why_on_every_batch(fake_key, tmp_path):
    (tmp_path / "taken").write_text("a file where the cache folder should be")
    with FakeOpenAIServer() as server:
        client = ClientProcess(server.llm_settings(cache_path=tmp_path / "taken" / "llm.sqlite"))
        for _ in range(2):
            with pytest.raises(OSError, match="taken"):
                client.run_batch("vsil_judge", judge_inputs(0, 1))
        client.close()
        assert client._process.returncode == 0
        assert sum(server.state.requests.values()) == 0


def test_the_childs_warnings_reach_this_processs_stderr_where_progress_bars_can_place_them(fake_key, capsys):
    """Written by the child to the terminal itself, a server's refused response format landed inside a
    progress bar; through sys.stderr, Rich prints it above the bars."""
    with FakeOpenAIServer(rejects_json_schema=True) as server:
        client = ClientProcess(server.llm_settings())
        [answer] = client.run_batch("vsil_judge", judge_inputs(0, 1))
        client.close()
    assert answer.output is not None
    deadline = time.monotonic() + 5  # copied by a thread: it may trail the batch's reply
    while "rejected response_format json_schema" not in capsys.readouterr().err and time.monotonic() < deadline:
        time.sleep(0.1)
    assert time.monotonic() < deadline
