"""NETCONF sessions against a real agent: hello, auth, capabilities, schemas, locks, errors."""

from __future__ import annotations

import asyncio
import re
import stat
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import paramiko
import pytest
from ncclient import manager
from ncclient.operations.rpc import RPCError
from ncclient.transport.errors import AuthenticationError
from ncclient.transport.session import NetconfBase
from nchelpers import (
    BASE,
    NS,
    NetconfAgent,
    config,
    data,
    interface,
    rpc_error,
    texts,
    xml,
)

from flyos_agent.northbound.netconf import library
from flyos_agent.northbound.netconf.client import NetconfClient

REPO = Path(__file__).resolve().parents[3]
OUR_MODULES = [
    "flyos-acl",
    "flyos-agent-netconf",
    "flyos-agent-ops",
    "flyos-interfaces",
    "flyos-nat",
    "flyos-routing",
    "flyos-system",
    "flyos-tunnel",
    "flyos-types",
    "flyos-vrf",
]
CAPABILITIES = [
    "urn:ietf:params:netconf:base:1.0",
    "urn:ietf:params:netconf:base:1.1",
    "urn:ietf:params:netconf:capability:writable-running:1.0",
    "urn:ietf:params:netconf:capability:candidate:1.0",
    "urn:ietf:params:netconf:capability:confirmed-commit:1.1",
    "urn:ietf:params:netconf:capability:rollback-on-error:1.0",
    "urn:ietf:params:netconf:capability:validate:1.1",
    "urn:ietf:params:netconf:capability:startup:1.0",
    "urn:ietf:params:netconf:capability:xpath:1.0",
    "urn:ietf:params:netconf:capability:notification:1.0",
    "urn:ietf:params:netconf:capability:interleave:1.0",
]


# ---------------------------------------------------------------------- hello


def test_hello_advertises_capabilities_and_module_capabilities(nc: manager.Manager) -> None:
    caps = list(nc.server_capabilities)
    for capability in CAPABILITIES:
        assert capability in caps
    with_defaults = next(c for c in caps if ":with-defaults:1.0" in c)
    assert "basic-mode=explicit" in with_defaults
    assert "also-supported=report-all,report-all-tagged,trim" in with_defaults
    assert any(c.startswith("urn:ietf:params:netconf:capability:yang-library:1.1?") for c in caps)
    routing = "urn:flyos:yang:flyos-routing?module=flyos-routing&revision=2026-11-26"
    assert routing in caps
    assert any("module=ietf-netconf-monitoring" in c for c in caps)
    assert int(nc.session_id) > 0


def test_framing_is_what_the_client_offered(netconf_agent: NetconfAgent) -> None:
    old = netconf_agent.connect("1.0")
    new = netconf_agent.connect("1.1")
    try:
        assert old._session._base == NetconfBase.BASE_10
        assert new._session._base == NetconfBase.BASE_11
        assert old.session_id != new.session_id
    finally:
        old.close_session()
        new.close_session()


def test_password_and_public_key_authentication(netconf_agent: NetconfAgent) -> None:
    with netconf_agent.connect(password="s3cret-pass") as by_password:
        assert by_password.connected
    with netconf_agent.connect() as by_key:
        assert by_key.connected
    with pytest.raises(AuthenticationError):
        netconf_agent.connect(password="wrong")
    with pytest.raises(AuthenticationError):
        netconf_agent.connect(user="nobody", password="s3cret-pass")


def test_no_shell_or_exec_is_served(netconf_agent: NetconfAgent) -> None:
    client = paramiko.SSHClient()
    client.set_missing_host_key_policy(paramiko.AutoAddPolicy())
    client.connect(
        "127.0.0.1",
        port=netconf_agent.port,
        username="admin",
        password="s3cret-pass",
        look_for_keys=False,
        allow_agent=False,
    )
    try:
        channel = client.get_transport().open_session()  # type: ignore[union-attr]
        with pytest.raises(paramiko.SSHException):
            channel.exec_command("id")
        channel = client.get_transport().open_session()  # type: ignore[union-attr]
        with pytest.raises(paramiko.SSHException):
            channel.invoke_subsystem("sftp")
    finally:
        client.close()


def test_host_key_is_generated_into_the_state_dir_private(netconf_agent: NetconfAgent) -> None:
    key = netconf_agent.state_dir / "ssh_host_ed25519_key"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    ready = next(line for line in netconf_agent.lines if "flyos-agent ready:" in line)
    assert f"netconf=127.0.0.1:{netconf_agent.port}" in ready


# ---------------------------------------------------------------------- schemas


@pytest.mark.parametrize("module", OUR_MODULES)
def test_get_schema_returns_each_module(nc: manager.Manager, module: str) -> None:
    text = nc.get_schema(module).data
    assert re.search(rf"^module {module} \{{", text, re.MULTILINE)


