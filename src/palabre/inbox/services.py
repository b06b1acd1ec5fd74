"""Every state change of the inbox: checks, write, audit entry, tasks enqueued on commit.

Views and the API call these; the analyser (`analyse_for_inbox`) keeps each thread's row current.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from palabre.connectors.lengths import TextLimit, limit_for
from palabre.connectors.registry import connector_class_for
from palabre.conversations.models import Item
from palabre.inbox import hours
from palabre.inbox.models import (
    Conversation,
    InboxSettings,
    Intent,
    InternalNote,
    KnowledgeArticle,
    MemberProfile,
    Notification,
    Presence,
    Reply,
    SavedReply,
    SavedView,
    Status,
)
from palabre.inbox.personalisation import Warning, check_reply
from palabre.inbox.priority import URGENT, priority
from palabre.orgs.models import Membership, Organisation
from palabre.orgs.permissions import Perm, role_has
from palabre.orgs.services import Actor, NotInOrganisation, record
from palabre.recent import RecentReads

logger = logging.getLogger(__name__)
User = get_user_model()

MAX_REPLY_CHARS = 10_000
MAX_NOTE_CHARS = 5_000
RECENT_REPLIES = 200
PRESENCE_SECONDS = 20
# A message older than this when it is analysed (an import, a backlog) gets no automatic answer.
ACK_FRESHNESS = timedelta(minutes=30)
_MENTION = re.compile(r"(?<![\w@])@([\w.+-]{1,150})")


class ReplyNeedsConfirmation(Exception):
    """The personalisation check found something: the person confirms or edits before sending."""

    def __init__(self, warnings: list[Warning]):
        super().__init__("reply needs confirmation")
        self.warnings = warnings


# --- reading helpers ---------------------------------------------------------------------------


def settings_for(organisation: Organisation) -> InboxSettings:
    found = InboxSettings.objects.filter(organisation=organisation).first()
    if found is None:
        found, _created = InboxSettings.objects.get_or_create(
            organisation=organisation,
            defaults={"time_zone": organisation.time_zone, "weekly_hours": hours.DEFAULT_WEEK},
        )
        forget_cached_hours(organisation.pk)
    return found


# Moderation asks on every synchronous check (Akismet-compatible API, comment form) whether a moment
# is out of hours: the calendar is kept in this process's memory for a few seconds. A change made in
# this process applies at once; one made in another applies within 5 seconds.
_recent_hours = RecentReads(seconds=5.0, keep_missing=True)


def configured_hours(organisation_id: int) -> hours.BusinessHours | None:
    """The organisation's business hours, or None when its inbox settings were never created
    (nothing is written here: this is read in requests of the compatible APIs)."""

    def read() -> hours.BusinessHours | None:
        row = (
            InboxSettings.objects.filter(organisation_id=organisation_id)
            .values_list("time_zone", "weekly_hours", "holidays")
            .first()
        )
        return hours.BusinessHours.of(*row) if row else None

    return _recent_hours.get(organisation_id, read)


def forget_cached_hours(organisation_id: int) -> None:
    _recent_hours.forget(organisation_id)


def is_out_of_hours(organisation_id: int, moment: datetime) -> bool:
    """Registered with moderation (its off-hours hook): True outside the organisation's business
    hours; False when it has none configured."""
    calendar = configured_hours(organisation_id)
    return calendar is not None and not calendar.is_open(moment)


def business_hours(
    organisation: Organisation, inbox_settings: InboxSettings | None = None
) -> hours.BusinessHours:
    s = inbox_settings or settings_for(organisation)
    return hours.BusinessHours.of(s.time_zone, s.weekly_hours, s.holidays)


def conversation_for(*, actor: Actor, conversation_id: int) -> Conversation:
    actor.require(Perm.ITEMS_VIEW)
    found = (
        Conversation.objects.select_related("channel", "contact", "assignee", "root", "last_customer_item")
        .filter(pk=conversation_id, organisation=actor.organisation)
        .first()
    )
    if found is None:
        raise NotInOrganisation
    return found


def _own(actor: Actor, obj: Any) -> None:
    if obj is None or obj.organisation_id != actor.organisation.pk:
        raise NotInOrganisation


def profile_for(organisation: Organisation, user) -> MemberProfile:
    found = MemberProfile.objects.filter(organisation=organisation, user=user).first()
    if found is None:
        found, _created = MemberProfile.objects.get_or_create(organisation=organisation, user=user)
    return found


def _repliers(organisation: Organisation):
    """Active members whose role may reply in the inbox."""
    return [
        m
        for m in Membership.objects.active().filter(organisation=organisation).select_related("user")
        if role_has(m.role, Perm.INBOX_REPLY)
    ]


def is_brand_item(item: Item) -> bool:
    return item.author is not None and item.author.handle == item.channel.handle


def answered_post(items: list[Item]) -> dict[str, Any] | None:
    """The brand's post a thread answers: the thread's root when the brand wrote it, or, when the
    post was never collected, the reference ingestion kept (`parent_external_id`)."""
    if not items:
        return None
    root = items[0]
    if is_brand_item(root):
        return {
            "stored": True,
            "item_id": root.pk,
            "external_id": root.external_id,
            "text": root.text,
            "url": root.url,
            "created_at": root.created_at,
        }
    if root.parent_external_id and root.parent_id is None:
        return {
            "stored": False,
            "item_id": None,
            "external_id": root.parent_external_id,
            "text": "",
            "url": "",
            "created_at": None,
        }
    return None


# --- the analyser: one row per thread ----------------------------------------------------------


def analyse_for_inbox(item: Item, created: bool) -> None:
    """Registered with conversations: every new or changed item refreshes its thread's row.
    Spam that moderation rejected stays out of the inbox: nobody answers it. (Other rejected
    messages stay: a rude customer may still need an answer, and a model can be wrong.)"""
    root_id = item.thread_root_id or item.pk
    if root_id == item.pk and _spam(item) and not Conversation.objects.filter(root_id=root_id).exists():
        return  # spam that starts no thread: nothing to show, nothing to compute
    with transaction.atomic():
        conversation = refresh_conversation(item.organisation, root_id, new_item=item if created else None)
    if conversation is not None and created and not is_brand_item(item) and not _spam(item):
        transaction.on_commit(lambda: _after_customer_message(conversation.pk, item.pk))


def analyse_batch_for_inbox(items: list[Item], created: frozenset[int]) -> None:
    """The pipeline's inbox stage: `analyse_for_inbox` on a batch, each touched thread's row
    computed once, however many of its items the batch holds."""
    threads: dict[int, list[Item]] = {}
    for item in items:
        root_id = item.thread_root_id or item.pk
        if root_id == item.pk and _spam(item) and not Conversation.objects.filter(root_id=root_id).exists():
            continue  # spam that starts no thread: nothing to show, nothing to compute
        threads.setdefault(root_id, []).append(item)
    from palabre.nlp.triage import triage_many

    # The models on the whole batch at once: the last customer message of a thread is most often
    # one of the batch's items.
    batch_items = [item for thread_items in threads.values() for item in thread_items]
    triaged = dict(
        zip(
            [item.pk for item in batch_items],
            triage_many([item.text for item in batch_items], [item.language or None for item in batch_items]),
            strict=True,
        )
    )
    for root_id, thread_items in threads.items():
        new = [item for item in thread_items if item.pk in created]
        customer = [item for item in new if not is_brand_item(item) and not _spam(item)]
        reopening = (customer or new or [None])[-1]
        with transaction.atomic():
            conversation = refresh_conversation(
                thread_items[0].organisation, root_id, new_item=reopening, triaged=triaged
            )
        if conversation is None:
            continue
        for item in customer:
            transaction.on_commit(
                lambda conversation_id=conversation.pk, item_id=item.pk: _after_customer_message(
                    conversation_id, item_id
                )
            )


def refresh_conversation(
    organisation: Organisation, root_id: int, *, new_item: Item | None = None, triaged: dict | None = None
):
    """Recompute a thread's row from its items (idempotent; safe to run twice). `triaged`: the
    triage of items already scored, by item id (the pipeline scores its batch at once)."""
    from palabre.inbox.corrections import corrected_triage
    from palabre.nlp.triage import triage_many

    thread = list(
        Item.objects.filter(Q(pk=root_id) | Q(thread_root_id=root_id), organisation=organisation)
        .select_related("author", "channel", "moderation__last_decision")
        .order_by("created_at", "pk")
    )
    root = next((i for i in thread if i.pk == root_id), None)
    if root is None:
        return None
    customer = [i for i in thread if not is_brand_item(i) and not _spam(i)]
    conversation = Conversation.objects.select_for_update().filter(root_id=root_id).first()
    # A reply that arrived before its parent had a row of its own: fold it into the real thread.
    stale = list(Conversation.objects.select_for_update(of=("self",)).filter(root__thread_root_id=root_id))
    if not customer:
        if conversation is not None and conversation.awaiting_reply:
            # Every message of the thread was rejected as spam since: nothing waits for an answer.
            conversation.awaiting_reply = False
            conversation.first_response_due_at = None
            conversation.priority = 0
            conversation.priority_reasons = []
            conversation.updated_at = timezone.now()
            conversation.save()
        return conversation
    last_customer = customer[-1]
    brand_times = [i.created_at for i in thread if is_brand_item(i)]
    inbox_settings = settings_for(organisation)
    calendar = business_hours(organisation, inbox_settings)
    now = timezone.now()
    if conversation is None:
        conversation = Conversation(
            organisation=organisation, root=root, channel=root.channel, last_activity_at=root.created_at
        )
        for old in stale:
            conversation.assignee_id = conversation.assignee_id or old.assignee_id
    replies_sent = []
    if conversation.pk:
        replies_sent = list(
            Reply.objects.filter(conversation=conversation).values_list("created_at", flat=True)
        )
    answered_times = sorted(brand_times + replies_sent)
    last_answer = answered_times[-1] if answered_times else None
    awaiting = last_answer is None or last_answer < last_customer.created_at
    first_unanswered = next(
        (i for i in customer if last_answer is None or i.created_at > last_answer), last_customer
    )
    triage = (triaged or {}).get(last_customer.pk)
    if triage is None:
        [triage] = triage_many([last_customer.text], [last_customer.language or None])
    # A person's correction of the last message wins over the models (and sets the priority).
    sentiment, intent, _by = corrected_triage(last_customer, triage.sentiment, triage.intent.label)
    waiting = (now - first_unanswered.created_at).total_seconds() / 60 if awaiting else 0
    followers = last_customer.author.followers if last_customer.author else None
    score, reasons = priority(
        sentiment=sentiment,
        sentiment_scores=triage.sentiment_scores if sentiment == triage.sentiment else None,
        intent=intent,
        followers=followers,
        waiting_minutes=waiting,
        answered=not awaiting,
    )
    first_customer = customer[0]
    conversation.channel = root.channel
    conversation.contact_id = last_customer.contact_id or first_customer.contact_id
    conversation.author_label = (
        (last_customer.author.display_name or last_customer.author.handle) if last_customer.author else ""
    )[:200]
    conversation.followers = followers
    conversation.preview = last_customer.text[:280]
    conversation.item_count = len(thread)
    conversation.language = last_customer.language or triage.language
    conversation.sentiment = sentiment
    conversation.intent = intent
    conversation.priority = score if conversation.manual_priority is None else conversation.manual_priority
    conversation.priority_reasons = [r.as_dict() for r in reasons]
    conversation.last_customer_item = last_customer
    conversation.last_customer_message_at = last_customer.created_at
    conversation.last_activity_at = thread[-1].created_at
    conversation.awaiting_reply = awaiting
    first_answer = next((t for t in answered_times if t >= first_customer.created_at), None)
    conversation.first_responded_at = first_answer
    conversation.first_response_due_at = (
        calendar.add_minutes(first_unanswered.created_at, inbox_settings.first_response_minutes)
        if awaiting
        else None
    )
    conversation.out_of_hours = not calendar.is_open(last_customer.created_at)
    reopen = (
        new_item is not None
        and not is_brand_item(new_item)
        and not _spam(new_item)
        and conversation.status != Status.OPEN
        and awaiting
        # Received after the status was set: not the analysis of a message the team already saw.
        and (conversation.status_changed_at is None or new_item.received_at > conversation.status_changed_at)
    )
    if reopen:
        conversation.status = Status.OPEN  # the person wrote again: the thread needs someone
        conversation.status_changed_at = now
    conversation.updated_at = now
    conversation.save()
    for old in stale:
        if old.pk != conversation.pk:
            InternalNote.objects.filter(conversation=old).update(conversation=conversation)
            Reply.objects.filter(conversation=old).update(conversation=conversation)
            old.delete()
    return conversation


def _spam(item: Item) -> bool:
    try:
        return item.moderation.rejected_as_spam
    except ObjectDoesNotExist:
        return False  # not moderated (yet)


def refresh_after_review(item_id: int) -> None:
    """Registered with moderation: a moderator rejected a message (as spam, maybe), or brought one
    back."""
    item = Item.objects.select_related("organisation", "channel", "author").filter(pk=item_id).first()
    if item is None:
        return
    with transaction.atomic():
        refresh_conversation(item.organisation, item.thread_root_id or item.pk)


def _after_customer_message(conversation_id: int, item_id: int) -> None:
    """Automatic assignment, the on-call alert and the out-of-hours acknowledgement."""
    conversation = (
        Conversation.objects.select_related("organisation", "channel").filter(pk=conversation_id).first()
    )
    if conversation is None:
        return
    organisation = conversation.organisation
    inbox_settings = settings_for(organisation)
    system = Actor.palabre(organisation)
    if inbox_settings.auto_assign and conversation.assignee_id is None:
        auto_assign(actor=system, conversation=conversation)
    if not conversation.out_of_hours or not conversation.awaiting_reply:
        return
    urgent = conversation.intent == Intent.CRISIS or conversation.priority >= URGENT
    if urgent and conversation.on_call_notified_at is None and inbox_settings.on_call_id:
        _alert_on_call(conversation, inbox_settings)
    ack = (inbox_settings.acknowledgements or {}).get(str(conversation.channel_id), "").strip()
    item = Item.objects.select_related("channel", "author").filter(pk=item_id).first()
    fresh = item is not None and timezone.now() - item.created_at <= ACK_FRESHNESS
    if ack and fresh and conversation.acknowledged_at is None:
        _acknowledge(system, conversation, item, ack)


def _alert_on_call(conversation: Conversation, inbox_settings: InboxSettings) -> None:
    claimed = Conversation.objects.filter(pk=conversation.pk, on_call_notified_at__isnull=True).update(
        on_call_notified_at=timezone.now()
    )
    if not claimed:
        return  # another worker alerted already
    person = inbox_settings.on_call
    text = _("Urgent out of hours on %(channel)s: %(author)s: %(text)s") % {
        "channel": conversation.channel.name,
        "author": conversation.author_label,
        "text": conversation.preview[:200],
    }
    Notification.objects.create(
        organisation=conversation.organisation,
        user=person,
        kind=Notification.Kind.ON_CALL,
        text=text[:500],
        conversation=conversation,
    )
    if person.email:
        try:
            send_mail(_("Palabre: urgent message out of hours"), text, None, [person.email])
        except OSError:
            logger.exception("on-call mail to %s failed", person.email)
    record(
        Actor.palabre(conversation.organisation),
        "inbox.on_call_alerted",
        conversation,
        after={"to": person.get_username()},
    )


def _acknowledge(actor: Actor, conversation: Conversation, item: Item, text: str) -> None:
    from palabre.connectors.services import queue_reply

    claimed = Conversation.objects.filter(pk=conversation.pk, acknowledged_at__isnull=True).update(
        acknowledged_at=timezone.now()
    )
    if not claimed:
        return
    try:
        action = queue_reply(actor=actor, item=item, text=text, idempotency_key=f"ack-{conversation.pk}")
    except ValidationError as refused:  # a channel that cannot reply: nothing to send, say why
        logger.warning("no out-of-hours acknowledgement on %s: %s", conversation.channel, refused.messages)
        return
    record(actor, "inbox.acknowledged", conversation, after={"action": action.pk})


# --- assignment and status ---------------------------------------------------------------------


@transaction.atomic
def assign(*, actor: Actor, conversation: Conversation, assignee_id: int | None) -> Conversation:
    actor.require(Perm.INBOX_REPLY)
    _own(actor, conversation)
    assignee = None
    if assignee_id is not None:
        membership = next((m for m in _repliers(actor.organisation) if m.user_id == assignee_id), None)
        if membership is None:
            raise ValidationError({"assignee": _("Choose a member who may reply in the inbox.")})
        assignee = membership.user
    before = conversation.assignee.get_username() if conversation.assignee else None
    conversation.assignee = assignee
    conversation.updated_at = timezone.now()
    conversation.save(update_fields=["assignee", "updated_at"])
    if assignee is not None and assignee.pk != actor.user_id:
        Notification.objects.create(
            organisation=actor.organisation,
            user=assignee,
            kind=Notification.Kind.ASSIGNED,
            text=(
                _("%(who)s assigned you a thread: %(text)s")
                % {"who": actor.label, "text": conversation.preview[:200]}
            )[:500],
            conversation=conversation,
        )
    record(
        actor,
        "inbox.assigned",
        conversation,
        before={"assignee": before},
        after={"assignee": assignee.get_username() if assignee else None},
    )
    return conversation


def auto_assign(*, actor: Actor, conversation: Conversation) -> Conversation | None:
    """Round robin among the members who handle the thread's language and intent."""
    actor.require(Perm.INBOX_REPLY)
    _own(actor, conversation)
    with transaction.atomic():
        repliers = {m.user_id: m for m in _repliers(actor.organisation)}
        profiles = list(
            MemberProfile.objects.select_for_update()
            .filter(organisation=actor.organisation, auto_assign=True, user_id__in=list(repliers))
            .order_by("pk")
        )

        def fits(profile: MemberProfile) -> bool:
            language_ok = not profile.languages or conversation.language in profile.languages
            skill_ok = not profile.skills or conversation.intent in profile.skills
            return language_ok and skill_ok

        candidates = [p for p in profiles if fits(p)]
        # Those who declared the skill come before generalists.
        skilled = [p for p in candidates if conversation.intent in p.skills]
        candidates = skilled or candidates
        if not candidates:
            return None
        epoch = datetime.min.replace(tzinfo=timezone.get_current_timezone())
        chosen = min(candidates, key=lambda p: (p.last_assigned_at or epoch, p.pk))
        chosen.last_assigned_at = timezone.now()
        chosen.save(update_fields=["last_assigned_at"])
        return assign(actor=actor, conversation=conversation, assignee_id=chosen.user_id)


