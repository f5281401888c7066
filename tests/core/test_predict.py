"""Predict, then find out, on the in-memory store: every entry point, and bad input that must
change nothing (forged buttons, another user's ids, answers off the scale, next steps in the
past or years out)."""

import json
from datetime import date, timedelta

import pytest

from bot.core import forms
from bot.core.actions import Act
from bot.core.evidence import Expectation, OutcomeTag, StepStatus
from bot.core.model import Conversation
from bot.core.nudges import Card, CardState, FollowUp, NudgeContent, StepCard
from bot.core.predict import EXPIRED, NOT_A_CHOICE, StepDateError, parse_step_due
from bot.core.replies import FormErrors, MessageUpdate, Reply
from bot.core.service import GONE, Reconnect
from tests.core.test_service import ADA, BOB, TODAY, buttons, contact_named, text
from tests.fakes.memory_store import MemoryStore
from tests.support import Clock

# 2026-11-25 is a Wednesday.
FRIDAY = date(2026, 11, 27)


@pytest.fixture
def store() -> MemoryStore:
    return MemoryStore()


@pytest.fixture
def service(store: MemoryStore, clock: Clock) -> Reconnect:
    return Reconnect(store, clock=clock)


async def history(store: MemoryStore, caller=ADA):
    async with store.book(caller.user, write=False) as book:
        return await book.history(None)


async def test_reached_records_outreach_and_asks_one_tap(
    service: Reconnect, store: MemoryStore
) -> None:
    await service.command(ADA, "add Dana Whitfield")
    reply = await service.command(ADA, "reached dana")
    assert "Marked Dana Whitfield as reached out" in text(reply)
    assert "how do you expect Dana to respond?" in text(reply)
    [event], _ = await history(store)
    assert (event.reached_on, event.expected) == (TODAY, None)
    values = [b.value for b in buttons(reply)]
    assert values == [f"{event.id}:{e.value}" for e in Expectation] + [f"{event.id}:skip"]
    dana = await contact_named(store, ADA, "Dana Whitfield")
    assert dana.follow_up_on == TODAY + timedelta(days=3)
    answer = await service.action(ADA, Act.PREDICT, values[1])
    assert text(answer) == (
        "Noted: you expect a polite brush-off from Dana. Let's find out — I'll ask in 3 days "
        "how it went."
    )
    [event], _ = await history(store)
    assert event.expected is Expectation.BRUSH_OFF


async def test_the_reached_button_on_a_contact(service: Reconnect, store: MemoryStore) -> None:
    await service.command(ADA, "add Dana Whitfield")
    due = await service.command(ADA, "due")
    reached = next(b for b in buttons(due) if b.action == Act.REACHED)
    assert "Marked Dana Whitfield" in text(await service.action(ADA, Act.REACHED, reached.value))
    # Bob pressing Ada's button (a forged value) finds nobody, and records nothing.
    assert text(await service.action(BOB, Act.REACHED, reached.value)) == GONE
    assert len((await history(store))[0]) == 1
    assert (await history(store, BOB))[0] == []


@pytest.mark.parametrize(
    "value, answer",
    [
        ("{id}:ecstatic", NOT_A_CHOICE),  # off the scale
        ("{id}:", NOT_A_CHOICE),
        ("{id}:5", NOT_A_CHOICE),
        ("abc:glad", EXPIRED),
        ("99999999999999999999999:glad", EXPIRED),
        ("{other}:glad", EXPIRED),  # Bob's outreach
        ("", NOT_A_CHOICE),
    ],
)
async def test_forged_predictions_change_nothing(
    service: Reconnect, store: MemoryStore, value: str, answer: str
) -> None:
    await service.command(ADA, "add Dana")
    await service.command(BOB, "add Bo")
    await service.command(ADA, "reached dana")
    await service.command(BOB, "reached bo")
    [mine], _ = await history(store)
    [theirs], _ = await history(store, BOB)
    forged = value.format(id=mine.id, other=theirs.id)
    assert text(await service.action(ADA, Act.PREDICT, forged)) == answer
    assert (await history(store))[0] == [mine]
    assert (await history(store, BOB))[0] == [theirs]


