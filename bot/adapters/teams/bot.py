"""Teams activities in, core calls, Adaptive Cards out.

Everything a Slack user can do with ``/reconnect``, a Teams user does by typing the same
commands in a personal chat (with or without a leading ``reconnect`` or ``/reconnect``), and
with the buttons and forms on the cards.
"""

from __future__ import annotations

from typing import Any

import aiohttp
import structlog
from microsoft_agents.activity import Activity, ActivityTypes, Attachment, ConversationReference
from microsoft_agents.hosting.core import AgentApplication, MemoryStorage, TurnContext, TurnState

from bot.adapters.teams import cards, coach, files, groups, inbound
from bot.adapters.teams.file_import import TeamsFileImports, uploads
from bot.adapters.teams.hosting import TeamsHosting
from bot.core.actions import Act
from bot.core.addressing import command_text, may_answer
from bot.core.groups.rhythm_commands import GOAL_SET_PREFIX
from bot.core.groups.service import GROUP_ACTS
from bot.core.model import UserRef
from bot.core.ports import ConversationReferences
from bot.core.replies import Form, FormErrors, MessageUpdate, Outcome, Reply, message
from bot.core.service import Caller, Reconnect

log = structlog.get_logger(__name__)

PLATFORM = "teams"
PRIVATE = message(
    "Your list is private, so let's talk one to one: open a chat with Reconnect (Apps → "
    "Reconnect → Chat) and type `help` there."
)

TOO_LARGE = message(
    "That answer was too long for Teams to show. Try something narrower — `due`, or one "
    "contact's name — or type `help`."
)
UNREADABLE = message(
    "Sorry, I couldn't read that form. Please try again, or type `help` to see what I can do."
)


def build_agent(
    hosting: TeamsHosting,
    service: Reconnect,
    store: ConversationReferences,
    held: files.FileHold | None = None,
    *,
    file_origins: tuple[str, ...] = (),
) -> AgentApplication[TurnState]:
    """The SDK application with one handler per activity type (route order is then moot).

    ``held`` keeps files offered with a file-consent card until the user answers (without it,
    a reply's non-image files are not offered)."""
    app: AgentApplication[TurnState] = AgentApplication[TurnState](
        storage=MemoryStorage(),
        connection_manager=hosting.connections,
        start_typing_timer=False,
    )
    handlers = TeamsHandlers(
        service,
        store,
        held=held,
        allow_http_uploads=hosting.anonymous,
        file_imports=TeamsFileImports(service, file_origins),
        group_sender=coach.TeamsGroupSender(hosting, store),
    )
    app.activity("message")(handlers.on_message)
    app.invoke(files.CONSENT_INVOKE)(handlers.on_file_consent)
    app.activity("conversationUpdate")(handlers.on_conversation_update)
    app.activity("installationUpdate")(handlers.on_installation_update)
    return app


def caller_from(activity: Activity) -> Caller:
    """The Reconnect caller: the Entra user in their tenant (Teams typed commands need no "/")."""
    sender = activity.from_property
    user_id = (getattr(sender, "aad_object_id", None) or getattr(sender, "id", "")) or "unknown"
    tenant = getattr(activity.conversation, "tenant_id", None)
    if not tenant and isinstance(activity.channel_data, dict):
        tenant = (activity.channel_data.get("tenant") or {}).get("id")
    name = getattr(sender, "name", None)
    return Caller(
        UserRef(PLATFORM, str(tenant or "unknown"), str(user_id)),
        command="",
        display_name=name if isinstance(name, str) else "",
    )


def timezone_of(activity: Activity) -> str | None:
    """The user's IANA time zone from the activity, or its ``clientInfo`` entity."""
    zone = getattr(activity, "local_timezone", None)
    if zone:
        return str(zone)
    for entity in activity.entities or []:
        if getattr(entity, "type", None) == "clientInfo":
            extra = getattr(entity, "model_extra", None) or {}
            value = getattr(entity, "timezone", None) or extra.get("timezone")
            if value:
                return str(value)
    return None


