"""The contact rules on the domain model, without storage."""

from datetime import date, timedelta

from bot.core.cadence import Span, Unit
from bot.core.model import Contact, ContactDraft, Conversation

TODAY = date(2026, 11, 25)
EVERY_2_MONTHS = Span(2, Unit.MONTHS)


def dana(**kw: object) -> Contact:
    fields: dict[str, object] = {
        "id": 7,
        "name": "Dana Whitfield",
        "cadence": EVERY_2_MONTHS,
        "next_due_on": TODAY,
        "created_on": date(2026, 1, 1),
    }
    fields.update(kw)
    return Contact(**fields)  # type: ignore[arg-type]


def test_logging_a_conversation_restarts_the_cadence_and_settles_the_follow_up() -> None:
    contact = dana(follow_up_on=TODAY, last_note="old")
    conversation = contact.log_conversation(TODAY, "coffee", "hiring in Q3")
    assert conversation == Conversation(7, TODAY, "coffee", "hiring in Q3")
    assert contact.last_contacted_on == TODAY
    assert contact.next_due_on == date(2027, 1, 25)
    assert contact.last_note == "coffee"
    assert contact.follow_up_on is None


def test_what_was_learned_is_the_last_note_when_there_is_no_note() -> None:
    contact = dana(last_note="old")
    contact.log_conversation(TODAY, "", "daughter at Michigan")
    assert contact.last_note == "daughter at Michigan"
    contact.log_conversation(TODAY)
    assert contact.last_note == "daughter at Michigan"  # nothing new to say: kept


def test_logging_an_older_conversation_keeps_the_newer_one() -> None:
    contact = dana(
        last_contacted_on=TODAY,
        next_due_on=date(2027, 1, 25),
        last_note="today",
        follow_up_on=date(2026, 11, 28),
    )
    conversation = contact.log_conversation(date(2026, 10, 1), "long ago")
    assert conversation.occurred_on == date(2026, 10, 1)  # still recorded
    assert (contact.last_contacted_on, contact.next_due_on) == (TODAY, date(2027, 1, 25))
    assert contact.last_note == "today"
    assert contact.follow_up_on is None  # but you did talk: no follow-up question


def test_a_conversation_on_the_same_day_counts_as_newest() -> None:
    contact = dana(last_contacted_on=TODAY, last_note="morning")
    contact.log_conversation(TODAY, "evening")
    assert contact.last_note == "evening"


def test_reaching_out_restarts_the_cadence_and_schedules_the_follow_up() -> None:
    contact = dana(last_note="kept")
    outreach = contact.reach_out(TODAY, follow_up_after=timedelta(days=3))
    assert outreach == Conversation(7, TODAY, kind="outreach")
    assert contact.last_contacted_on == TODAY
    assert contact.next_due_on == date(2027, 1, 25)
    assert contact.reached_out_on == TODAY
    assert contact.follow_up_on == date(2026, 11, 28)
    assert contact.last_note == "kept"


def test_reaching_out_after_a_later_logged_conversation_keeps_its_date() -> None:
    later = date(2026, 11, 30)
    contact = dana(last_contacted_on=later, next_due_on=date(2027, 1, 30))
    contact.reach_out(TODAY, follow_up_after=timedelta(days=3))
    assert (contact.last_contacted_on, contact.next_due_on) == (later, date(2027, 1, 30))
    assert (contact.reached_out_on, contact.follow_up_on) == (TODAY, date(2026, 11, 28))


def test_snooze_counts_from_today_or_from_a_later_due_date() -> None:
    overdue = dana(next_due_on=date(2026, 11, 1))
    overdue.snooze(Span(2, Unit.WEEKS), TODAY)
    assert overdue.next_due_on == date(2026, 12, 9)
    overdue.snooze(Span(1, Unit.WEEKS), TODAY)  # already later than today: from 9 Dec
    assert overdue.next_due_on == date(2026, 12, 16)


def test_skip_and_follow_up_answers() -> None:
    contact = dana(follow_up_on=TODAY)
    contact.skip(TODAY)
    assert contact.skipped_on == TODAY
    assert contact.ask_again_later(TODAY, timedelta(days=3)) == date(2026, 11, 28)
    assert contact.follow_up_on == date(2026, 11, 28)
    contact.drop_follow_up()
    assert contact.follow_up_on is None
    assert contact.next_due_on == TODAY  # none of these moves the due date


def test_an_edit_takes_every_field_and_a_new_cadence_counts_from_the_last_conversation() -> None:
    contact = dana(last_contacted_on=date(2026, 11, 1), next_due_on=date(2027, 1, 1))
    draft = ContactDraft(
        name="Dana W. Whitfield",
        cadence=Span(1, Unit.MONTHS),
        company_role="CFO",
        how_known="Brightline",
        notes="sails",
    )
    contact.apply(draft)
    assert (contact.name, contact.company_role, contact.how_known, contact.notes) == (
        "Dana W. Whitfield",
        "CFO",
        "Brightline",
        "sails",
    )
    assert contact.cadence == Span(1, Unit.MONTHS)
    assert contact.next_due_on == date(2026, 12, 1)


def test_an_edit_keeping_the_cadence_keeps_the_due_date() -> None:
    contact = dana(last_contacted_on=date(2026, 11, 1), next_due_on=date(2026, 12, 24))
    contact.apply(ContactDraft(name="Dana", cadence=EVERY_2_MONTHS))
    assert contact.next_due_on == date(2026, 12, 24)  # a snooze, say, survives the edit


def test_a_new_cadence_without_any_conversation_keeps_the_due_date() -> None:
    contact = dana()
    contact.apply(ContactDraft(name="Dana", cadence=Span(1, Unit.WEEKS)))
    assert (contact.cadence, contact.next_due_on) == (Span(1, Unit.WEEKS), TODAY)


def test_snoozes_stop_at_two_years_from_today() -> None:
    contact = dana()
    assert contact.snooze(Span(24, Unit.MONTHS), TODAY) is False  # exactly two years: fine
    assert contact.next_due_on == date(2028, 11, 25)
    for _ in range(10):
        assert contact.snooze(Span(24, Unit.MONTHS), TODAY) is True
    assert contact.next_due_on == date(2028, 11, 25)
    assert contact.ask_again_later(TODAY, timedelta(days=10_000)) == date(2028, 11, 25)


def test_no_rule_overflows_at_the_end_of_the_calendar() -> None:
    end = date(9999, 12, 1)
    contact = dana(next_due_on=end, cadence=Span(24, Unit.MONTHS))
    contact.snooze(Span(2, Unit.MONTHS), end)
    assert contact.next_due_on == date.max
    contact.reach_out(end, follow_up_after=timedelta(days=60))
    assert contact.follow_up_on == date.max and contact.next_due_on == date.max
    assert contact.ask_again_later(end, timedelta(days=60)) == date.max
    contact.log_conversation(date(9999, 12, 31))
    contact.apply(ContactDraft(name="Dana", cadence=Span(104, Unit.WEEKS)))
    assert contact.next_due_on == date.max
