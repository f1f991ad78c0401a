"""The child's side of `pipeline.llm.process`: one `LLMClient` serving the batches its parent sends.

The parent (`ClientProcess`) starts `python -m pipeline.llm.process`, which runs `main` here. Each
batch runs on the client's event loop; its answers (or error) go back with the client's counts, and
the counts alone about every second while they change, so that a parent killed mid-batch has recorded
all but its last second's requests. The child exits when the parent closes the pipe, and at once,
without finishing its batches, when the pipe breaks (the parent died).
"""

from __future__ import annotations

import asyncio
import os
import queue
import signal
import sys
import threading
from concurrent.futures import Future
from multiprocessing.connection import Connection
from typing import Any

from pipeline.llm.config import LLMSettings

COUNTS_EVERY_S = 1.0  # the child's counts reach the parent this often while they change


class ClientProcessError(RuntimeError):
    """The client's process is gone; its batches cannot be answered.

    Also what the child sends in place of an answer that does not pickle. It lives here, in a module
    the child imports rather than runs as `__main__`, so that the class the child pickles is the one
    the parent (`pipeline.llm.process`) raises and can unpickle."""


def serve(requests: Connection, replies: Connection) -> None:
    from pipeline.llm.client import LLMClient

    try:
        client = LLMClient.from_settings(LLMSettings.model_validate_json(requests.recv()))
    except Exception as error:  # e.g. a cache path that cannot be written: every batch says so
        _refuse_every_batch(requests, replies, error)
        return
    outbox = _Outbox(client)
    sender = threading.Thread(target=_send_forever, args=(outbox.queue, replies), name="replies", daemon=True)
    sender.start()
    counting = threading.Event()
    threading.Thread(target=_send_counts_until, args=(outbox, counting), name="counts", daemon=True).start()
    running: dict[int, Future] = {}
    try:
        while (message := requests.recv()) is not None:
            kind, batch_id, *batch = message
            if kind == "cancel":
                if (future := running.pop(batch_id, None)) is not None:
                    future.cancel()
                continue
            future = running[batch_id] = client.submit(_batch(client, outbox, batch_id, *batch))
            future.add_done_callback(lambda done, batch_id=batch_id: _reply(outbox, batch_id, done, running))
    except (EOFError, OSError):  # the parent died without closing: send nothing more
        os._exit(1)
    counting.set()
    client.close()  # commits the answers still queued for the cache
    outbox.queue.put(None)
    sender.join()


class _Outbox:
    """Replies for the parent, each with the client's counts as they were when it was put, in that
    order: the parent takes the last counts it receives."""

    def __init__(self, client) -> None:
        self.queue: queue.SimpleQueue = queue.SimpleQueue()
        self._client = client
        self._lock = threading.Lock()
        self._sent: dict[str, dict] = {}

    def put(self, batch_id: int | None, ok: bool | None, result: Any) -> None:
        with self._lock:
            self._sent = self._client.accounting.summary()
            self.queue.put((batch_id, ok, result, self._sent))

    def counts_if_changed(self) -> None:
        with self._lock:
            changed = self._client.accounting.summary() != self._sent
        if changed:
            self.put(None, None, None)


async def _batch(client, outbox: _Outbox, batch_id: int, role: str, inputs: list) -> list:
    try:
        return await client.arun_batch(role, inputs)
    except asyncio.CancelledError:  # its requests have been cancelled, and counted, by now
        outbox.put(batch_id, None, None)
        raise


def _send_counts_until(outbox: _Outbox, stop: threading.Event) -> None:
    """So that a parent killed mid-batch (SIGKILL) has recorded all but its last second's requests."""
    while not stop.wait(COUNTS_EVERY_S):
        outbox.counts_if_changed()


def _refuse_every_batch(requests: Connection, replies: Connection, error: Exception) -> None:
    try:
        while (message := requests.recv()) is not None:
            if message[0] == "batch":
                replies.send((message[1], False, error, {}))
    except (EOFError, OSError):
        pass


def _reply(outbox: _Outbox, batch_id: int, done: Future, running: dict) -> None:
    running.pop(batch_id, None)
    if done.cancelled():  # `_batch` sends its last counts
        return
    error = done.exception()
    outbox.put(batch_id, error is None, done.result() if error is None else error)


def _send_forever(outbox: queue.SimpleQueue, replies: Connection) -> None:
    while (message := outbox.get()) is not None:
        try:
            replies.send(message)
        except Exception as error:  # an exception that does not pickle still reaches the caller
            batch_id, _, _, usage = message
            replies.send((batch_id, False, ClientProcessError(f"{type(error).__name__}: {error}"), usage))


def main() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C stops the parent, which then closes us
    requests_fd, replies_fd = (int(fd) for fd in sys.argv[1:3])
    serve(Connection(requests_fd, writable=False), Connection(replies_fd, readable=False))