@transaction.atomic
def set_status(*, actor: Actor, conversation: Conversation, status: str) -> Conversation:
    actor.require(Perm.INBOX_REPLY)
    _own(actor, conversation)
    if status not in Status.values:
        raise ValidationError({"status": _("Choose open, pending or closed.")})
    before = conversation.status
    conversation.status = status
    conversation.updated_at = conversation.status_changed_at = timezone.now()
    conversation.save(update_fields=["status", "status_changed_at", "updated_at"])
    record(actor, "inbox.status", conversation, before={"status": before}, after={"status": status})
    return conversation


# --- notes and mentions ------------------------------------------------------------------------


@transaction.atomic
def add_note(*, actor: Actor, conversation: Conversation, text: str) -> InternalNote:
    actor.require(Perm.INBOX_REPLY)
    _own(actor, conversation)
    text = text.strip()
    if not text:
        raise ValidationError({"text": _("Write the note first.")})
    if len(text) > MAX_NOTE_CHARS:
        raise ValidationError({"text": _("A note holds at most %(n)s characters.") % {"n": MAX_NOTE_CHARS}})
    named = {name.rstrip(".").lower() for name in _MENTION.findall(text)}
    members = {
        m.user.get_username().lower(): m.user
        for m in Membership.objects.active().filter(organisation=actor.organisation).select_related("user")
    }
    mentioned = [members[name] for name in sorted(named) if name in members]
    note = InternalNote.objects.create(
        organisation=actor.organisation,
        conversation=conversation,
        author=actor.user,
        text=text,
        mentions=[u.get_username() for u in mentioned],
    )
    for person in mentioned:
        if person.pk == actor.user_id:
            continue
        Notification.objects.create(
            organisation=actor.organisation,
            user=person,
            kind=Notification.Kind.MENTION,
            text=(_("%(who)s mentioned you: %(text)s") % {"who": actor.label, "text": text[:200]})[:500],
            conversation=conversation,
        )
    record(actor, "inbox.note_added", conversation, after={"mentions": note.mentions})
    return note


