"""RPC dispatch: one handler per operation, registered by (namespace, name).

Handlers are small async functions, built-in operations and our own alike
(ncclient's operation classes, mirrored on the server side). A handler gets
the session's `RpcContext` and the operation element and returns the reply
content (None for <ok/>); it raises a FlyosError for an <rpc-error>.
`Params` checks an operation's parameters: an element it does not take is
unknown-element, a missing one missing-element, both with error-type protocol.
A parameter without a namespace is taken as the operation's own (clients
such as Ansible pass a bare <config>).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Protocol, TypeVar

from lxml import etree

from flyos_agent.errors import (
    BadElement,
    MissingElement,
    OperationNotSupported,
    UnknownElement,
    UnknownNamespace,
)
from flyos_agent.northbound.netconf.library import Library
from flyos_agent.northbound.netconf.namespaces import BASE, split
from flyos_agent.northbound.netconf.xmldata import XmlCodec
from flyos_agent.runtime.manager import Manager
from flyos_agent.runtime.sessions import Session

T = TypeVar("T")
Reply = list[etree._Element] | None


class RpcContext(Protocol):
    """What a handler may use: the Manager session and the server around it."""

    manager: Manager
    codec: XmlCodec
    library: Library

    @property
    def session(self) -> Session:
        """The Manager session of this NETCONF session."""
        ...

    async def call(self, function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run a (blocking) Manager call in a worker thread."""
        ...

    def state_data(self) -> list[etree._Element]:
        """The server's own state trees (netconf-state, yang-library, streams)."""
        ...

    async def kill(self, session_id: int) -> None:
        """End NETCONF session `session_id` (kill-session)."""
        ...

    def subscribe(self, filter_element: etree._Element | None) -> None:
        """Start sending notifications of the NETCONF stream to this session."""
        ...

    def close_after_reply(self) -> None:
        """End this session once the current reply is sent (close-session)."""
        ...


Handler = Callable[[RpcContext, etree._Element], Awaitable[Reply]]


class Registry:
    """Handlers by (namespace, operation name)."""

    def __init__(self) -> None:
        self._handlers: dict[tuple[str, str], Handler] = {}

    def rpc(self, namespace: str, name: str) -> Callable[[Handler], Handler]:
        """Decorator: register the handler of operation `name` in `namespace`."""

        def register(handler: Handler) -> Handler:
            self._handlers[(namespace, name)] = handler
            return handler

        return register

    def handler(self, operation: etree._Element) -> Handler:
        """The handler of `operation`; unknown-namespace or operation-not-supported if none."""
        namespace, name = split(str(operation.tag))
        found = self._handlers.get((namespace or "", name))
        if found is not None:
            return found
        if namespace not in {ns for ns, _ in self._handlers}:
            raise UnknownNamespace(
                f"no operation is defined in namespace '{namespace or ''}'",
                info={"bad-element": name, "bad-namespace": namespace or ""},
            )
        raise OperationNotSupported(
            f"operation '{name}' is not supported", info={"bad-element": name}
        )


REGISTRY = Registry()


class Params:
    """The parameter elements of one operation, by local name."""

    def __init__(
        self, operation: etree._Element, accepted: Mapping[str, str | tuple[str, ...]]
    ) -> None:
        """`accepted` maps each parameter's local name to its namespace (or namespaces)."""
        self.operation = split(str(operation.tag))[1]
        self.elements: dict[str, etree._Element] = {}
        for child in operation:
            if not isinstance(child.tag, str):
                continue
            namespace, name = split(str(child.tag))
            allowed = accepted.get(name, ())
            namespaces = allowed if isinstance(allowed, tuple) else (allowed,)
            if namespace not in namespaces and not (namespace is None and namespaces):
                raise UnknownElement(
                    f"'{name}' is not a parameter of {self.operation}",
                    error_type="protocol",
                    info={"bad-element": name},
                )
            if name in self.elements:
                raise BadElement(
                    f"parameter '{name}' given twice",
                    error_type="protocol",
                    info={"bad-element": name},
                )
            self.elements[name] = child

    def get(self, name: str) -> etree._Element | None:
        """The parameter element `name`, if given."""
        return self.elements.get(name)

    def required(self, name: str) -> etree._Element:
        """The parameter element `name`; missing-element if absent."""
        element = self.elements.get(name)
        if element is None:
            raise MissingElement(
                f"{self.operation} needs <{name}>",
                error_type="protocol",
                info={"bad-element": name},
            )
        return element

    def text(self, name: str, default: str | None = None) -> str | None:
        """The stripped text of parameter `name`, or `default` if absent."""
        element = self.elements.get(name)
        if element is None:
            return default
        return (element.text or "").strip()

    def flag(self, name: str) -> bool:
        """True if the empty-typed parameter `name` is present."""
        return name in self.elements

    def datastore(self, name: str, allowed: tuple[str, ...]) -> str:
        """The datastore named by <name><running/></name>; <url> is not supported."""
        holder = self.required(name)
        choices = [c for c in holder if isinstance(c.tag, str)]
        if len(choices) != 1:
            raise BadElement(
                f"<{name}> must name exactly one datastore",
                error_type="protocol",
                info={"bad-element": name},
            )
        namespace, store = split(str(choices[0].tag))
        if namespace == BASE and store == "url":
            raise OperationNotSupported("the :url capability is not supported")
        if namespace != BASE or store not in allowed:
            raise BadElement(
                f"<{name}> must be one of {', '.join(allowed)}",
                error_type="protocol",
                info={"bad-element": store},
            )
        return store


def base_params(*names: str) -> dict[str, str]:
    """`accepted` for parameters all in the base namespace."""
    return dict.fromkeys(names, BASE)
