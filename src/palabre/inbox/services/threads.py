"""The analyser: one row per thread, recomputed from its items (triage, priority, SLA clock, reopening), refreshed after a review; the on-call alert and the automatic acknowledgement."""

from __future__ import annotations

import logging
from datetime import timedelta

from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import F, Q, prefetch_related_objects
from django.utils import timezone
from django.utils.translation import gettext as _

from palabre import bulk
from palabre.conversations.models import Item
from palabre.inbox.models import (
    DURATION_FIELDS,
    Conversation,
    InboxSettings,
    Intent,
    InternalNote,
    Notification,
    Reply,
    Status,
    keep_first_reply_authors,
)
from palabre.inbox.priority import URGENT, priority
from palabre.inbox.services.assignment import auto_assign
from palabre.inbox.services.reading import business_hours, is_brand_item, settings_for
from palabre.orgs.models import Channel, Organisation
from palabre.orgs.services import Actor, record

logger = logging.getLogger(__name__)


# A message older than this when it is analysed (an import, a backlog) gets no automatic answer.
ACK_FRESHNESS = timedelta(minutes=30)


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
    """The pipeline's inbox stage: `analyse_for_inbox` on a batch. The batch's threads, their rows,
    replies, corrections and the organisation's settings are read once, each touched thread's row
    computed in Python and written with one bulk insert and one bulk update: the queries do not
    grow with the batch."""
    # Moderation's states, with their last decision, for the items the moderation stage left unread.
    prefetch_related_objects(items, "moderation__last_decision")
    spam_roots = {item.pk for item in items if not item.thread_root_id and _spam(item)}
    known = set(_rows_of_roots(list(spam_roots))) if spam_roots else set()
    threads: dict[int, list[Item]] = {}
    for item in items:
        root_id = item.thread_root_id or item.pk
        if item.pk in spam_roots and item.pk not in known:
            continue  # spam that starts no thread: nothing to show, nothing to compute
        threads.setdefault(root_id, []).append(item)
    if not threads:
        return
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
    by_organisation: dict[int, tuple[Organisation, dict[int, Item | None]]] = {}
    customer_messages: dict[int, list[Item]] = {}
    for root_id, thread_items in threads.items():
        new = [item for item in thread_items if item.pk in created]
        customer = [item for item in new if not is_brand_item(item) and not _spam(item)]
        organisation = thread_items[0].organisation
        by_organisation.setdefault(organisation.pk, (organisation, {}))[1][root_id] = (
            customer or new or [None]
        )[-1]
        customer_messages[root_id] = customer
    pending: list[tuple[int, int]] = []
    for organisation, reopening in by_organisation.values():
        with transaction.atomic():
            conversations = refresh_conversations(organisation, reopening, triaged=triaged, loaded=items)
        if not _has_follow_ups(settings_for(organisation)):
            continue  # nothing to assign, alert or acknowledge: no rows to read again once committed
        for root_id, conversation in conversations.items():
            pending += [(conversation.pk, item.pk) for item in customer_messages[root_id]]
    if pending:
        transaction.on_commit(lambda: _after_customer_messages(pending))


def refresh_conversation(
    organisation: Organisation, root_id: int, *, new_item: Item | None = None, triaged: dict | None = None
):
    """Recompute a thread's row from its items (idempotent; safe to run twice). `triaged`: the
    triage of items already scored, by item id (the pipeline scores its batch at once)."""
    return refresh_conversations(organisation, {root_id: new_item}, triaged=triaged).get(root_id)


# What the analyser writes on an existing row (the rest is the team's: assignee, tags, notes; a
# row's channel is its root's, which never changes). A reopened thread's status is one more update
# with the same values for all: no CASE per row for the few that reopen.
_COMPUTED = [
    "began_at",
    "contact",
    "author_label",
    "followers",
    "preview",
    "item_count",
    "language",
    "sentiment",
    "intent",
    "priority",
    "priority_reasons",
    "last_customer_item",
    "last_customer_message_at",
    "last_activity_at",
    "awaiting_reply",
    "first_responded_at",
    "first_response_due_at",
    "waiting_since",
    "sla_warned_at",
    "out_of_hours",
    "updated_at",
    *DURATION_FIELDS,
]