@transaction.atomic
def mark_notifications_read(*, actor: Actor, ids: list[int] | None = None) -> int:
    actor.require(Perm.ITEMS_VIEW)
    rows = Notification.objects.filter(
        organisation=actor.organisation, user_id=actor.user_id, read_at__isnull=True
    )
    if ids is not None:
        rows = rows.filter(pk__in=ids)
    return rows.update(read_at=timezone.now())


# --- replies -----------------------------------------------------------------------------------


def _first_name(conversation: Conversation) -> str:
    name = conversation.author_label.strip().lstrip("@")
    return name.split()[0] if name else ""


def reply_variables(*, actor: Actor, conversation: Conversation) -> dict[str, str]:
    user = actor.user
    agent = (user.first_name or user.get_username()) if user is not None else "Palabre"
    return {
        "first_name": _first_name(conversation),
        "name": conversation.author_label,
        "agent_name": agent,
        "channel": conversation.channel.name,
        "brand": actor.organisation.name,
    }


def fill_saved_reply(*, actor: Actor, saved: SavedReply, conversation: Conversation) -> str:
    """The saved reply's text with its variables filled; unknown ones are left for the person to see."""
    actor.require(Perm.INBOX_REPLY)
    _own(actor, saved)
    _own(actor, conversation)
    values = reply_variables(actor=actor, conversation=conversation)
    return re.sub(r"\{([a-z_]+)\}", lambda m: values.get(m.group(1), m.group(0)) or m.group(0), saved.text)


