"""Typed SQLAlchemy 2 models. Change them only together with an Alembic migration."""

from __future__ import annotations

from datetime import date, datetime, time

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Text,
    Time,
    UniqueConstraint,
    func,
    text,
    true,
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
    external_id: Mapped[str] = mapped_column(String(255))
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
    # Set when the app was removed from the user's personal scope (Teams); their data is
    # deleted 30 days later unless they install it again (jobs/purge.py).
    uninstalled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
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
        # The pool (migration 0010): the weekly offer reads each owner's oldest tie from it.
        Index(
            "ix_contacts_owner_pool",
            "owner_id",
            "connected_on",
            postgresql_where=text("in_pool"),
            sqlite_where=text("in_pool"),
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
    # What they like to be called; "" means worked out from the name (bot.core.names).
    preferred_name: Mapped[str] = mapped_column(String(80), default="", server_default="")
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
    # From imports (migration 0010): dedup keys and what the triage ranks by.
    email: Mapped[str] = mapped_column(String(254), default="", server_default="")
    linkedin_url: Mapped[str] = mapped_column(String(500), default="", server_default="")
    connected_on: Mapped[date | None] = mapped_column(Date)
    # Imported, not chosen yet: no cadence, never due (next_due_on is bot.core.model.POOL_DUE).
    in_pool: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))


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
    # How they responded (bot.core.evidence.Expectation) and what came of it (comma-joined
    # OutcomeTag values, in the scale's order): the "fears vs facts" evidence.
    response: Mapped[str | None] = mapped_column(String(16))
    outcomes: Mapped[str] = mapped_column(String(120), default="", server_default="")


class OutreachRow(Base):
    """One "Reached out": what the user expected, and what actually happened."""

    __tablename__ = "outreach"
    __table_args__ = (
        Index("ix_outreach_owner_reached", "owner_id", "reached_on"),
        Index("ix_outreach_owner_contact", "owner_id", "contact_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"))
    reached_on: Mapped[date] = mapped_column(Date)
    # bot.core.evidence.Expectation values; NULL: not said (yet).
    expected: Mapped[str | None] = mapped_column(String(16))
    actual: Mapped[str | None] = mapped_column(String(16))
    replied_on: Mapped[date | None] = mapped_column(Date)
    # The last contact before this outreach, to tell dormant ties (2+ years) afterwards.
    previous_contact_on: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class NextStepRow(Base):
    """A next step promised in a conversation, to check on by ``due_on``."""

    __tablename__ = "next_steps"
    __table_args__ = (
        Index("ix_next_steps_owner_status_due", "owner_id", "status", "due_on"),
        Index("ix_next_steps_owner_contact", "owner_id", "contact_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"))
    text: Mapped[str] = mapped_column(String(200))
    due_on: Mapped[date] = mapped_column(Date)
    # open → done | dropped (bot.core.evidence.StepStatus)
    status: Mapped[str] = mapped_column(String(8), default="open", server_default="open")
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
    #: Unique: a personal conversation belongs to one user (migration 0007).
    conversation_id: Mapped[str] = mapped_column(String(255), index=True, unique=True)
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


class HeldFile(Base):
    """A file offered to a Teams user with a file-consent card, kept until they accept or
    decline it (or a day passes): Teams uploads it only once they accept."""

    __tablename__ = "held_files"

    token: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    filename: Mapped[str] = mapped_column(String(255))
    media_type: Mapped[str] = mapped_column(String(100))
    content: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class WeeklyGoal(Base):
    """A user's weekly outreach goal from the week starting ``week_start`` (a local Monday) on,
    until a later row; ``goal == 0`` means none. Past rows are kept: each week is judged by
    the goal in force then (``bot.core.goals``)."""

    __tablename__ = "weekly_goals"
    __table_args__ = (PrimaryKeyConstraint("owner_id", "week_start", name="pk_weekly_goals"),)

    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    week_start: Mapped[date] = mapped_column(Date)
    goal: Mapped[int] = mapped_column(Integer)


class RecapSetting(Base):
    """When a user's weekly recap comes. No row: the defaults (Fridays at 16:00, on)."""

    __tablename__ = "recap_settings"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    # 0 = Monday … 6 = Sunday.
    day: Mapped[int] = mapped_column(Integer, default=4, server_default="4")
    at: Mapped[time] = mapped_column(Time, default=time(16, 0), server_default="16:00:00")
    enabled: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())