# The reads of every batch, compiled once (palabre.bulk.Prepared): the rows of these roots; the
# threads' items not held by the caller, with their author and moderation; the rows, locked; the
# rows of replies that arrived before their parent; the brand's replies sent from the inbox.
_rows_of_roots = bulk.Prepared(
    lambda root_ids: Conversation.objects.filter(root_id__any=root_ids).values_list("root_id", flat=True)
)
_thread_items = bulk.Prepared(
    lambda organisation_id, root_ids, held_ids: (
        Item.objects.for_org(organisation_id)
        .filter(Q(pk__any=root_ids) | Q(thread_root_id__any=root_ids))
        .exclude(pk__any=held_ids)
        .select_related("author", "moderation__last_decision")
    )
)
_rows_locked = bulk.Prepared(
    lambda root_ids: Conversation.objects.select_for_update().filter(root_id__any=root_ids)
)
_stale_rows = bulk.Prepared(
    lambda root_ids: (
        Conversation.objects.select_for_update(of=("self",))
        .filter(root__thread_root_id__any=root_ids)
        .annotate(thread_root=F("root__thread_root_id"))
        .order_by("pk")
    )
)
_replies_sent = bulk.Prepared(
    lambda conversation_ids: Reply.objects.filter(conversation_id__any=conversation_ids).values_list(
        "conversation_id", "created_at"
    )
)


