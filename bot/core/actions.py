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
    SETTINGS_FORM = "settings.form"
    RESUME = "resume"
    OPENERS = "openers"  # openers for a contact
    PREP = "prep"  # prepare for a conversation with a contact
    OPEN_LINK = "link"  # a button that opens its url; the click itself does nothing
    # Morning nudge cards and follow-ups. value: "<nudge id>:<contact id>"
    CARD_REACHED = "card.reached"
    CARD_LOG = "card.log"
    CARD_OPENERS = "card.openers"
    CARD_SNOOZE_WEEK = "card.snooze_week"
    CARD_SNOOZE_MONTH = "card.snooze_month"
    CARD_SKIP = "card.skip"
    FOLLOW_YES = "follow.yes"
    FOLLOW_LATER = "follow.later"
    FOLLOW_DROP = "follow.drop"
    # ``delete my data``. value: the confirmation token (bot.core.data_rights.erase_token)
    ERASE_CONFIRM = "erase.confirm"
    ERASE_CANCEL = "erase.cancel"
    # The pool of imported people (bot.core.imports).
    POOL_TRIAGE = "pool.triage"  # value: offset into the ranked pool
    POOL_LIST = "pool.list"  # value: page number
    POOL_ADD = "pool.add"  # value: contact id
    POOL_NOT_NOW = "pool.not_now"  # value: contact id
    POOL_OFFER_ADD = "pool.offer_add"  # value: "<nudge id>:<contact id>" (weekly offer)
    POOL_OFFER_NOT_NOW = "pool.offer_not_now"  # value: "<nudge id>:<contact id>"
    # The weekly recap. value: "<Monday the goal applies from>:<goal>", e.g. "2026-12-07:4"
    GOAL_SET = "goal.set"
    # Predict, then find out (bot.core.predict).
    REACHED = "reached"  # value: contact id ("Reached out" on a contact outside a nudge)
    PREDICT = "predict"  # value: "<outreach id>:<expectation or skip>"
    CARD_PREDICT = "card.predict"  # value: "<nudge id>:<contact id>:<expectation or skip>"
    FOLLOW_ACTUAL = "follow.actual"  # value: "<nudge id>:<contact id>:<expectation>"
    # A next step shown in a morning nudge. value: "<nudge id>:<step id>"
    STEP_DONE = "step.done"
    STEP_LATER = "step.later"
    STEP_DROP = "step.drop"
    EVIDENCE = "evidence"  # value: empty
    # Outplacement groups (bot.core.groups). value: the group id, or "<group id>:<level>"
    GROUP_JOIN = "group.join"  # the consent step (the welcome post's Join button)
    GROUP_LEVEL = "group.level"  # value: "<group id>:<level>": join at, or change to, a level
    GROUP_PRIVACY = "group.privacy"  # value: group id: the level choices again
    GROUP_LEAVE = "group.leave"  # value: group id
    # The Monday theme in a group's channel. value: "<group id>:<Monday>:<goal>"
    GROUP_GOAL = "group.goal"
    GROUP_BUDDIES = "group.buddies"  # value: "<group id>:on|off", or the group id (show)
