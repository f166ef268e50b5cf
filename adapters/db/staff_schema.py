"""Credit staff: users, their sessions and the login attempts that rate-limit sign-in.

staff_users      one row per person: login, role (agent < manager < admin), the
                 password hash (``adapters.db.staff_repo``: scrypt), active or not
staff_sessions   server-side sessions: the cookie carries a random token, the table
                 only its SHA-256 (a copied table opens no session); a session dies
                 after ``idle`` minutes without a request or at ``expires_at``
login_attempts   every sign-in attempt with login and address, so failures can be
                 counted over a window (5 per login or address per 15 minutes)
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
)

from adapters.db.schema import metadata

staff_users = Table(
    "staff_users",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("login", String(64), nullable=False, unique=True),
    Column("display_name", String(200), nullable=False, server_default=""),
    Column("role", String(16), nullable=False),  # agent | manager | admin
    Column("password_hash", String(255), nullable=False),
    Column("active", Boolean, nullable=False, server_default="1"),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("last_login_at", DateTime(timezone=True)),
)

staff_sessions = Table(
    "staff_sessions",
    metadata,
    Column("token_hash", String(64), primary_key=True),  # hex SHA-256 of the cookie value
    Column("user_id", ForeignKey("staff_users.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("csrf_token", String(64), nullable=False),
    Column("address", String(64), nullable=False, server_default=""),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("last_seen_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),  # absolute limit
)

login_attempts = Table(
    "login_attempts",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("login", String(64), nullable=False),
    Column("address", String(64), nullable=False),
    Column("succeeded", Boolean, nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Index("ix_login_attempts_login_at", "login", "at"),
    Index("ix_login_attempts_address_at", "address", "at"),
)
