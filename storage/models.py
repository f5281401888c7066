"""Typed SQLAlchemy 2 models. Change them only together with an Alembic migration."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    func,
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
    """A person on one platform and workspace (Slack team id today, Teams tenant tomorrow)."""

    __tablename__ = "users"
    __table_args__ = (
        UniqueConstraint("platform", "workspace_id", "external_id", name="uq_users_identity"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    platform: Mapped[str] = mapped_column(String(16))
    workspace_id: Mapped[str] = mapped_column(String(64))
    external_id: Mapped[str] = mapped_column(String(64))
    timezone: Mapped[str] = mapped_column(String(64), default="UTC", server_default="UTC")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class ContactRow(Base):
    """A contact, owned by exactly one user."""

    __tablename__ = "contacts"
    __table_args__ = (
        UniqueConstraint("owner_id", "name_key", name="uq_contacts_owner_name"),
        Index("ix_contacts_owner_due", "owner_id", "next_due_on"),
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
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )


class ConversationRow(Base):
    """A logged conversation. ``owner_id`` is repeated so every query can filter on it."""

    __tablename__ = "conversations"
    __table_args__ = (Index("ix_conversations_owner_contact", "owner_id", "contact_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"))
    occurred_on: Mapped[date] = mapped_column(Date)
    note: Mapped[str] = mapped_column(Text, default="")
    learned: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
