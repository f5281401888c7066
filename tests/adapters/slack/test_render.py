"""Block Kit rendering stays inside Slack's limits, whatever users type."""

from datetime import date

from bot.adapters.slack import render
from bot.core import forms, views
from bot.core.cadence import Span, Unit
from bot.core.model import Contact
from bot.core.replies import Button, FormKind, Reply, Strong, section


def contact(i: int, **kw: object) -> Contact:
    return Contact(id=i, name=f"Person {i}", next_due_on=date(2026, 1, 1), **kw)  # type: ignore[arg-type]


def test_due_list_fits_in_50_blocks_and_3000_characters() -> None:
    many = [
        contact(i, notes="n" * 1500, how_known="h" * 200, last_note="l" * 1500) for i in range(8)
    ]
    reply = views.due_reply(many, 40, 40, None, date(2026, 11, 25), "/reconnect ")
    blocks = render.blocks(reply)
    assert len(blocks) <= 50
    for block in blocks:
        text = block.get("text", {}).get("text", "")
        assert len(text) <= 3000


def test_user_text_is_escaped_and_emphasis_survives() -> None:
    reply = Reply("s", (section(Strong(" <!channel> & co "), " *not bold* <@U1>"),))
    text = render.blocks(reply)[0]["text"]["text"]
    assert text == " *&lt;!channel&gt; &amp; co*  *not bold* &lt;@U1&gt;"


def test_buttons_respect_limits_and_ids_round_trip() -> None:
    reply = Reply("s", (section("x", button=Button("L" * 100, "snooze", "9" * 3000)),))
    button = render.blocks(reply)[0]["accessory"]
    assert len(button["text"]["text"]) <= 75 and len(button["value"]) <= 2000
    assert render.parse_action_id(button["action_id"]) == "snooze"
    assert render.parse_action_id("other:thing:1") is None


def test_log_modal_caps_the_contact_picker_at_100_options() -> None:
    people = [contact(i) for i in range(150)]
    view = render.modal(forms.log_form(people, date(2026, 11, 25), selected=people[120]))
    picker = next(b for b in view["blocks"] if b.get("block_id") == forms.CONTACT)
    assert len(picker["element"]["options"]) == 100
    assert picker["element"]["initial_option"]["value"] == "120"
    assert view["callback_id"] == "rc_form:" + FormKind.LOG_CONVERSATION
    assert len(view["private_metadata"]) <= 3000


def test_edit_modal_offers_an_unusual_current_cadence() -> None:
    form = forms.contact_form(contact(1, cadence=Span(5, Unit.DAYS)))
    view = render.modal(form)
    select = next(b for b in view["blocks"] if b.get("block_id") == forms.CADENCE)
    assert select["element"]["initial_option"]["value"] == "5 days"


def test_read_values_tolerates_odd_state() -> None:
    state = {
        "values": {
            "name": {"value": {"type": "plain_text_input", "value": "Dana"}},
            "cadence": {"value": {"type": "static_select", "selected_option": None}},
            "occurred_on": {"value": {"type": "datepicker", "selected_date": "2026-11-01"}},
            "junk": "not a dict",
            "other": {"value": {"type": "plain_text_input", "value": 5}},
        }
    }
    assert render.read_values(state) == {
        "name": "Dana", "cadence": None, "occurred_on": "2026-11-01", "other": None,
    }  # fmt: skip
    assert render.read_metadata('{"ctx": 5, "url": "javascript:x"}') == ("", None)
