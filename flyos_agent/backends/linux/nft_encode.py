"""An nft JSON batch as one nf_tables netlink transaction, without libnftables.

libnftables spends most of a large commit parsing and evaluating the JSON it is
given (33 % of a 50k-rule commit, more than the kernel's work). The backend
writes only a few kinds of commands, so it can encode them itself, message by
message as libnftables 1.0.6 sends them (same message types, flags and
attributes, rules in the same bytecode: nft_encode_expr, nft_encode_stmt,
nft_encode_nla), between the batch begin and end messages that make the
kernel apply all of them or none.
Objects are created in command order, so the kernel hands out the same
handles as it would for libnftables and the predicted handles stay right.

Covered: add/delete table, add/delete/flush chain, add rule (the compiler's
rule forms), delete rule by handle. Anything else (sets and their elements,
rules with anonymous sets, ...) makes `encode_batch` return None and the batch
goes through libnftables as before. tests/integration/nft/test_nft_netlink_encode.py
checks, for every rule form, that both ways leave the same ruleset.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from functools import cache
from typing import Any

from flyos_agent.backends.linux.nft_encode_expr import expressions
from flyos_agent.backends.linux.nft_encode_nla import (
    NLA_F_NESTED,
    Unsupported,
    attr,
    nest,
    strz,
    u32,
)

NFNL_SUBSYS_NFTABLES = 10
NFNL_MSG_BATCH_BEGIN = 16
NFNL_MSG_BATCH_END = 17
NEWTABLE, DELTABLE, NEWCHAIN, DELCHAIN, NEWRULE, DELRULE = 0, 2, 3, 5, 6, 8
NLM_F_REQUEST = 0x1
NLM_F_CREATE = 0x400
NLM_F_APPEND = 0x800
NFPROTO_INET = 1
HOOKS = {"prerouting": 0, "input": 1, "forward": 2, "output": 3, "postrouting": 4}
POLICIES = {"drop": 0, "accept": 1}
COMMENT_MAX = 128
NLA_MAX = 0xFFFF - 4
UDATA_RULE_COMMENT = 0
_HEADER = struct.Struct("=IHHII")
_GENMSG = struct.Struct("=BBH")
_U64 = struct.Struct(">Q")
_I32 = struct.Struct(">i")
_INET = _GENMSG.pack(NFPROTO_INET, 0, 0)
_NEST = struct.Struct("=HH")
EXPRESSIONS = 4 | NLA_F_NESTED
RULE_TYPE = NFNL_SUBSYS_NFTABLES << 8 | NEWRULE
RULE_FLAGS = NLM_F_REQUEST | NLM_F_CREATE | NLM_F_APPEND


def encode_batch(commands: Sequence[dict[str, Any]]) -> bytes | None:
    """The whole transaction (batch begin, one message per command with sequence number
    index + 1, batch end); None if a command is outside the covered forms."""
    try:
        messages = [_command(command, seq) for seq, command in enumerate(commands, 1)]
    except Unsupported:
        return None
    end = _batch(NFNL_MSG_BATCH_END, len(messages) + 1)
    return b"".join([_batch(NFNL_MSG_BATCH_BEGIN, 0), *messages, end])


def _batch(kind: int, seq: int) -> bytes:
    """A batch begin or end message (nfgenmsg: no family, res_id the subsystem)."""
    genmsg = bytes((0, 0)) + NFNL_SUBSYS_NFTABLES.to_bytes(2, "big")
    return _HEADER.pack(_HEADER.size + len(genmsg), kind, NLM_F_REQUEST, seq, 0) + genmsg


def _message(kind: int, flags: int, seq: int, payload: bytes) -> bytes:
    size = _HEADER.size + _GENMSG.size + len(payload)
    msg_type = NFNL_SUBSYS_NFTABLES << 8 | kind
    return _HEADER.pack(size, msg_type, NLM_F_REQUEST | flags, seq, 0) + _INET + payload


def _command(command: dict[str, Any], seq: int) -> bytes:
    ((verb, target),) = command.items()
    ((kind, body),) = target.items()
    if body.get("family") != "inet":
        raise Unsupported(f"family {body.get('family')}")
    if kind == "rule":
        if verb == "add":
            return _add_rule(body, seq)
        if verb == "delete":
            handle = attr(3, _U64.pack(body["handle"]))
            return _message(DELRULE, 0, seq, _names(body["table"], body["chain"]) + handle)
    elif kind == "chain":
        if verb == "add":
            return _message(NEWCHAIN, NLM_F_CREATE, seq, _chain(body))
        if verb == "delete":
            return _message(DELCHAIN, 0, seq, _table(body["table"]) + strz(3, body["name"]))
        if verb == "flush":
            return _message(DELRULE, 0, seq, _names(body["table"], body["name"]))
    elif kind == "table":
        name = strz(1, body["name"])
        if verb == "add":
            return _message(NEWTABLE, 0, seq, name + u32(2, 0))
        if verb == "delete":
            return _message(DELTABLE, 0, seq, name)
    raise Unsupported(f"{verb} {kind}")


@cache
def _table(name: str) -> bytes:
    return strz(1, name)


@cache
def _names(table: str, chain: str) -> bytes:
    """NFTA_RULE_TABLE and NFTA_RULE_CHAIN."""
    return strz(1, table) + strz(2, chain)


def _add_rule(body: dict[str, Any], seq: int) -> bytes:
    """NEWRULE appending a rule (the hot path of a large batch: one join)."""
    names = _names(body["table"], body["chain"])
    exprs = expressions(body["expr"])
    if len(exprs) > NLA_MAX:
        raise Unsupported("too many expressions for one attribute")
    comment = body.get("comment")
    userdata = b"" if comment is None else _userdata(comment)
    size = _HEADER.size + _GENMSG.size + len(names) + 4 + len(exprs) + len(userdata)
    header = _HEADER.pack(size, RULE_TYPE, RULE_FLAGS, seq, 0)
    return b"".join(
        (header, _INET, names, _NEST.pack(4 + len(exprs), EXPRESSIONS), exprs, userdata)
    )


def _userdata(comment: str) -> bytes:
    """NFTA_RULE_USERDATA holding the comment (libnftnl's TLV: type, length, text)."""
    text = comment.encode()
    if len(text) >= COMMENT_MAX:
        raise Unsupported("comment too long")
    return attr(7, bytes((UDATA_RULE_COMMENT, len(text) + 1)) + text + b"\0")


def _chain(body: dict[str, Any]) -> bytes:
    payload = _table(body["table"]) + strz(3, body["name"])
    if "hook" not in body:
        if set(body) != {"family", "table", "name"}:
            raise Unsupported(f"chain {body}")
        return payload
    hook = HOOKS.get(body["hook"])
    policy = POLICIES.get(body.get("policy", "accept"))
    if hook is None or policy is None or not isinstance(body.get("prio"), int):
        raise Unsupported(f"chain {body}")
    hook_attrs = u32(1, hook) + attr(2, _I32.pack(body["prio"]))
    return payload + nest(4, hook_attrs) + u32(5, policy) + strz(7, body["type"])
