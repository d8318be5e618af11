"""Configuration operations of RFC 6241: edit, copy, delete, validate, lock, unlock."""

from __future__ import annotations

from lxml import etree

from flyos_agent.datastore.edit import Edit, Operation
from flyos_agent.datastore.paths import ROOT
from flyos_agent.errors import InvalidValue, OperationNotSupported
from flyos_agent.northbound.netconf import editconfig
from flyos_agent.northbound.netconf.namespaces import BASE, split
from flyos_agent.northbound.netconf.rpc import REGISTRY, Params, Reply, RpcContext, base_params

DATASTORES = ("running", "candidate", "startup")


def _inline_config(ctx: RpcContext, params: Params, name: str) -> dict[str, object] | None:
    """The RFC 7951 data of an inline <config> source, or None for a datastore source."""
    holder = params.required(name)
    choices = [c for c in holder if isinstance(c.tag, str)]
    if len(choices) == 1 and split(str(choices[0].tag)) == (BASE, "config"):
        return ctx.codec.from_xml([c for c in choices[0] if isinstance(c.tag, str)])
    return None


@REGISTRY.rpc(BASE, "edit-config")
async def edit_config(ctx: RpcContext, operation: etree._Element) -> Reply:
    """Edit the candidate, or running as one transaction (:writable-running)."""
    params = Params(
        operation,
        base_params("target", "default-operation", "test-option", "error-option", "config", "url"),
    )
    target = params.datastore("target", ("running", "candidate"))
    if params.get("url") is not None:
        raise OperationNotSupported("the :url capability is not supported")
    edits = editconfig.flatten(ctx.codec, params.required("config"))
    await ctx.call(
        ctx.manager.edit,
        ctx.session,
        target,
        edits,
        default_operation=params.text("default-operation", "merge") or "merge",
        error_option=params.text("error-option", "stop-on-error") or "stop-on-error",
        test_option=params.text("test-option", "test-then-set") or "test-then-set",
    )
    return None


@REGISTRY.rpc(BASE, "copy-config")
async def copy_config(ctx: RpcContext, operation: etree._Element) -> Reply:
    """Replace a datastore with another one or with inline <config>."""
    params = Params(operation, base_params("target", "source"))
    target = params.datastore("target", DATASTORES)
    config = _inline_config(ctx, params, "source")
    source = "config" if config is not None else params.datastore("source", DATASTORES)
    if source == target:
        raise InvalidValue(f"source and target are both {target}", info={"bad-element": "target"})
    await ctx.call(ctx.manager.copy, ctx.session, source, target, config=config)
    return None


@REGISTRY.rpc(BASE, "delete-config")
async def delete_config(ctx: RpcContext, operation: etree._Element) -> Reply:
    """Delete a datastore (only startup can be deleted)."""
    params = Params(operation, base_params("target"))
    target = params.datastore("target", DATASTORES)
    await ctx.call(ctx.manager.delete, ctx.session, target)
    return None


@REGISTRY.rpc(BASE, "validate")
async def validate(ctx: RpcContext, operation: etree._Element) -> Reply:
    """Check a datastore, or inline <config> (:validate:1.1), against every constraint."""
    params = Params(operation, base_params("source"))
    config = _inline_config(ctx, params, "source")
    if config is None:
        source = params.datastore("source", DATASTORES)
        await ctx.call(ctx.manager.validate, ctx.session, source)
        return None
    whole = [Edit(Operation.REPLACE, ROOT, config)]
    await ctx.call(ctx.manager.edit, ctx.session, "running", whole, test_option="test-only")
    return None


@REGISTRY.rpc(BASE, "lock")
async def lock(ctx: RpcContext, operation: etree._Element) -> Reply:
    """Lock a datastore for this session."""
    target = Params(operation, base_params("target")).datastore("target", DATASTORES)
    await ctx.call(ctx.manager.lock, ctx.session, target)
    return None


@REGISTRY.rpc(BASE, "unlock")
async def unlock(ctx: RpcContext, operation: etree._Element) -> Reply:
    """Release this session's lock on a datastore."""
    target = Params(operation, base_params("target")).datastore("target", DATASTORES)
    await ctx.call(ctx.manager.unlock, ctx.session, target)
    return None