def signature_of(actor: Actor) -> str:
    """The answering person's initials (or the signature set on their membership)."""
    if actor.membership is not None and actor.membership.signature:
        return actor.membership.signature
    user = actor.user
    if user is None:
        return ""
    parts = [p for p in (user.first_name, user.last_name) if p]
    if parts:
        return "".join(p[0].upper() for p in parts)
    return user.get_username()[:2].upper()


def signed(actor: Actor, text: str) -> str:
    if actor.user is None or not profile_for(actor.organisation, actor.user).sign_replies:
        return text
    signature = signature_of(actor)
    return f"{text}\n— {signature}" if signature else text


@dataclass(frozen=True)
class ReplyLength:
    """A reply as the platform will count it: its own words plus what is added around them."""

    size: int
    limit: TextLimit
    prefix: str  # the mention the connector adds, when the text does not name the person
    suffix: str  # the signature

    @property
    def over(self) -> int:
        return max(0, self.size - self.limit.max_chars)


def reply_length(*, actor: Actor, conversation: Conversation, text: str) -> ReplyLength | None:
    """The reply's length as its platform counts it, signature and mention included; None where the
    platform sets no limit or Palabre cannot reply there."""
    limit = limit_for(conversation.channel)
    connector_class = connector_class_for(conversation.channel.platform)
    target = conversation.last_customer_item
    if limit is None or connector_class is None or target is None:
        return None
    connector = connector_class()
    marker = "\u0000"
    around = connector.reply_text(target, signed(actor, marker))
    prefix, _marker, suffix = around.partition(marker)
    sent = connector.reply_text(target, signed(actor, text))
    return ReplyLength(size=limit.length(sent), limit=limit, prefix=prefix, suffix=suffix)


