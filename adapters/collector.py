"""Pausing Python's cyclic garbage collector for a bulk import.

An import of a large file makes millions of objects and no reference cycle; the
collector, set off by the allocations alone, walks them again and again (9 s of a
40 s statement import, a tenth of a ledger import).  Reference counting still
frees everything.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def collector_paused() -> Iterator[None]:
    """The collector off for the ``with`` block, back on after (unless it was
    already off when the outermost of nested pauses began).  It is a process-wide
    switch: in ``relance serve`` other requests also run without it meanwhile."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
