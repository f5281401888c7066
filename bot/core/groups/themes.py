"""The Monday theme: one of the eight hurdles (``shared/COACHING.md``) with an exercise written
for a group, and the *This week I'll reach out to …* buttons.

The library holds three exercises per hurdle, all in our own words. A group walks through it
in a fixed order — every hurdle's first exercise, then every second one, then every third —
starting at a place set by the group's id, so neighbouring groups don't all get the same
theme the same week and a group meets no exercise twice until it has met all of them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from bot.core.replies import Actions, Block, Button, Header, Reply, context, section

__all__ = [
    "GOAL_CHOICES",
    "GROUP_GOAL",
    "HURDLES",
    "LIBRARY",
    "Exercise",
    "exercise_for",
    "render_theme",
    "week_number",
]

#: The button action of *This week I'll reach out to …* (value ``"<group id>:<Monday>:<n>"``).
GROUP_GOAL = "group.goal"
#: The choices offered (people this week).
GOAL_CHOICES = (1, 2, 3, 5)

#: The eight hurdles, as a group reads their names.
HURDLES = (
    "The double standard",
    "Mind-reading",
    "Not knowing what to say",
    "Letting people tell their successes",
    "Listening over talking",
    "Courage and picturing it going well",
    "It's about them, not you",
    "Commitment keeps ties alive",
)


@dataclass(frozen=True, slots=True)
class Exercise:
    """One group exercise for one hurdle (``hurdle`` indexes :data:`HURDLES`)."""

    hurdle: int
    key: str
    prompt: str
    steps: tuple[str, ...]

    @property
    def title(self) -> str:
        """The hurdle's name."""
        return HURDLES[self.hurdle]


_E = Exercise

