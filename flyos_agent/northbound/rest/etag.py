"""Entity tags and Last-Modified for the running datastore (RFC 8040 section 3.4.1.1-2).

The datastore has one entity tag: a per-journal salt and the running commit
id, `"3f9a0c1e-42"`, so it changes with every commit and never repeats
across a wiped state directory. Last-Modified is the time of that commit.
Every data resource reports the datastore's tag (RFC 8040 allows this): a
conditional request fails when anything was committed since the client
last read. The check and the edit are not atomic against a commit from
another channel landing in between (the Manager has no compare-and-set).
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from datetime import datetime

from flask import request
from werkzeug.http import http_date

from flyos_agent.errors import OperationFailed
from flyos_agent.northbound.rest.errors import HttpError
from flyos_agent.northbound.tokens import ValueStore
from flyos_agent.runtime.manager import Manager

SALT_KEY = "northbound.rest.etag-salt"


@dataclass(frozen=True)
class Version:
    """The running datastore's entity tag and last-modified time (seconds since the epoch)."""

    etag: str
    modified: float

    def headers(self) -> dict[str, str]:
        """ETag and Last-Modified response headers."""
        return {"ETag": f'"{self.etag}"', "Last-Modified": http_date(self.modified)}


class Versions:
    """Computes the running datastore's Version and checks request preconditions."""

    def __init__(self, manager: Manager, store: ValueStore) -> None:
        self._manager = manager
        self._started = time.time()
        salt = store.get_value(SALT_KEY)
        if salt is None:
            salt = secrets.token_hex(4)
            store.set_value(SALT_KEY, salt)
        self._salt = salt

    def current(self) -> Version:
        """The Version of running now."""
        last = self._manager.last_commit()
        if last is None:
            return Version(f"{self._salt}-0", self._started)
        commit_id, when = last
        stamp = datetime.fromisoformat(when).timestamp()
        return Version(f"{self._salt}-{commit_id}", stamp)


def not_modified(version: Version) -> bool:
    """For GET/HEAD: True if If-None-Match or If-Modified-Since says the client is current."""
    if request.if_none_match:
        return bool(request.if_none_match.contains_weak(version.etag))
    since = request.if_modified_since
    return since is not None and int(version.modified) <= since.timestamp()


def check_preconditions(version: Version) -> None:
    """For edits: 412 when If-Match, If-None-Match or If-Unmodified-Since fails."""
    failed = None
    if request.if_match and not request.if_match.contains(version.etag):
        failed = "If-Match: the datastore changed since that entity tag"
    elif request.if_none_match and request.if_none_match.contains_weak(version.etag):
        failed = "If-None-Match: the datastore still has that entity tag"
    else:
        since = request.if_unmodified_since
        if since is not None and int(version.modified) > since.timestamp():
            failed = "If-Unmodified-Since: the datastore was modified after that time"
    if failed is not None:
        raise HttpError(412, OperationFailed(f"precondition failed: {failed}"), version.headers())
