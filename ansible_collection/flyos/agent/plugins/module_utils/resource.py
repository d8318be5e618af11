# Copyright: (c) 2026, FlyOS agent maintainers
# Apache License 2.0 (see LICENSE)
"""The resource-module states over NETCONF, for every resource alike.

A list resource (``static_routes``: entries of /routing/static) and a
container resource (``tunnels``: the /tunnels container and its lists) turn
each state into one edit-config of the candidate:

- merged: the entries as given, NETCONF merge (nothing unmentioned changes);
- replaced: each given entry (container resources: each given list entry and
  container, and the container's own leaves) replaces what is there;
- overridden: the resource holds exactly what is given (list resources:
  replace the given entries and remove every other entry; container
  resources: replace the container);
- deleted: remove the given entries (by key), or the whole resource;
- gathered / rendered / parsed: read running / write XML / read XML, offline
  for rendered and parsed.

The agent decides what changed (module_utils/netconf.py ``Transaction``).
"""

from __future__ import annotations

from ansible_collections.flyos.agent.plugins.module_utils.netconf import (
    Device,
    DeviceError,
    Transaction,
)
from ansible_collections.flyos.agent.plugins.module_utils.resources import resource_path
from ansible_collections.flyos.agent.plugins.module_utils.schema import ROOTS
from ansible_collections.flyos.agent.plugins.module_utils.tree import (
    LEAF,
    LEAF_LIST,
    LIST,
    config_children,
    option_name,
    resource_node,
)
from ansible_collections.flyos.agent.plugins.module_utils.xmldata import (
    Op,
    XmlDataError,
    config_xml,
    decode,
    encode,
    filter_xml,
    find_roots,
    key_fields,
    key_of,
    parse,
    serialize,
    strip_none,
)


class Resource:
    """One resource of the models: how its config maps to XML and back."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.path = resource_path(name)
        self.root_name = self.path[0]
        self.node = resource_node(name)
        self.is_list = len(self.path) > 1

    @property
    def list_name(self) -> str | None:
        return self.path[1] if self.is_list else None

    def empty(self):
        return [] if self.is_list else {}

    # ------------------------------------------------------------------ XML

    def subtree(self) -> str:
        """The subtree filter that reads this resource."""
        return filter_xml(self.root_name, self.list_name)

    def from_data(self, data, *, strict: bool = False):
        """The resource's config in a <data>/<config> element (or a bare container)."""
        found = [element for name, element in find_roots(data) if name == self.root_name]
        if len(found) > 1:
            raise XmlDataError(f"/{self.root_name} is given more than once")
        if not found:
            return self.empty()
        value = decode(ROOTS[self.root_name], found[0], strict=strict, path="/" + self.root_name)
        if self.is_list:
            return value.get(option_name(self.list_name), [])
        return value

    def wrap(self, value) -> str:
        """``value`` (a list resource's entries or a container's dict) as a <config>."""
        if self.is_list:
            value = {self.list_name: value}
        return config_xml([encode(self.root_name, value)])

    def render(self, config) -> str:
        """The XML of ``config``: the top-level container, as get-config returns it."""
        value = {self.list_name: config} if self.is_list else config
        return serialize(encode(self.root_name, value))

    # ------------------------------------------------------------------ edits

    def edit_for(self, state: str, config, running):
        """The value to send (with nc:operation marks) for ``state``, or None if none."""
        if self.is_list:
            return self._list_edit(state, config, running)
        return self._container_edit(state, config)

    def _list_edit(self, state: str, config, running):
        node = self.node
        given = config or []
        if state == "merged":
            return given or None
        if state == "replaced":
            return [Op("replace", entry) for entry in given] or None
        if state == "overridden":
            keep = {key_of(node, entry) for entry in given}
            stale = [e for e in running if key_of(node, e) not in keep]
            return [Op("replace", e) for e in given] + [
                Op("remove", key_fields(node, e)) for e in stale
            ] or None
        if state == "deleted":
            targets = given if config is not None else running
            return [Op("remove", key_fields(node, e)) for e in targets] or None
        raise ValueError(state)

    def _container_edit(self, state: str, config):
        if state == "merged":
            return config or None
        if state == "overridden":
            return Op("replace", config or {})
        if state == "deleted":
            if config is None:
                return Op("remove")
            return self._removals(config) or None
        if state == "replaced":
            return self._replacements(config or {})
        raise ValueError(state)

    def _replacements(self, config: dict) -> dict:
        """Given list entries and containers replace theirs; the container's own
        leaves are replaced as a group (a leaf not given is removed)."""
        out: dict = {}
        for name, child in config_children(self.node):
            value = config.get(option_name(name))
            if child["kind"] == LEAF:
                out[name] = value if value is not None else Op("remove")
            elif value is None:
                continue
            elif child["kind"] == LIST:
                out[name] = [Op("replace", entry) for entry in value]
            else:
                out[name] = Op("replace", value)
        return out

    def _removals(self, config: dict) -> dict:
        out: dict = {}
        for name, child in config_children(self.node):
            value = config.get(option_name(name))
            if value is None:
                continue
            if child["kind"] == LIST:
                out[name] = [Op("remove", key_fields(child, entry)) for entry in value]
            elif child["kind"] == LEAF_LIST:
                out[name] = Op("remove", list(value))
            else:
                out[name] = Op("remove")
        return out


class ResourceModule:
    """Runs a resource module: ``ResourceModule(module, "static_routes").run()``."""

    def __init__(self, module, name: str) -> None:
        self.module = module
        self.resource = Resource(name)

    def config(self):
        config = self.module.params.get("config")
        return None if config is None else strip_none(config)

    def run(self) -> dict:
        state = self.module.params["state"]
        try:
            if state == "rendered":
                return {"changed": False, "rendered": self.resource.render(self.config())}
            if state == "parsed":
                data = parse(self.module.params["running_config"])
                return {"changed": False, "parsed": self.resource.from_data(data, strict=True)}
            device = Device(self.module)
            if state == "gathered":
                return {"changed": False, "gathered": self.read(device, "running")}
            return self.apply(device, state)
        except (DeviceError, XmlDataError) as exc:
            self.module.fail_json(msg=str(exc))
        return {}  # not reached: fail_json exits

    def read(self, device: Device, source: str):
        return self.resource.from_data(device.get_config(source, self.resource.subtree()))

    def apply(self, device: Device, state: str) -> dict:
        """merged, replaced, overridden or deleted: one locked transaction."""
        result: dict = {"changed": False, "commands": []}
        with Transaction(device) as txn:
            before = self.read(device, "running")
            result["before"] = before
            edit = self.resource.edit_for(state, self.config(), before)
            if edit is None:
                return result
            config = self.resource.wrap(edit)
            result["commands"] = [config]
            txn.edit(config)
            after = self.read(device, "candidate")
            changed = txn.finish(check_mode=self.module.check_mode)
        result["changed"] = changed
        result["changes"] = txn.changes
        if changed:
            result["after"] = after
            if self.module._diff:  # pylint: disable=protected-access
                name = self.resource.name
                result["diff"] = {"before": {name: before}, "after": {name: after}}
        return result
