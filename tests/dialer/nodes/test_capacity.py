"""The ``status`` and ``fsctl`` replies read from recorded FreeSWITCH traffic (transcripts f,
l, l2), and the sps bucket that keeps a node from refusing for rate."""

from __future__ import annotations

import pytest

from dialer.nodes.capacity import (
    Limits,
    SwitchStatus,
    bucket_for,
    effective_limits,
    parse_fsctl,
    parse_status,
    refill,
)
from tests.support.transcripts import transcript_frames


def api_replies(name: str) -> list[str]:
    return [f.body.decode() for f in transcript_frames(name) if f.content_type == "api/response"]


def test_status_replies_of_the_transcripts() -> None:
    statuses = [s for s in map(parse_status, api_replies("f_api_outputs")) if s]
    assert statuses[:2] == [SwitchStatus(0, 0, 30, 1000), SwitchStatus(2, 0, 30, 1000)]
    [l2] = [s for s in map(parse_status, api_replies("l2_max_sessions")) if s]
    assert l2 == SwitchStatus(sessions=2, sessions_this_s=0, sps=30, max_sessions=2)
    [sps] = [s for s in map(parse_status, api_replies("l_sps_throttle")) if s]
    assert sps == SwitchStatus(sessions=2, sessions_this_s=0, sps=30, max_sessions=1000)


def test_fsctl_replies_of_the_transcripts() -> None:
    sps = [v for v in map(parse_fsctl, api_replies("l_sps_throttle")) if v is not None]
    assert sps == [30, 30, 1, 3, 30, 30]  # sps, sps 0 (ignored), sps 1, sps 3, sps 30, sps
    most = [v for v in map(parse_fsctl, api_replies("l2_max_sessions")) if v is not None]
    assert most == [1000, 2, 1000, 1000]


@pytest.mark.parametrize("reply", ["", "-ERR INVALID COMMAND\n", "+OK\n", "true"])
def test_other_replies_are_not_read_as_figures(reply: str) -> None:
    assert parse_status(reply) is None
    assert parse_fsctl(reply) is None


def test_the_operator_lowers_what_the_switch_says_never_raises_it() -> None:
    read = SwitchStatus(5, 0, 30, 1000)
    assert effective_limits(read, None, None) == Limits(1000, 30)
    assert effective_limits(read, 200, 10) == Limits(200, 10)
    assert effective_limits(read, 5000, 100) == Limits(1000, 30)
    assert effective_limits(None, 200, None) == Limits(200, None)


@pytest.mark.parametrize("sps", [1, 2, 3, 7, 30, 250])
def test_the_bucket_never_grants_sps_in_an_interval_under_a_second(sps: int) -> None:
    # greedy takers at every 1 ms: the most grants in any window shorter than 1 s
    bucket = bucket_for(sps)
    tokens, at_s, grants = bucket.burst, 0.0, []
    for step in range(5_000):
        now_s = step / 1000
        tokens = refill(tokens, at_s, now_s, bucket)
        at_s = now_s
        while tokens >= 1.0:
            tokens -= 1.0
            grants.append(now_s)
    worst = max(sum(1 for t in grants if start <= t < start + 0.999) for start in grants or [0])
    assert worst <= sps - 1
    assert len(grants) >= int((sps - 1) / 2 * 5)  # about sps / 2 a second
