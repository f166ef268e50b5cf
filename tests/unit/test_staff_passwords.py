"""Staff passwords (scrypt) and roles: pure functions, no database."""

from __future__ import annotations

import pytest

from adapters.db import staff_repo


def test_a_password_verifies_and_another_does_not() -> None:
    stored = staff_repo.hash_password("correct horse battery")
    assert stored.startswith("scrypt$17$8$1$")  # OWASP's minimum cost by default
    assert staff_repo.verify_password("correct horse battery", stored)
    assert not staff_repo.verify_password("correct horse batterY", stored)
    assert not staff_repo.verify_password("", stored)


def test_each_hash_has_its_own_salt() -> None:
    first = staff_repo.hash_password("same password here")
    second = staff_repo.hash_password("same password here")
    assert first != second
    assert first.split("$")[4] != second.split("$")[4]


def test_old_parameters_still_verify_after_the_cost_changes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(staff_repo, "_LOG2_N", 10)
    cheap = staff_repo.hash_password("an older passphrase")
    monkeypatch.setattr(staff_repo, "_LOG2_N", 12)
    assert cheap.startswith("scrypt$10$")
    assert staff_repo.verify_password("an older passphrase", cheap)


@pytest.mark.parametrize(
    "stored",
    [
        "",
        "plain",
        "bcrypt$10$8$1$c2FsdA==$a2V5",
        "scrypt$x$8$1$c2FsdA==$a2V5",
        "scrypt$10$8$1$!!$!!",
    ],
)
def test_a_malformed_hash_never_verifies(stored: str) -> None:
    assert not staff_repo.verify_password("anything", stored)


def test_roles_include_the_ones_below() -> None:
    assert staff_repo.may("admin", "manager")
    assert staff_repo.may("manager", "agent")
    assert staff_repo.may("agent", "agent")
    assert not staff_repo.may("agent", "manager")
    assert not staff_repo.may("manager", "admin")


@pytest.mark.parametrize("login", ["", "a b", "x" * 65, "anne@example", "../etc"])
def test_bad_logins_are_refused(login: str) -> None:
    with pytest.raises(staff_repo.StaffError):
        staff_repo.check_login(login)


def test_short_passwords_are_refused() -> None:
    with pytest.raises(staff_repo.StaffError, match="at least 10"):
        staff_repo.check_password_strength("123456789")
