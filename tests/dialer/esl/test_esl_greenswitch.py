"""What the greenswitch adapter needs proving beyond the seam's contract
(``tests/contracts/test_contract_esl_connection.py``): exact values through greenswitch, and
the same code in a process under ``gevent.monkey.patch_all()`` (checked for the own client
too: patched threads are greenlets there)."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from dialer.esl.adapters.greenswitch import GreenswitchClient
from dialer.esl.ports import EslClientKind, Subscription
from dialer.sim.simulator import SimulatorServer
from tests.support.esl import EventLog

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[3]  # the patched process imports `tests.support`

SCENARIO: dict[str, Any] = {
    "speed": 10.0,
    "gateways": {"gw1": {}},
    "population": [{"outcomes": {"answer": 1}, "talk_time_s": 1.0}],
}
CALL_UUID = "00000000-0000-4000-8000-000000000042"
ORIGINATE = (
    f"originate {{origination_uuid={CALL_UUID},origination_caller_id_number=a%2Cb,"
    "originate_timeout=20}sofia/gateway/gw1/555 &park"
)


def test_values_arrive_exactly_though_greenswitch_url_decodes_bodies() -> None:
    """greenswitch alone would hand ``a,b`` (and could not read JSON events at all)."""
    with SimulatorServer(SCENARIO, engine_factory=None) as server:
        log = EventLog()
        sub = Subscription(events=("CHANNEL_ANSWER",))
        sim = server.sim
        client = GreenswitchClient("fs1", sim.host, sim.port_number, "ClueCon", sub, log)
        client.start()
        try:
            assert client.wait_connected(5)
            result = client.bgapi(ORIGINATE, timeout_s=10).result(timeout=10)
            assert result.ok and result.detail == CALL_UUID
            answer = log.wait_for(lambda e: e.uuid == CALL_UUID, 10)
            assert answer.var("origination_caller_id_number") == "a%2Cb"
        finally:
            client.close()


PATCHED_PROCESS = textwrap.dedent(
    """
    from gevent import monkey

    monkey.patch_all()

    import json
    import sys

    import gevent

    from dialer.config import FsNode
    from dialer.esl.ports import Subscription
    from dialer.esl.wiring import build_esl_client
    from tests.support.esl import EventLog

    kind, host, port, originate, call_uuid = sys.argv[1:6]
    log = EventLog()
    client = build_esl_client(
        kind, FsNode(name="fs1", host=host, port=int(port)),
        Subscription(events=("CHANNEL_ANSWER",)), log,
    ).start()
    connected = client.wait_connected(5)
    statuses = gevent.joinall([gevent.spawn(client.api, "status") for _ in range(20)], timeout=10)
    job = client.bgapi(originate, timeout_s=10).result(timeout=10)
    answer = log.wait_for(lambda e: e.uuid == call_uuid, 10)
    client.close()
    print(json.dumps({
        "patched": monkey.is_module_patched("threading"),
        "connected": connected,
        "statuses": [g.value.split(" ")[0] for g in statuses if g.successful()],
        "job": job.detail,
        "caller_id": answer.var("origination_caller_id_number"),
        "closed": not client.connected,
    }))
    """
)


@pytest.mark.parametrize("kind", ["greenswitch", "own"])
def test_the_same_code_serves_a_monkey_patched_process(kind: EslClientKind) -> None:
    with SimulatorServer(SCENARIO, engine_factory=None) as server:
        sim = server.sim
        argv = [kind, sim.host, str(sim.port_number), ORIGINATE, CALL_UUID]
        run = subprocess.run(
            [sys.executable, "-c", PATCHED_PROCESS, *argv],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
            cwd=ROOT,
        )
    assert run.returncode == 0, run.stderr[-2000:]
    out = json.loads(run.stdout.strip().splitlines()[-1])
    assert out == {
        "patched": True,
        "connected": True,
        "statuses": ["UP"] * 20,
        "job": CALL_UUID,
        "caller_id": "a%2Cb",
        "closed": True,
    }
