"""The agent's configuration file (TOML) and password hashing.

```toml
[agent]
state_dir = "/var/lib/flyos"
ipc_socket = "/run/flyos/agent.sock"
ipc_group = "flyos"              # socket is root:<group> 0660 if the group exists
netconf_listen = "127.0.0.1:830" # or "off"
netconf_max_message_bytes = 10485760  # largest NETCONF message (session closed beyond)
rest_listen = "127.0.0.1:8080"   # or "off"
rest_tls_cert = "/etc/flyos/rest.crt"  # optional: HTTPS with this PEM chain ...
rest_tls_key = "/etc/flyos/rest.key"   # ... and its key (both or neither)
rest_max_body_bytes = 16777216   # largest REST request body (413 beyond)
backend = "linux"                # linux | none | memory
netns = "lab"                    # optional
confirm_timeout = 600            # seconds
mcp_confirm_timeout = 120        # seconds an MCP commit waits for its confirm
history_keep = 50                # commits kept in the journal
max_message_bytes = 16777216     # largest IPC message
max_nesting_depth = 128          # deepest XML/JSON nesting any channel accepts (1..256)
login_timeout = 30               # seconds to authenticate (SSH for NETCONF, `login` on IPC)
login_backoff_after = 5          # failed logins per (source, user) before back-off starts
login_backoff_max = 60           # seconds: the back-off doubles from 1 s up to this
netconf_max_sessions = 64        # NETCONF sessions, and SSH connections, at once
rest_max_requests = 64           # HTTP requests in progress on the REST listener (503 beyond)
mcp_max_sessions = 64            # MCP sessions at once (initialize refused beyond)
ipc_max_connections = 64         # IPC connections at once (refused beyond)
startup_config = "examples/demo.json"  # first commit when the journal is empty
boot_from = "journal"            # journal: running = last commit; startup: load startup
drift_check_interval = 60        # seconds between drift checks (kernel events check sooner); "off"
log_level = "info"

[[user]]
name = "alice"
password_hash = "$scrypt$n=16384,r=8,p=1$..."   # flyos-agent hash-password
group = "operator"                               # admin | operator | viewer
ssh_keys = ["ssh-ed25519 AAAA... alice@laptop"]
```

Relative paths in the file are relative to the file's directory; command-line
flags override the file. Every problem is reported as one `ConfigError` line
that names the key.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import functools
import hashlib
import hmac
import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flyos_agent.runtime.sessions import GROUPS

BACKENDS = ("linux", "none", "memory")
LOG_LEVELS = ("debug", "info", "warning", "error")
BOOT_SOURCES = ("journal", "startup")
MAX_NESTING_DEPTH = 256  # libxml2 refuses deeper documents without its huge-tree mode

SCRYPT_N, SCRYPT_R, SCRYPT_P = 16384, 8, 1
_SCRYPT_MAXMEM = 256 * 1024 * 1024
_HASH_FORMAT = re.compile(
    r"\$scrypt\$n=(\d+),r=(\d+),p=(\d+)\$([A-Za-z0-9+/=]+)\$([A-Za-z0-9+/=]+)"
)


class ConfigError(Exception):
    """A configuration problem, as one line that names the key."""


@dataclass(frozen=True)
class Listen:
    """A TCP listen address; `None` in its place means the channel is off."""

    host: str
    port: int

    def __str__(self) -> str:
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"


@dataclass(frozen=True)
class User:
    """A configured user of the password channels (IPC login, NETCONF, REST)."""

    name: str
    password_hash: str
    group: str
    ssh_keys: tuple[str, ...] = ()


@dataclass(frozen=True)
class AgentConfig:
    """Everything `flyos-agent` needs to start; built by `load_config`."""

    state_dir: Path = Path("/var/lib/flyos")
    ipc_socket: Path = Path("/run/flyos/agent.sock")
    ipc_group: str = "flyos"
    netconf_listen: Listen | None = Listen("127.0.0.1", 830)
    netconf_max_message_bytes: int = 10 * 1024 * 1024
    rest_listen: Listen | None = Listen("127.0.0.1", 8080)
    rest_tls_cert: Path | None = None
    rest_tls_key: Path | None = None
    rest_max_body_bytes: int = 16 * 1024 * 1024
    backend: str = "linux"
    netns: str | None = None
    confirm_timeout: int = 600
    mcp_confirm_timeout: int = 120
    history_keep: int = 50
    max_message_bytes: int = 16 * 1024 * 1024
    max_nesting_depth: int = 128
    login_timeout: int = 30
    login_backoff_after: int = 5
    login_backoff_max: int = 60
    netconf_max_sessions: int = 64
    rest_max_requests: int = 64
    mcp_max_sessions: int = 64
    ipc_max_connections: int = 64
    startup_config: Path | None = None
    boot_from: str = "journal"
    drift_check_interval: int | None = 60
    log_level: str = "info"
    users: tuple[User, ...] = ()

    def user(self, name: str) -> User | None:
        """The configured user called `name`, if any."""
        return next((u for u in self.users if u.name == name), None)

    def authenticate(self, name: str, password: str) -> User | None:
        """The user if `password` is theirs; None otherwise.

        An unknown name costs the same hashing work as a wrong password, so
        timing does not tell which user names exist.
        """
        user = self.user(name)
        matches = verify_password(password, user.password_hash if user else _dummy_hash())
        return user if matches else None


# ---------------------------------------------------------------------- loading


def load_config(path: Path | None, overrides: Mapping[str, Any] | None = None) -> AgentConfig:
    """Read `path` (or start from the defaults), then apply `overrides`.

    `overrides` maps `[agent]` key names to raw values from command-line flags
    (None = not given); errors in them name the flag, errors in the file name
    the file and the key.
    """
    data: dict[str, Any] = {}
    if path is not None:
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except OSError as exc:
            raise ConfigError(f"cannot read config file {path}: {exc.strerror}") from None
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(f"config file {path}: not valid TOML: {exc}") from None
    try:
        values = _file_values(data, path.parent if path is not None else None)
    except ConfigError as exc:
        raise ConfigError(f"config file {path}: {exc}") from None
    for key, value in (overrides or {}).items():
        if value is not None:
            values[key] = _agent_value(f"--{key.replace('_', '-')}", key, value)
    return AgentConfig(**values)


def _file_values(data: dict[str, Any], base: Path | None) -> dict[str, Any]:
    unknown = sorted(set(data) - {"agent", "user"})
    if unknown:
        raise ConfigError(f"unknown table [{unknown[0]}] (expected [agent] and [[user]])")
    agent = data.get("agent", {})
    if not isinstance(agent, dict):
        raise ConfigError("[agent] must be a table")
    fields = {f.name for f in dataclasses.fields(AgentConfig)} - {"users"}
    values: dict[str, Any] = {}
    for key, raw in agent.items():
        if key not in fields:
            raise ConfigError(f"unknown key [agent] {key}")
        value = _agent_value(f"[agent] {key}", key, raw)
        if base is not None and isinstance(value, Path) and not value.is_absolute():
            value = base / value
        values[key] = value
    users = data.get("user", [])
    if not isinstance(users, list):
        raise ConfigError("users must be [[user]] tables")
    values["users"] = _users(users)
    if ("rest_tls_cert" in values) != ("rest_tls_key" in values):
        raise ConfigError("[agent] rest_tls_cert and rest_tls_key go together")
    return values


def _agent_value(label: str, key: str, value: Any) -> Any:
    if key in ("state_dir", "ipc_socket", "startup_config", "rest_tls_cert", "rest_tls_key"):
        return Path(_string(label, value))
    if key in ("netconf_listen", "rest_listen"):
        return parse_listen(label, _string(label, value))
    if key == "backend":
        return _choice(label, value, BACKENDS)
    if key == "boot_from":
        return _choice(label, value, BOOT_SOURCES)
    if key == "drift_check_interval":
        return None if value == "off" else _positive_int(label, value, 'or "off"')
    if key == "log_level":
        return _choice(label, str(value).lower(), LOG_LEVELS)
    if key in (
        "confirm_timeout",
        "mcp_confirm_timeout",
        "history_keep",
        "max_message_bytes",
        "rest_max_body_bytes",
        "netconf_max_message_bytes",
        "login_timeout",
        "login_backoff_after",
        "login_backoff_max",
        "netconf_max_sessions",
        "rest_max_requests",
        "mcp_max_sessions",
        "ipc_max_connections",
    ):
        return _positive_int(label, value)
    if key == "max_nesting_depth":
        depth = _positive_int(label, value)
        if depth > MAX_NESTING_DEPTH:
            raise ConfigError(f"{label}: at most {MAX_NESTING_DEPTH} (the XML parser's own bound)")
        return depth
    if key == "netns":
        text = _string(label, value)
        if "/" in text or text in (".", ".."):
            raise ConfigError(f"{label}: '{text}' is not a namespace name")
        return text
    return _string(label, value)


def _users(tables: list[Any]) -> tuple[User, ...]:
    users: list[User] = []
    for index, table in enumerate(tables, 1):
        if not isinstance(table, dict):
            raise ConfigError(f"[[user]] #{index} must be a table")
        label = f"[[user]] #{index}"
        unknown = sorted(set(table) - {"name", "password_hash", "group", "ssh_keys"})
        if unknown:
            raise ConfigError(f"{label}: unknown key {unknown[0]}")
        name = _string(f"{label} name", table.get("name"))
        label = f"[[user]] '{name}'"
        if any(u.name == name for u in users):
            raise ConfigError(f"{label}: defined twice")
        password_hash = _string(f"{label} password_hash", table.get("password_hash"))
        if _HASH_FORMAT.fullmatch(password_hash) is None:
            raise ConfigError(
                f"{label} password_hash: not a hash made by `flyos-agent hash-password`"
            )
        group = _choice(f"{label} group", table.get("group"), GROUPS)
        keys = table.get("ssh_keys", [])
        if not isinstance(keys, list) or not all(isinstance(k, str) and k for k in keys):
            raise ConfigError(f"{label} ssh_keys: must be a list of public key lines")
        users.append(User(name, password_hash, group, tuple(keys)))
    return tuple(users)


def parse_listen(label: str, text: str) -> Listen | None:
    """`HOST:PORT` (IPv6 as `[::1]:830`) or `off` -> a Listen or None."""
    if text == "off":
        return None
    host, sep, port = text.rpartition(":")
    host = host[1:-1] if host.startswith("[") and host.endswith("]") else host
    numeric = port.isascii() and port.isdigit()
    if not sep or not host or not numeric or not 0 < int(port) < 65536:
        raise ConfigError(f"{label}: '{text}' is not HOST:PORT or off")
    return Listen(host, int(port))


def _string(label: str, value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise ConfigError(f"{label}: expected a non-empty string, got {value!r}")
    return value


def _choice(label: str, value: Any, choices: tuple[str, ...]) -> str:
    if value not in choices:
        raise ConfigError(f"{label}: {value!r} is not one of {', '.join(choices)}")
    return str(value)


def _positive_int(label: str, value: Any, alternative: str = "") -> int:
    if isinstance(value, str) and value.isascii() and value.isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        expected = f"a positive integer {alternative}".rstrip()
        raise ConfigError(f"{label}: expected {expected}, got {value!r}")
    return value


# ---------------------------------------------------------------------- passwords


def hash_password(password: str) -> str:
    """A salted scrypt hash in the self-describing `$scrypt$n=,r=,p=$salt$hash` form."""
    salt = os.urandom(16)
    digest = _scrypt(password, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P)
    return f"$scrypt$n={SCRYPT_N},r={SCRYPT_R},p={SCRYPT_P}${_b64(salt)}${_b64(digest)}"


def verify_password(password: str, password_hash: str) -> bool:
    """True if `password` matches `password_hash` (constant-time comparison).

    A malformed hash, or one with parameters beyond sane bounds, never matches.
    """
    match = _HASH_FORMAT.fullmatch(password_hash)
    if match is None:
        return False
    n, r, p = (int(match.group(i)) for i in (1, 2, 3))
    if n < 2 or n & (n - 1) or n > 2**20 or not 0 < r <= 32 or not 0 < p <= 16:
        return False
    try:
        salt = base64.b64decode(match.group(4), validate=True)
        expected = base64.b64decode(match.group(5), validate=True)
    except binascii.Error:
        return False
    if not expected:
        return False
    actual = _scrypt(password, salt, n, r, p, length=len(expected))
    return hmac.compare_digest(actual, expected)


@functools.cache
def _dummy_hash() -> str:
    return hash_password(os.urandom(16).hex())


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int, *, length: int = 32) -> bytes:
    return hashlib.scrypt(
        password.encode("utf-8"), salt=salt, n=n, r=r, p=p, maxmem=_SCRYPT_MAXMEM, dklen=length
    )


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")
