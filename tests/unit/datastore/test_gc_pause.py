"""The GC pause around bulk decoding: collector off inside, back on after, and a
long-lived tree left where young collections do not rescan it."""

from __future__ import annotations

import gc

from flyos_agent.datastore.gc_pause import paused_gc


def test_the_collector_is_off_inside_and_as_it_was_after() -> None:
    assert gc.isenabled()
    with paused_gc():
        assert not gc.isenabled()
    assert gc.isenabled()
    gc.disable()
    try:
        with paused_gc(long_lived=True):
            pass
        assert not gc.isenabled()  # a pause inside a pause changes nothing
    finally:
        gc.enable()


def test_a_long_lived_build_lands_in_the_oldest_generation_unfrozen() -> None:
    with paused_gc(long_lived=True):
        tree = [[index] for index in range(20_000)]
    assert gc.get_freeze_count() == 0
    assert gc.get_count()[0] < 1_000  # no young collection is due for the new objects
    oldest = {id(item) for item in gc.get_objects(generation=2)}
    assert id(tree) in oldest and id(tree[-1]) in oldest