def refresh_conversations(
    organisation: Organisation,
    new_items: dict[int, Item | None],
    *,
    triaged: dict | None = None,
    loaded: list[Item] = (),
) -> dict[int, Conversation]:
    """Recompute the rows of these threads (by root id, each with the new message that may reopen
    it, or None) from their items, in a number of queries that does not grow with the threads.
    `loaded`: items the caller holds, current, with their author, channel and moderation (the
    pipeline's batch): only the threads' other items are read. Returns each thread's row (threads
    without one, or whose root is gone, are left out)."""
    from palabre.conversations import corrections
    from palabre.nlp.triage import triage_many

    root_ids = list(new_items)
    threads: dict[int, list[Item]] = {root_id: [] for root_id in root_ids}
    held = [
        item
        for item in loaded
        if item.organisation_id == organisation.pk and (item.pk in threads or item.thread_root_id in threads)
    ]
    stored = _thread_items(organisation.pk, root_ids, [item.pk for item in held])
    _share_channels(stored, held)
    for item in sorted([*stored, *held], key=lambda item: (item.created_at, item.pk)):
        root_id = item.pk if item.pk in threads else item.thread_root_id
        threads[root_id].append(item)
    existing = {c.root_id: c for c in _rows_locked(root_ids)}
    # A reply that arrived before its parent had a row of its own: fold it into the real thread.
    stale: dict[int, list[Conversation]] = {}
    for old in _stale_rows(root_ids):
        stale.setdefault(old.thread_root, []).append(old)
    now = timezone.now()
    done: dict[int, Conversation] = {}
    to_create: list[Conversation] = []
    to_update: list[Conversation] = []
    reopen: list[int] = []
    work = []  # (root id, thread, customer messages, row)
    for root_id in root_ids:
        thread = threads[root_id]
        root = next((i for i in thread if i.pk == root_id), None)
        if root is None:
            continue
        customer = [i for i in thread if not is_brand_item(i) and not _spam(i)]
        conversation = existing.get(root_id)
        if not customer:
            if conversation is not None:
                done[root_id] = conversation
                if conversation.awaiting_reply:
                    # Every message of the thread was rejected as spam since: nothing waits for an answer.
                    conversation.awaiting_reply = False
                    conversation.first_response_due_at = None
                    conversation.waiting_since = None
                    conversation.priority = 0
                    conversation.priority_reasons = []
                    conversation.updated_at = now
                    to_update.append(conversation)
            continue
        if conversation is None:
            conversation = Conversation(
                organisation=organisation,
                root=root,
                channel=root.channel,
                last_activity_at=root.created_at,
                began_at=root.created_at,
            )
            for old in stale.get(root_id, []):
                conversation.assignee_id = conversation.assignee_id or old.assignee_id
        work.append((root_id, thread, customer, conversation))
    if not work:
        _update_rows(to_update)
        return done
    inbox_settings = settings_for(organisation)
    calendar = business_hours(organisation, inbox_settings)
    replies_sent: dict[int, list] = {}
    saved_ids = [c.pk for _r, _t, _c, c in work if c.pk]
    if saved_ids:
        for conversation_id, created_at in _replies_sent(saved_ids):
            replies_sent.setdefault(conversation_id, []).append(created_at)
    last_customers = [customer[-1] for _r, _t, customer, _c in work]
    scores = dict(triaged or {})
    unscored = [item for item in last_customers if item.pk not in scores]
    if unscored:
        scores.update(
            zip(
                [item.pk for item in unscored],
                triage_many([i.text for i in unscored], [i.language or None for i in unscored]),
                strict=True,
            )
        )
    found = corrections.latest(last_customers)
    for root_id, thread, customer, conversation in work:
        reopened = _compute(
            conversation,
            thread,
            customer,
            replies_sent.get(conversation.pk, []) if conversation.pk else [],
            scores[customer[-1].pk],
            found,
            calendar,
            inbox_settings,
            new_items[root_id],
            now,
        )
        (to_update if conversation.pk else to_create).append(conversation)
        if reopened and conversation.pk:
            reopen.append(conversation.pk)
        done[root_id] = conversation
    if to_create:
        bulk.insert(to_create)
    _update_rows(to_update)
    if reopen:
        Conversation.objects.filter(pk__in=reopen).update(status=Status.OPEN, status_changed_at=now)
    for root_id, olds in stale.items():
        conversation = done.get(root_id)
        moved = [old.pk for old in olds if conversation is not None and old.pk != conversation.pk]
        if moved and root_id in {r for r, _t, _c, _row in work}:
            InternalNote.objects.filter(conversation_id__in=moved).update(conversation=conversation)
            Reply.objects.filter(conversation_id__in=moved).update(conversation=conversation)
            keep_first_reply_authors([conversation.pk])
            Conversation.objects.filter(pk__in=moved).delete()
    return done


def _share_channels(items: list[Item], held: list[Item]) -> None:
    """Give the threads' items read from the database their channel: the one the batch's items
    hold already, the others read once (a thread's items share their channel: joining it to
    every row cost more than the rest of the read)."""
    channels = {item.channel_id: item.channel for item in held}
    missing = {item.channel_id for item in items} - channels.keys()
    if missing:
        channels.update(Channel.objects.in_bulk(missing))
    for item in items:
        Item.channel.field.set_cached_value(item, channels[item.channel_id])


def _update_rows(rows: list[Conversation]) -> None:
    """Write the computed fields of these rows (locked by the caller): one UPDATE ... FROM (VALUES
    ...) on PostgreSQL, an INSERT ... ON CONFLICT (id) DO UPDATE elsewhere (palabre.bulk.update).
    bulk_update's CASE per field and row cost more CPU than the rest of the stage."""
    bulk.update(rows, _COMPUTED)


