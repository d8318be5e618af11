"""Bearer tokens for the HTTP channels (REST, RESTCONF, MCP): issue, revoke, verify.

A token is `flyos_<id>_<secret>`. Only the SHA-256 of the secret is kept (a
random 256-bit secret needs no slow hash), with the configured user it acts
for, when it was made, when it expires and a description; the table is one
JSON document in the journal's key/value store, so tokens survive restarts.
A token acts with the *current* group of its user: a user removed from the
config file loses every token at once.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import threading
import time
from dataclasses import asdict, dataclass
from typing import Any, Protocol

from flyos_agent.config import AgentConfig, User
from flyos_agent.errors import DataMissing, InvalidValue

PREFIX = "flyos_"
STORE_KEY = "northbound.tokens"
_ID_BYTES = 6
_SECRET_BYTES = 32


class ValueStore(Protocol):
    """Where the token table lives (the journal's `set_value` / `get_value`)."""

    def set_value(self, key: str, value: str) -> None:
        """Store `value` under `key`."""

    def get_value(self, key: str) -> str | None:
        """The value under `key`, or None."""


@dataclass(frozen=True)
class TokenInfo:
    """What is known about a token, never its secret."""

    id: str
    user: str
    created: float
    expires: float | None
    description: str
    secret_sha256: str

    def describe(self) -> dict[str, Any]:
        """JSON-ready summary for `flyos token list` (no hash, no secret)."""
        return {
            "id": self.id,
            "user": self.user,
            "created": _iso(self.created),
            "expires": _iso(self.expires) if self.expires is not None else None,
            "description": self.description,
        }


class TokenStore:
    """The token table; safe to use from several threads and several instances."""

    _lock = threading.Lock()

    def __init__(self, store: ValueStore, config: AgentConfig) -> None:
        self._store = store
        self._config = config

    def issue(
        self, user: str, *, lifetime: int | None = None, description: str = ""
    ) -> tuple[str, TokenInfo]:
        """A new token for configured user `user`: (the token text, shown once; its info).

        `lifetime` is in seconds (None: until revoked).
        """
        if self._config.user(user) is None:
            raise InvalidValue(f"'{user}' is not a configured user ([[user]] in the config file)")
        if lifetime is not None and lifetime <= 0:
            raise InvalidValue(f"token lifetime must be positive, got {lifetime}")
        token_id = secrets.token_hex(_ID_BYTES)
        secret = secrets.token_urlsafe(_SECRET_BYTES)
        now = time.time()
        info = TokenInfo(
            id=token_id,
            user=user,
            created=now,
            expires=now + lifetime if lifetime is not None else None,
            description=description,
            secret_sha256=_digest(secret),
        )
        with self._lock:
            table = self._load()
            table[token_id] = info
            self._save(table)
        return f"{PREFIX}{token_id}_{secret}", info

    def revoke(self, token_id: str) -> None:
        """Forget token `token_id`; DataMissing if there is no such token."""
        with self._lock:
            table = self._load()
            if table.pop(token_id, None) is None:
                raise DataMissing(f"no token with id '{token_id}'")
            self._save(table)

    def entries(self, user: str | None = None) -> list[TokenInfo]:
        """Every token (of `user` if given), oldest first; expired ones are dropped."""
        with self._lock:
            table = self._load()
        tokens = sorted(table.values(), key=lambda info: info.created)
        return [t for t in tokens if user is None or t.user == user]

    def verify(self, token: str) -> User | None:
        """The configured user a valid, unexpired token acts for; None otherwise."""
        token_id, secret = _split(token)
        if token_id is None:
            return None
        info = self._load().get(token_id)
        if info is None or not hmac.compare_digest(info.secret_sha256, _digest(secret)):
            return None
        if info.expires is not None and info.expires <= time.time():
            return None
        return self._config.user(info.user)

    def _load(self) -> dict[str, TokenInfo]:
        raw = self._store.get_value(STORE_KEY)
        if not raw:
            return {}
        now = time.time()
        table = {key: TokenInfo(**value) for key, value in json.loads(raw).items()}
        return {k: v for k, v in table.items() if v.expires is None or v.expires > now}

    def _save(self, table: dict[str, TokenInfo]) -> None:
        self._store.set_value(STORE_KEY, json.dumps({k: asdict(v) for k, v in table.items()}))


def _split(token: str) -> tuple[str | None, str]:
    if not token.startswith(PREFIX):
        return None, ""
    token_id, sep, secret = token[len(PREFIX) :].partition("_")
    if not sep or len(token_id) != 2 * _ID_BYTES or not secret:
        return None, ""
    return token_id, secret


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def _iso(stamp: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(stamp))