async def test_the_card_asks_then_moves_on(service: Reconnect, store: MemoryStore) -> None:
    await service.command(ADA, "add Dana Whitfield")
    dana = await contact_named(store, ADA, "Dana Whitfield")
    content = NudgeContent(day=TODAY.isoformat(), cards=[Card(dana.id, "why")])
    nudge = store.add_nudge(ADA.user, TODAY, content.to_json(), "D1", "1.1")
    reached = await service.action(ADA, Act.CARD_REACHED, f"{nudge}:{dana.id}")
    assert isinstance(reached, MessageUpdate)
    assert "how do you expect Dana to respond?" in text(reached.message)
    # Off the scale, or another user's nudge: nothing changes.
    assert text(await service.action(ADA, Act.CARD_PREDICT, f"{nudge}:{dana.id}:6")) == (
        NOT_A_CHOICE
    )
    assert "no longer active" in text(
        await service.action(BOB, Act.CARD_PREDICT, f"{nudge}:{dana.id}:glad")
    )
    guessed = await service.action(ADA, Act.CARD_PREDICT, f"{nudge}:{dana.id}:glad")
    assert isinstance(guessed, MessageUpdate)
    assert "how do you expect" not in text(guessed.message)
    assert "I'll ask in 3 days how it went" in text(guessed.message)
    [event], _ = await history(store)
    assert event.expected is Expectation.GLAD
    # A second tap (a double click) changes nothing more.
    await service.action(ADA, Act.CARD_PREDICT, f"{nudge}:{dana.id}:no_reply")
    assert (await history(store))[0][0].expected is Expectation.GLAD
    stored = NudgeContent.from_json(store.owners[ADA.user].nudges[nudge].content)
    assert stored.cards[0].state is CardState.PREDICTED


async def test_one_line_log_with_response_outcomes_and_next_step(
    service: Reconnect, store: MemoryStore, clock: Clock
) -> None:
    await service.command(ADA, "add Dana Whitfield")
    await service.command(ADA, "reached dana")
    clock.advance(days=2)
    reply = await service.command(
        ADA, "log Dana went well -- referral to Acme next: intro to the CFO by friday"
    )
    assert "Logged your conversation with Dana Whitfield" in text(reply)
    assert (
        "📈 Response: glad to hear from me · What came of it: a referral · Next step “intro to "
        "the CFO” — I'll remind you on 4 Dec." in text(reply)
    )
    [event], [talk] = await history(store)
    assert (event.actual, event.replied_on) == (Expectation.GLAD, TODAY + timedelta(days=2))
    assert (talk.response, talk.outcomes) == (Expectation.GLAD, {OutcomeTag.REFERRAL})
    async with store.book(ADA.user, write=False) as book:
        [step] = await book.open_next_steps(limit=5)
    assert (step.text, step.due_on, step.status) == (
        "intro to the CFO",
        date(2026, 12, 4),  # the next Friday: today is Friday 27 Nov
        StepStatus.OPEN,
    )
    # `log <name> -- …` keeps working as before.
    plain = await service.command(ADA, "log dana -- coffee")
    assert "📈" not in text(plain)


@pytest.mark.parametrize(
    "line, problem",
    [
        ("log Dana -- chat next: call by 2026-11-01", "already passed"),
        ("log Dana -- chat next: call by 2036-11-25", "more than a year away"),
        ("log Dana -- chat next: call by someday soon", "couldn't read the date"),
        ("log Dana -- chat next: call", "When should I remind you"),
        ("log Dana -- chat next: " + "x" * 201 + " by friday", "under 200 characters"),
    ],
)
async def test_a_bad_next_step_logs_nothing(
    service: Reconnect, store: MemoryStore, line: str, problem: str
) -> None:
    await service.command(ADA, "add Dana")
    assert problem in text(await service.command(ADA, line))
    assert await history(store) == ([], [])
    assert (await contact_named(store, ADA, "Dana")).last_contacted_on is None


async def test_a_name_that_ends_like_a_phrase_still_matches(
    service: Reconnect, store: MemoryStore
) -> None:
    await service.command(ADA, "add Wendy Went Well")
    reply = await service.command(ADA, "log wendy went well -- tea")
    assert "Logged your conversation with Wendy Went Well" in text(reply)
    _, [talk] = await history(store)
    assert talk.response is None


