"""The courage-prompt library: one short prompt each weekday morning, before the day's cards.

Prompts are grouped by the eight hurdles of the coaching method (see ``COACHING.md``). The wording
is ours. A prompt may name today's first contact with a ``{name}`` placeholder; such a prompt also
carries a ``generic`` text for mornings without a contact.

Prompt ids are stored with each user's history: never reuse, renumber or delete an id. Retire a
prompt by removing it from :data:`PROMPTS` only if no history refers to it, and add new prompts
with the next free number of their hurdle.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from enum import IntEnum
from functools import cache

#: The longest a prompt's ``text`` or ``generic`` may be, before a name is filled in.
PROMPT_MAX = 220

NAME_SLOT = "{name}"


class Hurdle(IntEnum):
    """The eight hurdles that keep people from getting back in touch, in the coach's order."""

    DOUBLE_STANDARD = 1
    MIND_READING = 2
    WHAT_TO_SAY = 3
    THEIR_SUCCESSES = 4
    LISTENING = 5
    COURAGE = 6
    ABOUT_THEM = 7
    COMMITMENT = 8

    @property
    def title(self) -> str:
        """A short human title, e.g. "The double standard"."""
        return _TITLES[self]

    @property
    def slug(self) -> str:
        """The prefix of this hurdle's prompt ids, e.g. ``"double-standard"``."""
        return self.name.lower().replace("_", "-")


_TITLES: dict[Hurdle, str] = {
    Hurdle.DOUBLE_STANDARD: "The double standard",
    Hurdle.MIND_READING: "Mind-reading",
    Hurdle.WHAT_TO_SAY: "Not knowing what to say",
    Hurdle.THEIR_SUCCESSES: "People like to talk about their successes",
    Hurdle.LISTENING: "Listening over talking",
    Hurdle.COURAGE: "Courage and visualisation",
    Hurdle.ABOUT_THEM: "It's about them, not you",
    Hurdle.COMMITMENT: "Commitment keeps ties alive",
}


@dataclass(frozen=True, slots=True)
class Prompt:
    """One courage-building prompt.

    ``id`` is stable and unique (e.g. ``"courage-03"``) because users' histories store it.
    ``text`` may contain ``{name}`` for today's first contact's first name; ``generic`` is then
    required and is shown when there is no name to fill in.
    """

    id: str
    hurdle: Hurdle
    text: str
    generic: str = ""

    def __post_init__(self) -> None:
        if NAME_SLOT in self.text and not self.generic:
            raise ValueError(f"prompt {self.id} names a contact but has no generic text")
        if NAME_SLOT in self.generic:
            raise ValueError(f"prompt {self.id}: the generic text must not contain {NAME_SLOT}")

    @property
    def names_contact(self) -> bool:
        """Whether the text has a ``{name}`` slot for today's first contact."""
        return NAME_SLOT in self.text


def _p(hurdle: Hurdle, number: int, text: str, generic: str = "") -> Prompt:
    return Prompt(f"{hurdle.slug}-{number:02d}", hurdle, text, generic)


_H = Hurdle

