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
    """What the patterns read: ``folded`` = fold(mask_quoted(text)) with typos of
    long date words corrected, and ``original``, the debtor's text with the same
    corrections (so accents are still there), both of the same length.
    ``origin[i]`` is the position in the debtor's text of ``folded[i]`` (None:
    the identity, no typo was corrected)."""

    original: str
    folded: str
    language: str
    origin: list[int] | None = None
    text: str = ""
    taken: list[tuple[int, int]] = field(default_factory=list)
    found: list[Found] = field(default_factory=list)

    def span_in_text(self, start: int, end: int) -> tuple[int, int]:
        if self.origin is None:
            return start, end
        return self.origin[start], self.origin[end - 1] + 1

    def text_of(self, start: int, end: int) -> str:
        """The characters the debtor typed for ``folded[start:end]``."""
        if self.origin is None:
            return self.original[start:end]
        start, end = self.span_in_text(start, end)
        return self.text[start:end]

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
