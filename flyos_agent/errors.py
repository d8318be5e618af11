"""One error hierarchy for every layer: one class per RFC 6241 error-tag.

Each error carries error-type, error-tag, an instance path, a message and
optional info; every channel renders the same error its own way (rpc-error,
RFC 8040 errors body, JSON-RPC error, one REPL line).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, ClassVar


class FlyosError(Exception):
    """Base of all errors a client may see; `tag` is the RFC 6241 error-tag."""

    tag: ClassVar[str] = "operation-failed"
    default_type: ClassVar[str] = "application"

    def __init__(
        self,
        message: str,
        *,
        path: str | None = None,
        error_type: str | None = None,
        app_tag: str | None = None,
        info: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.path = path
        self.error_type = error_type or self.default_type
        self.app_tag = app_tag
        self.info: dict[str, Any] = dict(info or {})

    @property
    def errors(self) -> list[FlyosError]:
        """The individual errors (one here; several in an ErrorList)."""
        return [self]

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready description: tag, type, path, message, app-tag, info."""
        out: dict[str, Any] = {"tag": self.tag, "type": self.error_type, "message": self.message}
        if self.path:
            out["path"] = self.path
        if self.app_tag:
            out["app_tag"] = self.app_tag
        if self.info:
            out["info"] = self.info
        return out

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


class InUse(FlyosError):
    tag = "in-use"


class InvalidValue(FlyosError):
    tag = "invalid-value"


class TooBig(FlyosError):
    tag = "too-big"
    default_type = "transport"


class MissingAttribute(FlyosError):
    tag = "missing-attribute"
    default_type = "protocol"


class BadAttribute(FlyosError):
    tag = "bad-attribute"
    default_type = "protocol"


class UnknownAttribute(FlyosError):
    tag = "unknown-attribute"
    default_type = "protocol"


class MissingElement(FlyosError):
    tag = "missing-element"
    default_type = "protocol"


class BadElement(FlyosError):
    tag = "bad-element"
    default_type = "protocol"


class UnknownElement(FlyosError):
    tag = "unknown-element"


class UnknownNamespace(FlyosError):
    tag = "unknown-namespace"
    default_type = "protocol"


class AccessDenied(FlyosError):
    tag = "access-denied"


class LockDenied(FlyosError):
    tag = "lock-denied"
    default_type = "protocol"


class ResourceDenied(FlyosError):
    tag = "resource-denied"


class RollbackFailed(FlyosError):
    tag = "rollback-failed"


class DataExists(FlyosError):
    tag = "data-exists"


class DataMissing(FlyosError):
    tag = "data-missing"


class OperationNotSupported(FlyosError):
    tag = "operation-not-supported"
    default_type = "protocol"


class OperationFailed(FlyosError):
    tag = "operation-failed"


class MalformedMessage(FlyosError):
    tag = "malformed-message"
    default_type = "rpc"


class ErrorList(FlyosError):
    """Several errors reported together (validation, continue-on-error)."""

    def __init__(self, errors: Iterable[FlyosError]) -> None:
        self._errors = list(errors)
        first = self._errors[0]
        super().__init__(
            first.message if len(self._errors) == 1 else f"{len(self._errors)} errors",
            path=first.path,
            error_type=first.error_type,
        )
        self.tag = first.tag  # type: ignore[misc]

    @property
    def errors(self) -> list[FlyosError]:
        return list(self._errors)

    def to_dict(self) -> dict[str, Any]:
        out = self._errors[0].to_dict()
        if len(self._errors) > 1:
            out["errors"] = [e.to_dict() for e in self._errors]
        return out

    def __str__(self) -> str:
        return "; ".join(str(e) for e in self._errors)


def raise_all(errors: list[FlyosError]) -> None:
    """Raise nothing for no errors, the error itself for one, an ErrorList for more."""
    if len(errors) == 1:
        raise errors[0]
    if errors:
        raise ErrorList(errors)


ERROR_CLASSES: dict[str, type[FlyosError]] = {
    cls.tag: cls for cls in FlyosError.__subclasses__() if cls is not ErrorList
}


def error_from_dict(data: Mapping[str, Any]) -> FlyosError:
    """Rebuild an error from `to_dict()` output (used by IPC clients)."""
    if "errors" in data:
        return ErrorList(error_from_dict(e) for e in data["errors"])
    cls = ERROR_CLASSES.get(str(data.get("tag")), OperationFailed)
    return cls(
        str(data.get("message", "")),
        path=data.get("path"),
        error_type=data.get("type"),
        app_tag=data.get("app_tag"),
        info=data.get("info"),
    )
