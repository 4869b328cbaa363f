"""What the API answers mod_xml_curl, from the fetches FreeSWITCH made in transcripts w1-w3:
the campaign dialplan, the queues, the external profile and the agents' users, built by the
same templates as ``fsconf render`` (and passing the same checks), ``not found`` (w2/w3's
document, byte for byte) for the rest."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from urllib.parse import parse_qsl

import pytest

from dialer.routing.model import Trunk
from dialer.xmlcurl.fakes import MemorySwitchData
from dialer.xmlcurl.service import XmlCurlDeps, answer
from fs_conf.dialplan import DialplanOptions, dialplan_xml
from fs_conf.dnc import DNC_EXTENSION
from fs_conf.switch import QueueSettings, SwitchOptions, callcenter_xml, queues_for
from fs_conf.xml_curl import NOT_FOUND_XML
from tests.support.clock import FakeClock
from tests.support.transcripts import HTTP_CAPTURES_DIR, http_request

T0 = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)
CAMPAIGNS = {"sales": "sales@default", "autumn": "q2@default"}
TRUNKS = [
    Trunk(name="carrier_a", proxy_host="127.0.0.1", proxy_port=5090),
    Trunk(name="fs2_only", proxy_host="192.0.2.2", fs_nodes=("fs2",)),
]


def _fields(capture: str) -> dict[str, str]:
    _line, _headers, body = http_request(capture)
    return dict(parse_qsl(body.decode(), keep_blank_values=True))


def _captured_answer(capture: str) -> str:
    raw = (HTTP_CAPTURES_DIR / f"{capture}.http.txt").read_bytes().decode("utf-8")
    response = raw.split("===== response sent by the capture server =====", 1)[1]
    return response.split("\r\n\r\n", 1)[1].strip()


@pytest.fixture
def deps() -> XmlCurlDeps:
    data = MemorySwitchData(
        dict(CAMPAIGNS), list(TRUNKS), [("+86139", None)], {"agent1@default": "user/agent1"}
    )
    return XmlCurlDeps(data, FakeClock(T0))


def _canonical(element: ET.Element) -> str:
    element.tail = None
    return ET.canonicalize(ET.tostring(element, encoding="unicode"), strip_text=True)


def _section(text: str, name: str) -> ET.Element:
    root = ET.fromstring(text)
    assert root.tag == "document" and root.get("type") == "freeswitch/xml"
    section = root.find("section")
    assert section is not None and section.get("name") == name
    return section


def test_the_campaign_dialplan_is_the_rendered_context(deps: XmlCurlDeps) -> None:
    fields = _fields("w1_xmlcurl_dialplan_campaign")
    assert (fields["section"], fields["Hunt-Context"]) == ("dialplan", "campaign")
    context = _section(answer(deps, fields), "dialplan").find("context")
    assert context is not None and context.get("name") == "campaign"
    names = [e.get("name") for e in context.findall("extension")]
    assert {"cc_sales", "cc_autumn", DNC_EXTENSION, "dialer_dnc_prefix"} <= set(names)
    # one source of truth: the very context `fsconf render` writes (with the DNC prefixes)
    rendered = ET.fromstring(
        dialplan_xml(CAMPAIGNS.items(), DialplanOptions(dnc_prefix_regex="^(0?139|86139)"))
    ).find("context")
    assert rendered is not None
    assert _canonical(context) == _canonical(rendered)
    served = {e.get("name"): e for e in ET.fromstring(_captured_answer(
        "w1_xmlcurl_dialplan_campaign")).iter("extension")}  # fmt: skip
    ours = {e.get("name"): e for e in context.findall("extension")}
    # what the lab served (and the call ran from) is ours but the marker and the DNC guard
    for name in ("cc_sales", "dialer_after_queue"):
        lab = [(a.get("application"), a.get("data")) for a in served[name].iter("action")]
        mine = [(a.get("application"), a.get("data")) for a in ours[name].iter("action")]
        lab = [a for a in lab if a != ("set", "dialplan_source=xml_curl")]
        mine = [a for a in mine if a[1] is None or DNC_EXTENSION not in a[1]]
        assert [a for a, _ in mine] == [a for a, _ in lab]


def test_another_context_is_not_found(deps: XmlCurlDeps) -> None:
    fields = _fields("w1_xmlcurl_dialplan_campaign") | {"Hunt-Context": "default"}
    assert answer(deps, fields) == NOT_FOUND_XML


def test_not_found_is_the_document_freeswitch_accepted() -> None:
    assert _captured_answer("w2_xmlcurl_directory_agent9_not_found") == NOT_FOUND_XML
    assert _captured_answer("w3_xmlcurl_configuration_callcenter_not_found") == NOT_FOUND_XML


def test_callcenter_conf_holds_the_campaigns_queues(deps: XmlCurlDeps) -> None:
    fields = _fields("w3_xmlcurl_configuration_callcenter_not_found")
    assert fields["key_value"] == "callcenter.conf"
    configuration = _section(answer(deps, fields), "configuration").find("configuration")
    assert configuration is not None
    expected = callcenter_xml(queues_for(CAMPAIGNS.values(), QueueSettings()))
    assert _canonical(configuration) == _canonical(ET.fromstring(expected))


def test_the_external_profile_carries_the_nodes_trunks_inline(deps: XmlCurlDeps) -> None:
    fields = {"section": "configuration", "tag_name": "configuration", "key_name": "name",
              "key_value": "sofia.conf", "profile": "external"}  # fmt: skip
    for node, gateways in [("fs1", ["carrier_a"]), ("fs2", ["carrier_a", "fs2_only"])]:
        configuration = _section(answer(deps, fields, node), "configuration")
        sofia = configuration.find("configuration")
        assert sofia is not None and sofia.get("name") == "sofia.conf"
        profile = sofia.find("profiles/profile")
        assert profile is not None and profile.get("name") == "external"
        assert [g.get("name") for g in profile.iter("gateway")] == gateways
        assert profile.find("gateways/X-PRE-PROCESS") is None
    other = answer(deps, fields | {"profile": "internal"})
    assert other == NOT_FOUND_XML
    assert answer(deps, {k: v for k, v in fields.items() if k != "profile"}) == NOT_FOUND_XML


def test_an_agents_user_is_served_and_registration_is_left_to_the_switch(
    deps: XmlCurlDeps,
) -> None:
    fields = _fields("w2_xmlcurl_directory_agent1_served")
    section = _section(answer(deps, fields), "directory")
    domain = section.find("domain")
    assert domain is not None and domain.get("name") == "default"
    lab = ET.fromstring(_captured_answer("w2_xmlcurl_directory_agent1_served")).find(
        "section/domain/params/param"
    )
    assert lab is not None
    assert domain.find("params/param") is not None
    assert domain.find("params/param").get("value") == lab.get("value")  # type: ignore[union-attr]
    assert [u.get("id") for u in domain.iter("user")] == ["agent1"]
    assert answer(deps, _fields("w2_xmlcurl_directory_agent9_not_found")) == NOT_FOUND_XML
    assert answer(deps, fields | {"action": "sip_auth"}) == NOT_FOUND_XML
    assert answer(deps, fields | {"user": 'a"/><x'}) == NOT_FOUND_XML


def test_data_the_render_would_refuse_is_not_found(deps: XmlCurlDeps) -> None:
    assert isinstance(deps.data, MemorySwitchData)
    deps.data.campaign_queues["bad name"] = "q"
    assert answer(deps, _fields("w1_xmlcurl_dialplan_campaign")) == NOT_FOUND_XML


def test_options_are_those_of_the_render() -> None:
    data = MemorySwitchData({"sales": "sales@default"})
    options = SwitchOptions(queue=QueueSettings(max_wait_time_s=5))
    text = answer(XmlCurlDeps(data, FakeClock(T0), options), {
        "section": "configuration", "key_value": "callcenter.conf"})  # fmt: skip
    params = {p.get("name"): p.get("value") for p in ET.fromstring(text).iter("param")}
    assert params["max-wait-time"] == "5"
