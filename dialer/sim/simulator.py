"""Composition root of the switch simulator and helpers to run it in-process.

``async with run_simulator(scenario) as sim:`` starts the Event Socket on a free port of
127.0.0.1 in the running loop; `SimulatorServer` does the same on a background thread for
synchronous tests (greenswitch). ``sim.records`` is the ground truth of every call.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import threading
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from dialer.sim.api import Api
from dialer.sim.cdr_post import CdrPoster, CdrPosting, cdr_document
from dialer.sim.channel import Channel
from dialer.sim.clock import SimTime
from dialer.sim.dialplan import Dialplan
from dialer.sim.esl_server import EslServer
from dialer.sim.originator import SimOriginator
from dialer.sim.ports import CallcenterEngine, CallcenterEngineFactory, TimerHandle
from dialer.sim.recording_upload import UploadHooks, parse_upload_hook
from dialer.sim.records import Records
from dialer.sim.scenario import Scenario, load_scenario, scenario_from_dict
from dialer.sim.switch import SimSwitch
from dialer.sim.xml_curl_fetch import XmlCurlSource, fetch_config

__all__ = [
    "Simulator",
    "SimulatorServer",
    "load_engine_factory",
    "run_simulator",
    "serve_forever",
]


def load_engine_factory() -> CallcenterEngineFactory | None:
    """``dialer.sim.callcenter.create_engine`` if that package provides it."""
    try:
        module = importlib.import_module("dialer.sim.callcenter")
    except ImportError:
        return None
    factory = getattr(module, "create_engine", None)
    return factory if callable(factory) else None


class Simulator:
    """A whole simulated FreeSWITCH node (not yet listening)."""

    def __init__(
        self,
        scenario: Scenario,
        *,
        password: str = "ClueCon",
        engine_factory: CallcenterEngineFactory | bool | None = True,
        cdr: CdrPosting | None = None,
    ) -> None:
        self.scenario = scenario
        self.switch = SimSwitch(scenario)
        self.originator = SimOriginator(self.switch, Dialplan(self.switch))
        self.api = Api(self.switch, self.originator)
        factory = load_engine_factory() if engine_factory is True else engine_factory
        if factory and not isinstance(factory, bool):
            self.switch.engine = factory(self.switch, scenario.callcenter)
        self.server = EslServer(self.switch, self.api, password)
        self.host = ""
        self.port_number = 0
        self._heartbeat: TimerHandle | None = None
        self.cdr_poster: CdrPoster | None = None
        if cdr is not None:
            self.cdr_poster = CdrPoster(replace(cdr, speed=scenario.speed))
            self.switch.hangups.on_report = self._post_cdr
        self.upload_hooks: UploadHooks | None = None
        self.switch.hangups.on_hangup_hook = self._run_hangup_hook

    def _run_hangup_hook(self, ch: Channel) -> None:
        hook = parse_upload_hook(ch.variables.get("api_hangup_hook", ""))
        recorded = ch.variables.get("execute_on_answer", "").startswith("record_session ")
        if hook is None or not (recorded and ch.answered):
            return  # another command, or no file: curl would find nothing to send
        if self.upload_hooks is None:
            self.upload_hooks = UploadHooks()
        self.upload_hooks.run(hook)

    def _post_cdr(self, ch: Channel) -> None:
        assert self.cdr_poster is not None
        record = self.switch.records.get(ch.uuid)
        document = cdr_document(
            self.switch.global_vars["core_uuid"],
            self.scenario.hostname,
            ch.variables,
            ch.profile,
            record.number if record is not None else "",
        )
        self.cdr_poster.post(ch.uuid, document)

    @property
    def engine(self) -> CallcenterEngine | None:
        """The integrated callcenter engine, if any."""
        return self.switch.engine

    @property
    def records(self) -> Records:
        """Ground-truth call records."""
        return self.switch.records

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> tuple[str, int]:
        """Attach the clock to the running loop and listen."""
        self.switch.clock.attach(asyncio.get_running_loop())
        self.switch.admission.started_s = self.switch.now_s()
        self.host, self.port_number = await self.server.start(host, port)
        self._schedule_heartbeat()
        return self.host, self.port_number

    def _schedule_heartbeat(self) -> None:
        def beat() -> None:
            self.switch.bus.emit("HEARTBEAT", self._heartbeat_headers())
            self._schedule_heartbeat()

        self._heartbeat = self.switch.call_later(self.scenario.heartbeat_s, beat)

    def _heartbeat_headers(self) -> list[tuple[str, str]]:
        sw = self.switch
        c = sw.admission
        up_s = int(sw.now_s() - c.started_s)
        return [
            ("Event-Info", "System Ready"),
            (
                "Up-Time",
                f"0 years, 0 days, {up_s // 3600} hours, {up_s // 60 % 60} minutes, "
                f"{up_s % 60} seconds, 0 milliseconds, 0 microseconds",
            ),
            ("FreeSWITCH-Version", "1.10.12-release~64bit"),
            ("Uptime-msec", str(up_s * 1000)),
            ("Session-Count", str(sw.live_sessions())),
            ("Max-Sessions", str(c.max_sessions)),
            ("Session-Per-Sec", str(c.sps_limit)),
            ("Session-Per-Sec-Last", "0"),
            ("Session-Per-Sec-Max", str(c.sps_peak)),
            ("Session-Per-Sec-FiveMin", str(c.sps_peak)),
            ("Session-Since-Startup", str(c.since_startup)),
            ("Session-Peak-Max", str(c.peak)),
            ("Session-Peak-FiveMin", str(c.peak)),
            ("Idle-CPU", "99.000000"),
        ]

    async def stop(self) -> None:
        """Close every connection and stop listening."""
        if self._heartbeat is not None:
            self.switch.cancel(self._heartbeat)
        await self.server.stop()
        if self.cdr_poster is not None:
            await asyncio.to_thread(self.cdr_poster.close)
        if self.upload_hooks is not None:
            await asyncio.to_thread(self.upload_hooks.close)


def _as_scenario(scenario: Scenario | Mapping[str, Any] | Path | str) -> Scenario:
    """Accept a `Scenario`, a parsed mapping or a file path."""
    if isinstance(scenario, Scenario):
        return scenario
    if isinstance(scenario, Mapping):
        return scenario_from_dict(scenario)
    return load_scenario(scenario)


@contextlib.asynccontextmanager
async def run_simulator(
    scenario: Scenario | Mapping[str, Any] | Path | str,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    password: str = "ClueCon",
    engine_factory: CallcenterEngineFactory | bool | None = True,
    cdr: CdrPosting | None = None,
) -> AsyncIterator[Simulator]:
    """Run a simulator in the current loop for the duration of the block (``cdr``: post
    each customer leg's CDR there)."""
    sim = Simulator(
        _as_scenario(scenario), password=password, engine_factory=engine_factory, cdr=cdr
    )
    await sim.start(host, port)
    try:
        yield sim
    finally:
        await sim.stop()


class SimulatorServer:
    """A simulator on its own thread and loop: ``start()`` returns (host, port)."""

    def __init__(
        self,
        scenario: Scenario | Mapping[str, Any] | Path | str,
        *,
        password: str = "ClueCon",
        engine_factory: CallcenterEngineFactory | bool | None = True,
        cdr: CdrPosting | None = None,
    ) -> None:
        self.sim = Simulator(
            _as_scenario(scenario), password=password, engine_factory=engine_factory, cdr=cdr
        )
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)

    def start(self, host: str = "127.0.0.1", port: int = 0) -> tuple[str, int]:
        """Start the loop thread and listen."""
        self._thread.start()
        fut = asyncio.run_coroutine_threadsafe(self.sim.start(host, port), self._loop)
        return fut.result(timeout=10)

    def call(self, fn: Callable[[], Any]) -> Any:
        """Run ``fn`` on the simulator's loop and return its result (thread-safe access)."""

        async def wrapper() -> Any:
            return fn()

        return asyncio.run_coroutine_threadsafe(wrapper(), self._loop).result(timeout=10)

    def time(self) -> SimTime:
        """The simulator's clock, readable from any thread (after ``start``)."""
        follower: SimTime = self.call(self.sim.switch.clock.follower)
        return follower

    def stop(self) -> None:
        """Close connections, stop the loop and join the thread."""
        asyncio.run_coroutine_threadsafe(self.sim.stop(), self._loop).result(timeout=10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()

    def __enter__(self) -> SimulatorServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


async def serve_forever(
    scenario_path: Path,
    *,
    host: str,
    port: int,
    password: str = "ClueCon",
    speed: float | None = None,
    seed: int | None = None,
    records_path: Path | None = None,
    cdr: CdrPosting | None = None,
    xml_curl: XmlCurlSource | None = None,
) -> None:
    """The ``dialer sim serve`` process: run until cancelled, then dump records;
    ``xml_curl``: the campaign dialplan and queues are fetched from there first."""
    scenario = load_scenario(scenario_path)
    if xml_curl is not None:
        scenario = await asyncio.to_thread(fetch_config, scenario, xml_curl)
    if speed is not None or seed is not None:
        scenario = replace(
            scenario,
            speed=speed if speed is not None else scenario.speed,
            seed=seed if seed is not None else scenario.seed,
        )
    journal = records_path is not None and records_path.suffix == ".jsonl"
    async with run_simulator(scenario, host=host, port=port, password=password, cdr=cdr) as sim:
        if journal and records_path is not None:
            sim.records.journal_to(records_path)
        try:
            await asyncio.Event().wait()
        finally:
            if journal:
                sim.records.close_journal()
            elif records_path is not None:
                sim.records.dump(records_path)
