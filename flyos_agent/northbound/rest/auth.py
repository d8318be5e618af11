"""Who is calling: HTTP Basic against the configured users, or a bearer token.

Framework-free, so every HTTP channel on the listener (Flask for REST, the
ASGI app mounted at /mcp) authenticates the same way from the same header.
Groups decide what a principal may do: viewers read, operators and admins
also write (the Manager checks the same rights again on every call).
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass

from flyos_agent.config import AgentConfig, User
from flyos_agent.northbound.tokens import TokenStore

REALM = "flyos-agent"
CHALLENGE = f'Basic realm="{REALM}", charset="UTF-8", Bearer realm="{REALM}"'
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
WRITE_GROUPS = frozenset({"admin", "operator"})


@dataclass(frozen=True)
class Principal:
    """An authenticated caller: the configured user and its group."""

    user: str
    group: str

    @property
    def may_write(self) -> bool:
        """True if the group may change configuration."""
        return self.group in WRITE_GROUPS


class Authenticator:
    """Checks `Authorization` headers (and RFC 6750 `access_token` where allowed)."""

    def __init__(self, config: AgentConfig, tokens: TokenStore) -> None:
        self._config = config
        self._tokens = tokens

    def authenticate(
        self, authorization: str | None, access_token: str | None = None
    ) -> Principal | None:
        """The principal behind the credentials, or None when they are missing or wrong."""
        if authorization:
            scheme, _, credentials = authorization.strip().partition(" ")
            scheme = scheme.lower()
            if scheme == "basic":
                return self._basic(credentials.strip())
            if scheme == "bearer":
                return self._bearer(credentials.strip())
            return None
        if access_token:
            return self._bearer(access_token)
        return None

    def _basic(self, credentials: str) -> Principal | None:
        try:
            text = base64.b64decode(credentials, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return None
        name, sep, password = text.partition(":")
        if not sep:
            return None
        return _principal(self._config.authenticate(name, password))

    def _bearer(self, token: str) -> Principal | None:
        return _principal(self._tokens.verify(token))


def _principal(user: User | None) -> Principal | None:
    return None if user is None else Principal(user.name, user.group)
