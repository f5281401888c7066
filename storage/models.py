"""Typed SQLAlchemy 2 models. Change them only together with an Alembic migration."""

from __future__ import annotations

from datetime import date, datetime, time

from sqlalchemy import (
    BigInteger,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Text,
    Time,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# Deterministic constraint names, so migrations behave the same on SQLite and PostgreSQL.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# SQLite only auto-increments INTEGER PRIMARY KEY; PostgreSQL gets BIGINT identities.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    """Declarative base with our naming convention."""

    metadata = MetaData(naming_convention=NAMING)


class User(Base):
    """A person on one platform and workspace (a Slack team id or a Teams tenant id)."""

    __tablename__ = "users"
    __table_args__ = (
        UniqueConstraint("platform", "workspace_id", "external_id", name="uq_users_identity"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    platform: Mapped[str] = mapped_column(String(16))
    workspace_id: Mapped[str] = mapped_column(String(64))
    external_id: Mapped[str] = mapped_column(String(64))
    timezone: Mapped[str] = mapped_column(String(64), default="UTC", server_default="UTC")
    # "platform" (refreshed from Slack/Teams) or "user" (set in settings; never overwritten).
    timezone_source: Mapped[str] = mapped_column(
        String(8), default="platform", server_default="platform"
    )
    nudge_time: Mapped[time] = mapped_column(Time, default=time(8, 30), server_default="08:30:00")
    # Bit 0 = Monday … bit 6 = Sunday; 31 = Monday to Friday.
    nudge_days: Mapped[int] = mapped_column(Integer, default=31, server_default="31")
    cards_per_nudge: Mapped[int] = mapped_column(Integer, default=3, server_default="3")
    paused_until: Mapped[date | None] = mapped_column(Date)
    # Cached direct-message channel (Slack conversations.open is rate-tier 3).
    dm_channel: Mapped[str | None] = mapped_column(String(255))
    # Set when the platform refuses delivery for good (account_inactive, cannot_dm_bot, …).
    undeliverable: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class ContactRow(Base):
    """A contact, owned by exactly one user."""

    __tablename__ = "contacts"
    __table_args__ = (
        UniqueConstraint("owner_id", "name_key", name="uq_contacts_owner_name"),
        Index("ix_contacts_owner_due", "owner_id", "next_due_on"),
        # The morning pass reads these per user: who was added lately, who awaits a reply.
        Index("ix_contacts_owner_created", "owner_id", "created_on"),
        Index(
            "ix_contacts_owner_follow_up",
            "owner_id",
            "follow_up_on",
            postgresql_where=text("follow_up_on IS NOT NULL"),
            sqlite_where=text("follow_up_on IS NOT NULL"),
        ),
        # The morning pass: every eligible contact in fair-rotation order (bot.core.ranking).
        Index("ix_contacts_owner_rotation", "owner_id", "rotation_key", "next_due_on", "id"),
        Index(
            "ix_contacts_owner_win",
            "owner_id",
            "win_on",
            postgresql_where=text("win_on IS NOT NULL"),
            sqlite_where=text("win_on IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(120))
    name_key: Mapped[str] = mapped_column(String(240))
    company_role: Mapped[str] = mapped_column(String(240), default="")
    how_known: Mapped[str] = mapped_column(Text, default="")
    notes: Mapped[str] = mapped_column(Text, default="")
    cadence_count: Mapped[int] = mapped_column(Integer)
    cadence_unit: Mapped[str] = mapped_column(String(8))
    last_contacted_on: Mapped[date | None] = mapped_column(Date)
    next_due_on: Mapped[date] = mapped_column(Date)
    last_note: Mapped[str] = mapped_column(Text, default="")
    created_on: Mapped[date] = mapped_column(Date)
    # "Not this one" on a morning card: left out of nudges for that day.
    skipped_on: Mapped[date | None] = mapped_column(Date)
    # "Reached out" and the follow-up question that comes a few days later.
    reached_out_on: Mapped[date | None] = mapped_column(Date)
    follow_up_on: Mapped[date | None] = mapped_column(Date)
    # Issue 10: the tie, their latest news, and the last two mornings a nudge suggested them.
    relationship: Mapped[str] = mapped_column(String(16), default="", server_default="")
    last_in_touch: Mapped[date | None] = mapped_column(Date)
    win: Mapped[str] = mapped_column(Text, default="", server_default="")
    win_on: Mapped[date | None] = mapped_column(Date)
    suggested_on: Mapped[date | None] = mapped_column(Date)
    suggested_before_on: Mapped[date | None] = mapped_column(Date)
    # Maintained from the fields above by bot.core.ranking (value_points, rotation_key).
    value_points: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    rotation_key: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )


class ConversationRow(Base):
    """A logged conversation. ``owner_id`` is repeated so every query can filter on it."""

    __tablename__ = "conversations"
    __table_args__ = (
        Index("ix_conversations_owner_contact", "owner_id", "contact_id"),
        # The latest conversation per user, for the morning pass.
        Index("ix_conversations_owner_occurred", "owner_id", "occurred_on", "id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"))
    occurred_on: Mapped[date] = mapped_column(Date)
    # "conversation" (logged) or "outreach" ("Reached out" on a card).
    kind: Mapped[str] = mapped_column(
        String(16), default="conversation", server_default="conversation"
    )
    note: Mapped[str] = mapped_column(Text, default="")
    learned: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class Nudge(Base):
    """One message a user is due: claimed before it is sent, so it is sent at most once.

    The unique key (user, kind, local date) is what makes two schedulers, or a restarted one,
    agree on who sends what.
    """

    __tablename__ = "nudges"
    __table_args__ = (
        UniqueConstraint("user_id", "kind", "local_date", name="uq_nudges_user_kind_date"),
        Index("ix_nudges_date_status", "local_date", "status"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))
    local_date: Mapped[date] = mapped_column(Date)
    # claimed → sent | failed | undeliverable (storage.records.NudgeStatus)
    status: Mapped[str] = mapped_column(String(16))
    worker: Mapped[str] = mapped_column(String(128))
    claimed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # JSON: the prompt and cards chosen, and each card's state (buttons change it).
    content: Mapped[str] = mapped_column(Text, default="")
    # As long as the platforms' ids: a Teams conversation id is often over 100 characters.
    channel: Mapped[str | None] = mapped_column(String(255))
    message_id: Mapped[str | None] = mapped_column(String(255))
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    error: Mapped[str | None] = mapped_column(String(200))


class DeliveryAttempt(Base):
    """Every try at sending a nudge, with its outcome."""

    __tablename__ = "delivery_attempts"
    __table_args__ = (UniqueConstraint("nudge_id", "number", name="uq_delivery_attempts_number"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    nudge_id: Mapped[int] = mapped_column(ForeignKey("nudges.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    worker: Mapped[str] = mapped_column(String(128))
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # None while in flight: a crash leaves it None, which marks the nudge "in doubt".
    outcome: Mapped[str | None] = mapped_column(String(32))
    detail: Mapped[str | None] = mapped_column(String(200))


class PromptView(Base):
    """How often a user has seen each courage prompt (for rotation within a hurdle)."""

    __tablename__ = "prompt_views"
    __table_args__ = (PrimaryKeyConstraint("user_id", "prompt_id", name="pk_prompt_views"),)

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    prompt_id: Mapped[str] = mapped_column(String(32))
    count: Mapped[int] = mapped_column(Integer, default=0)
    last_shown: Mapped[date] = mapped_column(Date)


class Worker(Base):
    """A running scheduler process, with a heartbeat; claims of a dead worker can be taken over."""

    __tablename__ = "workers"

    id: Mapped[str] = mapped_column(String(128), primary_key=True)
    host: Mapped[str] = mapped_column(String(128))
    pid: Mapped[int] = mapped_column(Integer)
    heartbeat_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ConversationRef(Base):
    """Where to send a user proactive messages on Teams: their personal chat's conversation
    reference (Bot Framework JSON), captured on install and refreshed on every message."""

    __tablename__ = "conversation_refs"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    conversation_id: Mapped[str] = mapped_column(String(255), index=True)
    reference: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class SeenSlackRequest(Base):
    """A signed Slack request already taken in, by ``(X-Slack-Request-Timestamp,
    X-Slack-Signature)``: a replay of it (or Slack's retry of it) has no second effect. Rows
    older than the signature window are pruned (storage/replays.py)."""

    __tablename__ = "slack_seen_requests"
    __table_args__ = (PrimaryKeyConstraint("timestamp", "signature"),)

    #: Seconds since the epoch, as Slack sent it; first in the key, so pruning is a range scan.
    timestamp: Mapped[int] = mapped_column(BigInteger)
    signature: Mapped[str] = mapped_column(String(100))
