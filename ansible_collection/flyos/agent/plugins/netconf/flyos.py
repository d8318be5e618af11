# Copyright: (c) 2026, FlyOS agent maintainers
# Apache License 2.0 (see LICENSE)
"""The NETCONF plugin of FlyOS agent (ansible_network_os: flyos.agent.flyos)."""

from __future__ import annotations

DOCUMENTATION = """
author:
  - FlyOS agent maintainers (@flyos)
name: flyos
short_description: NETCONF plugin for FlyOS agent
description:
  - Runs the NETCONF operations of FlyOS agent for C(ansible.netcommon.netconf)
    connections with C(ansible_network_os=flyos.agent.flyos).
  - Adds to the standard RFC 6241 operations the agent's own RPCs
    (C(compare), C(rollback), C(history)), the dry-run commit, confirmed
    commits with a confirm timeout and a persist id, and C(cancel-commit).
  - Replaces the plugin the NETCONF tests once shipped to work around
    ansible.netcommon handing the confirm timeout to ncclient 0.7 as an int;
    this plugin always sends it as text.
  - Errors come back as one line per C(rpc-error) with its error-tag,
    message and error-path.
version_added: 1.0.0
options:
  ncclient_device_handler:
    type: str
    default: default
    description:
      - The ncclient device handler. FlyOS agent speaks plain RFC 6241, so
        the C(default) handler is right.
"""

import json

from ansible.errors import AnsibleConnectionFailure
from ansible.module_utils.common.text.converters import to_text
from ansible_collections.ansible.netcommon.plugins.plugin_utils.netconf_base import (
    NetconfBase,
    ensure_ncclient,
)

try:
    import ncclient.transport.session
    from ncclient.operations import RPCError
    from ncclient.xml_ import to_ele
except ImportError:  # ensure_ncclient reports it when an operation runs
    RPCError = Exception  # pylint: disable=invalid-name
else:
    # ncclient's session thread sends a queued request only when its select()
    # times out (every TICK, 0.1 s by default): every RPC would wait up to 0.1 s,
    # and a module makes several. This process serves one device.
    ncclient.transport.session.TICK = 0.005

NC_NS = "urn:ietf:params:xml:ns:netconf:base:1.0"
OPS_NS = "urn:flyos:yang:flyos-agent-ops"
NETCONF_NS = "urn:flyos:yang:flyos-agent-netconf"
FLYOS_RPCS = [
    "commit_candidate",
    "commit_check",
    "confirm_commit",
    "cancel_commit",
    "compare",
    "rollback",
    "history",
]


def describe_rpc_error(exc: Exception) -> str:
    """One line per rpc-error: ``error-tag: message (at error-path)``."""
    errors = getattr(exc, "errors", None) or [exc]
    lines = []
    for error in errors:
        message = " ".join(to_text(getattr(error, "message", None) or error).split())
        tag = getattr(error, "tag", None)
        path = getattr(error, "path", None)
        line = f"{tag}: {message}" if tag else message
        if path and path.strip() not in message:
            line += f" (at {path.strip()})"
        lines.append(line)
    return "; ".join(lines)


def _element(tag: str, ns: str = NC_NS, text: str | None = None) -> str:
    body = "" if text is None else _escape(text)
    return f'<{tag} xmlns="{ns}">{body}</{tag}>' if body else f'<{tag} xmlns="{ns}"/>'


def _escape(text: str) -> str:
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