async def test_which_dana_keeps_the_response_and_refuses_a_forged_one(
    service: Reconnect, store: MemoryStore
) -> None:
    await service.command(ADA, "add Dana Whitfield")
    await service.command(ADA, "add Dana Scully")
    choose = await service.command(ADA, "log dana went great -- an intro and tips")
    pick = next(b for b in buttons(choose) if b.label == "Dana Whitfield")
    data = json.loads(pick.value)
    forged = json.dumps({**data, "response": "delighted"})
    assert "isn't one of the choices" in text(await service.action(ADA, Act.PICK, forged))
    past = json.dumps({**data, "step": "call", "step_due": "2020-01-01"})
    assert "already passed" in text(await service.action(ADA, Act.PICK, past))
    assert await history(store) == ([], [])
    assert "Logged" in text(await service.action(ADA, Act.PICK, pick.value))
    _, [talk] = await history(store)
    assert talk.response is Expectation.GO_OUT_OF_WAY
    assert talk.outcomes == {OutcomeTag.INTRODUCTION, OutcomeTag.ADVICE}


async def test_log_form_validates_the_evidence_fields(
    service: Reconnect, store: MemoryStore
) -> None:
    await service.command(ADA, "add Dana")
    dana = await contact_named(store, ADA, "Dana")
    base = {forms.CONTACT: str(dana.id), forms.DATE: TODAY.isoformat()}
    cases = [
        ({forms.RESPONSE: "7"}, forms.RESPONSE),
        ({forms.OUTCOMES: "advice,bribe"}, forms.OUTCOMES),
        ({forms.STEP: "call"}, forms.STEP_DUE),
        ({forms.STEP_DUE: "2026-12-01"}, forms.STEP),
        ({forms.STEP: "call", forms.STEP_DUE: "2026-11-24"}, forms.STEP_DUE),
        ({forms.STEP: "call", forms.STEP_DUE: "2036-11-25"}, forms.STEP_DUE),
        ({forms.STEP: "x" * 201, forms.STEP_DUE: "2026-12-01"}, forms.STEP),
    ]
    for extra, field in cases:
        result = await service.submit(ADA, "log_conversation", "", {**base, **extra})
        assert isinstance(result, FormErrors) and field in result.errors, extra
    assert await history(store) == ([], [])
    ok = await service.submit(
        ADA,
        "log_conversation",
        "",
        {**base, forms.RESPONSE: "brush_off", forms.OUTCOMES: "caught_up",
         forms.STEP: "send CV", forms.STEP_DUE: TODAY.isoformat()},
    )  # fmt: skip
    assert isinstance(ok, Reply) and "I'll remind you today" in text(ok)


async def test_let_it_go_means_no_reply_and_a_late_log_settles_nothing(
    service: Reconnect, store: MemoryStore, clock: Clock
) -> None:
    await service.command(ADA, "add Dana")
    await service.command(ADA, "add Bo")
    await service.command(ADA, "reached dana")
    await service.command(ADA, "reached bo")
    clock.advance(days=70)
    await service.command(ADA, "log bo went well")  # 70 days on: not the reply
    dana = await contact_named(store, ADA, "Dana")
    content = NudgeContent(day=TODAY.isoformat(), cards=[])
    content.followups.append(FollowUp(dana.id, TODAY.isoformat()))
    nudge = store.add_nudge(ADA.user, TODAY, content.to_json())
    await service.action(ADA, Act.FOLLOW_DROP, f"{nudge}:{dana.id}")
    events, _ = await history(store)
    by_contact = {e.contact_id: e for e in events}
    assert by_contact[dana.id].actual is Expectation.NO_REPLY
    bo = await contact_named(store, ADA, "Bo")
    assert (by_contact[bo.id].actual, by_contact[bo.id].replied_on) == (None, None)


