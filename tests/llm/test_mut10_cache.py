"""The answer cache's bookkeeping in the quick loop (tests/llm/test_llm_cache.py is all `slow`): what
`cache stats` counts, what `cache clear --role` deletes, a second answer under one key, an answer read
while its commit waits, and the model the server said produced it."""

from __future__ import annotations

import sqlite3
import threading

from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.llm.cache import AnswerCache


def filled(path):
    cache = AnswerCache(path)
    cache.put("k1", "seed_writer", "gpt-4o", "h1", '{"a": 1}', "gpt-4o-2024-08-06")
    cache.put("k2", "seed_writer", "gpt-4o", "h1", '{"a": 2}', "gpt-4o-2024-08-06")
    cache.put("k3", "vsil_judge", "gpt-4o", "h2", '{"a": 3}', "gpt-4o-2024-08-06")
    return cache


def test_stats_count_the_answers_of_each_role_model_and_prompt(tmp_path):
    with filled(tmp_path / "llm.sqlite") as cache:
        stats = cache.stats()
    assert {(row["role"], row["answers"]) for row in stats} == {("seed_writer", 2), ("vsil_judge", 1)}


def test_clearing_a_role_deletes_its_answers_and_only_those(tmp_path):
    with filled(tmp_path / "llm.sqlite") as cache:
        assert cache.clear("seed_writer") == 2
        assert cache.get("k1") is None and cache.get("k2") is None
        assert cache.get("k3") == ('{"a": 3}', "gpt-4o-2024-08-06")
    cleared = CliRunner().invoke(app, ["cache", "clear", "--path", str(tmp_path / "llm.sqlite"), "--role", "vsil_judge"])
    assert cleared.exit_code == 0 and "deleted 1 cached answers" in cleared.output


def test_a_second_answer_under_one_key_replaces_the_first(tmp_path):
    """An answer asked again (one the output rules now refuse) is stored over the old one, which would
    otherwise be served, and refused, on every run."""
    path = tmp_path / "llm.sqlite"
    with AnswerCache(path) as cache:
        cache.put("k", "vsil_judge", "m", "h", '{"old": 1}', "m")
        cache.put("k", "vsil_judge", "m", "h", '{"new": 1}', "m")
        assert cache.get("k") == ('{"new": 1}', "m")
    with AnswerCache(path) as reopened:
        assert reopened.get("k") == ('{"new": 1}', "m")


def test_the_model_the_server_named_is_returned_queued_or_committed(tmp_path):
    path = tmp_path / "llm.sqlite"
    with AnswerCache(path) as cache:
        cache.put("k", "vsil_judge", "asked-model", "h", "{}", "served-model-2024")
    with AnswerCache(path) as reopened:
        assert reopened.get("k") == ("{}", "served-model-2024")


def test_an_answer_waiting_for_its_commit_is_read_at_once(tmp_path):
    """Another process holding the database's write lock delays the commit; the answer is read from
    memory meanwhile, not asked of the model a second time."""
    path = tmp_path / "llm.sqlite"
    cache = AnswerCache(path)
    other = sqlite3.connect(path, check_same_thread=False)
    other.execute("BEGIN EXCLUSIVE")
    kept = threading.Event()
    try:
        cache.put_later("k", "vsil_judge", "m", "h", '{"a": 1}', "m-served", when_kept=kept.set)
        assert not kept.wait(0.3)  # held back by the other writer
        assert cache.get("k") == ('{"a": 1}', "m-served")
    finally:
        other.rollback()
        other.close()
    assert kept.wait(10)
    cache.close()


def test_an_answer_replaced_while_the_first_one_commits_is_kept(tmp_path):
    """The writer takes the first answer, waits on another process's lock; a second answer to the same
    key arrives meanwhile. Once the lock goes, the second is the one kept, not dropped from the queue
    with the first."""
    path = tmp_path / "llm.sqlite"
    cache = AnswerCache(path)
    other = sqlite3.connect(path, check_same_thread=False)
    other.execute("BEGIN EXCLUSIVE")
    first = threading.Event()
    try:
        cache.put_later("k", "vsil_judge", "m", "h", '{"first": 1}', "m", when_kept=first.set)
        assert not first.wait(0.3)  # the writer holds the first answer, waiting for the lock
        cache.put_later("k", "vsil_judge", "m", "h", '{"second": 1}', "m")
    finally:
        other.rollback()
        other.close()
    cache.flush()
    assert cache.get("k") == ('{"second": 1}', "m")
    cache.close()
    with AnswerCache(path) as reopened:
        assert reopened.get("k") == ('{"second": 1}', "m")


def test_a_failed_commit_is_raised_by_the_put_that_waited_for_it(tmp_path):
    path = tmp_path / "llm.sqlite"
    cache = AnswerCache(path)
    with sqlite3.connect(path) as db:
        db.execute("DROP TABLE answers")
    try:
        cache.put("k", "vsil_judge", "m", "h", "{}", "m")
    except sqlite3.OperationalError:
        pass
    else:
        raise AssertionError("put returned although its answer was never stored")
    finally:
        try:
            cache.close()
        except sqlite3.Error:
            pass