class Netconf(NetconfBase):
    """NETCONF operations of FlyOS agent, callable by modules over the persistent connection."""

    __rpc__ = NetconfBase.__rpc__ + FLYOS_RPCS

    # ------------------------------------------------------------------ helpers

    def _dispatch(self, xml: str):
        """Send one RPC; the reply as an lxml element, AnsibleConnectionFailure on rpc-error."""
        try:
            reply = self.m.dispatch(to_ele(xml))
        except RPCError as exc:
            raise AnsibleConnectionFailure(describe_rpc_error(exc)) from None
        return to_ele(reply.xml)

    def _call(self, method, *args, **kwargs):
        try:
            return method(*args, **kwargs)
        except RPCError as exc:
            raise AnsibleConnectionFailure(describe_rpc_error(exc)) from None

    # ------------------------------------------------------------------ device

    def get_device_info(self) -> dict:
        return {"network_os": "flyos", "network_os_platform": "FlyOS agent"}

    @ensure_ncclient
    def get_capabilities(self) -> str:
        result = {
            "rpc": self.get_base_rpc(),
            "network_api": "netconf",
            "device_info": self.get_device_info(),
            "server_capabilities": list(self.m.server_capabilities),
            "client_capabilities": list(self.m.client_capabilities),
            "session_id": self.m.session_id,
        }
        result["device_operations"] = self.get_device_operations(result["server_capabilities"])
        return json.dumps(result)

    # ------------------------------------------------------------------ RFC 6241, errors as text

    @ensure_ncclient
    def get_config(self, source=None, filter=None):  # pylint: disable=redefined-builtin
        return self._call(super().get_config, source=source, filter=filter)

    @ensure_ncclient
    def get(self, filter=None, with_defaults=None):  # pylint: disable=redefined-builtin
        return self._call(super().get, filter=filter, with_defaults=with_defaults)

    @ensure_ncclient
    def edit_config(  # noqa: PLR0917 (the signature of NetconfBase.edit_config)
        self,
        config=None,
        format="xml",
        target="candidate",
        default_operation=None,
        test_option=None,
        error_option=None,
    ):  # pylint: disable=redefined-builtin
        return self._call(
            super().edit_config,
            config=config,
            format=format,
            target=target,
            default_operation=default_operation,
            test_option=test_option,
            error_option=error_option,
        )

    @ensure_ncclient
    def lock(self, target="candidate"):
        return self._call(super().lock, target=target)

    @ensure_ncclient
    def unlock(self, target="candidate"):
        return self._call(super().unlock, target=target)

    @ensure_ncclient
    def discard_changes(self):
        return self._call(super().discard_changes)

    @ensure_ncclient
    def validate(self, source="candidate"):
        return self._call(super().validate, source=source)

    @ensure_ncclient
    def commit(self, confirmed=False, timeout=None, persist=None, persist_id=None):
        """The standard commit (what ansible.netcommon's netconf_config calls); the
        confirm timeout goes out as text, which ncclient 0.7 needs."""
        reply = self._call(
            self.m.commit,
            confirmed=confirmed,
            timeout=None if timeout is None else str(timeout),
            persist=persist,
            persist_id=persist_id,
        )
        return reply.xml

    # ------------------------------------------------------------------ FlyOS commit operations

    @ensure_ncclient
    def commit_candidate(
        self, confirmed=False, timeout=None, persist=None, persist_id=None, comment=None
    ) -> dict:
        """Commit the candidate. With ``comment``, the comment is sent in the
        flyos-agent-netconf namespace; an agent that does not take one commits
        without it and ``comment_recorded`` is False."""
        parts = []
        if confirmed:
            parts.append("<confirmed/>")
            if timeout is not None:
                parts.append(f"<confirm-timeout>{int(timeout)}</confirm-timeout>")
            if persist:
                parts.append(f"<persist>{_escape(persist)}</persist>")
        if persist_id:
            parts.append(f"<persist-id>{_escape(persist_id)}</persist-id>")
        plain = f'<commit xmlns="{NC_NS}">{"".join(parts)}</commit>'
        if comment is None:
            self._dispatch(plain)
            return {"comment_recorded": False}
        with_comment = plain.replace(
            "</commit>", _element("comment", NETCONF_NS, comment) + "</commit>"
        )
        try:
            self.m.dispatch(to_ele(with_comment))
        except RPCError as exc:
            if getattr(
                exc, "tag", None
            ) != "unknown-element" or "comment" not in describe_rpc_error(exc):
                raise AnsibleConnectionFailure(describe_rpc_error(exc)) from None
            self._dispatch(plain)
            return {"comment_recorded": False}
        return {"comment_recorded": True}

    @ensure_ncclient
    def commit_check(self) -> dict:
        """Validate and plan the candidate's commit, apply nothing (dry-run):
        {"changes": [{"operation", "target"}], "plan": [step, ...]}."""
        reply = self._dispatch(f'<commit xmlns="{NC_NS}"><dry-run xmlns="{NETCONF_NS}"/></commit>')
        changes = [
            {
                "operation": change.findtext(f"{{{NETCONF_NS}}}operation"),
                "target": change.findtext(f"{{{NETCONF_NS}}}target"),
            }
            for change in reply.iter(f"{{{NETCONF_NS}}}change")
        ]
        plan = []
        for step in reply.iter(f"{{{NETCONF_NS}}}plan"):
            try:
                plan.append(json.loads(step.text or "null"))
            except ValueError:
                plan.append(step.text)
        return {"changes": changes, "plan": plan}

    @ensure_ncclient
    def confirm_commit(self, persist_id=None) -> dict:
        """Confirm the pending confirmed commit (a persistent one by its persist id)."""
        return self.commit_candidate(persist_id=persist_id)

    @ensure_ncclient
    def cancel_commit(self, persist_id=None) -> dict:
        """Revert the pending confirmed commit now."""
        body = f"<persist-id>{_escape(persist_id)}</persist-id>" if persist_id else ""
        self._dispatch(f'<cancel-commit xmlns="{NC_NS}">{body}</cancel-commit>')
        return {}

    @ensure_ncclient
    def compare(self, source="running", target="candidate") -> list:
        """The agent's YANG-aware diff: [{"operation", "target", "value"?, "leaves"?}]."""
        body = _element("source", OPS_NS, source) + _element("target", OPS_NS, target)
        reply = self._dispatch(f'<compare xmlns="{OPS_NS}">{body}</compare>')
        changes = []
        for change in reply.iter(f"{{{OPS_NS}}}change"):
            item = {
                "operation": change.findtext(f"{{{OPS_NS}}}operation"),
                "target": change.findtext(f"{{{OPS_NS}}}target"),
            }
            value = change.findtext(f"{{{OPS_NS}}}value")
            if value is not None:
                try:
                    item["value"] = json.loads(value)
                except ValueError:
                    item["value"] = value
            leaves = {}
            for leaf in change.iter(f"{{{OPS_NS}}}leaf"):
                leaves[leaf.findtext(f"{{{OPS_NS}}}name")] = {
                    "old": leaf.findtext(f"{{{OPS_NS}}}old"),
                    "new": leaf.findtext(f"{{{OPS_NS}}}new"),
                }
            if leaves:
                item["leaves"] = leaves
            changes.append(item)
        return changes

    @ensure_ncclient
    def rollback(self, index=None, commit_id=None) -> dict:
        """Load an earlier configuration into the candidate (rollback N, or a commit id)."""
        body = ""
        if commit_id is not None:
            body = _element("commit-id", OPS_NS, str(int(commit_id)))
        elif index is not None:
            body = _element("index", OPS_NS, str(int(index)))
        self._dispatch(f'<rollback xmlns="{OPS_NS}">{body}</rollback>')
        return {}

    @ensure_ncclient
    def history(self, limit=None) -> list:
        """The commit history, newest first: [{"rollback", "commit-id", "time", ...}]."""
        body = _element("limit", OPS_NS, str(int(limit))) if limit else ""
        reply = self._dispatch(f'<history xmlns="{OPS_NS}">{body}</history>')
        out = []
        for commit in reply.iter(f"{{{OPS_NS}}}commit"):
            record = {}
            for field in commit:
                name = field.tag.rpartition("}")[2]
                text = field.text or ""
                record[name] = (
                    int(text)
                    if name in ("rollback", "commit-id", "changes") and text.isdigit()
                    else text
                )
            out.append(record)
        return out