async def test_next_step_buttons(service: Reconnect, store: MemoryStore) -> None:
    await service.command(ADA, "add Dana Whitfield")
    dana = await contact_named(store, ADA, "Dana Whitfield")
    async with store.book(ADA.user) as book:
        steps = [await book.add_next_step(dana.id, f"step {i}", TODAY) for i in range(3)]
    content = NudgeContent(
        day=TODAY.isoformat(),
        steps=[StepCard(s.id, dana.id, s.text, TODAY.isoformat()) for s in steps],
    )
    nudge = store.add_nudge(ADA.user, TODAY, content.to_json(), "D1", "1.1")
    # Bob can't touch Ada's steps; a forged step id is refused.
    assert "no longer active" in text(
        await service.action(BOB, Act.STEP_DONE, f"{nudge}:{steps[0].id}")
    )
    assert "no longer active" in text(await service.action(ADA, Act.STEP_DONE, f"{nudge}:x"))
    done = await service.action(ADA, Act.STEP_DONE, f"{nudge}:{steps[0].id}")
    later = await service.action(ADA, Act.STEP_LATER, f"{nudge}:{steps[1].id}")
    dropped = await service.action(ADA, Act.STEP_DROP, f"{nudge}:{steps[2].id}")
    assert isinstance(dropped, MessageUpdate) and isinstance(done, MessageUpdate)
    shown = text(dropped.message)
    assert "✓ Done: Dana Whitfield — step 0" in shown
    assert "I'll bring up Dana Whitfield's next step again 28 Nov." in shown
    assert "Dropped the next step with Dana Whitfield." in shown
    assert isinstance(later, MessageUpdate)
    async with store.book(ADA.user, write=False) as book:
        got = [await book.next_step(s.id) for s in steps]
    assert [(s.status, s.due_on) for s in got if s] == [
        (StepStatus.DONE, TODAY),
        (StepStatus.OPEN, TODAY + timedelta(days=3)),
        (StepStatus.DROPPED, TODAY),
    ]


async def test_evidence_reply_with_chart_and_home_section(
    service: Reconnect, store: MemoryStore, clock: Clock
) -> None:
    empty = await service.command(ADA, "evidence")
    assert "No evidence yet" in text(empty) and empty.files == ()  # type: ignore[union-attr]
    home = await service.home(ADA)
    assert "Fears vs facts" not in text(home)
    await service.command(ADA, "add Dana Whitfield")
    reached = await service.command(ADA, "reached dana")
    await service.action(ADA, Act.PREDICT, buttons(reached)[0].value)  # no reply
    clock.advance(days=1)
    await service.command(ADA, "log dana went great -- job offer!")
    reply = await service.command(ADA, "stats")
    assert isinstance(reply, Reply)
    shown = text(reply)
    assert "You expected a cold reception once; that person replied warmly." in shown
    assert "Median time to a reply: 1 day." in shown
    assert "→ offer 1" in shown
    [chart] = reply.files
    assert chart.media_type == "image/png" and chart.content.startswith(b"\x89PNG")
    assert "predicted versus actual" in chart.alt_text
    assert "Dana" not in chart.alt_text  # numbers only
    home = text(await service.home(ADA))
    assert "Fears vs facts" in home and "See all the evidence" in home
    again = await service.action(ADA, Act.EVIDENCE, "")  # the Home button
    assert isinstance(again, Reply) and text(again) == shown and again.files == reply.files
    assert store.opened[-1] is False  # the evidence is read-only


def test_step_dates() -> None:
    assert parse_step_due("friday", FRIDAY) == date(2026, 12, 4)
    assert parse_step_due("Friday", TODAY) == FRIDAY
    assert parse_step_due("tomorrow", TODAY) == TODAY + timedelta(days=1)
    assert parse_step_due("in 2 weeks", TODAY) == TODAY + timedelta(days=14)
    assert parse_step_due("5 Dec", TODAY) == date(2026, 12, 5)
    assert parse_step_due("2026-12-05", TODAY) == date(2026, 12, 5)


async def test_conversation_keeps_the_scale(store: MemoryStore) -> None:
    async with store.book(ADA.user) as book:
        contact = await book.add(
            forms.read_contact({forms.NAME: "Dana"}), due_on=TODAY, today=TODAY
        )
        await book.log(Conversation(contact.id, TODAY, response=Expectation.GLAD))
    assert (await history(store))[1][0].response is Expectation.GLAD


