"""The port check before a slow start binds as the servers do: a port left in TIME_WAIT by a server
that just stopped is free to listen on again (`fake-llm` refused it for about a minute)."""

from __future__ import annotations

import socket

import pytest
import typer

from pipeline.cli.ports import check_can_listen


def port_in_time_wait() -> int:
    """A port whose server closed a connection first, as a stopped server does: its side of the
    connection waits in TIME_WAIT with nothing listening."""
    with socket.socket() as server:
        server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        server.bind(("127.0.0.1", 0))
        server.listen()
        port = server.getsockname()[1]
        client = socket.create_connection(("127.0.0.1", port))
        accepted, _ = server.accept()
        accepted.close()  # the server closes first
        client.recv(1)
        client.close()
    return port


def test_a_port_in_time_wait_after_a_server_stopped_can_be_listened_on():
    port = port_in_time_wait()
    with socket.socket() as plain, pytest.raises(OSError):  # why the check must bind as the server does
        plain.bind(("127.0.0.1", port))
    check_can_listen("127.0.0.1", port)


def test_a_port_someone_listens_on_is_refused_in_one_line():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(typer.Exit) as refused:
            check_can_listen("127.0.0.1", port)
    assert refused.value.exit_code == 2
