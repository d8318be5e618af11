"""Confirmed commit, notifications, filters and with-defaults against a real agent."""

from __future__ import annotations

import time

import pytest
from lxml import etree
from ncclient import manager
from nchelpers import (
    BASE,
    NS,
    NetconfAgent,
    config,
    data,
    interface,
    route,
    rpc_error,
    texts,
)


def has_route(nc: manager.Manager, prefix: str) -> bool:
    xpath = f"/rt:routing/rt:static[rt:prefix='{prefix}']"
    return bool(texts(data(nc.get_config("running", filter=("xpath", xpath))), "//rt:prefix"))


def wait_until(predicate: object, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():  # type: ignore[operator]
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.05)


# ---------------------------------------------------------------------- confirmed commit


def test_confirmed_commit_reverts_after_its_timeout(nc: manager.Manager, framing: str) -> None:
    prefix = f"10.8{1 if framing == '1.0' else 2}.0.0/24"
    nc.edit_config(target="candidate", config=config(route(prefix)))
    nc.commit(confirmed=True, timeout="1")
    assert has_route(nc, prefix)
    wait_until(lambda: not has_route(nc, prefix))


def test_confirmed_commit_is_confirmed_by_a_plain_commit(nc: manager.Manager) -> None:
    nc.edit_config(target="candidate", config=config(route("10.83.0.0/24")))
    nc.commit(confirmed=True, timeout="1")
    nc.commit()
    time.sleep(1.3)
    assert has_route(nc, "10.83.0.0/24")


def test_confirmed_commit_reverts_when_its_session_drops(netconf_agent: NetconfAgent) -> None:
    committer = netconf_agent.connect()
    committer.edit_config(target="candidate", config=config(route("10.84.0.0/24")))
    committer.commit(confirmed=True, timeout="600")
    watcher = netconf_agent.connect()
    try:
        assert has_route(watcher, "10.84.0.0/24")
        committer._session.close()  # the SSH connection drops without close-session
        wait_until(lambda: not has_route(watcher, "10.84.0.0/24"))
    finally:
        watcher.close_session()


def test_persistent_confirmed_commit_is_confirmed_from_another_session(
    netconf_agent: NetconfAgent,
) -> None:
    first = netconf_agent.connect("1.0")
    first.edit_config(target="candidate", config=config(route("10.85.0.0/24")))
    first.commit(confirmed=True, timeout="600", persist="token-85")
    first.close_session()  # a persistent confirmed commit outlives its session
    second = netconf_agent.connect("1.1")
    try:
        assert has_route(second, "10.85.0.0/24")
        wrong = rpc_error(lambda: second.commit(persist_id="not-the-token"))
        assert wrong.tag == "invalid-value"
        second.commit(persist_id="token-85")
        assert has_route(second, "10.85.0.0/24")
    finally:
        second.close_session()


def test_cancel_commit_reverts_now(nc: manager.Manager) -> None:
    nc.edit_config(target="candidate", config=config(route("10.86.0.0/24")))
    nc.commit(confirmed=True, timeout="600")
    assert has_route(nc, "10.86.0.0/24")
    nc.cancel_commit()
    assert not has_route(nc, "10.86.0.0/24")
    assert rpc_error(nc.cancel_commit).tag == "operation-failed"


# ---------------------------------------------------------------------- notifications


