"""Pausing Python's cyclic garbage collector for a bulk import.

An import of a large file makes millions of objects and no reference cycle; the
collector, set off by the allocations alone, walks them again and again (9 s of a
40 s statement import, a tenth of a ledger import).  Reference counting still
frees everything.

Turning the collector back on is not free either: every object the import made
and still holds (its result, say) counts as a new allocation, so the first
allocation after the pause sets off a collection that walks them all (1.3-1.9 s
after a 200,000-line statement), and a few more as they age.  They are handed
to the oldest generation instead, as if they had survived those collections:
the next full collection still looks at them, so a cycle among them is still
found, but the collector schedules that one by its own rule (when the oldest
generation has grown by a quarter since the last), not at once.
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
            _age_everything()
            gc.enable()


def _age_everything() -> None:
    """Every tracked object into the oldest generation.

    ``gc.freeze`` moves them all to the permanent generation and ``gc.unfreeze``
    from there to the oldest one; both only splice lists.  Skipped when the
    program froze objects itself (a pre-forking server does, to share pages with
    its workers): ``unfreeze`` would release those too.
    """
    if gc.get_freeze_count() == 0:
        gc.freeze()
        gc.unfreeze()
