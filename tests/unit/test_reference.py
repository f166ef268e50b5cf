"""Belgian structured communications and RF references."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from stdnum.be import ogm_vcs

from domain.reference import display, format_ogm, normalise, ogm_for_sequence


@given(st.integers(min_value=1, max_value=10**10 - 1))
def test_generated_ogms_are_valid(sequence: int) -> None:
    ogm = ogm_for_sequence(sequence)
    assert len(ogm) == 12
    assert ogm_vcs.is_valid(ogm)
    assert normalise(format_ogm(ogm)) == ogm


def test_check_digits_97_when_remainder_is_zero() -> None:
    assert ogm_for_sequence(97).endswith("97")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("+++090/9337/55493+++", "090933755493"),
        ("***090/9337/55493***", "090933755493"),
        ("090/9337/55493", "090933755493"),
        ("090933755493", "090933755493"),
        (" +++ 090 / 9337 / 55493 +++ ", "090933755493"),
        ("+++240/2838/42818+++", "240283842818"),
        ("RF18 5390 0754 7034", "RF18539007547034"),
        ("rf18539007547034", "RF18539007547034"),
        ("090/9337/55494", None),
        ("RF19 5390 0754 7034", None),
        ("hello", None),
    ],
)
def test_normalise(text: str, expected: str | None) -> None:
    assert normalise(text) == expected


def test_display() -> None:
    assert display("090933755493") == "+++090/9337/55493+++"
    assert display("RF18539007547034") == "RF18 5390 0754 7034"