def test_config_change_notification_and_interleave(
    netconf_agent: NetconfAgent, framing: str
) -> None:
    listener = netconf_agent.connect(framing)
    other = netconf_agent.connect(framing)
    try:
        listener.create_subscription()
        prefix = f"10.9{1 if framing == '1.0' else 2}.0.0/24"
        other.edit_config(target="candidate", config=config(route(prefix)))
        other.commit()
        note = listener.take_notification(timeout=10)
        assert note is not None
        event = etree.fromstring(note.notification_xml.encode())
        assert texts(event, "//ncn:changed-by/ncn:session-id") == [other.session_id]
        assert texts(event, "//ncn:datastore") == ["running"]
        assert texts(event, "//ncn:edit/ncn:operation") == ["create"]
        target = event.xpath("//ncn:edit/ncn:target", namespaces=NS)[0]
        assert target.text == f"/frt:routing/frt:static[frt:prefix='{prefix}']"
        assert target.nsmap["frt"] == NS["rt"]
        # interleave: the subscribed session still runs RPCs, and sees its own commits
        listener.edit_config(
            target="running", config=config(route(prefix).replace("192.0.2.1", "192.0.2.9"))
        )
        own = listener.take_notification(timeout=10)
        assert own is not None and "replace" in own.notification_xml
        assert rpc_error(listener.create_subscription).tag == "in-use"
    finally:
        listener.close_session()
        other.close_session()


def test_subscription_filter_and_stream_errors(netconf_agent: NetconfAgent) -> None:
    listener = netconf_agent.connect()
    try:
        assert rpc_error(lambda: listener.create_subscription(stream_name="NOPE")).tag == (
            "invalid-value"
        )
        only_deletes = (
            "subtree",
            f'<netconf-config-change xmlns="{NS["ncn"]}"><edit><operation>delete</operation>'
            "</edit></netconf-config-change>",
        )
        listener.create_subscription(filter=only_deletes)
        listener.edit_config(target="running", config=config(route("10.93.0.0/24")))
        listener.edit_config(
            target="running",
            config=config(route("10.93.0.0/24", attrs=f' xmlns:nc="{BASE}" nc:operation="delete"')),
        )
        note = listener.take_notification(timeout=10)
        assert note is not None and "<operation>delete</operation>" in note.notification_xml
        assert "<operation>create</operation>" not in note.notification_xml
    finally:
        listener.close_session()


# ---------------------------------------------------------------------- filters


@pytest.fixture(scope="module")
def filtered_config(netconf_agent: NetconfAgent) -> None:
    """Two interfaces and three routes, committed once for the filter tests."""
    with netconf_agent.connect() as nc:
        body = (
            interface("f0", extra="<mtu>1400</mtu><description>uplink</description>")
            + interface("f1", extra="<description>lan</description>")
            + route("10.100.0.0/24")
            + route("10.101.0.0/24", via="192.0.2.2")
            + route("10.102.0.0/24", via="192.0.2.2")
        )
        nc.edit_config(target="candidate", config=config(body))
        nc.commit()


@pytest.mark.usefixtures("filtered_config")
def test_subtree_selection_containment_and_content_match(nc: manager.Manager) -> None:
    selection = data(nc.get_config("running", filter=("subtree", f'<routing xmlns="{NS["rt"]}"/>')))
    assert {"10.100.0.0/24", "10.101.0.0/24"} <= set(texts(selection, "//rt:prefix"))
    assert selection.xpath("if:interfaces", namespaces=NS) == []
    content = f"""<routing xmlns="{NS["rt"]}"><static><via>192.0.2.2</via></static></routing>"""
    matched = data(nc.get_config("running", filter=("subtree", content)))
    assert texts(matched, "//rt:prefix") == ["10.101.0.0/24", "10.102.0.0/24"]
    containment = (
        f'<interfaces xmlns="{NS["if"]}"><interface><name>f0</name><mtu/></interface></interfaces>'
    )
    contained = data(nc.get_config("running", filter=("subtree", containment)))
    assert texts(contained, "//if:interface/if:name") == ["f0"]
    assert texts(contained, "//if:mtu") == ["1400"]
    assert texts(contained, "//if:description") == []
    keys_kept = data(
        nc.get_config(
            "running",
            filter=(
                "subtree",
                f'<interfaces xmlns="{NS["if"]}"><interface><description/></interface>'
                "</interfaces>",
            ),
        )
    )
    assert texts(keys_kept, "//if:interface/if:name") == ["f0", "f1"]
    nothing = data(
        nc.get_config(
            "running",
            filter=(
                "subtree",
                f'<routing xmlns="{NS["rt"]}"><static><prefix>10.1.2.0/24</prefix></static>'
                "</routing>",
            ),
        )
    )
    assert len(nothing) == 0


