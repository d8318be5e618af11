"""Who is calling: HTTP Basic against the configured users, or a bearer token.

Framework-free, so every HTTP channel on the listener (Flask for REST, the
ASGI app mounted at /mcp) authenticates the same way from the same header;
credentials that do not check out are written to the audit log. What a
principal may do is decided by the Manager (NACM), not here.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass

from flyos_agent.config import AgentConfig, User
from flyos_agent.northbound.tokens import TokenStore
from flyos_agent.runtime.audit import auth_failed

REALM = "flyos-agent"
CHALLENGE = f'Basic realm="{REALM}", charset="UTF-8", Bearer realm="{REALM}"'


@dataclass(frozen=True)
class Principal:
    """An authenticated caller: the configured user and its group."""

    user: str
    group: str


class Authenticator:
    """Checks `Authorization` headers (and RFC 6750 `access_token` where allowed)."""

    def __init__(self, config: AgentConfig, tokens: TokenStore) -> None:
        self._config = config
        self._tokens = tokens

    def authenticate(
        self,
        authorization: str | None,
        access_token: str | None = None,
        *,
        channel: str = "http",
        peer: str | None = None,
    ) -> Principal | None:
        """The principal behind the credentials, or None when they are missing or
        wrong (wrong ones are logged as an auth-failure of `channel` from `peer`)."""
        if not authorization and not access_token:
            return None
        claimed: str | None = None
        found: Principal | None = None
        if authorization:
            scheme, _, credentials = authorization.strip().partition(" ")
            scheme = scheme.lower()
            if scheme == "basic":
                claimed, found = self._basic(credentials.strip())
            elif scheme == "bearer":
                found = self._bearer(credentials.strip())
        else:
            found = self._bearer(access_token or "")
        if found is None:
            auth_failed(claimed, channel, peer, "wrong or unknown credentials")
        return found

    def _basic(self, credentials: str) -> tuple[str | None, Principal | None]:
        """The user name the credentials claim, and the principal if they check out."""
        try:
            text = base64.b64decode(credentials, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return None, None
        name, sep, password = text.partition(":")
        if not sep:
            return None, None
        return name, _principal(self._config.authenticate(name, password))

    def _bearer(self, token: str) -> Principal | None:
        return _principal(self._tokens.verify(token))


def _principal(user: User | None) -> Principal | None:
    return None if user is None else Principal(user.name, user.group)
