"""Staff users, passwords, sessions and the sign-in rate limit.

    user_id = await create_user(conn, "anne", "correct horse battery", "manager")
    user = await check_password(engine, "anne", "correct horse battery", "127.0.0.1")
    token, csrf = await open_session(conn, user.id, "127.0.0.1")
    session = await load_session(conn, token)          # None once idle or expired

Passwords are hashed with ``hashlib.scrypt`` from the standard library: scrypt is a
memory-hard function recommended by OWASP for password storage, and using the one
in ``hashlib`` (OpenSSL's) needs no extra dependency to keep up to date.  The cost
parameters are written into each hash (``scrypt$<log2 N>$<r>$<p>$<salt>$<key>``), so
raising them later only affects new hashes; old ones still verify.

Sessions live in the database: the cookie carries 32 random bytes, the table only
their SHA-256, so a copy of the table opens nothing.  A session ends after
``IDLE`` without a request, or ``LIFETIME`` after sign-in whatever happens.
"""

from __future__ import annotations

import asyncio
import base64
import functools
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from adapters.db.staff_schema import login_attempts, staff_sessions, staff_users

ROLES = ("agent", "manager", "admin")  # each role may do everything the ones before it may
IDLE = timedelta(minutes=30)
LIFETIME = timedelta(hours=12)
FAILURE_WINDOW = timedelta(minutes=15)
MAX_FAILURES = 5  # per login and per address within FAILURE_WINDOW
MIN_PASSWORD = 10
# OWASP's minimum for scrypt: N=2^17 (128 MiB), r=8, p=1; about 0.5 to 1 s per hash
# on one core, paid once per sign-in (attempts past the rate limit are not hashed).
_LOG2_N, _R, _P = 17, 8, 1


class StaffError(ValueError):
    """A staff account request that cannot be done (unknown role, taken login...)."""


class LoginRefused(Exception):
    """Sign-in refused; ``throttled`` when too many recent failures."""

    def __init__(self, throttled: bool = False) -> None:
        super().__init__("too many failed attempts" if throttled else "wrong login or password")
        self.throttled = throttled


@dataclass(frozen=True)
class StaffUser:
    id: int
    login: str
    role: str
    display_name: str
    active: bool

    @property
    def actor(self) -> str:
        """How the audit log and messages name this person."""
        return f"staff:{self.login}"

    def may(self, role: str) -> bool:
        return may(self.role, role)


@dataclass(frozen=True)
class Session:
    token_hash: str
    csrf_token: str
    user: StaffUser


def may(role: str, needed: str) -> bool:
    """True when ``role`` includes what ``needed`` may do (admin > manager > agent)."""
    return ROLES.index(role) >= ROLES.index(needed)


def _now() -> datetime:
    return datetime.now(UTC)