def _too_long(actor: Actor, conversation: Conversation, text: str) -> str:
    found = reply_length(actor=actor, conversation=conversation, text=text)
    if found is None or not found.over:
        return ""
    return _(
        "%(size)s characters with the signature and the mention: %(platform)s takes at most %(max)s. "
        "Shorten the reply by %(over)s."
    ) % {
        "size": found.size,
        "platform": conversation.channel.get_platform_display(),
        "max": found.limit.max_chars,
        "over": found.over,
    }


def personalisation_warnings(*, actor: Actor, conversation: Conversation, text: str) -> list[Warning]:
    actor.require(Perm.ITEMS_VIEW)
    _own(actor, conversation)
    recent = [
        (_("reply to %(name)s on %(date)s") % {"name": name or "?", "date": created.date().isoformat()}, body)
        for body, name, created in Reply.objects.filter(organisation=actor.organisation)
        .exclude(conversation=conversation)
        .order_by("-created_at")
        .values_list("text", "conversation__author_label", "created_at")[:RECENT_REPLIES]
    ]
    message = (
        conversation.last_customer_item.text if conversation.last_customer_item else conversation.preview
    )
    signature = signature_of(actor)
    stripped = [(label, body.removesuffix(f"\n— {signature}")) for label, body in recent]
    return check_reply(text, message=message, recent=stripped)


