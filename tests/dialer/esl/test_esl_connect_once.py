"""`connect_once`: the one-shot connection of a CLI command: connected to a switch that is
there, one line at once for one that is not, no retry."""

from __future__ import annotations

import logging
import socket
import time
from pathlib import Path

import pytest

from dialer.config import FsNode
from dialer.esl.ports import EslDisconnected
from dialer.esl.wiring import connect_once
from dialer.sim.simulator import SimulatorServer

LAB = Path(__file__).resolve().parents[3] / "scenarios" / "sim" / "lab.yaml"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_nothing_listening_is_one_line_at_once(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING)
    port = free_port()
    started = time.monotonic()
    with pytest.raises(EslDisconnected) as failure:
        connect_once("own", FsNode(name="fs1", host="127.0.0.1", port=port))
    assert time.monotonic() - started < 1.0
    assert str(failure.value) == f"fs1: no Event Socket at 127.0.0.1:{port} (connection refused)"
    assert caplog.records == []


@pytest.mark.integration
def test_a_switch_that_is_there_answers() -> None:
    with SimulatorServer(LAB) as sim:
        node = FsNode(name="fs1", host=sim.sim.host, port=sim.sim.port_number)
        client = connect_once("own", node)
        try:
            assert client.api("callcenter_config queue count", 2).strip() == "5"
        finally:
            client.close()


@pytest.mark.integration
def test_a_wrong_password_is_one_attempt_then_one_line(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING)
    with SimulatorServer(LAB) as sim:
        # a name of its own: clients other tests left retrying log "connect failed" too
        node = FsNode(
            name="fs-wrong-password", host=sim.sim.host, port=sim.sim.port_number, password="nope"
        )
        started = time.monotonic()
        with pytest.raises(EslDisconnected, match="did not accept the connection within 1 s"):
            connect_once("own", node)
        assert time.monotonic() - started < 2.0
    attempts = [
        r
        for r in caplog.records
        if "connect failed" in r.getMessage() and "fs-wrong-password" in r.getMessage()
    ]
    assert len(attempts) == 1
