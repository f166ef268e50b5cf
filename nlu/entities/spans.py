"""What every extractor shares: the message being read and the spans already taken.

Extractors run in a fixed order (identifiers, then dates, then instalments, then
amounts); each one skips what an earlier one claimed, so "+++090/9337/55493+++"
never also yields an amount and "en 3 fois" never a date.
"""

from __future__ import annotations

from dataclasses import dataclass, field

EXTRACTOR = "RelanceEntityExtractor"


@dataclass(frozen=True, slots=True)
class Found:
    entity: str
    value: str
    start: int
    end: int

    def as_dict(self) -> dict[str, object]:
        return {
            "entity": self.entity,
            "value": self.value,
            "start": self.start,
            "end": self.end,
            "extractor": EXTRACTOR,
        }


@dataclass(slots=True)
class Message:
    """``original`` as the debtor wrote it; ``folded`` = fold(mask_quoted(original)),
    of the same length, which is what the patterns read."""

    original: str
    folded: str
    language: str
    taken: list[tuple[int, int]] = field(default_factory=list)
    found: list[Found] = field(default_factory=list)

    def is_free(self, start: int, end: int) -> bool:
        return all(end <= s or start >= e for s, e in self.taken)

    def claim(self, start: int, end: int) -> None:
        """Mark a span as used without making it an entity (phone numbers, times...)."""
        self.taken.append((start, end))

    def add(self, entity: str, value: str, start: int, end: int) -> bool:
        if not self.is_free(start, end):
            return False
        self.taken.append((start, end))
        self.found.append(Found(entity, value, start, end))
        return True
