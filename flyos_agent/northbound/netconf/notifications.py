"""The NETCONF event stream: netconf-config-change (RFC 6470) after every commit.

The Manager calls its commit listeners in the thread that committed; the
`NotificationHub` renders the event once and hands it to the event loop,
which sends it to every subscribed session (each applies its own filter).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from lxml import etree

from flyos_agent.northbound.netconf.monitoring import timestamp
from flyos_agent.northbound.netconf.namespaces import (
    NETCONF_NOTIFICATIONS,
    NOTIFICATION,
    default_ns,
    new_element,
    qname,
    sub,
)
from flyos_agent.northbound.netconf.xmldata import XmlCodec

log = logging.getLogger(__name__)

# RFC 6470 edit operations for the Manager's change kinds.
EDIT_OPERATIONS = {"create": "create", "modify": "replace", "delete": "delete"}
SERVER_CHANNELS = ("system", "startup")

Subscriber = Callable[[etree._Element], None]


def config_change(codec: XmlCodec, event: dict[str, Any]) -> etree._Element:
    """The <notification> for one commit event of the Manager."""
    notification = new_element(NOTIFICATION, "notification")
    sub(notification, NOTIFICATION, "eventTime", timestamp())
    change = etree.SubElement(
        notification,
        qname(NETCONF_NOTIFICATIONS, "netconf-config-change"),
        nsmap=default_ns(NETCONF_NOTIFICATIONS),
    )
    changed_by = sub(change, NETCONF_NOTIFICATIONS, "changed-by")
    if event.get("channel") in SERVER_CHANNELS:
        sub(changed_by, NETCONF_NOTIFICATIONS, "server")
    else:
        sub(changed_by, NETCONF_NOTIFICATIONS, "username", str(event.get("user")))
        sub(changed_by, NETCONF_NOTIFICATIONS, "session-id", str(event.get("session-id")))
    sub(change, NETCONF_NOTIFICATIONS, "datastore", "running")
    for item in event.get("changes", []):
        operation = EDIT_OPERATIONS.get(str(item.get("operation")))
        if operation is None:
            continue
        edit = sub(change, NETCONF_NOTIFICATIONS, "edit")
        path, nsmap = codec.xml_path(str(item.get("target")))
        target = etree.SubElement(edit, qname(NETCONF_NOTIFICATIONS, "target"), nsmap=nsmap)
        target.text = path
        sub(edit, NETCONF_NOTIFICATIONS, "operation", operation)
    return notification


class NotificationHub:
    """Fans commit events out to the subscribed sessions, on the event loop."""

    def __init__(self, codec: XmlCodec, loop: asyncio.AbstractEventLoop) -> None:
        self.codec = codec
        self.loop = loop
        self._subscribers: set[Subscriber] = set()

    def add(self, subscriber: Subscriber) -> None:
        """Start calling `subscriber(notification)` for each event."""
        self._subscribers.add(subscriber)

    def remove(self, subscriber: Subscriber) -> None:
        """Stop calling `subscriber`."""
        self._subscribers.discard(subscriber)

    def on_commit(self, event: dict[str, Any]) -> None:
        """Manager commit listener (any thread)."""
        if not self._subscribers or self.loop.is_closed():
            return
        notification = config_change(self.codec, event)
        try:
            self.loop.call_soon_threadsafe(self._deliver, notification)
        except RuntimeError:  # the loop closed meanwhile: the server is shutting down
            return

    def _deliver(self, notification: etree._Element) -> None:
        for subscriber in list(self._subscribers):
            try:
                subscriber(notification)
            except Exception:
                log.exception("delivering a notification failed")