def _aware(moment: datetime) -> datetime:
    """SQLite gives timestamps back without their zone (they were stored in UTC)."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    key = hashlib.scrypt(
        password.encode("utf-8"),
        salt=salt,
        n=2**_LOG2_N,
        r=_R,
        p=_P,
        maxmem=256 * 1024 * 1024,
        dklen=32,
    )
    return f"scrypt${_LOG2_N}${_R}${_P}${_b64(salt)}${_b64(key)}"


def verify_password(password: str, stored: str) -> bool:
    try:
        scheme, log2_n, r, p, salt, key = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = base64.b64decode(key)
        got = hashlib.scrypt(
            password.encode("utf-8"),
            salt=base64.b64decode(salt),
            n=2 ** int(log2_n),
            r=int(r),
            p=int(p),
            maxmem=256 * 1024 * 1024,
            dklen=len(expected),
        )
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(got, expected)


@functools.cache
def _dummy_hash() -> str:
    """A hash to compare against when the login does not exist, so that an unknown
    login takes as long to refuse as a wrong password (no account discovery by timing)."""
    return hash_password(secrets.token_hex(16))


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("ascii", "replace")).hexdigest()


def _user(row: Any) -> StaffUser:
    return StaffUser(
        id=int(row.id),
        login=row.login,
        role=row.role,
        display_name=row.display_name or row.login,
        active=bool(row.active),
    )


def check_login(login: str) -> str:
    login = login.strip().lower()
    if not login or len(login) > 64 or not all(ch.isalnum() or ch in "._-" for ch in login):
        raise StaffError(f"login {login!r}: use 1 to 64 letters, digits, dots, dashes")
    return login


def check_role(role: str) -> str:
    if role not in ROLES:
        raise StaffError(f"role {role!r}: one of {', '.join(ROLES)}")
    return role


def check_password_strength(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise StaffError(f"the password needs at least {MIN_PASSWORD} characters")


# ------------------------------------------------------------------------------ users


async def create_user(
    conn: AsyncConnection, login: str, password: str, role: str, display_name: str = ""
) -> int:
    login = check_login(login)
    check_role(role)
    check_password_strength(password)
    taken = (
        await conn.execute(select(staff_users.c.id).where(staff_users.c.login == login))
    ).first()
    if taken is not None:
        raise StaffError(f"login {login!r} exists already")
    hashed = await asyncio.to_thread(hash_password, password)
    now = _now()
    result = await conn.execute(
        insert(staff_users)
        .values(
            login=login,
            display_name=display_name.strip() or login,
            role=role,
            password_hash=hashed,
            active=True,
            created_at=now,
            updated_at=now,
        )
        .returning(staff_users.c.id)
    )
    return int(result.scalar_one())


async def list_users(conn: AsyncConnection) -> list[Any]:
    return list((await conn.execute(select(staff_users).order_by(staff_users.c.login))).all())


async def get_user(conn: AsyncConnection, user_id: int) -> StaffUser | None:
    row = (await conn.execute(select(staff_users).where(staff_users.c.id == user_id))).first()
    return _user(row) if row else None


async def set_role(conn: AsyncConnection, user_id: int, role: str) -> None:
    await conn.execute(
        update(staff_users)
        .where(staff_users.c.id == user_id)
        .values(role=check_role(role), updated_at=_now())
    )


async def set_active(conn: AsyncConnection, user_id: int, active: bool) -> None:
    await conn.execute(
        update(staff_users)
        .where(staff_users.c.id == user_id)
        .values(active=active, updated_at=_now())
    )
    if not active:
        await conn.execute(delete(staff_sessions).where(staff_sessions.c.user_id == user_id))


async def set_password(conn: AsyncConnection, user_id: int, password: str) -> None:
    check_password_strength(password)
    hashed = await asyncio.to_thread(hash_password, password)
    await conn.execute(
        update(staff_users)
        .where(staff_users.c.id == user_id)
        .values(password_hash=hashed, updated_at=_now())
    )
    # A new password signs every other browser out.
    await conn.execute(delete(staff_sessions).where(staff_sessions.c.user_id == user_id))


# -------------------------------------------------------------------------- sign-in


async def recent_failures(conn: AsyncConnection, login: str, address: str, now: datetime) -> int:
    """Failed attempts within the window for this login or from this address (the
    larger count): guessing one account's password and trying many accounts from
    one machine are both slowed down."""
    since = now - FAILURE_WINDOW
    counts = []
    for column, value in ((login_attempts.c.login, login), (login_attempts.c.address, address)):
        counts.append(
            (
                await conn.execute(
                    select(func.count()).where(
                        column == value,
                        login_attempts.c.succeeded.is_(False),
                        login_attempts.c.at > since,
                    )
                )
            ).scalar_one()
        )
    return int(max(counts))


async def check_password(engine: AsyncEngine, login: str, password: str, address: str) -> StaffUser:
    """The active user with that login and password, or ``LoginRefused``.

    Every attempt is recorded; past ``MAX_FAILURES`` failures in the window the
    attempt is refused without even looking at the password.
    """
    login = login.strip().lower()[:64]
    address = address[:64]
    now = _now()
    # The refusals are raised after the transactions commit: the attempt must stay
    # recorded (raising inside ``begin()`` would roll it back).
    async with engine.begin() as conn:
        throttled = await recent_failures(conn, login, address, now) >= MAX_FAILURES
        if throttled:
            await _record_attempt(conn, login, address, False, now)
        row = (await conn.execute(select(staff_users).where(staff_users.c.login == login))).first()
    if throttled:
        raise LoginRefused(throttled=True)
    stored = row.password_hash if row is not None else _dummy_hash()
    good = await asyncio.to_thread(verify_password, password, stored)
    good = good and row is not None and bool(row.active)
    async with engine.begin() as conn:
        await _record_attempt(conn, login, address, good, now)
        if good:
            await conn.execute(
                update(staff_users).where(staff_users.c.id == row.id).values(last_login_at=now)
            )
    if not good or row is None:
        raise LoginRefused()
    return _user(row)


async def _record_attempt(
    conn: AsyncConnection, login: str, address: str, succeeded: bool, now: datetime
) -> None:
    await conn.execute(
        insert(login_attempts).values(login=login, address=address, succeeded=succeeded, at=now)
    )
    # Old attempts say nothing any more; keep the table small.
    await conn.execute(delete(login_attempts).where(login_attempts.c.at < now - timedelta(days=1)))


# ------------------------------------------------------------------------- sessions


async def open_session(conn: AsyncConnection, user_id: int, address: str) -> tuple[str, str]:
    """A new session: returns the cookie token and the session's CSRF token."""
    token = secrets.token_urlsafe(32)
    csrf = secrets.token_urlsafe(32)
    now = _now()
    await conn.execute(
        insert(staff_sessions).values(
            token_hash=_token_hash(token),
            user_id=user_id,
            csrf_token=csrf,
            address=address[:64],
            created_at=now,
            last_seen_at=now,
            expires_at=now + LIFETIME,
        )
    )
    await conn.execute(
        delete(staff_sessions).where(
            or_(staff_sessions.c.expires_at < now, staff_sessions.c.last_seen_at < now - IDLE)
        )
    )
    return token, csrf


