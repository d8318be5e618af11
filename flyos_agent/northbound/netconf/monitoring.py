"""ietf-netconf-monitoring (RFC 6022) state and the RFC 5277 stream list.

The counters live here; sessions bump them, `netconf_state` renders them with
the capabilities, datastores, schemas and sessions a client may list.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, field

from lxml import etree

from flyos_agent.northbound.netconf.library import Library
from flyos_agent.northbound.netconf.namespaces import (
    MONITORING,
    NOTIFICATION_STREAMS,
    YANG_LIBRARY,
    new_element,
    sub,
)

STREAM = "NETCONF"
DATASTORES = ("running", "candidate", "startup")

# The key leaves of the lists of the state trees built here and in library.py,
# by (namespace, list name): what subtree filtering keeps in selected entries.
STATE_LIST_KEYS = {
    (MONITORING, "schema"): ("identifier", "version", "format"),
    (MONITORING, "session"): ("session-id",),
    (MONITORING, "datastore"): ("name",),
    (NOTIFICATION_STREAMS, "stream"): ("name",),
    (YANG_LIBRARY, "module-set"): ("name",),
    (YANG_LIBRARY, "module"): ("name",),
    (YANG_LIBRARY, "import-only-module"): ("name", "revision"),
    (YANG_LIBRARY, "schema"): ("name",),
    (YANG_LIBRARY, "datastore"): ("name",),
}


def timestamp(seconds: float | None = None) -> str:
    """RFC 3339 date-and-time in UTC."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(seconds))


@dataclass
class Counters:
    """The RFC 6022 per-session (and global) message counters."""

    in_rpcs: int = 0
    in_bad_rpcs: int = 0
    out_rpc_errors: int = 0
    out_notifications: int = 0

    def render(self, parent: etree._Element) -> None:
        """Append the counter leaves to `parent`."""
        sub(parent, MONITORING, "in-rpcs", str(self.in_rpcs))
        sub(parent, MONITORING, "in-bad-rpcs", str(self.in_bad_rpcs))
        sub(parent, MONITORING, "out-rpc-errors", str(self.out_rpc_errors))
        sub(parent, MONITORING, "out-notifications", str(self.out_notifications))


@dataclass
class SessionRecord:
    """What netconf-state lists about one NETCONF session."""

    session_id: int
    username: str
    source_host: str
    login_time: str = field(default_factory=timestamp)
    counters: Counters = field(default_factory=Counters)


@dataclass
class Statistics:
    """Server-wide counters since the NETCONF server started."""

    start_time: str = field(default_factory=timestamp)
    in_bad_hellos: int = 0
    in_sessions: int = 0
    dropped_sessions: int = 0
    totals: Counters = field(default_factory=Counters)


def netconf_state(
    library: Library, sessions: Iterable[SessionRecord], statistics: Statistics
) -> etree._Element:
    """The <netconf-state> tree."""
    state = new_element(MONITORING, "netconf-state")
    capabilities = sub(state, MONITORING, "capabilities")
    for uri in library.capabilities():
        sub(capabilities, MONITORING, "capability", uri)
    datastores = sub(state, MONITORING, "datastores")
    for name in DATASTORES:
        sub(sub(datastores, MONITORING, "datastore"), MONITORING, "name", name)
    schemas = sub(state, MONITORING, "schemas")
    for module in library.modules:
        schema = sub(schemas, MONITORING, "schema")
        sub(schema, MONITORING, "identifier", module.name)
        sub(schema, MONITORING, "version", module.revision)
        sub(schema, MONITORING, "format", "yang")
        sub(schema, MONITORING, "namespace", module.namespace)
        sub(schema, MONITORING, "location", "NETCONF")
    listed = sub(state, MONITORING, "sessions")
    for record in sessions:
        session = sub(listed, MONITORING, "session")
        sub(session, MONITORING, "session-id", str(record.session_id))
        sub(session, MONITORING, "transport", "netconf-ssh")
        sub(session, MONITORING, "username", record.username)
        sub(session, MONITORING, "source-host", record.source_host)
        sub(session, MONITORING, "login-time", record.login_time)
        record.counters.render(session)
    stats = sub(state, MONITORING, "statistics")
    sub(stats, MONITORING, "netconf-start-time", statistics.start_time)
    sub(stats, MONITORING, "in-bad-hellos", str(statistics.in_bad_hellos))
    sub(stats, MONITORING, "in-sessions", str(statistics.in_sessions))
    sub(stats, MONITORING, "dropped-sessions", str(statistics.dropped_sessions))
    statistics.totals.render(stats)
    return state


def streams() -> etree._Element:
    """The RFC 5277 <netconf><streams> list: the one NETCONF stream, no replay."""
    root = new_element(NOTIFICATION_STREAMS, "netconf")
    stream = sub(sub(root, NOTIFICATION_STREAMS, "streams"), NOTIFICATION_STREAMS, "stream")
    sub(stream, NOTIFICATION_STREAMS, "name", STREAM)
    sub(stream, NOTIFICATION_STREAMS, "description", "configuration change events")
    sub(stream, NOTIFICATION_STREAMS, "replaySupport", "false")
    return root