PROMPTS: tuple[Prompt, ...] = (
    # 1. The double standard: you'd welcome their call, so they'll likely welcome yours.
    _p(
        _H.DOUBLE_STANDARD,
        1,
        "Would you mind if {name} called you out of the blue to ask how you're doing? Probably "
        "not. Give {name} the same benefit of the doubt you'd want.",
        "Would you mind if a former colleague called you out of the blue to ask how you're "
        "doing? Probably not. Give them the same benefit of the doubt you'd want.",
    ),
    _p(
        _H.DOUBLE_STANDARD,
        2,
        "Think of the last time someone from your past got in touch. Were you annoyed, or quietly "
        "pleased? The people on your list are wired the same way.",
    ),
    _p(
        _H.DOUBLE_STANDARD,
        3,
        "If a former teammate asked for your view on something, you'd make time for them. Today "
        "you're the one asking. The rules haven't changed.",
    ),
    _p(
        _H.DOUBLE_STANDARD,
        4,
        "You'd happily take a call from an old neighbour's nephew. Someone you actually worked "
        "alongside is not going to resent hearing from you.",
    ),
    _p(
        _H.DOUBLE_STANDARD,
        5,
        "Try the swap test: imagine {name} sending you the very message you're about to send. "
        "How would you feel reading it?",
        "Try the swap test: imagine today's contact sending you the very message you're about to "
        "send. How would you feel reading it?",
    ),
    _p(
        _H.DOUBLE_STANDARD,
        6,
        "Notice whether you hold yourself to a stricter rule than everyone else. Getting in touch "
        "is ordinary when others do it, and just as ordinary when you do.",
    ),
    _p(
        _H.DOUBLE_STANDARD,
        7,
        "Being asked what you think is a small compliment. When you write to {name}, you're "
        "paying that compliment, not imposing.",
        "Being asked what you think is a small compliment. When you write to someone today, "
        "you're paying that compliment, not imposing.",
    ),
    # 2. Mind-reading: predict, then find out; evidence beats imagined rejection.
    _p(
        _H.MIND_READING,
        1,
        "How likely is it that {name} replies within a week? Pick a number from 0 to 10, note "
        "it, then find out.",
        "How likely is it that today's first contact replies within a week? Pick a number from 0 "
        "to 10, note it, then find out.",
    ),
    _p(
        _H.MIND_READING,
        2,
        "You don't know yet how {name} will react. Nobody does. Sending the message is the only "
        "way to find out.",
        "You don't know yet how today's contact will react. Nobody does. Sending the message is "
        "the only way to find out.",
    ),
    _p(
        _H.MIND_READING,
        3,
        "People underestimate how much others appreciate being reached out to, most of all when "
        "it comes as a surprise (Liu et al., 2023). Your forecast is probably too gloomy.",
    ),
    _p(
        _H.MIND_READING,
        4,
        "Write down the worst reaction you expect today. This evening, compare it with what "
        "actually happened. Keep score.",
    ),
    _p(
        _H.MIND_READING,
        5,
        "Silence isn't a no. People travel, get busy and fall behind on messages. Decide now what "
        "you'll do if there's no reply within a week.",
    ),
    _p(
        _H.MIND_READING,
        6,
        "What evidence do you have that {name} would rather not hear from you? If the honest "
        "answer is none, that's a guess. Go and collect real data.",
        "What evidence do you have that today's contact would rather not hear from you? If the "
        "honest answer is none, that's a guess. Go and collect real data.",
    ),
    _p(
        _H.MIND_READING,
        7,
        "Look back at the conversations you've logged. Did people react the way you predicted, "
        "or better? Let that record, not the worry, set today's expectations.",
    ),
    # 3. Not knowing what to say: be curious; people like to talk about themselves.
    _p(
        _H.WHAT_TO_SAY,
        1,
        "You don't need a script. One honest question is enough: \"What's been keeping you busy "
        'lately?" Then let {name} talk.',
        "You don't need a script. One honest question is enough: \"What's been keeping you busy "
        'lately?" Then let them talk.',
    ),
    _p(
        _H.WHAT_TO_SAY,
        2,
        'Stuck on the first line? Say why they came to mind: "I was thinking about our old '
        'project and wondered how you are" is plenty.',
    ),
    _p(
        _H.WHAT_TO_SAY,
        3,
        "Before you write, jot down one thing you know about {name}: a project, a place, a "
        "hobby. Build your first question around it.",
        "Before you write, jot down one thing you know about today's contact: a project, a place, "
        "a hobby. Build your first question around it.",
    ),
    _p(
        _H.WHAT_TO_SAY,
        4,
        "Curious beats clever. Ask {name} something you'd genuinely like to know about their "
        "work or life, and the conversation will mostly take care of itself.",
        "Curious beats clever. Ask something you'd genuinely like to know about the other "
        "person's work or life, and the conversation will mostly take care of itself.",
    ),
    _p(
        _H.WHAT_TO_SAY,
        5,
        'Questions that start with "how" or "what" keep people talking; "did" and "are" invite a '
        "one-word answer. Turn one yes-or-no question into an open one today.",
    ),
    _p(
        _H.WHAT_TO_SAY,
        6,
        'If the blank page is the problem, press "Draft an opener" on a card. Edit the draft '
        "until it sounds like you, then send it.",
    ),
    _p(
        _H.WHAT_TO_SAY,
        7,
        "Small talk doesn't have to be small. \"What's been the most interesting part of your "
        'year?" works on almost anyone.',
    ),
    # 4. People like to talk about their successes: ask, and let them tell it.
    _p(
        _H.THEIR_SUCCESSES,
        1,
        "What has {name} pulled off since you last spoke? A promotion, a launch, a marathon? Ask "
        "about it, and let them tell the whole story.",
        "What has today's contact pulled off since you last spoke? A promotion, a launch, a "
        "marathon? Ask about it, and let them tell the whole story.",
    ),
    _p(
        _H.THEIR_SUCCESSES,
        2,
        "Most people are rarely asked about their wins. Be the one who asks, and then asks a "
        "follow-up question.",
    ),
    _p(
        _H.THEIR_SUCCESSES,
        3,
        "If you've heard about a recent success, lead with it: \"I saw the news about the "
        'expansion. How did you pull that off?"',
    ),
    _p(
        _H.THEIR_SUCCESSES,
        4,
        "Work, family, sport, travel: everyone lights up about something different. Check your "
        "notes on {name} for the topic that lights them up.",
        "Work, family, sport, travel: everyone lights up about something different. Check your "
        "notes on today's contacts for the topic that lights each one up.",
    ),
    _p(
        _H.THEIR_SUCCESSES,
        5,
        'When someone shares good news, stay with it a moment. "What was the hardest part?" '
        "shows you care about the story, not just the headline.",
    ),
    _p(
        _H.THEIR_SUCCESSES,
        6,
        "After today's conversation, add one win or interest to the contact's notes. Next time "
        "you'll know exactly what to ask about.",
    ),
    _p(
        _H.THEIR_SUCCESSES,
        7,
        "Congratulations are a fine reason to get in touch, even late. A success from six months "
        "ago is still worth asking about.",
    ),
    # 5. Listening over talking: listening is a form of flattery.
    _p(
        _H.LISTENING,
        1,
        "Aim to listen for twice as long as you speak today. Their answers will hand you your "
        "next question.",
    ),
    _p(
        _H.LISTENING,
        2,
        "Close listening is a quiet form of flattery. When {name} answers, ask one more question "
        "before you share anything about yourself.",
        "Close listening is a quiet form of flattery. When the other person answers, ask one more "
        "question before you share anything about yourself.",
    ),
    _p(
        _H.LISTENING,
        3,
        "After your next conversation, note one thing you learned about the other person, not "
        "just that the conversation happened.",
    ),
    _p(
        _H.LISTENING,
        4,
        "Let a pause sit. Count to three in your head before filling it; people often say the "
        "most interesting thing just after a silence.",
    ),
    _p(
        _H.LISTENING,
        5,
        'Try reflecting back what you heard: "So the move was harder than you expected?" It '
        "shows you were listening, and it invites more.",
    ),
    _p(
        _H.LISTENING,
        6,
        "What do you actually know about what {name} cares about right now? If the answer is "
        '"not much", today\'s goal is to find out.',
        "What do you actually know about what today's contact cares about right now? If the "
        'answer is "not much", today\'s goal is to find out.',
    ),
    _p(
        _H.LISTENING,
        7,
        "Listen for the thing someone mentions twice. It's usually what's on their mind, and the "
        "best thread to follow.",
    ),
    # 6. Courage and visualisation: rehearse the good version, then act.
    _p(
        _H.COURAGE,
        1,
        "Before you write, picture {name} seeing your name appear and smiling. Hold that picture "
        "for ten seconds, then send.",
        "Before you write, picture today's contact seeing your name appear and smiling. Hold that "
        "picture for ten seconds, then send.",
    ),
    _p(
        _H.COURAGE,
        2,
        "Athletes rehearse the good version of a race in their heads first. Run the good version "
        "of this conversation once, then go and make it real.",
    ),
    _p(
        _H.COURAGE,
        3,
        "Feeling uneasy is normal. Executives tend to avoid their most valuable dormant contacts "
        "because of that unease, not because those contacts lack value (Walter et al., 2015).",
    ),
    _p(
        _H.COURAGE,
        4,
        "Make the first step tiny: open a message and type only the greeting. Finishing is much "
        "easier once you've started.",
    ),
    _p(
        _H.COURAGE,
        5,
        "Imagine it going well: {name} has time, asks how you are, and offers an idea you hadn't "
        "considered. That's a realistic outcome, not a fantasy.",
        "Imagine it going well: your contact has time, asks how you are, and offers an idea you "
        "hadn't considered. That's a realistic outcome, not a fantasy.",
    ),
    _p(
        _H.COURAGE,
        6,
        "When will you send today's first message? Pick a time and put it in your calendar; "
        "courage comes more easily on a schedule.",
    ),
    _p(
        _H.COURAGE,
        7,
        "Old ties are worth the small risk: advice from contacts dormant for three years or more "
        "was as useful as advice from current ones, or more so (Levin et al., 2011).",
    ),
    # 7. It's about them, not you: the spotlight on them lowers the pressure.
    _p(
        _H.ABOUT_THEM,
        1,
        "Today's conversation isn't about your pitch; it's about {name}. What would you like to "
        "learn about how they're doing?",
        "Today's conversation isn't about your pitch; it's about the other person. What would "
        "you like to learn about how they're doing?",
    ),
    _p(
        _H.ABOUT_THEM,
        2,
        "Feeling self-conscious? Move the spotlight. The more attention you give the other "
        "person, the less is left for worrying about how you come across.",
    ),
    _p(
        _H.ABOUT_THEM,
        3,
        "Keep your own news for later. If they ask how you are, answer briefly and honestly, "
        "then turn the question back to them.",
    ),
    _p(
        _H.ABOUT_THEM,
        4,
        "Before you reach out, write one sentence about what {name} might be dealing with right "
        "now. Let it shape your first question.",
        "Before you reach out, write one sentence about what your contact might be dealing with "
        "right now. Let it shape your first question.",
    ),
    _p(
        _H.ABOUT_THEM,
        5,
        "You don't have to impress anyone today. Being interested is more memorable than being "
        "impressive.",
    ),
    _p(
        _H.ABOUT_THEM,
        6,
        'Once you\'ve written your message, count the sentences that start with "I". If most '
        "of them do, turn one into a question about the other person.",
    ),
    _p(
        _H.ABOUT_THEM,
        7,
        "What could you offer {name} today? An introduction, an article, or thanks for something "
        "they once did for you.",
        "What could you offer someone on your list today? An introduction, an article, or thanks "
        "for something they once did for you.",
    ),
    # 8. Commitment keeps ties alive: small, steady, casual contact.
    _p(
        _H.COMMITMENT,
        1,
        "In Granovetter's classic study, about 56% of professional and managerial job changers "
        "found their job through personal contacts (Getting a Job, 1974). Keep yours current.",
    ),
    _p(
        _H.COMMITMENT,
        2,
        "One message today beats five next week. Keep it small, and keep it going.",
    ),
    _p(
        _H.COMMITMENT,
        3,
        "Moderately weak ties did the most for job mobility in a study of 20 million LinkedIn "
        "members (Rajkumar et al., 2022). Who sits in that middle circle for you?",
    ),
    _p(
        _H.COMMITMENT,
        4,
        "Keeping in touch is a habit, not a campaign. Who could you send a two-line note to "
        "today, for no particular reason?",
    ),
    _p(
        _H.COMMITMENT,
        5,
        "If today isn't the day for {name}, snooze the card rather than letting it slide. The "
        "point is to keep the thread alive, not to be perfect.",
        "If today isn't the day for someone on your list, snooze their card rather than letting "
        "it slide. The point is to keep the thread alive, not to be perfect.",
    ),
    _p(
        _H.COMMITMENT,
        6,
        "Count the people you've reached this month, not the replies in your inbox. Reaching out "
        "is the part you control; replies come at their own pace.",
    ),
    _p(
        _H.COMMITMENT,
        7,
        'Casual connections open more doors than formal networking. A quick "thought of you" '
        "now makes a bigger conversation easier later.",
    ),
)