async def test_reached_twice_in_a_day_is_one_outreach(
    service: Reconnect, store: MemoryStore
) -> None:
    await service.command(ADA, "add Dana")
    first = await service.command(ADA, "reached dana")
    again = await service.command(ADA, "reached dana")
    assert buttons(first) == buttons(again)
    events, _ = await history(store)
    assert len(events) == 1
    async with store.book(ADA.user, write=False) as book:
        assert await book.count_conversations() == 1  # the outreach, once


async def test_a_guess_after_finding_out_is_refused(
    service: Reconnect, store: MemoryStore, clock: Clock
) -> None:
    await service.command(ADA, "add Dana")
    reached = await service.command(ADA, "reached dana")
    clock.advance(days=1)
    await service.command(ADA, "log dana went well")
    late = await service.action(ADA, Act.PREDICT, buttons(reached)[0].value)
    assert "a guess only counts before you find out" in text(late)
    [event], _ = await history(store)
    assert (event.expected, event.actual) == (None, Expectation.GLAD)


def test_a_day_and_month_already_past_means_next_year() -> None:
    assert parse_step_due("5 jan", date(2026, 12, 20)) == date(2027, 1, 5)
    with pytest.raises(StepDateError, match="already passed"):
        parse_step_due("2026-12-01", date(2026, 12, 20))  # an explicit year is taken as typed


async def test_a_step_settled_elsewhere_shows_as_it_stands(
    service: Reconnect, store: MemoryStore
) -> None:
    await service.command(ADA, "add Dana Whitfield")
    dana = await contact_named(store, ADA, "Dana Whitfield")
    async with store.book(ADA.user) as book:
        step = await book.add_next_step(dana.id, "call", TODAY)
        await book.set_next_step(step.id, status=StepStatus.DONE, due_on=TODAY)
    content = NudgeContent(
        day=TODAY.isoformat(), steps=[StepCard(step.id, dana.id, "call", TODAY.isoformat())]
    )
    nudge = store.add_nudge(ADA.user, TODAY, content.to_json(), "D1", "1.1")
    shown = await service.action(ADA, Act.STEP_DROP, f"{nudge}:{step.id}")
    assert isinstance(shown, MessageUpdate) and "✓ Done" in text(shown.message)
    async with store.book(ADA.user, write=False) as book:
        kept = await book.next_step(step.id)
    assert kept is not None and kept.status is StepStatus.DONE


async def test_the_follow_up_takes_the_response_in_one_tap(
    service: Reconnect, store: MemoryStore, clock: Clock
) -> None:
    await service.command(ADA, "add Dana Whitfield")
    reached = await service.command(ADA, "reached dana")
    await service.action(ADA, Act.PREDICT, buttons(reached)[0].value)  # expects no reply
    clock.advance(days=3)
    dana = await contact_named(store, ADA, "Dana Whitfield")
    content = NudgeContent(day="2026-11-28")
    content.followups.append(FollowUp(dana.id, TODAY.isoformat()))
    nudge = store.add_nudge(ADA.user, date(2026, 11, 28), content.to_json(), "D1", "1.1")
    value = f"{nudge}:{dana.id}"
    # Silence is not a response here (that is "Let it go"); nor is anything off the scale.
    for bad in ("no_reply", "delighted", ""):
        assert text(await service.action(ADA, Act.FOLLOW_ACTUAL, f"{value}:{bad}")) == (
            NOT_A_CHOICE
        )
    assert "no longer active" in text(await service.action(BOB, Act.FOLLOW_ACTUAL, f"{value}:glad"))
    [event], _ = await history(store)
    assert (event.actual, event.replied_on) == (None, None)
    answered = await service.action(ADA, Act.FOLLOW_ACTUAL, f"{value}:glad")
    assert isinstance(answered, MessageUpdate)
    assert "✓ Noted how Dana Whitfield responded." in text(answered.message)
    [event], _ = await history(store)
    assert (event.expected, event.actual, event.replied_on) == (
        Expectation.NO_REPLY,
        Expectation.GLAD,
        date(2026, 11, 28),
    )
    assert (await contact_named(store, ADA, "Dana Whitfield")).follow_up_on is None
    # A second tap changes nothing.
    await service.action(ADA, Act.FOLLOW_ACTUAL, f"{value}:brush_off")
    assert (await history(store))[0][0].actual is Expectation.GLAD
