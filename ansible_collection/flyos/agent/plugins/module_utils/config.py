# Copyright: (c) 2026, FlyOS agent maintainers
# Apache License 2.0 (see LICENSE)
"""What the config module does: DSL or XML into the candidate, then one commit.

Every path goes through one locked ``Transaction``: edits (each DSL
statement is one edit-config, in order; XML is one), or a rollback loaded
into the candidate; then the agent's ``compare`` decides whether anything
changed; check mode validates and plans (dry-run) and discards; otherwise a
commit, confirmed if asked, with the comment if the agent takes one.
"""

from __future__ import annotations

from ansible_collections.flyos.agent.plugins.module_utils.dsl import DslError, parse_edits
from ansible_collections.flyos.agent.plugins.module_utils.netconf import (
    Device,
    DeviceError,
    Transaction,
)
from ansible_collections.flyos.agent.plugins.module_utils.render import render_dsl
from ansible_collections.flyos.agent.plugins.module_utils.xmldata import (
    NC_NS,
    OPERATION,
    XmlDataError,
    config_xml,
    decode_roots,
    encode,
    parse,
    root_elements,
    serialize,
    split_tag,
)

MINUTE = 60


def dsl_edits(text: str) -> list[str]:
    """The <config> text of each DSL statement, in order."""
    return [config_xml([encode(edit.root, edit.value)]) for edit in parse_edits(text)]


def xml_edits(text: str, update: str) -> list[str]:
    """The one edit of XML text: our models' containers, found anywhere in it
    (a <config>, a <data> or the containers themselves). With ``update=replace``
    each container replaces the one in the candidate."""
    roots = root_elements(parse(text))
    if not roots:
        raise XmlDataError("the XML holds none of the FlyOS models' top-level containers")
    for element in roots:
        if update == "replace":
            element.set(OPERATION, "replace")
        for key in element.attrib:
            if key != OPERATION and split_tag(key)[0] not in ("", NC_NS):
                raise XmlDataError(f"unexpected attribute {key} on <{split_tag(element.tag)[1]}>")
    return [config_xml(roots)]


def is_xml(text: str) -> bool:
    return text.lstrip().startswith("<")


def running_text(device: Device, source: str, fmt: str) -> str:
    """The whole configuration of our models in ``source``: DSL or XML."""
    data = device.get_config(source)
    if fmt == "xml":
        body = "".join(serialize(element) for element in root_elements(data))
        return f'<config xmlns="{NC_NS}">{body}</config>\n'
    text = render_dsl(decode_roots(data, yang_names=True))
    return text + "\n" if text else ""


class ConfigModule:
    """Runs flyos.agent.config: ``ConfigModule(module).run()``."""

    def __init__(self, module) -> None:
        self.module = module
        self.params = module.params

    def timeout(self) -> int | None:
        """The confirm timeout in seconds, or None for a plain commit."""
        if self.params.get("confirm_timeout"):
            return int(self.params["confirm_timeout"])
        if self.params.get("confirm"):
            return int(self.params["confirm"]) * MINUTE
        return None

    def edits(self) -> list[str]:
        lines = self.params.get("lines")
        text = "\n".join(lines) if lines else self.params.get("src")
        if not text:
            return []
        fmt = self.params.get("src_format") or ("xml" if is_xml(text) else "dsl")
        if fmt == "xml":
            return xml_edits(text, self.params["update"])
        return dsl_edits(text)

    def run(self) -> dict:
        try:
            return self._run()
        except (DeviceError, DslError, XmlDataError) as exc:
            self.module.fail_json(msg=str(exc))
        return {}  # not reached: fail_json exits

    def _run(self) -> dict:
        edits = self.edits()
        device = Device(self.module)
        result: dict = {"changed": False, "commands": edits}
        if self.params.get("backup"):
            fmt = (self.params.get("backup_options") or {}).get("format") or "dsl"
            result["__backup__"] = running_text(device, "running", fmt)
        if self.params.get("confirm_commit"):
            if edits or self.params.get("rollback") is not None:
                raise DeviceError("confirm_commit takes no lines, src or rollback")
            if not self.module.check_mode:
                device.call("confirm_commit", persist_id=self.params.get("persist_id"))
            result["changed"] = True
            return result
        if not edits and self.params.get("rollback") is None:
            return result
        want_diff = self.module._diff  # pylint: disable=protected-access
        before = running_text(device, "running", "dsl") if want_diff else None
        with Transaction(device) as txn:
            if self.params.get("rollback") is not None:
                device.call("rollback", index=self.params["rollback"])
            for config in edits:
                txn.edit(config)
            after = running_text(device, "candidate", "dsl") if want_diff else None
            changed = txn.finish(
                check_mode=self.module.check_mode,
                confirm_timeout=self.timeout(),
                persist_id=self.params.get("persist_id"),
                comment=self.params.get("comment"),
            )
        result["changed"] = changed
        result["changes"] = txn.changes
        if changed and want_diff:
            result["diff"] = {"before": before, "after": after}
        if changed and self.params.get("comment") and txn.comment_recorded is False:
            self.module.warn(
                "the agent does not take a commit comment over NETCONF; committed without it"
            )
        return result
