"""Wiring of the xml_curl context: the switch's data read from the database."""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

from dialer.clock import Clock
from dialer.xmlcurl.adapters import SqlSwitchData
from dialer.xmlcurl.service import XmlCurlDeps
from fs_conf.switch import SwitchOptions

__all__ = ["xml_curl_deps"]


def xml_curl_deps(
    sessions: sessionmaker[Session], clock: Clock, options: SwitchOptions | None = None
) -> XmlCurlDeps:
    return XmlCurlDeps(SqlSwitchData(sessions), clock, options or SwitchOptions())
