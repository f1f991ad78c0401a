"""mut8: what `pipeline.stopping` promises beyond the worker-thread stop itself: an ordinary failure
stays a failure, a stop asked for by the stage's own thread raises at the stage's end (not inside
`request_stop`, e.g. the SIGTERM handler), a thread is sent StageStopped once, and one sent but not
raised yet is forgotten when the stage ends (else it goes off later in Prefect's code)."""

from __future__ import annotations

import threading

import pytest

from pipeline import stopping
from pipeline.stopping import StageStopped, clear_stop, request_stop, stoppable

GENEROUS_S = 30


@pytest.fixture(autouse=True)
def no_stop_left():
    clear_stop()
    yield
    clear_stop()


def test_a_stage_failure_without_a_stop_stays_that_failure():
    with pytest.raises(ValueError, match="bad row"):
        with stoppable():
            raise ValueError("bad row")


def test_a_failure_after_a_stop_is_the_stop():
    with pytest.raises(StageStopped):
        with stoppable():
            stopping._stopped.set()
            raise ValueError("closed client")


def test_a_stop_asked_in_the_stages_own_thread_raises_at_the_stages_end():
    """The SIGTERM handler runs in the main thread: request_stop must return, so the handler goes on to
    raise Terminated (exit 143 with its one line), and the stage still ends in StageStopped (no checkpoint)."""
    after_request = []
    with pytest.raises(StageStopped):
        with stoppable():
            request_stop()
            after_request.append("request_stop returned")
    assert after_request == ["request_stop returned"]


def test_a_thread_is_sent_the_stop_once_and_a_pending_one_is_forgotten_at_its_end(monkeypatch):
    """SIGTERM's handler and the runner's exit both call request_stop: the worker gets one StageStopped.
    And one sent but not raised yet (the thread was in native code) is taken back when its stage ends."""
    calls = []
    monkeypatch.setattr(stopping, "_raise_in", lambda ident, exception: calls.append((ident, exception)) or True)
    entered, leave = threading.Event(), threading.Event()
    ended = []

    def work():
        try:
            with stoppable():
                entered.set()
                leave.wait(GENEROUS_S)
        except BaseException as error:  # noqa: BLE001
            ended.append(error)

    thread = threading.Thread(target=work, daemon=True)
    thread.start()
    assert entered.wait(GENEROUS_S)
    request_stop()
    request_stop()
    leave.set()
    thread.join(GENEROUS_S)
    assert calls == [(thread.ident, StageStopped), (thread.ident, None)]
    assert len(ended) == 1 and isinstance(ended[0], StageStopped)
