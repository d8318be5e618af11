"""Pausing the cyclic garbage collector while many small acyclic objects are built."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def paused_gc(*, long_lived: bool = False) -> Iterator[None]:
    """Run the block with the cyclic GC off (as it was again afterwards).

    Decoding 100k entries allocates millions of objects, none of them in a
    reference cycle; without the pause the collector rescans the growing heap
    again and again, which makes the decode about three times slower.

    With `long_lived`, what the block built is kept (a configuration tree):
    every tracked object is then moved to the oldest generation (freeze, then
    unfreeze), so the young collections that follow do not rescan the new
    tree and it does not count towards the next full collection. Nothing is
    exempt from collection: the next full collection sees everything again.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            if long_lived:
                gc.freeze()
                gc.unfreeze()
            gc.enable()