def test_get_schema_errors(nc: manager.Manager) -> None:
    assert "module ietf-inet-types" in nc.get_schema("ietf-inet-types").data
    assert rpc_error(lambda: nc.get_schema("no-such-module")).tag == "invalid-value"
    wrong = rpc_error(lambda: nc.get_schema("flyos-routing", version="1999-01-01"))
    assert wrong.tag == "invalid-value"


def test_monitoring_lists_schemas_sessions_and_statistics(nc: manager.Manager) -> None:
    state = data(nc.get(filter=("subtree", f'<netconf-state xmlns="{NS["ncm"]}"/>')))
    identifiers = texts(state, "//ncm:schemas/ncm:schema/ncm:identifier")
    assert set(OUR_MODULES) <= set(identifiers)
    assert nc.session_id in texts(state, "//ncm:sessions/ncm:session/ncm:session-id")
    assert texts(state, "//ncm:datastores/ncm:datastore/ncm:name") == [
        "running",
        "candidate",
        "startup",
    ]
    assert int(texts(state, "//ncm:statistics/ncm:in-sessions")[0]) >= 1


def test_yang_library_lists_modules_and_datastores(nc: manager.Manager) -> None:
    library = data(nc.get(filter=("subtree", f'<yang-library xmlns="{NS["yl"]}"/>')))
    implemented = texts(library, "//yl:module-set/yl:module/yl:name")
    assert set(OUR_MODULES) <= set(implemented)
    assert "ietf-netconf-monitoring" in implemented
    assert "ietf-inet-types" in texts(library, "//yl:import-only-module/yl:name")
    assert texts(library, "//yl:datastore/yl:name") == [
        "ds:running",
        "ds:candidate",
        "ds:startup",
        "ds:operational",
    ]
    content_id = texts(library, "//yl:content-id")[0]
    assert any(content_id in c for c in nc.server_capabilities)
    selected = nc.get(
        filter=(
            "subtree",
            f'<modules-state xmlns="{NS["yl"]}"><module><name>flyos-routing</name></module>'
            "</modules-state>",
        )
    )
    assert texts(data(selected), "//yl:module/yl:conformance-type") == ["implement"]


# ---------------------------------------------------------------------- sessions and locks


def test_lock_denied_names_the_holder(netconf_agent: NetconfAgent, framing: str) -> None:
    holder = netconf_agent.connect(framing)
    other = netconf_agent.connect(framing)
    try:
        holder.lock("candidate")
        error = rpc_error(lambda: other.lock("candidate"))
        assert error.tag == "lock-denied"
        assert error.type == "protocol"
        assert error.info is not None and f"<session-id>{holder.session_id}</session-id>" in (
            error.info
        )
        denied = rpc_error(
            lambda: other.edit_config(target="candidate", config=config(interface("lk0")))
        )
        assert denied.tag == "in-use"
        holder.unlock("candidate")
        other.lock("candidate")
        other.unlock("candidate")
    finally:
        holder.close_session()
        other.close_session()


def test_lock_of_a_modified_candidate_is_in_use(netconf_agent: NetconfAgent) -> None:
    editor = netconf_agent.connect()
    other = netconf_agent.connect()
    try:
        editor.edit_config(target="candidate", config=config(interface("iu0")))
        assert rpc_error(lambda: other.lock("candidate")).tag in ("lock-denied", "in-use")
        editor.discard_changes()
        other.lock("candidate")
        other.unlock("candidate")
    finally:
        editor.close_session()
        other.close_session()


def test_locks_are_released_when_a_session_drops(netconf_agent: NetconfAgent) -> None:
    holder = netconf_agent.connect()
    holder.lock("running")
    holder._session.close()  # the transport goes away: no close-session
    other = netconf_agent.connect()
    try:
        for _ in range(200):
            try:
                other.lock("running")
                break
            except RPCError:  # until the agent notices the drop
                time.sleep(0.01)
        other.unlock("running")
    finally:
        other.close_session()


def test_kill_session_ends_the_other_session_and_its_locks(netconf_agent: NetconfAgent) -> None:
    victim = netconf_agent.connect()
    admin = netconf_agent.connect()
    try:
        victim.lock("running")
        admin.kill_session(victim.session_id)
        admin.lock("running")
        admin.unlock("running")
        assert rpc_error(lambda: admin.kill_session(admin.session_id)).tag == "invalid-value"
        assert rpc_error(lambda: admin.kill_session("99999")).tag == "invalid-value"
    finally:
        admin.close_session()


def test_viewer_reads_but_may_not_write(netconf_agent: NetconfAgent, framing: str) -> None:
    with netconf_agent.connect(framing, user="viewer") as viewer:
        viewer.get_config("running")
        viewer.get()
        denied = rpc_error(
            lambda: viewer.edit_config(target="candidate", config=config(interface("v0")))
        )
        assert denied.tag == "access-denied"
        assert rpc_error(viewer.commit).tag == "access-denied"
        assert rpc_error(lambda: viewer.lock("running")).tag == "access-denied"
        assert rpc_error(lambda: viewer.kill_session("1")).tag == "access-denied"