def send_reply(
    *,
    actor: Actor,
    conversation: Conversation,
    text: str,
    idempotency_key: str,
    saved_reply: SavedReply | None = None,
    confirmed: bool = False,
) -> Reply:
    """Queue a reply through the connectors' outbox. The same key never sends twice."""
    actor.require(Perm.INBOX_REPLY)
    _own(actor, conversation)
    if saved_reply is not None:
        _own(actor, saved_reply)
    errors = {}
    text = text.strip()
    if not text:
        errors["text"] = _("Write the reply first.")
    elif len(text) > MAX_REPLY_CHARS:
        errors["text"] = _("A reply holds at most %(n)s characters.") % {"n": MAX_REPLY_CHARS}
    elif too_long := _too_long(actor, conversation, text):
        errors["text"] = too_long
    if not re.fullmatch(r"[A-Za-z0-9_.:-]{8,80}", idempotency_key or ""):
        errors["idempotency_key"] = _("Give a key of 8 to 80 letters, digits or -_.: to send the reply once.")
    if errors:
        raise ValidationError(errors)
    existing = Reply.objects.filter(organisation=actor.organisation, idempotency_key=idempotency_key).first()
    if existing is not None:
        return _same_reply(existing, conversation)
    target = conversation.last_customer_item
    if target is None:
        raise ValidationError({"text": _("Nobody wrote in this thread yet.")})
    warnings = personalisation_warnings(actor=actor, conversation=conversation, text=text)
    if warnings and not confirmed:
        raise ReplyNeedsConfirmation(warnings)
    from palabre.connectors.services import queue_reply

    with transaction.atomic():
        # One sender at a time per thread: a double click waits here, then finds the first reply.
        Conversation.objects.select_for_update().filter(pk=conversation.pk).first()
        existing = Reply.objects.filter(
            organisation=actor.organisation, idempotency_key=idempotency_key
        ).first()
        if existing is not None:
            return _same_reply(existing, conversation)
        final = signed(actor, text)
        try:
            with transaction.atomic():
                reply = Reply.objects.create(
                    organisation=actor.organisation,
                    conversation=conversation,
                    in_reply_to=target,
                    author=actor.user,
                    text=final,
                    idempotency_key=idempotency_key,
                    saved_reply=saved_reply,
                    warnings=[w.as_dict() for w in warnings],
                )
        except IntegrityError:
            return _same_reply(
                Reply.objects.get(organisation=actor.organisation, idempotency_key=idempotency_key),
                conversation,
            )
        action = queue_reply(actor=actor, item=target, text=final, idempotency_key=f"inbox-{idempotency_key}")
        reply.action_id = action.pk
        reply.save(update_fields=["action_id"])
        now = timezone.now()
        conversation.awaiting_reply = False
        conversation.first_response_due_at = None
        conversation.first_responded_at = conversation.first_responded_at or now
        if conversation.status == Status.OPEN:
            conversation.status = Status.PENDING  # the ball is in the person's court
            conversation.status_changed_at = now
        if conversation.assignee_id is None and actor.user is not None:
            conversation.assignee = actor.user
        conversation.updated_at = now
        conversation.save()
        record(
            actor,
            "inbox.replied",
            conversation,
            after={"reply": reply.pk, "action": action.pk, "warnings": [w.code for w in warnings]},
        )
    return reply


def _same_reply(reply: Reply, conversation: Conversation) -> Reply:
    if reply.conversation_id != conversation.pk:
        raise ValidationError({"idempotency_key": _("This key was used for a reply in another thread.")})
    return reply


def retry_reply(*, actor: Actor, reply: Reply):
    from palabre.connectors.services import retry_action

    actor.require(Perm.INBOX_REPLY)
    _own(actor, reply)
    action = delivery_of([reply]).get(reply.pk)
    if action is None:
        raise ValidationError({"reply": _("This reply has no delivery to retry.")})
    return retry_action(actor=actor, action=action)


def delivery_of(replies: list[Reply]) -> dict[int, Any]:
    """The connectors' outbound action of each reply, in one query."""
    from palabre.connectors.models import OutboundAction

    ids = [r.action_id for r in replies if r.action_id]
    actions = OutboundAction.objects.in_bulk(ids) if ids else {}
    return {r.pk: actions.get(r.action_id) for r in replies if r.action_id in actions}


# --- saved replies, views, knowledge base ------------------------------------------------------


def _require_text(errors: dict, name: str, value: str, limit: int, message: str) -> str:
    value = (value or "").strip()
    if not value:
        errors[name] = message
    elif len(value) > limit:
        errors[name] = _("At most %(n)s characters.") % {"n": limit}
    return value


@transaction.atomic
def save_saved_reply(
    *, actor: Actor, title: str, text: str, language: str = "", saved: SavedReply | None = None
) -> SavedReply:
    actor.require(Perm.INBOX_REPLY)
    if saved is not None:
        _own(actor, saved)
    errors: dict[str, str] = {}
    title = _require_text(errors, "title", title, 120, _("Give the saved reply a title."))
    text = _require_text(errors, "text", text, MAX_REPLY_CHARS, _("Write the text of the saved reply."))
    if language not in ("", "fr", "en"):
        errors["language"] = _("Choose French, English or any language.")
    if errors:
        raise ValidationError(errors)
    created = saved is None
    saved = saved or SavedReply(organisation=actor.organisation, created_by=actor.user)
    saved.title, saved.text, saved.language, saved.updated_at = title, text, language, timezone.now()
    saved.save()
    record(actor, "inbox.saved_reply_created" if created else "inbox.saved_reply_updated", saved)
    return saved


@transaction.atomic
def delete_saved_reply(*, actor: Actor, saved: SavedReply) -> None:
    actor.require(Perm.INBOX_REPLY)
    _own(actor, saved)
    record(actor, "inbox.saved_reply_deleted", saved)
    saved.delete()


@transaction.atomic
def save_article(
    *,
    actor: Actor,
    title: str,
    body: str,
    category: str,
    language: str = "",
    article: KnowledgeArticle | None = None,
) -> KnowledgeArticle:
    actor.require(Perm.INBOX_REPLY)
    if article is not None:
        _own(actor, article)
    errors: dict[str, str] = {}
    title = _require_text(errors, "title", title, 200, _("Give the article a title."))
    body = _require_text(errors, "body", body, 50_000, _("Write the article."))
    if category not in KnowledgeArticle.Category.values:
        errors["category"] = _("Choose a category.")
    if language not in ("", "fr", "en"):
        errors["language"] = _("Choose French, English or any language.")
    if errors:
        raise ValidationError(errors)
    created = article is None
    article = article or KnowledgeArticle(organisation=actor.organisation)
    article.title, article.body, article.category, article.language = title, body, category, language
    article.updated_at = timezone.now()
    article.save()
    record(actor, "inbox.article_created" if created else "inbox.article_updated", article)
    return article


