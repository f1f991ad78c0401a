"""The error the client's child sends in place of an answer that does not pickle reaches the parent as
`ClientProcessError`, although the child runs `python -m pipeline.llm.process` as `__main__`: a class
pickled as `__main__.ClientProcessError` could not be read back by the parent, whose reader thread
would die and leave every batch waiting."""

from __future__ import annotations

import pickle
import subprocess
import sys

from pipeline.llm.process import ClientProcessError

# Runs pipeline.llm.process as `python -m` does (as `__main__`, left in sys.modules), its main returning
# at once (the settings pipe is closed), then sends an unpicklable answer through the child's `_send_forever`.
AS_THE_CHILD = """
import os, queue, runpy, sys, types
from multiprocessing import Pipe
settings_read, settings_write = os.pipe()
os.close(settings_write)
_, replies_write = os.pipe()
sys.argv = ["pipeline.llm.process", str(settings_read), str(replies_write)]
child = runpy.run_module("pipeline.llm.process", run_name="__main__", alter_sys=True)
main = types.ModuleType("__main__")
main.__dict__.update(child)
sys.modules["__main__"] = main
outbox, (replies_read, replies) = queue.SimpleQueue(), Pipe(duplex=False)
outbox.put((7, False, ValueError(lambda: None), {"vsil_judge": {"requests": 1}}))
outbox.put(None)
from pipeline.llm.process_child import _send_forever  # what the child, run as above, sends with
_send_forever(outbox, replies)
sys.stdout.buffer.write(replies_read.recv_bytes())
"""


def test_the_childs_error_for_an_unpicklable_answer_unpickles_in_the_parent():
    done = subprocess.run([sys.executable, "-c", AS_THE_CHILD], capture_output=True, timeout=60)
    assert done.returncode == 0, done.stderr.decode()
    batch_id, ok, error, usage = pickle.loads(done.stdout)
    assert (batch_id, ok, usage) == (7, False, {"vsil_judge": {"requests": 1}})
    assert isinstance(error, ClientProcessError) and "pickle" in str(error).lower()