class TeamsHandlers:
    """The activity handlers."""

    def __init__(
        self,
        service: Reconnect,
        store: ConversationReferences,
        *,
        held: files.FileHold | None = None,
        allow_http_uploads: bool = False,
        file_imports: TeamsFileImports | None = None,
        group_sender: coach.TeamsGroupSender | None = None,
    ) -> None:
        self.service = service
        #: Sends the coach features' channel posts and check-ins (None: they are off).
        self.coaching = coach.coaching_of(service) if group_sender is not None else None
        self.group_sender = group_sender
        self.store = store
        self.held = held
        # Upload URLs are https (OneDrive); plain http only in local anonymous mode.
        self.allow_http_uploads = allow_http_uploads
        self.file_imports = file_imports or TeamsFileImports(service)
        self._known_zones: dict[UserRef, str] = {}

    async def on_message(self, context: TurnContext, _state: TurnState) -> None:
        """Typed commands, and Action.Submit payloads from our cards."""
        activity = context.activity
        caller = caller_from(activity)
        if not await self._remember(context, caller):
            return
        attached = uploads(activity) if _personal(activity) else []
        for upload in attached:  # a contacts file to import (personal chat only)
            reply = await self.file_imports.reply_for(caller, upload)
            await _send(context, cards.card(reply), reply.summary)
        if attached:
            return
        value = activity.value
        submitted = isinstance(value, dict) and value.get("rc") in ("action", "form")
        text = command_text(inbound.clean_text(activity.text) if activity.text else None)
        if await self._coach(context, caller, text, value if submitted else None):
            return
        shared = not _personal(activity)
        # A group's own buttons work in its channel (bot.adapters.teams.groups), and so do
        # the buttons of its channel posts (the Monday theme's goal).
        group_button = (
            submitted
            and isinstance(value, dict)
            and value.get("rc") == "action"
            and (str(value.get("action") or "") in GROUP_ACTS or _goal_action(value))
        )
        if not may_answer(text, shared=shared, submitted=submitted and not group_button):
            # A team or group chat is shared: a contact list must never be shown there.
            await _send(context, cards.card(PRIVATE), PRIVATE.summary)
            return
        if shared:
            caller = groups.shared_caller(caller, activity, await self._mentioned(context))
        if submitted:
            assert isinstance(value, dict)
            fields = inbound.clean_submission(value)
            if fields is None:
                # Our cards submit text only; anything else was not sent by one of them.
                log.warning("teams.refused", reason="submission_not_text")
                await _send(context, cards.card(UNREADABLE), UNREADABLE.summary)
                return
            await self._submission(context, caller, fields)
        else:
            await self._show(context, await self.service.command(caller, text))
        if shared:  # after the command: it may just have made the channel a group
            await self._remember_channel(caller, activity)
        if not submitted:
            log.info("teams.command", user=caller.user.user_id, tenant=caller.user.workspace_id)

    async def _coach(self, context: TurnContext, caller: Caller, text: str, value: Any) -> bool:
        """A coach feature's command, button or form (answered here: ``True``)."""
        coaching, sender = self.coaching, self.group_sender
        if coaching is None or sender is None:
            return False
        activity = context.activity
        if isinstance(value, dict):
            fields = inbound.clean_submission(value)
            if fields is None or not _personal(activity):
                return False  # refused below like any other odd or shared submission
            if fields.get("rc") == "action" and coaching.owns_action(str(fields.get("action"))):
                outcome = await coaching.action(
                    caller, str(fields.get("action") or ""), str(fields.get("value") or "")
                )
                await self._show(context, await coach.finish(coaching, sender, outcome))
                return True
            kind = str(fields.get("form") or "")
            if fields.get("rc") != "form" or not coaching.owns_form(kind):
                return False
            ctx = str(fields.get("ctx") or "")
            values = cards.read_submission(fields)
            signer = getattr(activity.from_property, "name", None)
            result = await coaching.submit(caller, kind, ctx, values, signer=signer)
            if isinstance(result, FormErrors):
                form = await coaching.form(caller, kind, ctx)
                if form is not None:
                    await _send(context, cards.form_card(form, values, result.errors), form.title)
                    return True
                result = message(coach.EXPIRED)
            await self._show(context, await coach.finish(coaching, sender, result))
            return True
        typed = coach.without_mention(text)
        if not coaching.owns_command(typed):
            return False
        outcome = await coaching.command(coach.with_channel(caller, activity), typed)
        await self._show(context, await coach.finish(coaching, sender, outcome))
        log.info("teams.coach_command", user=caller.user.user_id)
        return True

    async def on_conversation_update(self, context: TurnContext, _state: TurnState) -> None:
        """The bot was added to a personal chat or a team: remember it and say hello."""
        activity = context.activity
        bot_id = getattr(activity.recipient, "id", None)
        added = [m for m in activity.members_added or [] if getattr(m, "id", None) == bot_id]
        removed = [m for m in activity.members_removed or [] if getattr(m, "id", None) == bot_id]
        if removed and _personal(activity):
            # The app was removed from the personal scope: no more nudges (data goes in 30
            # days unless it is installed again).
            await self.store.forget_reference(caller_from(activity).user)
            return
        gone = groups.gone_channel(activity, bot_removed=bool(removed))
        if gone is not None and self.service.groups is not None:
            # A group's channel was deleted, or the bot removed from its team or group chat:
            # its weekly posts stop (the coach is told by the rhythm).
            tenant = caller_from(activity).user.workspace_id
            if await self.service.groups.channel_gone(PLATFORM, tenant, *gone):
                log.info("teams.group_broken", reason=gone[1])
            return
        if added:
            caller = caller_from(activity)
            if not await self._remember(context, caller):
                return
            await self._show(context, await self.service.command(caller, "help"))

    async def on_installation_update(self, context: TurnContext, _state: TurnState) -> None:
        """Installed (remember where to reach the user) or removed (forget it)."""
        activity = context.activity
        caller = caller_from(activity)
        if str(getattr(activity, "action", "")).startswith("remove"):
            if _personal(activity):
                await self.store.forget_reference(caller.user)
            return
        await self._remember(context, caller)

    async def on_file_consent(self, context: TurnContext, _state: TurnState) -> None:
        """The user answered a file-consent card: upload the file, or drop it."""
        caller = caller_from(context.activity)
        await files.on_consent(context, self.held, caller.user, allow_http=self.allow_http_uploads)

    async def _remember(self, context: TurnContext, caller: Caller) -> bool:
        """Store the conversation reference (personal chats) and the time zone, when changed.

        ``False`` (and nothing stored or answered) when the personal conversation named is
        another user's: a personal chat belongs to one user, and in anonymous mode anyone can
        name any conversation id.
        """
        activity = context.activity
        if await self._foreign(activity, caller):
            log.warning(
                "teams.refused", reason="conversation_of_another_user", user=caller.user.user_id
            )
            return False
        if _personal(activity):
            reference = activity.get_conversation_reference()
            reference.activity_id = None
            blob = reference.model_dump_json(by_alias=True, exclude_unset=True, exclude_none=True)
            await self.store.save_reference(caller.user, activity.conversation.id, blob)
        zone = timezone_of(activity)
        known = self._known_zones.get(caller.user) == zone
        if zone and not known and await self.service.set_timezone(caller, zone):
            self._known_zones[caller.user] = zone
        return True

    async def _foreign(self, activity: Activity, caller: Caller) -> bool:
        """The personal conversation named is stored as another user's."""
        if not _personal(activity):
            return False
        raw = await self.store.reference_for_conversation(activity.conversation.id)
        if raw is None:
            return False
        try:
            stored = ConversationReference.model_validate_json(raw)
        except ValueError:
            return False
        user = stored.user
        owner = getattr(user, "aad_object_id", None) or getattr(user, "id", None)
        tenant = getattr(stored.conversation, "tenant_id", None)
        return owner != caller.user.user_id or bool(tenant and tenant != caller.user.workspace_id)

    async def _submission(
        self, context: TurnContext, caller: Caller, value: dict[str, str | None]
    ) -> None:
        """A click on one of our buttons, or a submitted form."""
        card_id = context.activity.reply_to_id
        if value.get("rc") == "action":
            outcome = await self.service.action(
                caller, str(value.get("action") or ""), str(value.get("value") or "")
            )
            if _goal_action(value) and not _personal(context.activity):
                # Teams has no private replies in a channel: the member's own goal stays out
                # of it (a refusal says nothing personal); the channel's card is never replaced.
                saved = isinstance(outcome, Reply) and outcome.summary.startswith(GOAL_SET_PREFIX)
                shown = GROUP_SAVED if saved or not isinstance(outcome, Reply) else outcome
                await _send(context, cards.card(shown), shown.summary)
                return
            if caller.public:
                # A card everyone in the channel sees (a group's welcome) stays as it is.
                await self._show(context, outcome)
            elif isinstance(outcome, Reply) and card_id:
                content, offered = files.card(outcome)
                await _replace(context, card_id, content)  # like Slack's replace_original
                await files.offer(context, self.held, caller.user, offered)
            else:
                await self._show(context, outcome)
            return
        kind, ctx = str(value.get("form") or ""), str(value.get("ctx") or "")
        values = cards.read_submission(value)
        result = await self.service.submit(caller, kind, ctx, values)
        if isinstance(result, FormErrors):
            form = await self.service.form(caller, kind, ctx)
            if form is not None and card_id:
                await _replace(context, card_id, cards.form_card(form, values, result.errors))
            elif form is not None:
                await _send(context, cards.form_card(form, values, result.errors), form.title)
            return
        if isinstance(result, MessageUpdate):
            await self._show(context, result)
            if result.notice is not None and card_id:
                await _replace(context, card_id, cards.card(result.notice))
            return
        if card_id:
            await _replace(context, card_id, cards.card(result))
        else:
            await self._show(context, result)

    async def _show(self, context: TurnContext, outcome: Outcome) -> None:
        if isinstance(outcome, Form):
            await _send(context, cards.form_card(outcome), outcome.title)
        elif isinstance(outcome, MessageUpdate):
            await _replace(context, outcome.message_id, cards.card(outcome.message))
        else:
            content, offered = files.card(outcome)
            await _send(context, content, outcome.summary)
            caller = caller_from(context.activity)
            await files.offer(context, self.held, caller.user, offered)
            if outcome.post is not None and not _personal(context.activity):
                # A group's welcome, for everyone in the channel.
                await _send(context, cards.card(outcome.post), outcome.post.summary)

    async def _mentioned(self, context: TurnContext) -> tuple[str, ...]:
        """The Entra object ids of the people @mentioned (not the bot): ids are what users
        are known by. A mention without one is looked up in the conversation's members;
        one that can't be is left out (``group coach`` then asks for a mention again)."""
        found: list[str] = []
        for account_id, aad in groups.mentions(context.activity):
            if aad is None:
                aad = await _member_object_id(context, account_id)
            if aad is not None and len(aad) <= inbound.MAX_USER_ID:
                found.append(aad)
        return tuple(found)

    async def _remember_channel(self, caller: Caller, activity: Activity) -> None:
        """Keep the channel's conversation reference on its group, for proactive posts."""
        if self.service.groups is None:
            return
        try:
            await self.service.groups.remember_channel(caller, groups.channel_reference(activity))
        except Exception as exc:  # the answer matters more than a reference kept
            log.warning("teams.group_reference_failed", error=type(exc).__name__)


