"""Who is calling: HTTP Basic against the configured users, or a bearer token.

Framework-free, so every HTTP channel on the listener (Flask for REST, the
ASGI app mounted at /mcp) authenticates the same way from the same header;
credentials that do not check out are written to the audit log and count
towards the failed-login back-off of (peer, claimed user). What a principal
may do is decided by the Manager (NACM), not here.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from dataclasses import dataclass

from flyos_agent.config import AgentConfig, User
from flyos_agent.northbound.backoff import LoginBackoff, LoginThrottled
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
        self._backoff = LoginBackoff(config.login_backoff_after, config.login_backoff_max)

    def authenticate(
        self,
        authorization: str | None,
        access_token: str | None = None,
        *,
        channel: str = "http",
        peer: str | None = None,
    ) -> Principal | None:
        """The principal behind the credentials, or None when they are missing or
        wrong (wrong ones are logged as an auth-failure of `channel` from `peer`).

        LoginThrottled, without checking anything, while (peer, claimed user) backs
        off after too many failures.
        """
        if not authorization and not access_token:
            return None
        claimed, verify = self._verifier(authorization, access_token)
        source = peer or "-"
        try:
            self._backoff.check(source, claimed)
        except LoginThrottled:
            auth_failed(claimed, channel, peer, "backing off")
            raise
        found = verify()
        if found is None:
            self._backoff.failed(source, claimed)
            auth_failed(claimed, channel, peer, "wrong or unknown credentials")
        else:
            self._backoff.succeeded(source, claimed)
        return found

    def _verifier(
        self, authorization: str | None, access_token: str | None
    ) -> tuple[str | None, Callable[[], Principal | None]]:
        """The user name the credentials claim (None for tokens), and their check."""
        if not authorization:
            token = access_token or ""
            return None, lambda: self._bearer(token)
        scheme, _, credentials = authorization.strip().partition(" ")
        scheme, credentials = scheme.lower(), credentials.strip()
        if scheme == "bearer":
            return None, lambda: self._bearer(credentials)
        pair = _basic_pair(credentials) if scheme == "basic" else None
        if pair is None:
            return None, lambda: None
        name, password = pair
        return name, lambda: _principal(self._config.authenticate(name, password))

    def _bearer(self, token: str) -> Principal | None:
        return _principal(self._tokens.verify(token))


def _basic_pair(credentials: str) -> tuple[str, str] | None:
    """(user, password) of HTTP Basic credentials; None if they do not decode."""
    try:
        text = base64.b64decode(credentials, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    name, sep, password = text.partition(":")
    return (name, password) if sep else None


def _principal(user: User | None) -> Principal | None:
    return None if user is None else Principal(user.name, user.group)
