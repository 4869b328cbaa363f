"""mod_xml_curl's binding as rendered (params of ``mod_xml_curl.c``'s ``do_config``)."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from fs_conf.xml_curl import XmlCurlBinding, document, xml_curl_conf_xml


def test_the_binding_names_the_api_its_sections_and_credentials() -> None:
    text = xml_curl_conf_xml(XmlCurlBinding("http://h:8080/fsapi/xml_curl?node=a&b", 'u:p"<'))
    root = ET.fromstring(text)
    assert root.get("name") == "xml_curl.conf"
    binding = root.find("bindings/binding")
    assert binding is not None
    params = {p.get("name"): p for p in binding.iter("param")}
    assert params["gateway-url"].get("value") == "http://h:8080/fsapi/xml_curl?node=a&b"
    assert params["gateway-url"].get("bindings") == "dialplan|directory|configuration"
    assert params["gateway-credentials"].get("value") == 'u:p"<'
    assert params["timeout"].get("value") == "5"
    bare = ET.fromstring(xml_curl_conf_xml(XmlCurlBinding("http://h/x")))
    assert "gateway-credentials" not in {p.get("name") for p in bare.iter("param")}


@pytest.mark.parametrize(
    ("url", "credentials", "timeout_s"),
    [("ftp://h/x", "", 5), ("http://h/${x}", "", 5), ("http://h/x", "a\nb", 5),
     ("http://h/x", "", 0)],
)  # fmt: skip
def test_bad_bindings_are_refused(url: str, credentials: str, timeout_s: int) -> None:
    with pytest.raises(ValueError):
        XmlCurlBinding(url, credentials, timeout_s)


def test_a_document_wraps_its_section_and_escapes_the_description() -> None:
    root = ET.fromstring(document("configuration", "<configuration name='x'/>", 'a"<b'))
    section = root.find("section")
    assert section is not None and section.get("description") == 'a"<b'
    assert [c.get("name") for c in section] == ["x"]
