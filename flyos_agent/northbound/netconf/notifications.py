"""The NETCONF event stream: netconf-config-change (RFC 6470) after every commit, and
flyos-agent-ops drift-change when the kernel's drift from running changes.

The Manager calls its listeners in the thread that committed (or checked).
There the `NotificationHub` asks the Manager, per subscribed session, what NACM
lets that session receive of the event (RFC 8341 3.4.6: nothing, all of it, or
a pruned copy), renders each distinct view once and hands the notifications to
the event loop, which sends them (each session applies its own filter).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from lxml import etree

from flyos_agent.northbound.netconf.monitoring import timestamp
from flyos_agent.northbound.netconf.namespaces import (
    FLYOS_OPS,
    NETCONF_NOTIFICATIONS,
    NOTIFICATION,
    default_ns,
    new_element,
    qname,
    sub,
)
from flyos_agent.northbound.netconf.xmldata import XmlCodec
from flyos_agent.runtime.nacm_notify import CONFIG_CHANGE, DRIFT_CHANGE

log = logging.getLogger(__name__)

# RFC 6470 edit operations for the Manager's change kinds.
EDIT_OPERATIONS = {"create": "create", "modify": "replace", "delete": "delete"}
SERVER_CHANNELS = ("system", "startup")
DRIFT_LEAVES = ("kind", "name", "drift", "detail", "since")

Subscriber = Callable[[etree._Element], None]
# What one subscriber may receive of event (name, event): the Manager's NACM view.
View = Callable[[str, dict[str, Any]], dict[str, Any] | None]


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


def drift_change(event: dict[str, Any]) -> etree._Element:
    """The <notification> for a drift-change event: in-sync and every drifted object."""
    notification = new_element(NOTIFICATION, "notification")
    sub(notification, NOTIFICATION, "eventTime", timestamp())
    change = etree.SubElement(
        notification, qname(FLYOS_OPS, "drift-change"), nsmap=default_ns(FLYOS_OPS)
    )
    sub(change, FLYOS_OPS, "in-sync", "true" if event.get("in-sync") else "false")
    for item in event.get("object", []):
        element = sub(change, FLYOS_OPS, "object")
        for leaf in DRIFT_LEAVES:
            if item.get(leaf) is not None:
                sub(element, FLYOS_OPS, leaf, str(item[leaf]))
    return notification


RENDERERS = {DRIFT_CHANGE: drift_change}


class NotificationHub:
    """Fans Manager events out to the subscribed sessions, each as NACM lets it see
    them, sent on the event loop."""

    def __init__(self, codec: XmlCodec, loop: asyncio.AbstractEventLoop) -> None:
        self.codec = codec
        self.loop = loop
        self._subscribers: dict[Subscriber, View] = {}

    def add(self, subscriber: Subscriber, view: View) -> None:
        """Start calling `subscriber(notification)` for each event, as `view` shows it."""
        self._subscribers[subscriber] = view

    def remove(self, subscriber: Subscriber) -> None:
        """Stop calling `subscriber`."""
        self._subscribers.pop(subscriber, None)

    def on_commit(self, event: dict[str, Any]) -> None:
        """Manager commit listener (any thread)."""
        self._fan_out(CONFIG_CHANGE, event)

    def on_event(self, name: str, event: dict[str, Any]) -> None:
        """Manager event listener (any thread): events with a notification in the models."""
        if name in RENDERERS:
            self._fan_out(name, event)

    def _fan_out(self, name: str, event: dict[str, Any]) -> None:
        """Each subscriber's view of the event, rendered once per distinct view."""
        if not self._subscribers or self.loop.is_closed():
            return
        rendered: dict[int, tuple[dict[str, Any], etree._Element]] = {}
        batch: list[tuple[Subscriber, etree._Element]] = []
        for subscriber, view in list(self._subscribers.items()):
            try:
                seen = view(name, event)
                if seen is None:
                    continue
                if id(seen) not in rendered:  # the view is kept: its id stays its own
                    rendered[id(seen)] = (seen, self._render(name, seen))
                batch.append((subscriber, rendered[id(seen)][1]))
            except Exception:  # the session gets nothing: never more than it may read
                log.exception("the %s notification of a subscriber failed", name)
        if not batch:
            return
        try:
            self.loop.call_soon_threadsafe(self._deliver, batch)
        except RuntimeError:  # the loop closed meanwhile: the server is shutting down
            return

    def _render(self, name: str, event: dict[str, Any]) -> etree._Element:
        if name == CONFIG_CHANGE:
            return config_change(self.codec, event)
        return RENDERERS[name](event)

    def _deliver(self, batch: list[tuple[Subscriber, etree._Element]]) -> None:
        for subscriber, notification in batch:
            if subscriber not in self._subscribers:  # unsubscribed meanwhile
                continue
            try:
                subscriber(notification)
            except Exception:
                log.exception("delivering a notification failed")
