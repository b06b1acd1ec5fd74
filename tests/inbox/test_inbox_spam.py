"""Spam that moderation rejected stays out of the inbox; other rejected messages stay in it."""

from __future__ import annotations

from palabre.inbox.models import Conversation
from palabre.moderation import services as moderation
from palabre.moderation.models import ItemModeration

SPAM = "Buy cheap viagra online now!!! Best price http://cheap-pills.example.xyz"
COMPLAINT = "Livraison en retard de trois semaines et personne ne répond, c'est honteux"


def _status(item):
    return ItemModeration.objects.select_related("last_decision").get(item=item)


def test_blatant_spam_starts_no_conversation(channel, post):
    item = post(channel, SPAM, author="spammer")
    assert _status(item).rejected_as_spam
    assert not Conversation.objects.filter(root_id=item.pk).exists()


def test_a_message_rejected_for_another_reason_stays_in_the_inbox(channel, post, conversation_of):
    item = post(channel, "Espèce de c0nnaaard, vous êtes des voleurs, bande d'enculés", author="furieux")
    state = _status(item)
    assert state.status == "rejected" and not state.rejected_as_spam
    conversation = conversation_of(item)
    assert conversation.awaiting_reply


def test_spam_in_a_thread_neither_counts_nor_reopens_it(channel, post, conversation_of):
    root = post(channel, COMPLAINT, external_id="root", author="lea")
    conversation = conversation_of(root)
    Conversation.objects.filter(pk=conversation.pk).update(status="closed", awaiting_reply=False)
    spam = post(channel, SPAM, parent="root", author="spammer")
    assert _status(spam).rejected_as_spam
    conversation.refresh_from_db()
    assert conversation.status == "closed"
    assert conversation.last_customer_item_id == root.pk


def test_a_moderator_marking_spam_takes_the_thread_out_and_ham_brings_it_back(
    channel, post, conversation_of, owner_actor, django_capture_on_commit_callbacks
):
    item = post(channel, COMPLAINT, author="lea")
    conversation = conversation_of(item)
    assert conversation.awaiting_reply and conversation.priority > 0
    with django_capture_on_commit_callbacks(execute=True):
        moderation.review_item(actor=owner_actor, item_id=item.pk, action="spam")
    conversation.refresh_from_db()
    assert not conversation.awaiting_reply
    assert conversation.priority == 0
    assert conversation.first_response_due_at is None
    with django_capture_on_commit_callbacks(execute=True):
        moderation.review_item(actor=owner_actor, item_id=item.pk, action="ham")
    conversation.refresh_from_db()
    assert conversation.awaiting_reply
    assert conversation.priority > 0


def test_a_plain_rejection_by_a_moderator_leaves_the_thread_alone(
    channel, post, conversation_of, owner_actor, django_capture_on_commit_callbacks
):
    item = post(channel, COMPLAINT, author="lea")
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        moderation.review_item(actor=owner_actor, item_id=item.pk, action="reject")
    assert conversation_of(item).awaiting_reply
    assert not any("item_reviewed" in repr(callback) for callback in callbacks)