@transaction.atomic
def delete_article(*, actor: Actor, article: KnowledgeArticle) -> None:
    actor.require(Perm.INBOX_REPLY)
    _own(actor, article)
    record(actor, "inbox.article_deleted", article)
    article.delete()


@transaction.atomic
def save_view(*, actor: Actor, name: str, filters: dict[str, str], shared: bool = False) -> SavedView:
    actor.require(Perm.ITEMS_VIEW)
    if actor.user is None:
        raise ValidationError({"name": _("Saved views belong to a person.")})
    errors: dict[str, str] = {}
    name = _require_text(errors, "name", name, 80, _("Name the view."))
    if errors:
        raise ValidationError(errors)
    view = SavedView.objects.create(
        organisation=actor.organisation, owner=actor.user, name=name, filters=filters, shared=shared
    )
    record(actor, "inbox.view_saved", view, after={"filters": filters, "shared": shared})
    return view


@transaction.atomic
def delete_view(*, actor: Actor, view: SavedView) -> None:
    actor.require(Perm.ITEMS_VIEW)
    _own(actor, view)
    if view.owner_id != actor.user_id and not actor.can(Perm.ORG_MANAGE):
        raise ValidationError({"view": _("Only its author or an administrator removes a shared view.")})
    record(actor, "inbox.view_deleted", view)
    view.delete()


# --- settings and profiles ---------------------------------------------------------------------

_HHMM = re.compile(r"^([01]\d|2[0-4]):([0-5]\d)$")


def parse_week(text_by_day: dict[str, str]) -> dict[str, list[list[str]]]:
    """{"0": "09:00-12:30, 14:00-18:00", ...} -> weekly hours; errors name the day field."""
    week: dict[str, list[list[str]]] = {}
    errors = {}
    for day, text in text_by_day.items():
        intervals = []
        for part in [p.strip() for p in (text or "").split(",") if p.strip()]:
            bounds = [b.strip() for b in part.split("-")]
            if len(bounds) != 2 or not all(_HHMM.match(b) for b in bounds) or bounds[0] >= bounds[1]:
                errors[f"day_{day}"] = _("Write hours as 09:00-12:30, 14:00-18:00.")
                break
            intervals.append(bounds)
        if intervals:
            week[day] = intervals
    if errors:
        raise ValidationError(errors)
    return week


@transaction.atomic
def update_settings(
    *,
    actor: Actor,
    time_zone: str,
    weekly_hours: dict[str, list[list[str]]],
    holidays: list[str],
    first_response_minutes: int,
    on_call_id: int | None,
    auto_assign: bool,
    acknowledgements: dict[str, str],
) -> InboxSettings:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    actor.require(Perm.ORG_MANAGE)
    errors = {}
    try:
        ZoneInfo(time_zone)
    except (ZoneInfoNotFoundError, ValueError):
        errors["time_zone"] = _("Unknown time zone: %(zone)s") % {"zone": time_zone}
    try:
        hours.BusinessHours.of("UTC", weekly_hours, holidays)
    except (ValueError, TypeError):
        errors["holidays"] = _("Write holidays as dates, one a line (2024-12-25).")
    if not 1 <= first_response_minutes <= 60 * 24 * 14:
        errors["first_response_minutes"] = _("Choose between 1 minute and 14 days.")
    on_call = None
    if on_call_id is not None:
        member = next((m for m in _repliers(actor.organisation) if m.user_id == on_call_id), None)
        if member is None:
            errors["on_call"] = _("Choose a member who may reply in the inbox.")
        else:
            on_call = member.user
    channel_ids = set(actor.organisation.channels.values_list("pk", flat=True))
    acknowledgements = {k: v.strip() for k, v in acknowledgements.items() if v and v.strip()}
    if any(int(k) not in channel_ids for k in acknowledgements):
        errors["acknowledgements"] = _("Unknown channel.")
    if errors:
        raise ValidationError(errors)
    inbox_settings = settings_for(actor.organisation)
    inbox_settings.time_zone = time_zone
    inbox_settings.weekly_hours = weekly_hours
    inbox_settings.holidays = sorted(set(holidays))
    inbox_settings.first_response_minutes = first_response_minutes
    inbox_settings.on_call = on_call
    inbox_settings.auto_assign = auto_assign
    inbox_settings.acknowledgements = acknowledgements
    inbox_settings.save()
    forget_cached_hours(actor.organisation.pk)
    record(
        actor,
        "inbox.settings_updated",
        actor.organisation,
        after={
            "time_zone": time_zone,
            "weekly_hours": weekly_hours,
            "holidays": inbox_settings.holidays,
            "first_response_minutes": first_response_minutes,
            "on_call": on_call.get_username() if on_call else None,
            "auto_assign": auto_assign,
        },
    )
    return inbox_settings


