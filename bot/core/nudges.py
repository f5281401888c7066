"""The morning nudge: which courage prompt, which cards, and how the message looks.

A nudge's *content* (prompt, cards and each card's state) is chosen once, stored with the nudge
as JSON, and re-rendered whenever a button changes a card, so the DM always shows what was done.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum

import orjson

from bot.core import dates, prompts
from bot.core.actions import Act
from bot.core.courage import NEEDS_PREDICTION, EvidenceHint, story_text
from bot.core.evidence import NextStep
from bot.core.gentle import extra_card_lines, prompt_id_visualises, visualisation
from bot.core.imports.offer_view import PoolOffer, offer_blocks
from bot.core.model import Contact, UserRef
from bot.core.openers import openers
from bot.core.predict_views import prediction_actions, response_actions
from bot.core.predict_views import question as prediction_question
from bot.core.prompts import Hurdle
from bot.core.ranking import Pick, congratulate, rank
from bot.core.ranking_views import nothing_due_text
from bot.core.replies import (
    Actions,
    Block,
    Button,
    Divider,
    Em,
    Header,
    Inline,
    Reply,
    Strong,
    context,
    section,
)
from bot.core.views import knowledge_lines

_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))

#: Days after "Reached out" before the nudge asks whether they replied.
FOLLOW_UP_DAYS = 3
MAX_CARDS = 5
#: Next steps shown in one nudge, at most (the earliest due first).
MAX_STEPS = 3
#: "Remind me in 3 days" on a next step.
STEP_LATER_DAYS = 3
#: Contacts added with no outreach yet that make a user an anxious non-starter.
ANXIOUS_ADDS = 5


class CardState(StrEnum):
    """What the user has done with a card."""

    OPEN = "open"
    OPENERS = "openers"  # open, with drafted openers shown
    REACHED = "reached"  # asks for a prediction (one tap) until answered
    PREDICTED = "predicted"  # reached out, prediction answered or skipped
    LOGGED = "logged"
    SNOOZED = "snoozed"
    SKIPPED = "skipped"


class FollowUpState(StrEnum):
    """What the user answered to "Did you hear back?"."""

    OPEN = "open"
    LOGGED = "logged"
    LATER = "later"
    DROPPED = "dropped"
    ANSWERED = "answered"  # said in one tap how they responded (bot.core.predict)


@dataclass(slots=True)
class Card:
    """A "reconnect with X" card."""

    contact_id: int
    why: str
    state: CardState = CardState.OPEN
    until: str = ""  # snoozed until (ISO date)


@dataclass(slots=True)
class FollowUp:
    """A "did you hear back from X?" question."""

    contact_id: int
    reached_out_on: str
    state: FollowUpState = FollowUpState.OPEN
    until: str = ""


class StepState(StrEnum):
    """What the user did with a next step shown in the nudge."""

    OPEN = "open"
    DONE = "done"
    LATER = "later"
    DROPPED = "dropped"


@dataclass(slots=True)
class StepCard:
    """A next step that came due ("Dana: intro to the CFO — check by Friday")."""

    step_id: int
    contact_id: int
    text: str
    due_on: str
    state: StepState = StepState.OPEN
    until: str = ""  # reminded again on (ISO date)


@dataclass(slots=True)
class NudgeContent:
    """Everything a nudge shows, as stored."""

    day: str
    prompt_id: str = ""
    cards: list[Card] = field(default_factory=list)
    followups: list[FollowUp] = field(default_factory=list)
    welcome: bool = False
    #: A pool contact offered for the circle (weekly; bot.core.imports.offer_view).
    offer: PoolOffer | None = None
    #: The weekly goal's progress when the nudge was composed ("2 of 3 this week").
    goal: str = ""
    steps: list[StepCard] = field(default_factory=list)
    #: The user's own evidence under a courage or mind-reading prompt (bot.core.courage).
    evidence: str = ""
    # An anxious user who hasn't started: a visualisation and a micro-step come with the cards.
    gentle: bool = False

    def to_json(self) -> str:
        """Serialise for storage."""
        # Spelled out rather than ``dataclasses.asdict``, which deep-copies: this runs for
        # every user in a morning pass. States go in as they are: both encoders write a
        # ``StrEnum`` as its value, and ``.value`` is a Python-level property call each.
        data = {
            "day": self.day,
            "prompt_id": self.prompt_id,
            "cards": [
                {"contact_id": c.contact_id, "why": c.why, "state": c.state, "until": c.until}
                for c in self.cards
            ],
            "followups": [
                {
                    "contact_id": f.contact_id,
                    "reached_out_on": f.reached_out_on,
                    "state": f.state,
                    "until": f.until,
                }
                for f in self.followups
            ],
            "welcome": self.welcome,
            "offer": self.offer.to_data() if self.offer is not None else None,
            "gentle": self.gentle,
        }
        if self.goal:  # absent without a weekly goal
            data["goal"] = self.goal
        if self.evidence:
            data["evidence"] = self.evidence
        if self.steps:  # absent for most nudges: stored content stays as it was
            data["steps"] = [
                {
                    "step_id": t.step_id,
                    "contact_id": t.contact_id,
                    "text": t.text,
                    "due_on": t.due_on,
                    "state": t.state,
                    "until": t.until,
                }
                for t in self.steps
            ]
        try:
            # orjson: a tenth of the standard library's time, for every user of a pass.
            return orjson.dumps(data).decode()
        except orjson.JSONEncodeError:  # a lone surrogate in some text: keep it, as before
            return _ENCODER.encode(data)

    @classmethod
    def from_json(cls, raw: str) -> NudgeContent:
        """Read stored content; raises ``ValueError`` on anything malformed."""
        try:
            data = json.loads(raw)
            return cls(
                day=str(data["day"]),
                prompt_id=str(data.get("prompt_id", "")),
                cards=[
                    Card(
                        int(c["contact_id"]),
                        str(c["why"]),
                        CardState(c["state"]),
                        str(c.get("until", "")),
                    )
                    for c in data.get("cards", [])
                ],
                followups=[
                    FollowUp(
                        int(f["contact_id"]),
                        str(f["reached_out_on"]),
                        FollowUpState(f["state"]),
                        str(f.get("until", "")),
                    )
                    for f in data.get("followups", [])
                ],
                welcome=bool(data.get("welcome", False)),
                offer=PoolOffer.from_data(data.get("offer")),
                goal=str(data.get("goal", "")),
                evidence=str(data.get("evidence", "")),
                steps=[
                    StepCard(
                        int(t["step_id"]),
                        int(t["contact_id"]),
                        str(t["text"]),
                        str(t["due_on"]),
                        StepState(t["state"]),
                        str(t.get("until", "")),
                    )
                    for t in data.get("steps", [])
                ],
                gentle=bool(data.get("gentle", False)),
            )
        except (KeyError, TypeError, AttributeError) as exc:
            raise ValueError("malformed nudge content") from exc

    def card(self, contact_id: int) -> Card | None:
        """The card for ``contact_id``, if this nudge has one."""
        return next((c for c in self.cards if c.contact_id == contact_id), None)

    def followup(self, contact_id: int) -> FollowUp | None:
        """The follow-up question about ``contact_id``, if this nudge asks one."""
        return next((f for f in self.followups if f.contact_id == contact_id), None)

    def step(self, step_id: int) -> StepCard | None:
        """The next step ``step_id``, if this nudge shows it."""
        return next((t for t in self.steps if t.step_id == step_id), None)

    def contact_ids(self) -> list[int]:
        """Every contact the nudge mentions."""
        ids = [f.contact_id for f in self.followups] + [c.contact_id for c in self.cards]
        return ids + [t.contact_id for t in self.steps if t.contact_id not in ids]


#: How far the morning pass counts a user's contacts and conversations: choosing the hurdle
#: only asks whether there are none, or at least :data:`ANXIOUS_ADDS` (counting further would
#: read every contact of every user due).
ACTIVITY_COUNTED = ANXIOUS_ADDS


@dataclass(frozen=True, slots=True)
class Activity:
    """What the user has been doing, for choosing today's hurdle.

    ``contacts`` (people in the circle) and ``conversations`` (logged) may be counted only up
    to :data:`ACTIVITY_COUNTED`: larger numbers mean the same to every rule here."""

    contacts: int
    conversations: int
    last_activity_on: date | None  # last conversation or outreach
    last_conversation_learned: bool | None  # did the latest logged conversation note a lesson?


def anxious_non_starter(activity: Activity) -> bool:
    """Many people added and nobody reached yet: the gentle path (courage first, the warmest
    contact first, micro-steps)."""
    return activity.conversations == 0 and activity.contacts >= ANXIOUS_ADDS


def choose_hurdle(
    activity: Activity,
    picks: Sequence[Pick],
    today: date,
    seed: int,
    *,
    followups: int = 0,
) -> Hurdle:
    """Which of the eight hurdles today's prompt should address, from what the user does.

    ``followups`` is how many "did you hear back?" questions today's nudge asks.
    """
    idle = activity.last_activity_on is None or (today - activity.last_activity_on).days >= 7
    if anxious_non_starter(activity):
        # Anxiety, not value, is the barrier (Walter et al., 2015): courage and visualisation
        # first, with the double standard's reframe every third morning or so.
        return (Hurdle.COURAGE, Hurdle.COURAGE, Hurdle.DOUBLE_STANDARD)[seed % 3]
    if idle:
        return (Hurdle.COURAGE, Hurdle.DOUBLE_STANDARD)[seed % 2]
    if followups and seed % 2 == 0:
        # Waiting for replies breeds imagined rejection — but only on mornings that ask about
        # a reply, and not every one of them, or a single pending follow-up locks the prompt.
        return Hurdle.MIND_READING
    if activity.last_conversation_learned is False and seed % 3:
        return Hurdle.LISTENING  # most mornings after a talk with no lesson noted, not all
    top = picks[0].contact if picks else None
    if top is not None and (top.notes or congratulate(top, today)):
        return Hurdle.THEIR_SUCCESSES
    if top is not None and not (top.how_known or top.company_role):
        return Hurdle.WHAT_TO_SAY
    return Hurdle.COMMITMENT


def compose(
    *,
    activity: Activity,
    picks: Sequence[Pick],
    followups: Sequence[Contact],
    prompt_views: Mapping[str, int],
    today: date,
    seed: int,
    evidence: EvidenceHint | None = None,
) -> NudgeContent:
    """Choose today's content. ``picks`` are already ranked and limited. With ``evidence``,
    a courage or mind-reading prompt comes with the user's own story, and prompts that ask
    about predictions only come up once the user has made one."""
    if activity.contacts == 0:
        return NudgeContent(day=today.isoformat(), welcome=True)
    asked = followups[:3]
    hurdle = choose_hurdle(activity, picks, today, seed, followups=len(asked))
    exclude = () if evidence is not None and evidence.predicted else NEEDS_PREDICTION
    prompt = prompts.choose_prompt(hurdle, prompt_views, seed, exclude, cards=bool(picks))
    told = ""
    story = evidence.story if evidence is not None else None
    if story is not None and hurdle in (Hurdle.COURAGE, Hurdle.MIND_READING):
        told = story_text(story, today)
    return NudgeContent(
        evidence=told,
        day=today.isoformat(),
        prompt_id=prompt.id,
        cards=[Card(p.contact.id, p.why) for p in picks],
        followups=[FollowUp(c.id, (c.reached_out_on or today).isoformat()) for c in asked],
        gentle=anxious_non_starter(activity) and bool(picks),
    )


def compose_for(
    user: UserRef,
    day: date,
    *,
    cards: int,
    candidates: Sequence[Contact],
    followups: Sequence[Contact],
    activity: Activity,
    prompt_views: Mapping[str, int],
    pool_offer: Contact | None = None,
    next_steps: Sequence[tuple[NextStep, Contact]] = (),
    evidence: EvidenceHint | None = None,
) -> tuple[NudgeContent, dict[int, Contact]]:
    """``user``'s nudge for ``day``: the candidates ranked down to ``cards``, then
    :func:`compose` with a seed stable for the user and day; with the contacts it names.
    ``pool_offer``: someone from the pool to offer for the circle (not on a welcome). Open
    ``next_steps`` that came due (with their contacts) are shown too."""
    picks = rank(candidates, day, limit=cards, gentle=anxious_non_starter(activity))
    seed = prompts.stable_seed(user.platform, user.workspace_id, user.user_id, day.isoformat())
    content = compose(
        activity=activity,
        picks=picks,
        followups=followups,
        prompt_views=prompt_views,
        today=day,
        seed=seed,
        evidence=evidence,
    )
    if pool_offer is not None and not content.welcome:
        content.offer = PoolOffer.of(pool_offer)
    contacts = {p.contact.id: p.contact for p in picks} | {c.id: c for c in followups}
    if next_steps and not content.welcome:
        content.steps = [
            StepCard(step.id, contact.id, step.text, step.due_on.isoformat())
            for step, contact in next_steps[:MAX_STEPS]
        ]
        contacts |= {contact.id: contact for _, contact in next_steps[:MAX_STEPS]}
    return content, contacts


def render(
    content: NudgeContent, contacts: Mapping[int, Contact], *, nudge_id: int, cmd: str
) -> Reply:
    """The nudge message, with each card and question in its current state."""
    day = date.fromisoformat(content.day)
    blocks: list[Block] = [Header(f"Good morning — {day:%A}")]
    if content.welcome:
        return _welcome(blocks, cmd)
    prompt = prompts.by_id(content.prompt_id)
    cards = [c for c in content.cards if c.contact_id in contacts]
    first = contacts[cards[0].contact_id].first_name if cards else None
    if prompt is not None:
        blocks.append(section(prompts.render(prompt, first)))
        if content.evidence:
            blocks.append(section("📈 From your own record: ", Em(content.evidence)))
        blocks.append(context(f"💡 {prompt.hurdle.title}"))
    if content.gentle and first is not None and not prompt_id_visualises(content.prompt_id):
        blocks.append(section(visualisation(first, day)))
    for question in content.followups:
        contact = contacts.get(question.contact_id)
        if contact is not None:
            blocks.extend(_followup(question, contact, day, nudge_id))
    for step in content.steps:
        contact = contacts.get(step.contact_id)
        if contact is not None:
            blocks.extend(_step(step, contact, day, nudge_id))
    for number, card in enumerate(cards):
        blocks.append(Divider())
        contact = contacts[card.contact_id]
        blocks.extend(_card(card, contact, day, nudge_id))
        if card.state in (CardState.OPEN, CardState.OPENERS):
            blocks[-1:-1] = extra_card_lines(
                contact, day, micro_step=content.gentle and number == 0
            )
    if not cards and not content.followups and not content.steps:
        blocks.append(section(nothing_due_text(day, cmd)))
    if content.offer is not None:
        blocks.extend(offer_blocks(content.offer, nudge_id))
    if content.goal:
        blocks.append(context(f"🎯 Weekly goal: {content.goal}"))
    blocks.append(
        context(f"Change the time or days: `{cmd}settings` · Away? `{cmd}pause until <date>`")
    )
    names = ", ".join(contacts[c.contact_id].name for c in cards)
    summary = f"Today: reconnect with {names}" if names else "Your morning nudge"
    return Reply(summary=summary, blocks=tuple(blocks))


def _welcome(blocks: list[Block], cmd: str) -> Reply:
    blocks.extend(
        [
            section(
                "Reconnect works best with three people to start. Think of a former boss who "
                "rated you, a colleague you liked working with, and someone you helped along. "
                "They don't need to be close — people are gladder to hear from an old "
                "colleague than we expect."
            ),
            section(
                Strong("Add them like this:"),
                f"\n`{cmd}add Dana Whitfield every 2 months "
                "-- former CFO at Brightline, loves sailing`",
            ),
            Actions((Button("Add a contact", Act.ADD_FORM, style="primary"),)),
            context(
                "Tomorrow morning I'll suggest whom to reach out to first. Tip: "
                f"`{cmd}goal 3` sets a weekly goal of three people — small enough to keep."
            ),
        ]
    )
    return Reply(summary="Welcome to Reconnect: add your first three people", blocks=tuple(blocks))


def _title(contact: Contact) -> tuple[Inline, ...]:
    if contact.company_role:
        return (Strong(contact.name), f" — {contact.company_role}")
    return (Strong(contact.name),)


def _card(card: Card, contact: Contact, day: date, nudge_id: int) -> list[Block]:
    value = f"{nudge_id}:{contact.id}"
    match card.state:
        case CardState.REACHED:
            return [
                section(
                    "✓ You reached out to ",
                    Strong(contact.name),
                    f". I'll ask in {FOLLOW_UP_DAYS} days whether you heard back.",
                ),
                context(prediction_question(contact.first_name)),
                prediction_actions(Act.CARD_PREDICT, value),
            ]
        case CardState.PREDICTED:
            return [
                section(
                    "✓ You reached out to ",
                    Strong(contact.name),
                    f". I'll ask in {FOLLOW_UP_DAYS} days how it went.",
                )
            ]
        case CardState.LOGGED:
            return [section("✓ Logged your conversation with ", Strong(contact.name), ".")]
        case CardState.SNOOZED:
            until = dates.show(date.fromisoformat(card.until), day) if card.until else "later"
            return [section("Snoozed ", Strong(contact.name), f" until {until}.")]
        case CardState.SKIPPED:
            return [section("Not today — ", Strong(contact.name), " will come up another day.")]
    blocks: list[Block] = [section(*_title(contact)), context(card.why)]
    known = knowledge_lines(contact)
    if known:
        blocks.append(section(*known))
    if card.state is CardState.OPENERS:
        lines: list[Inline] = [Strong("Openers you could send:")]
        for text in openers(contact, today=day):
            lines.extend(("\n• ", text))
        blocks.append(section(*lines))
        blocks.append(
            context(Em("Ask, then listen — people like to talk about what they care about."))
        )
    blocks.append(
        Actions(
            (
                Button("Reached out", Act.CARD_REACHED, value, style="primary"),
                Button("Log conversation", Act.CARD_LOG, value),
                Button("Draft an opener", Act.CARD_OPENERS, value),
                Button("Snooze a week", Act.CARD_SNOOZE_WEEK, value),
                Button("Snooze a month", Act.CARD_SNOOZE_MONTH, value),
                Button("Not this one", Act.CARD_SKIP, value),
                # Before a call, not at 08:30: a separate reply, the card stays as it is.
                Button("Prepare", Act.PREP, str(contact.id)),
            )
        )
    )
    return blocks


def _step(step: StepCard, contact: Contact, day: date, nudge_id: int) -> list[Block]:
    value = f"{nudge_id}:{step.step_id}"
    match step.state:
        case StepState.DONE:
            return [section("✓ Done: ", Strong(contact.name), f" — {step.text}")]
        case StepState.LATER:
            until = dates.show(date.fromisoformat(step.until), day) if step.until else "later"
            return [section("I'll bring up ", Strong(contact.name), f"'s next step again {until}.")]
        case StepState.DROPPED:
            return [section("Dropped the next step with ", Strong(contact.name), ".")]
    due = date.fromisoformat(step.due_on)
    when = "due today" if due == day else f"was due {dates.show(due, day)}"
    return [
        section(
            "Next step with ",
            Strong(contact.name),
            f" ({when}): “{step.text}” — check in with {contact.first_name} kindly?",
        ),
        Actions(
            (
                Button("Done", Act.STEP_DONE, value, style="primary"),
                Button(f"Remind me in {STEP_LATER_DAYS} days", Act.STEP_LATER, value),
                Button("Drop it", Act.STEP_DROP, value),
            )
        ),
    ]


def _followup(question: FollowUp, contact: Contact, day: date, nudge_id: int) -> list[Block]:
    value = f"{nudge_id}:{contact.id}"
    match question.state:
        case FollowUpState.LOGGED:
            return [section("✓ Logged your conversation with ", Strong(contact.name), ".")]
        case FollowUpState.LATER:
            until = dates.show(date.fromisoformat(question.until), day) if question.until else ""
            return [section("I'll ask about ", Strong(contact.name), f" again {until}.")]
        case FollowUpState.ANSWERED:
            return [
                section(
                    "✓ Noted how ",
                    Strong(contact.name),
                    " responded. When you talk, log it — what came of it counts too.",
                )
            ]
        case FollowUpState.DROPPED:
            return [
                section(
                    "Let go of waiting for ",
                    Strong(contact.name),
                    " — silence is rarely about you. They'll come up again on your usual rhythm.",
                )
            ]
    reached = date.fromisoformat(question.reached_out_on)
    return [
        section(
            "Did you hear back from ",
            Strong(contact.name),
            f"? You reached out {dates.ago(reached, day)}.",
        ),
        Actions(
            (
                Button("Yes — log it", Act.FOLLOW_YES, value, style="primary"),
                Button("Not yet", Act.FOLLOW_LATER, value),
                Button("Let it go", Act.FOLLOW_DROP, value),
            )
        ),
        context("They replied? Say how, in one tap:"),
        response_actions(Act.FOLLOW_ACTUAL, value),
    ]
