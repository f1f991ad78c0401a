"""Which answer format each server takes, learnt from its refusals.

OpenAI and vLLM take the `json_schema` response_format; llama.cpp's server refuses it
with HTTP 500 (a validation message) but constrains `{"type": "json_object", "schema":
...}`; any server follows a schema written into the prompt. A server that refuses a
format is moved to the next of `FORMAT_MODES` once, for every later request to it.
"""

from __future__ import annotations

import logging
import re
import threading
from dataclasses import dataclass

from pipeline.llm.config import EndpointConfig
from pipeline.llm.messages import FORMAT_MODES
from pipeline.llm.transport import ServerError

REJECTION_STATUS = {400, 422, 500}  # llama.cpp says 500 for a request it cannot validate
REJECTION_TEXT = re.compile(r"response_format|json_schema", re.IGNORECASE)
SHOWN_WHY = 200  # characters of the server's refusal in the warning: llama.cpp's runs to a page
log = logging.getLogger("pipeline.llm")


@dataclass(frozen=True)
class FormatRejected:
    """The server refused the request's response_format; ask again in the next mode."""

    why: str


def format_rejected(error: ServerError) -> bool:
    """The server refused the response_format itself (not a transient failure)."""
    return (error.status in REJECTION_STATUS
            and REJECTION_TEXT.search(f"{error.message} {error.body}") is not None)


class ServerFormats:
    """Thread-safe: base_url -> the mode to use, once a server has refused one."""

    def __init__(self) -> None:
        self._mode_of: dict[str, str] = {}
        self._lock = threading.Lock()

    def mode(self, endpoint: EndpointConfig) -> str:
        default = FORMAT_MODES[0] if endpoint.structured_outputs else "prompt"
        return self._mode_of.get(endpoint.base_url, default)

    def reject(self, endpoint: EndpointConfig, mode: str, why: str) -> None:
        with self._lock:
            if self.mode(endpoint) != mode:
                return  # a request in flight at the same time already moved this server on
            fallback = FORMAT_MODES[FORMAT_MODES.index(mode) + 1]
            self._mode_of[endpoint.base_url] = fallback
        _warn_once(endpoint.base_url, mode, why, fallback)


_warned: set[tuple[str, str]] = set()
_warned_lock = threading.Lock()


def _warn_once(base_url: str, mode: str, why: str, fallback: str) -> None:
    """Each client learns a server's format itself (one refused request each), but `evaluate` runs
    a client per model: the same server refusing the same format is said once per process."""
    with _warned_lock:
        if (base_url, mode) in _warned:
            return
        _warned.add((base_url, mode))
    log.warning("%s rejected response_format %s (%s); using %s for this server from now on",
                base_url, mode, shown_why(why), fallback)


def shown_why(why: str) -> str:
    """The server's refusal on one line, cut at a word with "…" where longer than `SHOWN_WHY`."""
    one_line = " ".join(why.split())
    if len(one_line) <= SHOWN_WHY:
        return one_line
    return one_line[:SHOWN_WHY].rsplit(" ", 1)[0].rstrip(",;:") + " …"