#: Three exercises per hurdle, in :data:`HURDLES` order.
LIBRARY: tuple[Exercise, ...] = (
    # 1. The double standard
    _E(
        0,
        "double-standard-swap",
        "Think of the last time someone from your past got in touch out of the blue.",
        (
            "In a thread under this post, say in one line how you felt about it.",
            "Now picture a former colleague feeling that way about hearing from you.",
        ),
    ),
    _E(
        0,
        "double-standard-favour",
        "We help people gladly, yet we doubt anyone would gladly help us.",
        (
            "Recall a small favour you did for someone this year and how it felt.",
            "Pick one person on your list who would feel the same helping you.",
        ),
    ),
    _E(
        0,
        "double-standard-question",
        "Ask yourself: would I mind if an old teammate asked for my opinion?",
        (
            "Most of us answer no straight away.",
            "Give the people on your list the same benefit of the doubt this week.",
        ),
    ),
    # 2. Mind-reading
    _E(
        1,
        "mind-reading-predict",
        "Before each message this week, write down what you expect to happen.",
        (
            "Tap a prediction when you mark someone as reached out.",
            "On Friday, the recap shows what we expected next to what really happened.",
        ),
    ),
    _E(
        1,
        "mind-reading-evidence",
        "A guess about someone's reaction is not a fact, however sure it feels.",
        (
            "Name one person you have been avoiding because you are sure of their answer.",
            "Find out this week, and let the facts decide.",
        ),
    ),
    _E(
        1,
        "mind-reading-kinder",
        "When we imagine a reply, we tend to imagine the coldest one.",
        (
            "For one message this week, write down the kindest reply you can imagine too.",
            "Notice which one comes closer to what really happens.",
        ),
    ),
    # 3. Not knowing what to say
    _E(
        2,
        "what-to-say-curious",
        "You don't need a script, just one honest question.",
        (
            "Pick one contact and write a question you are truly curious about.",
            "Open with it, and let the conversation follow.",
        ),
    ),
    _E(
        2,
        "what-to-say-share",
        "Good openers are short and about the other person.",
        (
            "Draft a two-line opener for one contact.",
            "Share it in a thread here if you'd like ideas from the group.",
        ),
    ),
    _E(
        2,
        "what-to-say-memory",
        "A shared memory is an easy way back in.",
        (
            "Think of one moment you and a contact went through together.",
            "Start your message with it, then ask how things are now.",
        ),
    ),
    # 4. People like to talk about their successes
    _E(
        3,
        "successes-ask",
        "Most people enjoy the chance to talk about what went well for them.",
        (
            "Before each conversation this week, note one thing the other person is proud of.",
            "Ask about it and let them tell the story.",
        ),
    ),
    _E(
        3,
        "successes-notice",
        "Wins are everywhere once you look: a promotion, a launch, a marathon.",
        (
            "Look up what two contacts have been up to lately.",
            "Send a short note of congratulations to one of them.",
        ),
    ),
    _E(
        3,
        "successes-follow",
        "A good follow-up question shows you were listening.",
        (
            "When someone shares a success this week, ask one more question about it.",
            "Save what you learn for next time.",
        ),
    ),
    # 5. Listening over talking
    _E(
        4,
        "listening-ratio",
        "In your conversations this week, aim to listen more than you talk.",
        (
            "Afterwards, note one thing you learned about the other person.",
            "Logging it keeps it ready for your next conversation.",
        ),
    ),
    _E(
        4,
        "listening-pause",
        "A pause after someone finishes often brings the most interesting part.",
        (
            "In one conversation this week, wait a breath before you answer.",
            "See what the other person adds.",
        ),
    ),
    _E(
        4,
        "listening-echo",
        "Saying back what you heard is a quiet kind of respect.",
        (
            "Once in each conversation, sum up in a sentence what the other person said.",
            "Notice how the conversation changes.",
        ),
    ),
    # 6. Courage and visualisation
    _E(
        5,
        "courage-picture",
        "Athletes picture the race before they run it.",
        (
            "Before you send a message, picture the person smiling as they read it.",
            "Then press send before the picture fades.",
        ),
    ),
    _E(
        5,
        "courage-first",
        "The first message of the week is the hardest one.",
        (
            "Send it on Monday, before lunch.",
            "Everything after it will feel lighter.",
        ),
    ),
    _E(
        5,
        "courage-small",
        "Courage grows with small steps taken often.",
        (
            "Pick the easiest person on your list and reach out to them today.",
            "Then pick someone a little harder for later in the week.",
        ),
    ),
    # 7. It's about them, not you
    _E(
        6,
        "about-them-help",
        "Reaching out goes easier when you start from what the other person might need.",
        (
            "For one contact, think of an article, a name or an idea that could help them.",
            "Send it with a short note and no request.",
        ),
    ),
    _E(
        6,
        "about-them-questions",
        "People remember how a conversation made them feel.",
        (
            "Go into one conversation this week with three questions about the other person.",
            "Keep your own news for when they ask.",
        ),
    ),
    _E(
        6,
        "about-them-thanks",
        "Thanking someone is about them, and it is easy to start.",
        (
            "Think of someone who helped you in your career.",
            "Tell them what their help meant to you.",
        ),
    ),
    # 8. Commitment keeps ties alive
    _E(
        7,
        "commitment-goal",
        "Steady beats heroic: a few people a week keeps a network warm.",
        (
            "Choose your number for this week with the buttons below.",
            "The Friday recap shows how the group did together.",
        ),
    ),
    _E(
        7,
        "commitment-calendar",
        "What is in the calendar gets done.",
        (
            "Block twenty minutes on two days this week for reaching out.",
            "Treat them like any other meeting.",
        ),
    ),
    _E(
        7,
        "commitment-casual",
        "Many next roles come through a casual connection rather than a close one.",
        (
            "Pick one person you haven't spoken to in over a year.",
            "Send them a short, friendly hello this week.",
        ),
    ),
)

#: The order a group walks through the library: each hurdle's first exercise, then each
#: hurdle's second, then each third (a different hurdle every week).
_ORDER: tuple[Exercise, ...] = tuple(
    sorted(LIBRARY, key=lambda e: ([x for x in LIBRARY if x.hurdle == e.hurdle].index(e), e.hurdle))
)

_EPOCH = date(2024, 1, 1)  # a Monday


def week_number(monday: date) -> int:
    """Weeks since a fixed Monday (the same for every group and time zone)."""
    return (monday - _EPOCH).days // 7


def exercise_for(group_id: int, monday: date) -> Exercise:
    """The exercise of ``group_id``'s week starting ``monday``: consecutive weeks never repeat
    one until the whole library has been used."""
    return _ORDER[(week_number(monday) + group_id) % len(_ORDER)]


def render_theme(exercise: Exercise, group_id: int, monday: date) -> Reply:
    """The Monday post: the hurdle, the exercise and the goal buttons (all text is ours)."""
    value = f"{group_id}:{monday.isoformat()}"
    buttons = tuple(Button(str(n), GROUP_GOAL, f"{value}:{n}") for n in GOAL_CHOICES)
    steps = tuple(context(f"{i}. {step}") for i, step in enumerate(exercise.steps, 1))
    blocks: tuple[Block, ...] = (
        Header(f"This week's theme: {exercise.title}"),
        section(exercise.prompt),
        *steps,
        section("This week I'll reach out to …"),
        Actions(buttons),
        context("Your choice sets your own weekly goal. Only you see it."),
    )
    return Reply(summary=f"This week's theme: {exercise.title}", blocks=blocks)
