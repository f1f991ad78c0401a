"""Whether a port can be listened on, asked before a slow start (a model load, a detector)."""

from __future__ import annotations

import socket

from pipeline.cli.errors import fail


def check_can_listen(host: str, port: int) -> None:
    """One line and exit 2 where HOST:PORT cannot be bound. The socket is let go again for uvicorn,
    which binds it the same way (SO_REUSEADDR, IPv6 for an address with ':')."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except (OSError, OverflowError) as error:  # OverflowError: a port outside 0-65535
            raise fail(f"cannot listen on {host}:{port}: {getattr(error, 'strerror', None) or error}") from None
