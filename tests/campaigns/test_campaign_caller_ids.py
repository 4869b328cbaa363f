"""A campaign's caller-ID override is refused when the campaign is made, not when it dials."""

from __future__ import annotations

from typing import Any

import pytest

from campaigns.service import CampaignError, parse_spec


@pytest.mark.parametrize(
    ("policy", "problem"),
    [
        ({"numbers": ["20220601\n"]}, "caller ID '20220601\\n' must be 1-32 digits"),
        ({"numbers": ["2022 0601"]}, "caller ID '2022 0601' must be 1-32 digits"),
        ({"numbers": ["1"], "mode": "sometimes"}, "'sometimes' is not a valid CallerIdMode"),
        ({"numbers": 5}, "not a caller-ID policy"),
    ],
)
def test_a_caller_id_the_originate_would_refuse_is_refused(
    policy: dict[str, Any], problem: str
) -> None:
    with pytest.raises(CampaignError, match="caller_id_policy") as refused:
        parse_spec(name="spring", queue_name="sales@default", caller_id_policy=policy)
    assert problem in str(refused.value)


def test_a_good_override_is_kept() -> None:
    policy = {"numbers": ["+861012345678", "20220601"], "mode": "round_robin"}
    spec = parse_spec(name="spring", queue_name="sales@default", caller_id_policy=policy)
    assert spec.caller_id_policy == policy
