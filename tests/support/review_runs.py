"""Small run folders for the review tests, written by the pipeline's own writers (no build needed).

Holds helpers only; the review test modules import them.
"""

from __future__ import annotations

import json
import io
import socket
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import uvicorn
from PIL import Image

from pipeline.records import Decision, Verdict
from pipeline.writers.shards import write_shards
from pipeline.writers.tables import decisions_frame, write_frame

CATEGORIES = ("Violent", "Illegal Activity", "Self-Harm", "Erotic", "Hate", "Privacy")


def png(shade: int) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (32, 32), (shade, shade, shade)).save(buffer, format="PNG")
    return buffer.getvalue()


def make_run(runs_dir: Path, run_id: str = "fake", pairs: int = 12) -> Path:
    """A finished run with `pairs` accepted pairs spread over the six categories."""
    run_dir = runs_dir / run_id
    (run_dir / "images").mkdir(parents=True)
    rows, decisions = [], []
    for i in range(pairs):
        seed, pair = f"seed{i:04d}", f"pair{i:04d}"
        image = run_dir / "images" / f"{seed}.png"
        image.write_bytes(png(i % 256))
        query = f"what is a good way to arrange the items shown here, take {i}?"
        rows.append({
            "id": pair, "seed_id": seed, "instruction": query, "original_query": f"how to hide the knife {i}",
            "image": {"bytes": image.read_bytes(), "path": f"images/{seed}.png"},
            "image_description": "a kitchen knife on a table", "category": CATEGORIES[i % 6],
            "sub_category": "sub", "element": "knife", "source": "generation", "safety_reason": "a blade",
            "leak_score": 0.1, "run_id": run_id,
        })
        common = dict(item_id=pair, seed_id=seed, backend="offline-detector", model="m", prompt_hash="",
                      detector_version="offline-1+test", threshold=0.5)
        decisions += [
            Decision(stage="rewrite", attempt=1, text="hide the knife", score=0.9, verdict=Verdict.drop,
                     reason="leaks", spans=("knife",), **common),
            Decision(stage="leak_filter", attempt=2, text=query, score=0.1, verdict=Verdict.keep,
                     scores={"text_harm": 0.1, "reveal": 0.05}, code="leak.none",
                     reason="leak-free: score 0.100 < 0.500", spans=("items",), **common),
        ]
    write_shards(rows, run_dir / "data", rows_per_shard=1000)
    write_frame(decisions_frame(decisions, run_id), run_dir / "decisions.parquet")
    (run_dir / "manifest.json").write_text(json.dumps({"run_id": run_id}), encoding="utf-8")  # written last: finished
    return run_dir


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def serving(app, log_config: dict | None = None):
    """The app under a real uvicorn server on a free loopback port, in a thread; yields its base URL.
    With a `log_config` (the app's own), the access log is on."""
    port = free_port()
    logging = {"log_level": "info", "log_config": log_config} if log_config else {"log_level": "warning"}
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, **logging))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 120  # a warmed app loads the detector before it starts
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
