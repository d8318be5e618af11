"""<get> and <get-config> reads: filter, with-defaults, and the data they return.

Our models' data comes from the Manager (get merges operational state in);
`get` adds the server's own state trees (netconf-state, yang-library,
streams). Subtree filters are applied to the XML; a filter naming a single
top-level container of our models fetches only that container. XPath filters
over our models run in the Manager's schema-aware XPath engine (prefixes the
filter declares are mapped to module names); an XPath filter that names only
the server's own namespaces runs over its state trees.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from typing import Any

from lxml import etree

from flyos_agent.errors import BadAttribute, InvalidValue, MissingAttribute
from flyos_agent.northbound.netconf import subtree
from flyos_agent.northbound.netconf.monitoring import STATE_LIST_KEYS
from flyos_agent.northbound.netconf.namespaces import BASE, default_ns, shallow_copy, split
from flyos_agent.northbound.netconf.rpc import Params, RpcContext
from flyos_agent.schema import Kind, Schema

WITH_DEFAULTS_MODES = ("report-all", "report-all-tagged", "trim", "explicit")
_QNAME_PREFIX = re.compile(r"""('[^']*'|"[^"]*")|([A-Za-z_][\w.-]*):(?=[A-Za-z_*])""")


async def read(ctx: RpcContext, params: Params, source: str | None) -> list[etree._Element]:
    """The <data> children for get (`source` None) or get-config of `source`."""
    mode = params.text("with-defaults", "explicit") or "explicit"
    if mode not in WITH_DEFAULTS_MODES:
        raise InvalidValue(
            f"with-defaults must be one of {', '.join(WITH_DEFAULTS_MODES)}",
            info={"bad-element": "with-defaults"},
        )
    element = params.get("filter")
    kind, select = _filter_kind(element)
    schema = ctx.codec.schema
    if kind == "xpath":
        assert element is not None and select is not None
        namespaces = {p: ns for p, ns in element.nsmap.items() if p}
        if _names_only_state(schema, select, namespaces):
            state = ctx.state_data() if source is None else []
            return _xpath_state(state, select, namespaces, ctx)
        query = {"xpath": _module_prefixes(schema, select, namespaces)}
        return await _model_data(ctx, source, mode, query)
    if kind == "subtree":
        assert element is not None
        nodes = [n for n in element if isinstance(n.tag, str)]
        if not nodes:
            return []
        roots = _model_roots(schema, nodes)
        query = {"path": f"/{roots[0]}"} if len(roots) == 1 else {}
        data = await _model_data(ctx, source, mode, query) if roots else []
        if source is None and len(roots) < len(nodes):
            data.extend(ctx.state_data())
        return subtree.apply(nodes, data, _keys_finder(schema))
    data = await _model_data(ctx, source, mode, {})
    if source is None:
        data.extend(ctx.state_data())
    return data


def _filter_kind(element: etree._Element | None) -> tuple[str | None, str | None]:
    if element is None:
        return None, None
    kind = element.get("type", element.get(f"{{{BASE}}}type", "subtree"))
    if kind == "subtree":
        return kind, None
    if kind == "xpath":
        select = element.get("select", element.get(f"{{{BASE}}}select"))
        if select is None:
            raise MissingAttribute(
                "an xpath filter needs a select attribute",
                error_type="protocol",
                info={"bad-attribute": "select", "bad-element": "filter"},
            )
        return kind, select
    raise BadAttribute(
        f"unknown filter type '{kind}' (subtree or xpath)",
        error_type="protocol",
        info={"bad-attribute": "type", "bad-element": "filter"},
    )


async def _model_data(
    ctx: RpcContext, source: str | None, mode: str, query: Mapping[str, str]
) -> list[etree._Element]:
    """Our models' data as XML elements under a scratch parent."""
    wanted = "report-all" if mode == "report-all-tagged" else mode
    plain = await _fetch(ctx, source, wanted, query)
    explicit = await _fetch(ctx, source, "explicit", query) if mode != wanted else None
    holder = etree.Element(f"{{{BASE}}}data", nsmap=default_ns(BASE))
    ctx.codec.to_xml(plain, holder, explicit=explicit)
    elements = list(holder)
    for element in elements:
        holder.remove(element)
    return elements


async def _fetch(
    ctx: RpcContext, source: str | None, mode: str, query: Mapping[str, str]
) -> dict[str, Any]:
    if source is None:
        return await ctx.call(ctx.manager.get, ctx.session, with_defaults=mode, **query)
    return await ctx.call(ctx.manager.get_config, ctx.session, source, with_defaults=mode, **query)


