"""An in-process server: hello and idle timeouts, operational state through get, host key."""

from __future__ import annotations

import asyncio
import contextlib
import stat
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncssh
from immutables import Map
from nchelpers import PASSWORD

from flyos_agent.backends.base import NoneBackend
from flyos_agent.config import AgentConfig, Listen, User, hash_password
from flyos_agent.datastore.journal import Journal
from flyos_agent.northbound.netconf import NetconfServer, Options, load_host_key
from flyos_agent.northbound.netconf.client import NetconfClient
from flyos_agent.runtime.manager import Manager
from flyos_agent.schema import load_schema

LIMITS = Options(hello_timeout=0.3, idle_timeout=0.3)


class StateBackend(NoneBackend):
    """Reports one interface up with counters, as the Linux backend reports the kernel's."""

    def state(self, running: Map[str, Any]) -> dict[str, Any]:
        interface = {"name": "eth0", "state": {"oper-status": "up", "counters": {"in-octets": "7"}}}
        return {"flyos-interfaces:interfaces": {"interface": [interface]}}


@contextlib.asynccontextmanager
async def serving(state_dir: Path, options: Options) -> AsyncIterator[int]:
    """A NETCONF server on a free port (its port), over a fresh Manager."""
    schema = load_schema()
    manager = Manager(schema, Journal(state_dir / "flyos.db", schema), StateBackend())
    config = AgentConfig(
        state_dir=state_dir, users=(User("admin", hash_password(PASSWORD), "admin"),)
    )
    server = NetconfServer(manager, config, options)
    await server.start(Listen("127.0.0.1", 0))
    try:
        yield server.address.port
    finally:
        await server.close()
        manager.close()


async def _timeouts(state_dir: Path) -> None:
    async with serving(state_dir, LIMITS) as port:
        async with asyncssh.connect(
            "127.0.0.1", port, username="admin", password=PASSWORD, known_hosts=None
        ) as connection:
            _writer, reader, _ = await connection.open_session(subsystem="netconf", encoding=None)
            hello = await reader.readuntil(b"]]>]]>")
            assert b"<session-id>" in hello
            # no client hello: the server gives up and closes the channel
            assert await asyncio.wait_for(reader.read(), 5) == b""
        client = await NetconfClient.connect("127.0.0.1", port, "admin", password=PASSWORD)
        async with client:
            assert b"<ok/>" in await client.rpc("<lock><target><running/></target></lock>")
            assert await asyncio.wait_for(client.receive(), 5) is None  # idle: closed
        client = await NetconfClient.connect("127.0.0.1", port, "admin", password=PASSWORD)
        async with client:  # the idle session's lock went with it
            assert b"<ok/>" in await client.rpc("<lock><target><running/></target></lock>")


def test_hello_and_idle_timeouts_close_the_session(tmp_path: Path) -> None:
    asyncio.run(_timeouts(tmp_path))


async def _state(state_dir: Path) -> tuple[bytes, bytes, bytes]:
    async with serving(state_dir, Options()) as port:
        client = await NetconfClient.connect("127.0.0.1", port, "admin", password=PASSWORD)
        async with client:
            interface = (
                '<interfaces xmlns="urn:flyos:yang:flyos-interfaces"><interface>'
                "<name>eth0</name><type>ethernet</type></interface></interfaces>"
            )
            edit = f"<edit-config><target><running/></target><config>{interface}</config>"
            assert b"<ok/>" in await client.rpc(edit + "</edit-config>")
            everything = await client.rpc("<get/>")
            selected = await client.rpc(
                '<get><filter type="xpath" xmlns:i="urn:flyos:yang:flyos-interfaces" '
                'select="/i:interfaces/i:interface/i:state/i:oper-status"/></get>'
            )
            config = await client.rpc("<get-config><source><running/></source></get-config>")
            return everything, selected, config


def test_get_merges_operational_state(tmp_path: Path) -> None:
    everything, selected, config = asyncio.run(_state(tmp_path))
    assert b"<oper-status>up</oper-status>" in everything
    assert b"<in-octets>7</in-octets>" in everything
    assert b"<netconf-state" in everything and b"<yang-library" in everything
    assert b"<oper-status>up</oper-status>" in selected and b"<in-octets>" not in selected
    assert b"<name>eth0</name>" in selected
    assert b"<state>" not in config and b"<type>ethernet</type>" in config


def test_host_key_is_made_once_and_kept_private(tmp_path: Path) -> None:
    first = load_host_key(tmp_path)
    path = tmp_path / "ssh_host_ed25519_key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    again = load_host_key(tmp_path)
    assert again.export_public_key() == first.export_public_key()