# ---------------------------------------------------------------------- protocol errors


def dispatch(nc: manager.Manager, body: str) -> Any:
    return nc.dispatch(xml(body))


def test_unknown_operation_namespace_and_element(nc: manager.Manager) -> None:
    unknown_ns = rpc_error(lambda: dispatch(nc, '<frobnicate xmlns="urn:example:nothing"/>'))
    assert unknown_ns.tag == "unknown-namespace"
    assert unknown_ns.info is not None and "<bad-namespace>urn:example:nothing" in unknown_ns.info
    unsupported = rpc_error(lambda: dispatch(nc, f'<frobnicate xmlns="{BASE}"/>'))
    assert unsupported.tag == "operation-not-supported"
    bad_param = rpc_error(
        lambda: dispatch(
            nc, f'<get-config xmlns="{BASE}"><source><running/></source><bogus/></get-config>'
        )
    )
    assert bad_param.tag == "unknown-element"
    assert bad_param.type == "protocol"
    assert bad_param.info is not None and "<bad-element>bogus</bad-element>" in bad_param.info
    missing = rpc_error(lambda: dispatch(nc, f'<get-config xmlns="{BASE}"/>'))
    assert missing.tag == "missing-element"


def test_unknown_data_namespace_and_element_in_edit_config(nc: manager.Manager) -> None:
    foreign = rpc_error(
        lambda: nc.edit_config(target="candidate", config=config('<x xmlns="urn:example:x"/>'))
    )
    assert foreign.tag == "unknown-namespace"
    unknown = rpc_error(
        lambda: nc.edit_config(
            target="candidate", config=config(interface("u0", extra="<colour/>"))
        )
    )
    assert unknown.tag == "unknown-element"
    assert unknown.info is not None and "<bad-element>colour</bad-element>" in unknown.info
    assert unknown.path is not None and "fif:interface" in unknown.path


def test_url_and_delete_running_are_not_supported(nc: manager.Manager) -> None:
    assert rpc_error(lambda: nc.delete_config("running")).tag == "operation-not-supported"
    url = rpc_error(
        lambda: dispatch(
            nc,
            f'<copy-config xmlns="{BASE}"><target><url>file:///tmp/x.xml</url></target>'
            "<source><running/></source></copy-config>",
        )
    )
    assert url.tag == "operation-not-supported"


async def _raw_replies(agent: NetconfAgent, base11: bool, messages: list[bytes]) -> list[bytes]:
    client = await NetconfClient.connect(
        "127.0.0.1", agent.port, "admin", client_keys=[str(agent.key_file)], base11=base11
    )
    async with client:
        replies = []
        for message in messages:
            client.send_message(message)
            reply = await client.receive()
            assert reply is not None
            replies.append(reply)
        return replies


def error_tag(reply: bytes) -> str:
    return str(xml(reply.decode()).findtext(f".//{{{BASE}}}error-tag"))


def test_malformed_and_incomplete_messages(netconf_agent: NetconfAgent) -> None:
    messages = [
        b"<rpc message-id='1' xmlns='urn:ietf:params:xml:ns:netconf:base:1.0'><get></rpc>",
        f'<rpc xmlns="{BASE}"><get/></rpc>'.encode(),
        f'<rpc xmlns="{BASE}" message-id="7"/>'.encode(),
        f'<!DOCTYPE rpc [<!ENTITY x "y">]><rpc xmlns="{BASE}" message-id="8">&x;</rpc>'.encode(),
        f'<rpc xmlns="{BASE}" message-id="9" extra="kept"><get-config><source><running/>'
        "</source></get-config></rpc>".encode(),
    ]
    new = asyncio.run(_raw_replies(netconf_agent, True, messages))
    assert [error_tag(r) for r in new[:4]] == [
        "malformed-message",
        "missing-attribute",
        "missing-element",
        "malformed-message",
    ]
    assert b"<bad-attribute>message-id</bad-attribute>" in new[1]
    assert b'message-id="7"' in new[2]
    assert b'message-id="9"' in new[4] and b'extra="kept"' in new[4] and b"<data" in new[4]
    old = asyncio.run(_raw_replies(netconf_agent, False, messages[:1]))
    assert error_tag(old[0]) == "operation-failed"  # malformed-message is base:1.1 only


def test_server_module_is_lint_clean() -> None:
    module = Path(library.__file__).parent / "yang" / "flyos-agent-netconf.yang"
    done = subprocess.run(
        [sys.executable, "-m", "pyang", "--lint", "-p", str(REPO / "yang"), str(module)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0 and done.stdout + done.stderr == "", done.stdout + done.stderr