def _model_roots(schema: Schema, nodes: list[etree._Element]) -> list[str]:
    """The distinct top-level containers of our models that filter `nodes` name."""
    roots: list[str] = []
    for node in nodes:
        namespace, local = split(str(node.tag))
        root = schema.roots.get(local)
        if root is not None and namespace in (None, root.namespace) and local not in roots:
            roots.append(local)
    return roots


def _keys_finder(schema: Schema) -> subtree.KeysOf:
    """`keys_of` for subtree filtering: key tags of list entries, from the schema."""
    cache: dict[tuple[str, ...], frozenset[str]] = {}

    def keys_of(element: etree._Element) -> frozenset[str]:
        names = [split(str(element.tag))[1]]
        names.extend(split(str(a.tag))[1] for a in element.iterancestors())
        steps = tuple(reversed(names))
        found = cache.get(steps)
        if found is None:
            found = _keys_at(schema, element, steps)
            cache[steps] = found
        return found

    return keys_of


def _keys_at(schema: Schema, element: etree._Element, steps: tuple[str, ...]) -> frozenset[str]:
    namespace, local = split(str(element.tag))
    state_keys = STATE_LIST_KEYS.get((namespace or "", local))
    if state_keys is not None:
        return frozenset(f"{{{namespace}}}{k}" for k in state_keys)
    node = schema.find("/" + "/".join(steps))
    if node is None or node.kind is not Kind.LIST:
        return frozenset()
    return frozenset(f"{{{node.namespace}}}{k}" for k in node.keys)


def _prefixes_used(expression: str) -> set[str]:
    return {m.group(2) for m in _QNAME_PREFIX.finditer(expression) if m.group(2)}


def _names_only_state(schema: Schema, expression: str, namespaces: Mapping[str, str]) -> bool:
    """True if every prefix `expression` uses names a namespace outside our models."""
    used = _prefixes_used(expression)
    ours = {info.namespace for info in schema.modules}
    return bool(used) and all(p in namespaces and namespaces[p] not in ours for p in used)


def _module_prefixes(schema: Schema, expression: str, namespaces: Mapping[str, str]) -> str:
    """`expression` with every prefix the filter declares replaced by its module's name."""
    modules = {info.namespace: info.name for info in schema.modules}

    def rename(match: re.Match[str]) -> str:
        literal, prefix = match.group(1), match.group(2)
        if literal is not None:
            return literal
        module = modules.get(namespaces.get(prefix, ""))
        return f"{module or prefix}:"

    return _QNAME_PREFIX.sub(rename, expression)


def _xpath_state(
    state: list[etree._Element], select: str, namespaces: Mapping[str, str], ctx: RpcContext
) -> list[etree._Element]:
    """The nodes of the server's state trees `select` picks, with their ancestors."""
    keys_of = _keys_finder(ctx.codec.schema)
    out: list[etree._Element] = []
    copies: dict[Any, etree._Element] = {}
    for tree in state:
        try:
            found = etree.ElementTree(tree).xpath(select, namespaces=dict(namespaces))
        except etree.XPathError as exc:
            raise InvalidValue(f"bad XPath filter '{select}': {exc}") from None
        for item in found if isinstance(found, list) else []:
            node = item if isinstance(item, etree._Element) else _parent_of(item)
            if node is not None:
                _copy_with_ancestors(node, copies, out, keys_of)
    return out


def _parent_of(result: object) -> etree._Element | None:
    """The element an XPath string result (text or attribute value) belongs to."""
    parent = getattr(result, "getparent", None)
    found = parent() if callable(parent) else None
    return found if isinstance(found, etree._Element) else None


def _copy_with_ancestors(
    node: etree._Element,
    copies: dict[Any, etree._Element],
    out: list[etree._Element],
    keys_of: subtree.KeysOf,
) -> None:
    chain = [node, *node.iterancestors()]
    chain.reverse()
    parent: etree._Element | None = None
    for original in chain[:-1]:
        made = copies.get(original)
        if made is None:
            made = shallow_copy(original)
            keys = keys_of(original)
            made.extend(copy.deepcopy(c) for c in original if c.tag in keys)
            copies[original] = made
            if parent is None:
                out.append(made)
            else:
                parent.append(made)
        parent = made
    leaf = copy.deepcopy(node)
    if parent is None:
        out.append(leaf)
    elif not any(c.tag == leaf.tag and c.text == leaf.text for c in parent):
        parent.append(leaf)
