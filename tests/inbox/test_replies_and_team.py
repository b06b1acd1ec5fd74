"""Replies through the connectors' outbox (once, signed, checked), assignment, notes, on-call."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError

from palabre.connectors.models import ActionStatus, OutboundAction
from palabre.conversations.models import Item
from palabre.inbox import services
from palabre.inbox.models import MemberProfile, Notification, Reply, Status
from palabre.inbox.personalisation import check_reply
from palabre.orgs.models import AuditEvent
from palabre.orgs.permissions import Role

pytestmark = pytest.mark.clock


@pytest.fixture
def question(channel, post, conversation_of):
    item = post(channel, "Bonjour, la table Bergen existe-t-elle en 220 cm ? Et quel délai de livraison ?")
    return conversation_of(item)


def test_a_reply_is_sent_once_signed_and_lands_in_the_thread(
    question, cm, cm_actor, django_capture_on_commit_callbacks, conversation_of
):
    cm.first_name, cm.last_name = "Sarah", "Lemoine"
    cm.save()
    text = "Bonjour Camille, oui, la table Bergen existe en 220 cm ; livraison en 6 à 8 semaines."
    with django_capture_on_commit_callbacks(execute=True):
        reply = services.send_reply(
            actor=cm_actor, conversation=question, text=text, idempotency_key="k-12345678"
        )
        again = services.send_reply(
            actor=cm_actor, conversation=question, text=text, idempotency_key="k-12345678"
        )
    assert again.pk == reply.pk and Reply.objects.count() == 1
    assert reply.text.endswith("\n— SL")
    action = OutboundAction.objects.get()
    assert action.status == ActionStatus.SENT and action.text == reply.text
    brand = Item.objects.get(pk=action.result_item_id)
    assert brand.thread_root_id == question.root_id
    row = conversation_of(question.root)
    assert row.status == Status.PENDING and not row.awaiting_reply and row.assignee_id == cm.pk
    assert AuditEvent.objects.filter(action="inbox.replied").count() == 1


def test_no_signature_when_the_member_turned_it_off(question, cm_actor, django_capture_on_commit_callbacks):
    services.update_profile(actor=cm_actor, languages=["fr"], skills=[], auto_assign=True, sign_replies=False)
    reply = services.send_reply(
        actor=cm_actor,
        conversation=question,
        text="Oui, en 220 cm, livraison en 6 semaines.",
        idempotency_key="k-nosign1",
    )
    assert reply.text == "Oui, en 220 cm, livraison en 6 semaines."


def test_a_canned_reply_needs_confirmation_and_says_why(question, cm_actor, channel, post, conversation_of):
    canned = "Merci pour votre message, nous transmettons à l'équipe concernée."
    with pytest.raises(services.ReplyNeedsConfirmation) as pending:
        services.send_reply(actor=cm_actor, conversation=question, text=canned, idempotency_key="k-canned01")
    assert [w.code for w in pending.value.warnings] == ["no_overlap"]
    assert "bergen" in pending.value.warnings[0].params["words"]
    assert not Reply.objects.exists()
    services.send_reply(
        actor=cm_actor, conversation=question, text=canned, idempotency_key="k-canned01", confirmed=True
    )
    other = conversation_of(post(channel, "Ma commande Bergen est en retard, que se passe-t-il ?"))
    warnings = services.personalisation_warnings(actor=cm_actor, conversation=other, text=canned + " Bergen")
    assert [w.code for w in warnings] == ["similar"]
    assert warnings[0].params["percent"] >= 80 and warnings[0].params["count"] == 1


def test_personalised_replies_pass_the_check():
    recent = [("r1", "Merci pour votre message, nous transmettons à l'équipe concernée.")]
    message = "Ma livraison de chaises Nantes a deux semaines de retard"
    good = "Bonjour, je regarde votre livraison de chaises Nantes avec l'entrepôt et reviens vers vous."
    assert check_reply(good, message=message, recent=recent) == []
    assert [w.code for w in check_reply("Bonjour {first_name} !", message="ok", recent=[])] == ["unfilled"]


def test_saved_reply_variables_are_filled(question, cm_actor, cm):
    saved = services.save_saved_reply(
        actor=cm_actor,
        title="Délai",
        text="Bonjour {first_name}, ici {agent_name} de {brand} sur {channel}. {unknown}",
    )
    text = services.fill_saved_reply(actor=cm_actor, saved=saved, conversation=question)
    assert text == f"Bonjour Camille, ici {cm.username} de Maison Dupont sur Blog. {{unknown}}"


def test_bad_reply_input_names_the_field(question, cm_actor):
    with pytest.raises(ValidationError) as error:
        services.send_reply(actor=cm_actor, conversation=question, text=" ", idempotency_key="x")
    assert set(error.value.message_dict) == {"text", "idempotency_key"}


def test_a_failed_delivery_stays_visible_and_can_be_retried(
    question, cm_actor, django_capture_on_commit_callbacks
):
    reply = services.send_reply(
        actor=cm_actor,
        conversation=question,
        text="Oui, la Bergen existe en 220 cm.",
        idempotency_key="k-fail0001",
    )
    OutboundAction.objects.filter(pk=reply.action_id).update(
        status=ActionStatus.FAILED, last_error="HTTP 503"
    )
    action = services.delivery_of([reply])[reply.pk]
    assert action.status == ActionStatus.FAILED
    with django_capture_on_commit_callbacks(execute=True):
        services.retry_reply(actor=cm_actor, reply=reply)
    assert OutboundAction.objects.get(pk=reply.action_id).status == ActionStatus.SENT


def test_roles_without_inbox_reply_cannot_answer(question, org, make_member, actor_for):
    analyst = actor_for(make_member(org, Role.ANALYST).user, org)
    with pytest.raises(PermissionDenied):
        services.send_reply(actor=analyst, conversation=question, text="Oui", idempotency_key="k-analyst1")
    with pytest.raises(PermissionDenied):
        services.set_status(actor=analyst, conversation=question, status="closed")


def test_round_robin_by_language_and_skill(
    org, channel, post, conversation_of, make_member, actor_for, owner_actor
):
    people = {}
    for name, languages, skills in [
        ("ana", ["fr"], ["complaint"]),
        ("bob", ["fr"], ["complaint"]),
        ("eve", ["en"], []),
        ("zoe", ["fr"], ["question"]),
    ]:
        user = make_member(org, Role.COMMUNITY_MANAGER, username=name).user
        services.update_profile(
            actor=actor_for(user, org),
            languages=languages,
            skills=skills,
            auto_assign=True,
            sign_replies=True,
        )
        people[name] = user
    MemberProfile.objects.filter(user=owner_actor.user).delete()
    complaints = [
        conversation_of(post(channel, f"Commande {n} jamais reçue, remboursez-moi !")) for n in range(3)
    ]
    chosen = [services.auto_assign(actor=owner_actor, conversation=c).assignee.username for c in complaints]
    assert chosen == ["ana", "bob", "ana"]
    english = conversation_of(post(channel, "Do you ship to Canada?", language="en"))
    assert services.auto_assign(actor=owner_actor, conversation=english).assignee.username == "eve"
    assert Notification.objects.filter(user=people["ana"], kind="assigned").count() == 2


def test_automatic_assignment_on_arrival(org, channel, post, conversation_of, owner_actor, cm, cm_actor):
    services.update_settings(
        actor=owner_actor,
        time_zone="UTC",
        weekly_hours={str(d): [["00:00", "24:00"]] for d in range(7)},
        holidays=[],
        first_response_minutes=60,
        on_call_id=None,
        auto_assign=True,
        acknowledgements={},
    )
    services.update_profile(actor=cm_actor, languages=["fr"], skills=[], auto_assign=True, sign_replies=True)
    MemberProfile.objects.exclude(user=cm).update(auto_assign=False)
    row = conversation_of(post(channel, "Bonjour, une question sur ma commande ?"))
    assert row.assignee_id == cm.pk


def test_notes_notify_the_mentioned_members(question, cm_actor, org, make_member):
    nadia = make_member(org, Role.MODERATOR, username="nadia").user
    note = services.add_note(
        actor=cm_actor, conversation=question, text="@nadia tu peux vérifier ? cc @personne"
    )
    assert note.mentions == ["nadia"]
    [notice] = Notification.objects.filter(user=nadia)
    assert notice.kind == "mention" and notice.conversation_id == question.pk
    with pytest.raises(ValidationError) as error:
        services.add_note(actor=cm_actor, conversation=question, text="   ")
    assert "text" in error.value.message_dict


def test_on_call_is_alerted_out_of_hours_for_a_crisis_only(
    org, channel, post, conversation_of, owner_actor, cm
):
    cm.email = "sarah@example.org"
    cm.save()
    # Open one minute a week: the messages below arrive out of hours.
    services.update_settings(
        actor=owner_actor,
        time_zone="Europe/Paris",
        weekly_hours={"0": [["09:00", "09:01"]]},
        holidays=[],
        first_response_minutes=60,
        on_call_id=cm.pk,
        auto_assign=False,
        acknowledgements={str(channel.pk): "Merci, nous vous répondons dès l'ouverture."},
    )
    calm = conversation_of(
        post(channel, "J'adore votre nouvelle collection, bravo", ago=timedelta(minutes=1))
    )
    assert calm.out_of_hours
    assert not Notification.objects.filter(kind="on_call").exists()
    fire = conversation_of(
        post(channel, "Ma lampe a pris feu, il y a eu un incendie chez moi !!", ago=timedelta(minutes=1))
    )
    assert fire.intent == "crisis"
    [alert] = Notification.objects.filter(kind="on_call")
    assert alert.user_id == cm.pk and alert.conversation_id == fire.pk
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["sarah@example.org"]
    # Each thread that came in out of hours was acknowledged once, through the outbox.
    acks = OutboundAction.objects.filter(idempotency_key__startswith="ack-")
    assert acks.count() == 2
    assert acks.first().text.startswith("Merci, nous vous répondons")


def test_another_organisation_sees_nothing(question, make_org, owner_of, actor_for):
    from palabre.inbox.queries import InboxFilter, filtered
    from palabre.orgs.services import NotInOrganisation

    other = make_org("Concurrent")
    stranger = actor_for(owner_of(other), other)
    assert list(filtered(stranger, InboxFilter(status="all"))) == []
    with pytest.raises(NotInOrganisation):
        services.conversation_for(actor=stranger, conversation_id=question.pk)
    with pytest.raises(NotInOrganisation):
        services.set_status(actor=stranger, conversation=question, status="closed")
    with pytest.raises(NotInOrganisation):
        services.send_reply(
            actor=stranger, conversation=question, text="Bonjour", idempotency_key="k-stranger"
        )
