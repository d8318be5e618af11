"""Helpers of the NETCONF tests: connecting with ncclient, building edits, reading replies.

ncclient's reader thread polls every TICK seconds (0.1 by default); the tests
lower it so a round trip costs milliseconds. `connect(framing=...)` forces
base:1.0 (end-of-message framing) by offering only base:1.0 in the client
hello, or lets ncclient pick base:1.1 (chunked framing).
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import ncclient.transport.session
import pytest
from lxml import etree
from ncclient import manager
from ncclient.devices.default import DefaultDeviceHandler
from ncclient.operations.rpc import RPCError

from flyos_agent.config import hash_password

ncclient.transport.session.TICK = 0.001  # type: ignore[attr-defined]

HERE = Path(__file__).resolve().parent
PASSWORD = "s3cret-pass"
VIEWER_PASSWORD = "viewer-pass"
BASE = "urn:ietf:params:xml:ns:netconf:base:1.0"
NS = {
    "nc": BASE,
    "if": "urn:flyos:yang:flyos-interfaces",
    "rt": "urn:flyos:yang:flyos-routing",
    "sys": "urn:flyos:yang:flyos-system",
    "ops": "urn:flyos:yang:flyos-agent-ops",
    "fnc": "urn:flyos:yang:flyos-agent-netconf",
    "ncm": "urn:ietf:params:xml:ns:yang:ietf-netconf-monitoring",
    "yl": "urn:ietf:params:xml:ns:yang:ietf-yang-library",
    "wd": "urn:ietf:params:xml:ns:netconf:default:1.0",
    "ncn": "urn:ietf:params:xml:ns:yang:ietf-netconf-notifications",
}
FRAMINGS = ["1.0", "1.1"]


class Base10Handler(DefaultDeviceHandler):  # type: ignore[misc]
    """An ncclient device handler that offers only base:1.0 (end-of-message framing)."""

    _BASE_CAPABILITIES: ClassVar[list[str]] = [
        c
        for c in DefaultDeviceHandler._BASE_CAPABILITIES
        if c != "urn:ietf:params:netconf:base:1.1"
    ]


@dataclass
class NetconfAgent:
    """A running agent: its NETCONF port, users' credentials and process."""

    agent: Any
    port: int
    key_file: Path
    state_dir: Path

    def connect(
        self,
        framing: str = "1.1",
        user: str = "admin",
        password: str | None = None,
        key: bool = True,
    ) -> manager.Manager:
        """An ncclient session (public key auth for admin unless a password is given)."""
        params: dict[str, Any] = {
            "host": "127.0.0.1",
            "port": self.port,
            "username": user,
            "hostkey_verify": False,
            "look_for_keys": False,
            "allow_agent": False,
            "timeout": 30,
            "manager_params": {"timeout": 30},
        }
        if password is not None or not key or user != "admin":
            params["password"] = password or (VIEWER_PASSWORD if user == "viewer" else PASSWORD)
        else:
            params["key_filename"] = str(self.key_file)
        if framing == "1.0":
            params["device_params"] = {"handler": Base10Handler}
        return manager.connect(**params)

    @property
    def running(self) -> bool:
        return bool(self.agent.running)

    @property
    def lines(self) -> list[str]:
        return list(self.agent.lines)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def write_config(directory: Path, public_key: str) -> Path:
    path = directory / "agent.toml"
    path.write_text(
        f"""
[agent]
confirm_timeout = 600

[[user]]
name = "admin"
password_hash = "{hash_password(PASSWORD)}"
group = "admin"
ssh_keys = ["{public_key}"]

[[user]]
name = "viewer"
password_hash = "{hash_password(VIEWER_PASSWORD)}"
group = "viewer"
""",
        encoding="utf-8",
    )
    return path


def rpc_error(call: Callable[[], Any]) -> RPCError:
    """The RPCError that `call` raises."""
    with pytest.raises(RPCError) as info:
        call()
    return info.value


def xml(text: str) -> etree._Element:
    return etree.fromstring(text.encode())


def config(body: str) -> str:
    """A <config> element around `body`."""
    return f'<config xmlns="{BASE}">{body}</config>'


def interface(name: str, kind: str = "ethernet", extra: str = "") -> str:
    return (
        f'<interfaces xmlns="{NS["if"]}"><interface><name>{name}</name>'
        f"<type>{kind}</type>{extra}</interface></interfaces>"
    )


def route(prefix: str, via: str = "192.0.2.1", attrs: str = "") -> str:
    return (
        f'<routing xmlns="{NS["rt"]}"><static{attrs}><prefix>{prefix}</prefix>'
        f"<via>{via}</via></static></routing>"
    )


def data(reply: Any) -> etree._Element:
    """The <data> element of a get/get-config reply."""
    element: etree._Element = reply.data_ele
    return element


def texts(element: etree._Element, path: str) -> list[str]:
    return [str(t) for t in element.xpath(path + "/text()", namespaces=NS)]