async def load_session(conn: AsyncConnection, token: str, idle: timedelta = IDLE) -> Session | None:
    """The live session of this cookie token (its idle clock restarted), else None."""
    if not token or len(token) > 128:
        return None
    now = _now()
    row = (
        await conn.execute(
            select(staff_sessions, staff_users)
            .join(staff_users, staff_users.c.id == staff_sessions.c.user_id)
            .where(staff_sessions.c.token_hash == _token_hash(token))
        )
    ).first()
    if row is None:
        return None
    if not row.active or _aware(row.expires_at) <= now or _aware(row.last_seen_at) <= now - idle:
        await conn.execute(
            delete(staff_sessions).where(staff_sessions.c.token_hash == row.token_hash)
        )
        return None
    await conn.execute(
        update(staff_sessions)
        .where(staff_sessions.c.token_hash == row.token_hash)
        .values(last_seen_at=now)
    )
    user = StaffUser(
        id=int(row.user_id),
        login=row.login,
        role=row.role,
        display_name=row.display_name or row.login,
        active=True,
    )
    return Session(row.token_hash, row.csrf_token, user)


async def is_live(conn: AsyncConnection, token: str, idle: timedelta = IDLE) -> bool:
    """Whether the session of this token is still alive, without restarting its idle
    clock (an open event stream must not keep a session alive by itself)."""
    now = _now()
    row = (
        await conn.execute(
            select(staff_sessions.c.expires_at, staff_sessions.c.last_seen_at).where(
                staff_sessions.c.token_hash == _token_hash(token)
            )
        )
    ).first()
    return (
        row is not None and _aware(row.expires_at) > now and _aware(row.last_seen_at) > now - idle
    )


async def close_session(conn: AsyncConnection, token: str) -> None:
    await conn.execute(
        delete(staff_sessions).where(staff_sessions.c.token_hash == _token_hash(token))
    )
