"""Fuzzing the NETCONF input path: framing and XML garbage, then garbage over real SSH.

The first half drives the frame decoder and the XML parser directly (fast,
hypothesis): whatever arrives, they hand back messages or raise their own
error, never anything else, never hold more than the cap. The second half
sends a few hundred garbage messages through a real SSH session to a running
agent: every one gets an answer, the session stays usable, broken framing or
an oversized message ends only that session, and the agent's memory stays put.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import random
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from nchelpers import BASE, NetconfAgent

from flyos_agent.errors import MalformedMessage
from flyos_agent.northbound.netconf.client import NetconfClient
from flyos_agent.northbound.netconf.framing import FrameDecoder, FramingError, encode
from flyos_agent.northbound.netconf.xmlsafe import MAX_DEPTH, parse_message

CAP = 4096
FAST = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def drain(decoder: FrameDecoder, pieces: list[bytes]) -> list[bytes]:
    """Feed `pieces` one by one, collecting messages, as the session does."""
    out: list[bytes] = []
    for piece in pieces:
        decoder.feed(piece)
        while (message := decoder.next_message()) is not None:
            out.append(message)
        assert decoder.pending <= CAP + len(piece) + 16
    return out


def split(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c % (len(data) + 1) for c in cuts})
    bounds = [0, *points, len(data)]
    return [data[a:b] for a, b in itertools.pairwise(bounds)]


# ---------------------------------------------------------------------- framing


@FAST
@given(st.lists(st.binary(max_size=600), max_size=8), st.booleans())
def test_decoder_takes_any_bytes(pieces: list[bytes], chunked: bool) -> None:
    decoder = FrameDecoder(CAP)
    decoder.chunked = chunked
    with contextlib.suppress(FramingError):
        drain(decoder, pieces)


@FAST
@given(
    st.lists(st.binary(min_size=1, max_size=300), min_size=1, max_size=5),
    st.lists(st.integers(min_value=0), max_size=12),
    st.booleans(),
)
def test_framed_messages_come_back_whole(
    messages: list[bytes], cuts: list[int], chunked: bool
) -> None:
    if not chunked:
        messages = [m.replace(b"]]>]]>", b"") or b"x" for m in messages]
    wire = b"".join(encode(m, chunked) for m in messages)
    decoder = FrameDecoder(CAP)
    decoder.chunked = chunked
    assert drain(decoder, split(wire, cuts)) == messages


@FAST
@given(st.binary(min_size=1, max_size=300), st.integers(min_value=1))
def test_truncated_chunks_wait_for_more(message: bytes, cut: int) -> None:
    wire = encode(message, True)
    decoder = FrameDecoder(CAP)
    decoder.chunked = True
    assert drain(decoder, [wire[: cut % len(wire)]]) == []


@pytest.mark.parametrize(
    "header",
    [b"\n#99999999999\n", b"\n#4294967296\n", b"\n#5000\nabc", b"\n#0\n", b"\n#12a\n", b"#5\n"],
)
def test_bad_or_oversized_chunk_headers_are_refused(header: bytes) -> None:
    decoder = FrameDecoder(CAP)
    decoder.chunked = True
    with pytest.raises(FramingError):
        drain(decoder, [header])


def test_a_message_over_the_cap_is_refused_early() -> None:
    decoder = FrameDecoder(CAP)
    with pytest.raises(FramingError) as info:
        drain(decoder, [b"<" * 1000] * 10)
    assert info.value.too_big
    decoder = FrameDecoder(CAP)
    decoder.chunked = True
    with pytest.raises(FramingError) as info:
        drain(decoder, [b"\n#3000\n" + b"a" * 3000, b"\n#3000\n"])
    assert info.value.too_big


# ---------------------------------------------------------------------- XML


@FAST
@given(st.one_of(st.binary(max_size=400), st.text(max_size=400).map(str.encode)))
def test_xml_garbage_parses_or_is_malformed(data: bytes) -> None:
    with contextlib.suppress(MalformedMessage):
        parse_message(data)


@FAST
@given(
    st.recursive(
        st.just("<a/>"),
        lambda inner: st.lists(inner, max_size=3).map(
            lambda items: "<a>" + "".join(items) + "</a>"
        ),
        max_leaves=40,
    )
)
def test_well_formed_xml_parses(text: str) -> None:
    assert parse_message(text.encode()).tag == "a"


def test_deep_nesting_entities_and_doctype_are_malformed() -> None:
    deep = b"<a>" * (MAX_DEPTH + 1) + b"</a>" * (MAX_DEPTH + 1)
    bomb = (
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]><rpc>&lol2;</rpc>'
    )
    for data in (
        deep,
        bomb,
        b"<rpc>&undefined;</rpc>",
        b'<!DOCTYPE rpc SYSTEM "file:///etc/passwd"><rpc/>',
    ):
        with pytest.raises(MalformedMessage):
            parse_message(data)
    assert parse_message(b"<a>" * 50 + b"</a>" * 50).tag == "a"


# ---------------------------------------------------------------------- over SSH


GARBAGE = [
    b" ",
    b"<",
    b"not xml at all",
    b"<rpc/>",
    b'<rpc xmlns="urn:wrong" message-id="1"><get/></rpc>',
    f'<rpc xmlns="{BASE}"><get/></rpc>'.encode(),
    f'<rpc xmlns="{BASE}" message-id="1"/>'.encode(),
    f'<rpc xmlns="{BASE}" message-id="1"><get/><get/></rpc>'.encode(),
    f'<rpc xmlns="{BASE}" message-id="1"><edit-config><target><candidate/></target>'
    f'<config><x xmlns="urn:x">&#0;</x></config></edit-config></rpc>'.encode(),
    b'<?xml version="1.0" encoding="UTF-16"?><rpc/>',
    b"\xff\xfe\x00<\x00r\x00",
    b'<!DOCTYPE a [<!ENTITY a "aaaaaaaaaa">]><a>&a;</a>',
    b"<a>" * 300 + b"</a>" * 300,
]


def garbage(rng: random.Random) -> bytes:
    base = rng.choice(GARBAGE)
    if rng.random() < 0.5 and base:
        data = bytearray(base)
        for _ in range(rng.randint(1, 4)):
            data[rng.randrange(len(data))] = rng.randrange(256)
        return bytes(data)
    return base


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


async def _flood(agent: NetconfAgent, rng: random.Random, count: int) -> None:
    client = await NetconfClient.connect(
        "127.0.0.1", agent.port, "admin", client_keys=[str(agent.key_file)]
    )
    async with client:
        for _ in range(count):
            client.send_message(garbage(rng))
            reply = await asyncio.wait_for(client.receive(), 10)
            assert reply is not None and b"rpc-error" in reply
        ok = await client.rpc("<get-config><source><running/></source></get-config>")
        assert b"<data" in ok


async def _broken_framing(agent: NetconfAgent, wire: bytes) -> bytes | None:
    client = await NetconfClient.connect(
        "127.0.0.1", agent.port, "admin", client_keys=[str(agent.key_file)]
    )
    async with client:
        client.send_raw(wire)
        return await asyncio.wait_for(client.receive(), 20)


def test_garbage_over_ssh_never_kills_the_agent(netconf_agent: NetconfAgent) -> None:
    pid = netconf_agent.agent.proc.pid
    rng = random.Random(6241)
    asyncio.run(_flood(netconf_agent, rng, 50))  # warm up: imports, caches
    before = rss_kb(pid)
    asyncio.run(_flood(netconf_agent, rng, 300))
    for wire in (b"\n#abc\n", b"\n#99999999999\n", b"\n#2\nab\n#0\n"):
        assert asyncio.run(_broken_framing(netconf_agent, wire)) is None
    huge = b"\n#10485761\n" + b"a" * 100
    assert asyncio.run(_broken_framing(netconf_agent, huge)) is None
    assert netconf_agent.running
    assert any("exceeds 10485760 bytes" in line for line in netconf_agent.lines)
    asyncio.run(_flood(netconf_agent, rng, 5))
    assert rss_kb(pid) - before < 30 * 1024