def _compute(
    conversation: Conversation,
    thread: list[Item],
    customer: list[Item],
    replies_sent: list,
    triage,
    found: dict,
    calendar,
    inbox_settings: InboxSettings,
    new_item: Item | None,
    now,
) -> bool:
    """A thread's row from its items, the brand's replies and people's corrections (no query).
    True when the new message reopens the thread."""
    root = next(i for i in thread if i.pk == conversation.root_id)
    last_customer = customer[-1]
    brand_times = [i.created_at for i in thread if is_brand_item(i)]
    answered_times = sorted(brand_times + replies_sent)
    last_answer = answered_times[-1] if answered_times else None
    awaiting = last_answer is None or last_answer < last_customer.created_at
    first_unanswered = next(
        (i for i in customer if last_answer is None or i.created_at > last_answer), last_customer
    )
    # A person's correction of the last message wins over the models (and sets the priority).
    by_sentiment = found.get((last_customer.pk, "sentiment"))
    by_intent = found.get((last_customer.pk, "intent"))
    sentiment = by_sentiment.new_value if by_sentiment else triage.sentiment
    intent = by_intent.new_value if by_intent else triage.intent.label
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
    conversation.began_at = root.created_at  # analytics' period of the thread (an edit may move it)
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
    if awaiting and not conversation.awaiting_reply:
        conversation.sla_warned_at = None  # answered before, waiting again: a new wait, a new warning
    conversation.awaiting_reply = awaiting
    conversation.first_responded_at = next(
        (t for t in answered_times if t >= first_customer.created_at), None
    )
    conversation.first_response_due_at = (
        calendar.add_minutes(first_unanswered.created_at, inbox_settings.first_response_minutes)
        if awaiting
        else None
    )
    conversation.waiting_since = first_unanswered.created_at if awaiting else None
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
    conversation.keep_durations(calendar)  # analytics' business times, from the moments above
    return reopen


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


def _has_follow_ups(inbox_settings: InboxSettings) -> bool:
    """Whether a new customer message may be assigned, alerted on or acknowledged, as
    `_after_customer_messages` does."""
    return bool(
        inbox_settings.auto_assign
        or inbox_settings.on_call_id
        or any(str(text).strip() for text in (inbox_settings.acknowledgements or {}).values())
    )


def _after_customer_message(conversation_id: int, item_id: int) -> None:
    """Automatic assignment, the on-call alert and the out-of-hours acknowledgement."""
    _after_customer_messages([(conversation_id, item_id)])


def _after_customer_messages(pending: list[tuple[int, int]]) -> None:
    """`_after_customer_message` for each (conversation, new customer message) in order: the rows
    and the organisations' settings read once; the message itself only when it may be acknowledged."""
    conversations = Conversation.objects.in_bulk({conversation_id for conversation_id, _item in pending})
    # A batch's rows share one organisation (and most often one channel): each read once, not
    # joined to every row.
    organisations = Organisation.objects.in_bulk({c.organisation_id for c in conversations.values()})
    channels = Channel.objects.in_bulk({c.channel_id for c in conversations.values()})
    for conversation in conversations.values():
        Conversation.organisation.field.set_cached_value(
            conversation, organisations[conversation.organisation_id]
        )
        Conversation.channel.field.set_cached_value(conversation, channels[conversation.channel_id])
    settings_of: dict[int, InboxSettings] = {}
    for conversation_id, item_id in pending:
        conversation = conversations.get(conversation_id)
        if conversation is None:
            continue
        organisation = conversation.organisation
        if organisation.pk not in settings_of:
            settings_of[organisation.pk] = settings_for(organisation)
        inbox_settings = settings_of[organisation.pk]
        if inbox_settings.auto_assign and conversation.assignee_id is None:
            auto_assign(actor=Actor.palabre(organisation), conversation=conversation)
        if not conversation.out_of_hours or not conversation.awaiting_reply:
            continue
        system = Actor.palabre(organisation)
        urgent = conversation.intent == Intent.CRISIS or conversation.priority >= URGENT
        if urgent and conversation.on_call_notified_at is None and inbox_settings.on_call_id:
            _alert_on_call(conversation, inbox_settings)
        ack = (inbox_settings.acknowledgements or {}).get(str(conversation.channel_id), "").strip()
        if not ack or conversation.acknowledged_at is not None:
            continue
        item = Item.objects.select_related("channel", "author").filter(pk=item_id).first()
        fresh = item is not None and timezone.now() - item.created_at <= ACK_FRESHNESS
        if fresh:
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