@pytest.mark.usefixtures("filtered_config")
def test_subtree_filter_across_namespaces(nc: manager.Manager) -> None:
    both = (
        f'<interfaces xmlns="{NS["if"]}"><interface><name>f1</name></interface></interfaces>'
        f'<netconf-state xmlns="{NS["ncm"]}"><datastores/></netconf-state>'
        f'<routing xmlns="{NS["rt"]}"><static><prefix>10.100.0.0/24</prefix></static></routing>'
    )
    subtree = etree.fromstring(f'<filter xmlns="{BASE}" type="subtree">{both}</filter>')
    reply = data(nc.get(filter=subtree))
    assert texts(reply, "//if:name") == ["f1"]
    assert texts(reply, "//rt:prefix") == ["10.100.0.0/24"]
    assert texts(reply, "//ncm:datastore/ncm:name") == ["running", "candidate", "startup"]
    assert len(reply) == 3


@pytest.mark.usefixtures("filtered_config")
def test_xpath_filters(nc: manager.Manager) -> None:
    one = data(
        nc.get_config("running", filter=("xpath", "/rt:routing/rt:static[rt:via='192.0.2.2']"))
    )
    assert texts(one, "//rt:prefix") == ["10.101.0.0/24", "10.102.0.0/24"]
    own_prefix = nc.get_config(
        "running",
        filter=("xpath", ({"x": NS["if"]}, "/x:interfaces/x:interface[x:name='f0']/x:mtu")),
    )
    assert texts(data(own_prefix), "//if:mtu") == ["1400"]
    assert texts(data(own_prefix), "//if:name") == ["f0"]
    state = nc.get(filter=("xpath", ({"m": NS["ncm"]}, "/m:netconf-state/m:datastores")))
    assert texts(data(state), "//ncm:name") == ["running", "candidate", "startup"]
    bad = rpc_error(lambda: nc.get_config("running", filter=("xpath", "/rt:routing[")))
    assert bad.tag == "invalid-value"


# ---------------------------------------------------------------------- with-defaults


WITH_DEFAULTS = "urn:ietf:params:xml:ns:yang:ietf-netconf-with-defaults"


def with_defaults(nc: manager.Manager, mode: str) -> etree._Element:
    reply = nc.get_config(
        "running",
        filter=("xpath", "/if:interfaces/if:interface[if:name='f1']"),
        with_defaults=mode,
    )
    return data(reply)


@pytest.mark.usefixtures("filtered_config")
def test_with_defaults_modes(nc: manager.Manager) -> None:
    assert texts(with_defaults(nc, "explicit"), "//if:enabled") == []
    assert texts(with_defaults(nc, "trim"), "//if:enabled") == []
    assert texts(with_defaults(nc, "report-all"), "//if:enabled") == ["true"]
    tagged = with_defaults(nc, "report-all-tagged")
    enabled = tagged.xpath("//if:enabled", namespaces=NS)[0]
    assert enabled.get(f"{{{NS['wd']}}}default") == "true"
    description = tagged.xpath("//if:description", namespaces=NS)[0]
    assert description.get(f"{{{NS['wd']}}}default") is None
    nc.edit_config(
        target="running",
        config=config(interface("f1", extra="<enabled>true</enabled>")),
    )
    assert texts(with_defaults(nc, "explicit"), "//if:enabled") == ["true"]
    assert texts(with_defaults(nc, "trim"), "//if:enabled") == []
    nc.edit_config(
        target="running",
        config=config(interface("f1", extra=f'<enabled xmlns:nc="{BASE}" nc:operation="remove"/>')),
    )
    get_config = (
        f'<get-config xmlns="{BASE}"><source><running/></source>'
        f'<with-defaults xmlns="{WITH_DEFAULTS}">everything</with-defaults></get-config>'
    )
    bad = rpc_error(lambda: nc.dispatch(etree.fromstring(get_config)))
    assert bad.tag == "invalid-value"