class GroupRow(Base):
    """An outplacement group: one Slack channel or Teams channel (or group chat), run by
    coaches (:class:`GroupCoach`), joined by members at the sharing level each chose
    (:class:`GroupMember`). Its weekly rhythm runs in the group's own time zone."""

    __tablename__ = "groups"
    __table_args__ = (
        UniqueConstraint("platform", "workspace_id", "channel_id", name="uq_groups_channel"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    platform: Mapped[str] = mapped_column(String(16))
    workspace_id: Mapped[str] = mapped_column(String(64))
    # A Slack channel id, or a Teams channel / group chat conversation id (without ";messageid=").
    channel_id: Mapped[str] = mapped_column(String(255))
    name: Mapped[str] = mapped_column(String(80))
    timezone: Mapped[str] = mapped_column(String(64), default="UTC", server_default="UTC")
    # 0 = Monday … 6 = Sunday.
    theme_day: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    theme_at: Mapped[time] = mapped_column(Time, default=time(9, 0), server_default="09:00:00")
    recap_day: Mapped[int] = mapped_column(Integer, default=4, server_default="4")
    recap_at: Mapped[time] = mapped_column(Time, default=time(15, 0), server_default="15:00:00")
    # The weekly rhythm is paused up to and including this local date (holidays).
    paused_until: Mapped[date | None] = mapped_column(Date)
    # Whether the Friday recap may name members whose level allows it.
    shoutouts: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    # A member with no activity for this many days shows as "quiet" to the coach.
    quiet_days: Mapped[int] = mapped_column(Integer, default=14, server_default="14")
    # Teams: the channel's conversation reference (JSON) for proactive posts; Slack: unused.
    post_reference: Mapped[str | None] = mapped_column(Text)
    # None while the group works; else why posting stopped for good ("is_archived",
    # "not_in_channel", "channel_not_found", "uninstalled", …) and when the coach was told.
    broken: Mapped[str | None] = mapped_column(String(64))
    broken_told_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class GroupCoach(Base):
    """A coach of a group (its creator and any co-coaches). Coaches need not be members."""

    __tablename__ = "group_coaches"

    group_id: Mapped[int] = mapped_column(
        ForeignKey("groups.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    added_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class GroupMember(Base):
    """A member of a group at the sharing level they chose (``bot.core.groups.levels``).
    Leaving deletes the row, so a member who left is gone from every view at once."""

    __tablename__ = "group_members"

    group_id: Mapped[int] = mapped_column(
        ForeignKey("groups.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    level: Mapped[str] = mapped_column(String(16), default="numbers", server_default="numbers")
    # Opted in to weekly practice buddies.
    buddies: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    # The name the platform showed for them when they joined (migration 0016); "" unknown.
    display_name: Mapped[str] = mapped_column(String(80), default="", server_default="")
    joined_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class GroupPost(Base):
    """One post of a group's in its channel for one week: the Monday theme, the Friday recap,
    the week's wins thread, a coach's prompt. Claimed before it is sent, like :class:`Nudge`:
    the unique key (group, kind, week, key) makes two clocks agree on who posts what."""

    __tablename__ = "group_posts"
    __table_args__ = (
        UniqueConstraint("group_id", "kind", "week_start", "key", name="uq_group_posts_week"),
        Index("ix_group_posts_week_status", "week_start", "status"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id", ondelete="CASCADE"))
    # "theme" | "recap" | "wins" (the thread shared wins are posted in) | "prompt" |
    # "buddies" (a week's practice-buddy pairing, jobs/buddy_runner.py) | "buddy-intro" (one intro)
    kind: Mapped[str] = mapped_column(String(16))
    # The local Monday of the group's week.
    week_start: Mapped[date] = mapped_column(Date)
    # Tells apart several posts of one kind in a week (e.g. coach prompts); "" otherwise.
    key: Mapped[str] = mapped_column(String(64), default="", server_default="")
    # claimed → sent | failed | undeliverable (as storage.records.NudgeStatus)
    status: Mapped[str] = mapped_column(String(16))
    worker: Mapped[str] = mapped_column(String(128))
    claimed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # JSON: what was posted (so a retry posts the same text).
    content: Mapped[str] = mapped_column(Text, default="", server_default="")
    # The posted message's id (Slack ts, Teams activity id): a thread's parent.
    message_id: Mapped[str | None] = mapped_column(String(255))
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    error: Mapped[str | None] = mapped_column(String(200))


class GroupWin(Base):
    """A win a member chose to share with a group (never automatic), in their own words."""

    __tablename__ = "group_wins"
    __table_args__ = (Index("ix_group_wins_group_week", "group_id", "week_start"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    # The local Monday of the group's week it was shared in.
    week_start: Mapped[date] = mapped_column(Date)
    text: Mapped[str] = mapped_column(String(500))
    # The outcome kind it came from ("introduction", "referral", "interview", "offer",
    # "went well", …), for the recap's counts.
    kind: Mapped[str] = mapped_column(String(32), default="", server_default="")
    # The message id of the win in the channel's wins thread, once posted.
    message_id: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class BuddyMatch(Base):
    """One member's place in one week's practice buddies of a group: the members of a week
    who share ``pair_no`` met (a pair, or a trio when the count was odd). One row per member,
    so erasing a person removes only their own rows; past weeks tell the pairing whom each
    member has met already."""

    __tablename__ = "buddy_matches"

    group_id: Mapped[int] = mapped_column(
        ForeignKey("groups.id", ondelete="CASCADE"), primary_key=True
    )
    # The local Monday of the group's week.
    week_start: Mapped[date] = mapped_column(Date, primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    pair_no: Mapped[int] = mapped_column(Integer)


class GroupCheckin(Base):
    """A kind check-in a coach sent a quiet member (never automatic): at most one per member
    per group week. Claimed (``sent_at`` NULL) before the DM goes out, removed if it failed."""

    __tablename__ = "group_checkins"
    __table_args__ = (
        UniqueConstraint("group_id", "member_id", "week_start", name="uq_group_checkins_week"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id", ondelete="CASCADE"))
    member_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    coach_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    # The local Monday of the group's week.
    week_start: Mapped[date] = mapped_column(Date)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class PendingWorkRow(Base):
    """A slash command acknowledged early ("One moment…") whose work has not committed yet:
    what is needed to run it again and answer through its response URL if the process doing it
    dies (``storage/pending_work.py``). Deleted in the work's own write transaction, erased with
    the user's data, and purged after an hour."""

    __tablename__ = "pending_work"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    # JSON: the command's text as Slack sent it and where it was typed (nothing else).
    payload: Mapped[str] = mapped_column(Text)
    response_url: Mapped[str | None] = mapped_column(String(1000))
    # The request's replay key (``slack_seen_requests``): a second run of work that committed
    # finds it and has no effect. NULL for a command that only reads.
    replay_timestamp: Mapped[int | None] = mapped_column(BigInteger)
    replay_signature: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # The process doing the work (``host:pid:random``), and when it last said it still is.
    claimed_by: Mapped[str] = mapped_column(String(120))
    claimed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
