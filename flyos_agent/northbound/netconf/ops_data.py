"""Read operations: <get>, <get-config> (RFC 6241) and <get-schema> (RFC 6022)."""

from __future__ import annotations

from lxml import etree

from flyos_agent.northbound.netconf import filters
from flyos_agent.northbound.netconf.namespaces import (
    BASE,
    MONITORING,
    WITH_DEFAULTS,
    new_element,
)
from flyos_agent.northbound.netconf.rpc import REGISTRY, Params, Reply, RpcContext

READ_PARAMS = {"filter": BASE, "with-defaults": WITH_DEFAULTS}
SOURCES = ("running", "candidate", "startup")


def _data(elements: list[etree._Element]) -> Reply:
    data = new_element(BASE, "data")
    data.extend(elements)
    return [data]


@REGISTRY.rpc(BASE, "get")
async def get(ctx: RpcContext, operation: etree._Element) -> Reply:
    """Running configuration, operational state and the server's own state."""
    params = Params(operation, READ_PARAMS)
    return _data(await filters.read(ctx, params, None))


@REGISTRY.rpc(BASE, "get-config")
async def get_config(ctx: RpcContext, operation: etree._Element) -> Reply:
    """The configuration of one datastore."""
    params = Params(operation, {"source": BASE, **READ_PARAMS})
    source = params.datastore("source", SOURCES)
    return _data(await filters.read(ctx, params, source))


@REGISTRY.rpc(MONITORING, "get-schema")
async def get_schema(ctx: RpcContext, operation: etree._Element) -> Reply:
    """The text of one YANG module."""
    params = Params(operation, dict.fromkeys(("identifier", "version", "format"), MONITORING))
    params.required("identifier")
    text = ctx.library.schema_text(
        params.text("identifier") or "", params.text("version"), params.text("format")
    )
    data = new_element(MONITORING, "data")
    data.text = text
    return [data]
