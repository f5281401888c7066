"""Names of the button actions the core understands. Adapters pass them back verbatim."""

from __future__ import annotations

from enum import StrEnum


class Act(StrEnum):
    """A button's ``action``. Its ``value`` is a contact id unless noted."""

    HELP = "help"
    DUE = "due"
    LIST_PAGE = "list.page"  # value: page number
    ADD_FORM = "add.form"  # value: empty
    LOG_FORM = "log.form"  # value: contact id or empty
    EDIT_FORM = "edit.form"
    SNOOZE = "snooze"  # value: "<id>" or "<id>:<span>", e.g. "12:2 weeks"
    REMOVE_ASK = "remove.ask"
    REMOVE_CONFIRM = "remove.confirm"
    REMOVE_CANCEL = "remove.cancel"
    PICK = "pick"  # value: JSON {"op": "log"|"snooze"|"edit"|"remove", "id": 12, ...}
