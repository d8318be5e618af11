"""Many sessions committing at once: every commit lands, ids have no gaps."""

from __future__ import annotations

import threading
from pathlib import Path

from flyos_agent.backends.memory import MemoryBackend
from flyos_agent.datastore.edit import Edit
from flyos_agent.datastore.journal import Journal
from flyos_agent.datastore.paths import parse_path
from flyos_agent.runtime.manager import Manager
from flyos_agent.schema import load_schema

THREADS = 8
ROUTES_EACH = 20


def test_concurrent_commits_to_running_all_land_with_gapless_ids(tmp_path: Path) -> None:
    schema = load_schema()
    backend = MemoryBackend(schema)
    manager = Manager(schema, Journal(tmp_path / "flyos.db", schema), backend)
    manager.start()
    errors: list[BaseException] = []
    start = threading.Barrier(THREADS)

    def worker(n: int) -> None:
        try:
            session = manager.open_session(f"user{n}", "test")
            start.wait()
            for i in range(ROUTES_EACH):
                path = parse_path(schema, f"/routing/static[prefix='10.{n}.{i}.0/24']")
                result = manager.edit(
                    session, "running", [Edit("create", path, {"via": "192.0.2.1"})]
                )
                assert result is not None and result.changed
            manager.close_session(session)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(THREADS)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert not any(thread.is_alive() for thread in threads)
        assert errors == []
        admin = manager.open_session("admin", "test")
        routes = manager.get_config(admin, "running")["flyos-routing:routing"]["static"]
        expected = {f"10.{n}.{i}.0/24" for n in range(THREADS) for i in range(ROUTES_EACH)}
        assert {route["prefix"] for route in routes} == expected
        history = manager.history(admin)
        assert sorted(h["commit-id"] for h in history) == list(range(1, THREADS * ROUTES_EACH + 1))
        assert {h["user"] for h in history} == {f"user{n}" for n in range(THREADS)}
        kernel_routes = [key for key in backend.kernel if "/static[" in key]
        assert len(kernel_routes) == THREADS * ROUTES_EACH
    finally:
        manager.close()
