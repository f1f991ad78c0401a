"""Start Prefect's temporary local server early, so its start-up (several seconds) overlaps
with imports and model loading instead of preceding the first task."""

from __future__ import annotations

import os
import threading


def start_temporary_server() -> threading.Thread | None:
    """Start the server Prefect would start on the first flow call anyway; join before the flow."""
    if os.environ.get("PREFECT_API_URL"):
        return None  # a real server is configured

    def start() -> None:
        from prefect.server.api.server import SubprocessASGIServer

        SubprocessASGIServer().start()  # a per-process singleton: the flow's client reuses it

    thread = threading.Thread(target=start, daemon=True, name="prefect-server")
    thread.start()
    return thread