async def _member_object_id(context: TurnContext, account_id: str) -> str | None:
    """The Entra object id of a conversation member, from the connector; ``None`` if it
    can't be had."""
    client: Any = context.turn_state.get("ConnectorClient")
    conversations = getattr(client, "conversations", None)
    if conversations is None:
        return None
    try:
        member = await conversations.get_conversation_member(
            groups.channel_id(context.activity), account_id
        )
    except Exception as exc:
        log.warning("teams.member_lookup_failed", error=type(exc).__name__)
        return None
    aad = getattr(member, "aad_object_id", None)
    return aad if isinstance(aad, str) and aad else None


#: The channel's answer to a member's goal click (the goal itself is theirs alone).
GROUP_SAVED = message(
    "Got it — your weekly goal is saved. Type `goal` in your personal chat with me to see it."
)


def _goal_action(value: object) -> bool:
    """A click on the Monday theme's *This week I'll reach out to …* buttons."""
    return isinstance(value, dict) and str(value.get("action") or "") == Act.GROUP_GOAL


def _personal(activity: Activity) -> bool:
    return getattr(activity.conversation, "conversation_type", None) in (None, "personal")


async def _send(context: TurnContext, card: cards.JsonDict, summary: str) -> None:
    try:
        await context.send_activity(_message(card, summary))
    except aiohttp.ClientResponseError as exc:
        if exc.status != 413:
            raise
        # Over Teams' message size limit after all: the user still gets an answer.
        log.warning("teams.too_large", bytes=cards.size(card))
        await context.send_activity(_message(cards.card(TOO_LARGE), TOO_LARGE.summary))


async def _replace(context: TurnContext, activity_id: str, card: cards.JsonDict) -> None:
    """Update a card the bot sent earlier (PUT …/activities/{id})."""
    try:
        await context.update_activity(_message(card, None, activity_id))
    except aiohttp.ClientResponseError as exc:
        if exc.status != 413:
            raise
        log.warning("teams.too_large", bytes=cards.size(card))
        await context.update_activity(_message(cards.card(TOO_LARGE), None, activity_id))


def _message(card: cards.JsonDict, summary: str | None, activity_id: str | None = None) -> Activity:
    fields: dict[str, Any] = {"summary": summary[:200]} if summary is not None else {}
    if activity_id is not None:
        fields["id"] = activity_id
    return Activity(
        type=ActivityTypes.message,
        attachments=[Attachment(content_type=cards.CONTENT_TYPE, content=card)],
        **fields,
    )