@transaction.atomic
def update_profile(
    *, actor: Actor, languages: list[str], skills: list[str], auto_assign: bool, sign_replies: bool
) -> MemberProfile:
    actor.require(Perm.ITEMS_VIEW)
    if actor.user is None:
        raise ValidationError({"languages": _("A profile belongs to a person.")})
    errors = {}
    if any(lang not in ("fr", "en") for lang in languages):
        errors["languages"] = _("Choose French or English.")
    if any(skill not in Intent.values for skill in skills):
        errors["skills"] = _("Choose among the intents.")
    if errors:
        raise ValidationError(errors)
    profile = profile_for(actor.organisation, actor.user)
    profile.languages, profile.skills = sorted(set(languages)), sorted(set(skills))
    profile.auto_assign, profile.sign_replies = auto_assign, sign_replies
    profile.save()
    record(actor, "inbox.profile_updated", profile, after={"languages": languages, "skills": skills})
    return profile


# --- presence ------------------------------------------------------------------------------------


def touch_presence(*, actor: Actor, conversation: Conversation, state: str) -> list[Presence]:
    """Say that this person is on the thread; returns the others seen there in the last seconds.

    Not audited: presence is a heartbeat, not a change anyone needs on record.
    """
    actor.require(Perm.ITEMS_VIEW)
    _own(actor, conversation)
    if state not in Presence.State.values:
        raise ValidationError({"state": _("Unknown state.")})
    now = timezone.now()
    if actor.user is not None:
        Presence.objects.update_or_create(
            conversation=conversation, user=actor.user, defaults={"state": state, "seen_at": now}
        )
    return list(
        Presence.objects.filter(
            conversation=conversation, seen_at__gte=now - timedelta(seconds=PRESENCE_SECONDS)
        )
        .exclude(user_id=actor.user_id)
        .select_related("user")
    )


# --- background work ---------------------------------------------------------------------------


def refresh_open(organisation: Organisation) -> int:
    """Re-rank the threads waiting for an answer: priority rises with waiting time."""
    ids = list(
        Conversation.objects.filter(organisation=organisation, awaiting_reply=True)
        .exclude(status=Status.CLOSED)
        .values_list("root_id", flat=True)
    )
    for root_id in ids:
        with transaction.atomic():
            refresh_conversation(organisation, root_id)
    return len(ids)


def warn_breaches(organisation: Organisation, *, now: datetime | None = None) -> int:
    """Tell the assignee (or the repliers when nobody holds it) that a response is overdue. Once."""
    now = now or timezone.now()
    breached = Conversation.objects.filter(
        organisation=organisation, awaiting_reply=True, first_response_due_at__lt=now
    ).exclude(status=Status.CLOSED)
    warned = 0
    already = set(
        Notification.objects.filter(
            organisation=organisation, kind=Notification.Kind.SLA, conversation__in=breached
        ).values_list("conversation_id", flat=True)
    )
    everyone = [m.user for m in _repliers(organisation)]
    for conversation in breached.select_related("assignee"):
        if conversation.pk in already:
            continue
        for person in [conversation.assignee] if conversation.assignee else everyone:
            Notification.objects.create(
                organisation=organisation,
                user=person,
                kind=Notification.Kind.SLA,
                text=(
                    _("Response overdue: %(author)s: %(text)s")
                    % {"author": conversation.author_label, "text": conversation.preview[:200]}
                )[:500],
                conversation=conversation,
            )
        warned += 1
    return warned


def overnight(organisation: Organisation, *, now: datetime | None = None) -> dict[str, Any]:
    """What came in since the team last left: counts by intent and the threads that need someone."""
    now = now or timezone.now()
    calendar = business_hours(organisation)
    since = calendar.last_opening_before(now) or now - timedelta(hours=16)
    rows = Conversation.objects.filter(organisation=organisation, last_customer_message_at__gte=since)
    by_intent: dict[str, int] = {}
    for intent in rows.values_list("intent", flat=True):
        by_intent[intent] = by_intent.get(intent, 0) + 1
    return {
        "since": since,
        "total": sum(by_intent.values()),
        "by_intent": by_intent,
        "urgent": list(
            rows.filter(Q(priority__gte=URGENT) | Q(intent=Intent.CRISIS)).order_by("-priority")[:20]
        ),
        "waiting": list(
            rows.filter(awaiting_reply=True).exclude(status=Status.CLOSED).order_by("-priority")[:50]
        ),
    }


def send_digest(organisation: Organisation, *, now: datetime | None = None) -> int:
    """The morning digest: one notification (and mail) per replier, once a day."""
    now = now or timezone.now()
    summary = overnight(organisation, now=now)
    local_day_start = now.astimezone(business_hours(organisation).zone).replace(
        hour=0, minute=0, second=0, microsecond=0
    )
    sent = 0
    text = _("Overnight: %(total)s threads, %(urgent)s urgent, %(waiting)s waiting for an answer.") % {
        "total": summary["total"],
        "urgent": len(summary["urgent"]),
        "waiting": len(summary["waiting"]),
    }
    for membership in _repliers(organisation):
        if Notification.objects.filter(
            organisation=organisation,
            user=membership.user,
            kind=Notification.Kind.DIGEST,
            created_at__gte=local_day_start,
        ).exists():
            continue
        Notification.objects.create(
            organisation=organisation, user=membership.user, kind=Notification.Kind.DIGEST, text=text
        )
        if membership.user.email:
            try:
                send_mail(_("Palabre: the morning digest"), text, None, [membership.user.email])
            except OSError:
                logger.exception("digest mail to %s failed", membership.user.email)
        sent += 1
    return sent