_BY_ID: dict[str, Prompt] = {prompt.id: prompt for prompt in PROMPTS}
_BY_HURDLE: dict[Hurdle, tuple[Prompt, ...]] = {
    hurdle: tuple(prompt for prompt in PROMPTS if prompt.hurdle is hurdle) for hurdle in Hurdle
}
if len(_BY_ID) != len(PROMPTS):  # pragma: no cover - guards edits to the table above
    raise RuntimeError("duplicate prompt ids")


def prompts_for(hurdle: Hurdle) -> tuple[Prompt, ...]:
    """Every prompt for ``hurdle``, in id order."""
    return _BY_HURDLE[hurdle]


def by_id(prompt_id: str) -> Prompt | None:
    """The prompt with id ``prompt_id``, or ``None`` (e.g. for an id retired since it was stored)."""
    return _BY_ID.get(prompt_id)


def stable_seed(*parts: str) -> int:
    """A seed for :func:`choose_prompt` that is the same in every process, e.g. from a user id
    and an ISO date: ``stable_seed("slack:T1:U1", "2025-06-02")``.

    Python's built-in ``hash()`` of a string changes between processes, so don't use it here.
    """
    digest = hashlib.blake2b("\x1f".join(parts).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big")


_MASK64 = (1 << 64) - 1


def _key(prompt_id: str) -> int:
    return int.from_bytes(hashlib.blake2b(prompt_id.encode(), digest_size=8).digest(), "big")


_KEYS: dict[str, int] = {prompt.id: _key(prompt.id) for prompt in PROMPTS}


def _score(seed: int, prompt_id: str) -> int:
    """A stable pseudo-random rank of ``prompt_id`` for ``seed`` (rendezvous hashing).

    The prompt's own hash, mixed with the seed by splitmix64's finaliser: as well spread as
    hashing the pair, at a fraction of the cost (the morning pass scores every prompt of a
    hurdle for every user).
    """
    key = _KEYS.get(prompt_id)
    x = ((seed & _MASK64) ^ (key if key is not None else _key(prompt_id))) & _MASK64
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & _MASK64
    return x ^ (x >> 31)


#: Phrases that presuppose a card (a contact suggested today) on the morning nudge.
_NEEDS_CARD = ("today's contact", "today's first", "card", "today's conversation")


def needs_card(prompt: Prompt) -> bool:
    """Whether ``prompt`` talks about today's contact or card, so fits only a day with cards."""
    text = f"{prompt.text} {prompt.generic}".lower()
    return any(phrase in text for phrase in _NEEDS_CARD)


def choose_prompt(
    hurdle: Hurdle,
    shown: Mapping[str, int],
    seed: int,
    exclude: Collection[str] = (),
    *,
    cards: bool = True,
) -> Prompt:
    """Pick today's prompt for ``hurdle``.

    ``shown`` maps prompt ids to how many times this user has seen each (ids of other hurdles
    and retired ids are ignored). Only the hurdle's least-shown prompts are candidates, so a user
    sees every prompt of a hurdle before any repeats, and a newly added prompt comes up soon.
    Ties are broken by a stable hash of ``seed`` and the prompt id: the same seed always gives the
    same prompt, different seeds spread over the candidates, and adding a prompt leaves the
    relative order of the others unchanged. Prompts in ``exclude`` are left out (unless that
    leaves none). Without ``cards`` today, prompts that :func:`needs_card` are left out.
    """
    keyed = _keyed(hurdle, exclude if isinstance(exclude, frozenset) else frozenset(exclude), cards)
    if shown:
        counts = [shown.get(prompt.id, 0) for _, prompt in keyed]
        fewest = min(counts)
        if fewest or any(counts):
            keyed = tuple(k for k, count in zip(keyed, counts, strict=True) if count == fewest)
    # The least :func:`_score`, ties by id; written out (the mix of ``_score`` inline, each
    # prompt's key worked out once): the morning pass chooses a prompt for every user.
    seed &= _MASK64
    best: Prompt | None = None
    best_score = 0
    for key, prompt in keyed:
        x = seed ^ key
        x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
        x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & _MASK64
        x ^= x >> 31
        if best is None or x < best_score or (x == best_score and prompt.id < best.id):
            best, best_score = prompt, x
    if best is None:  # pragma: no cover - every hurdle has prompts
        raise LookupError(f"no prompt for {hurdle}")
    return best


@cache
def _keyed(hurdle: Hurdle, exclude: frozenset[str], cards: bool) -> tuple[tuple[int, Prompt], ...]:
    """:func:`_candidates` with each prompt's hash key (``_score``'s, before the seed)."""
    return tuple((_KEYS.get(p.id) or _key(p.id), p) for p in _candidates(hurdle, exclude, cards))


@cache
def _candidates(hurdle: Hurdle, exclude: frozenset[str], cards: bool) -> tuple[Prompt, ...]:
    """The prompts :func:`choose_prompt` may pick from (the same few combinations for every
    user of a morning pass, so worked out once each)."""
    candidates = tuple(p for p in prompts_for(hurdle) if p.id not in exclude) or prompts_for(hurdle)
    if not cards:
        # No card today: nothing may mention "today's contact" (COMMITMENT always has some).
        candidates = tuple(p for p in candidates if not needs_card(p)) or tuple(
            p for p in prompts_for(Hurdle.COMMITMENT) if not needs_card(p)
        )
    return candidates


def render(prompt: Prompt, first_name: str | None) -> str:
    """The prompt's text with ``{name}`` filled in, or its generic text when there is no name.

    The name is inserted literally (``str.replace``), so names containing braces are safe.
    """
    name = " ".join((first_name or "").split())
    if not prompt.names_contact:
        return prompt.text
    if not name:
        return prompt.generic
    return prompt.text.replace(NAME_SLOT, name)
