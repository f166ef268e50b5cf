"""The collector's pause around bulk imports (adapters.collector)."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator

import pytest

from adapters.collector import collector_paused


class Node:
    def __init__(self) -> None:
        self.other: Node | None = None


@pytest.fixture
def collector_on() -> Iterator[None]:
    was = gc.isenabled()
    gc.enable()
    yield
    gc.unfreeze()
    if not was:
        gc.disable()


def _in_generation(obj: object, generation: int) -> bool:
    return any(o is obj for o in gc.get_objects(generation))


def test_the_pause_turns_the_collector_off_and_back_on(collector_on: None) -> None:
    with collector_paused():
        assert not gc.isenabled()
        with collector_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()  # an inner pause leaves the outer one paused
    assert gc.isenabled()


def test_objects_made_during_the_pause_go_to_the_oldest_generation(collector_on: None) -> None:
    with collector_paused():
        kept = [Node() for _ in range(5000)]
        assert gc.get_count()[0] >= 5000  # all counted as new
    # Not left counted as new: the next allocation sets off no collection that
    # walks them, and they are where survivors of every collection would be.
    assert gc.get_count()[0] < 5000
    assert _in_generation(kept[0], 2)
    assert not _in_generation(kept[0], 0)


def test_a_cycle_made_during_the_pause_is_still_collected(collector_on: None) -> None:
    with collector_paused():
        a, b = Node(), Node()
        a.other, b.other = b, a
        gone = weakref.ref(a)
        del a, b
    assert gone() is not None  # a cycle: reference counting alone cannot free it
    gc.collect()
    assert gone() is None


def test_what_the_program_froze_stays_frozen(collector_on: None) -> None:
    frozen = Node()
    gc.freeze()
    count = gc.get_freeze_count()
    with collector_paused():
        Node()
    assert gc.get_freeze_count() == count  # not released by the pause
    assert not _in_generation(frozen, 2)
