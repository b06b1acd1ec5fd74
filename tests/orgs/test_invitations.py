"""People join an organisation by accepting an invitation; an owner can neither name nor touch an
account of another organisation; leaving one organisation ends only that organisation's access."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation

from palabre.orgs.models import ApiToken, AuditEvent, Invitation, Membership
from palabre.orgs.permissions import Perm, Role
from palabre.orgs.services import (
    INVITATION_LIFETIME,
    Actor,
    NotInOrganisation,
    accept_invitation,
    add_member,
    create_api_token,
    invite_member,
    join_with_new_account,
    offboard_member,
    revoke_invitation,
)

pytestmark = pytest.mark.django_db

SITE = "https://palabre.example.org/"
GOOD_PASSWORD = "Vingt-deux-caracteres!"


@pytest.fixture(autouse=True)
def in_english():
    # The messages are matched in English; they are translated like every other.
    with translation.override("en"):
        yield


def fields_of(error: ValidationError) -> set[str]:
    return set(error.message_dict)


@pytest.fixture
def camille(make_org, make_member):
    """A person of another organisation (A), with an e-mail and a live session there."""
    organisation = make_org("Maison Autre", slug="autre")
    membership = make_member(organisation, Role.ADMIN, username="camille", email="camille@autre.fr")
    return membership


# --- inviting --------------------------------------------------------------------------------


def test_an_invitation_is_mailed_with_an_absolute_link_and_only_its_hash_is_kept(
    org, owner_actor, mailoutbox
):
    issued = invite_member(actor=owner_actor, email=" Lea@Example.COM ", role=Role.MODERATOR, site_url=SITE)

    invitation = Invitation.objects.get()
    assert invitation.email == "Lea@example.com"
    assert invitation.code_hash == hashlib.sha256(issued.code.encode()).hexdigest()
    assert issued.code not in str(Invitation.objects.values().get())
    assert issued.link == f"https://palabre.example.org/invitations/{issued.code}/"
    assert issued.mailed and invitation.mailed
    [mail] = mailoutbox
    assert mail.to == ["Lea@example.com"] and issued.link in mail.body and org.name in mail.subject
    assert not Membership.objects.filter(organisation=org, role=Role.MODERATOR).exists()
    event = AuditEvent.objects.get(action="invitation.created")
    assert event.target_label == "Lea@example.com" and event.after["role"] == "moderator"
    assert issued.code not in str(event.after)


def test_without_mail_the_code_is_still_given(org, owner_actor, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", 9  # nothing listens there
    issued = invite_member(actor=owner_actor, email="lea@example.com", role=Role.ANALYST, site_url=SITE)
    assert not issued.mailed and issued.code.startswith("plbinv_")
    assert Invitation.objects.get().status == Invitation.Status.PENDING


def test_a_mail_server_that_refuses_the_address_leaves_the_code_to_hand_over(org, owner_actor, settings):
    """smtplib's own errors (here the recipient refused, 550) are caught as the unreachable server
    is: the invitation stands, not mailed."""
    import socket

    from aiosmtpd.controller import Controller

    class RefuseEveryone:
        async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
            return "550 5.1.1 No such mailbox"

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(RefuseEveryone(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
        issued = invite_member(actor=owner_actor, email="lea@example.com", role=Role.ANALYST, site_url=SITE)
    finally:
        controller.stop()
    assert not issued.mailed and not Invitation.objects.get().mailed
    assert Invitation.objects.get().status == Invitation.Status.PENDING


def test_accepting_makes_the_member_once(org, owner_actor, make_user):
    issued = invite_member(actor=owner_actor, email="lea@example.com", role=Role.MODERATOR, site_url=SITE)
    lea = make_user("lea")
    membership = accept_invitation(user=lea, code=issued.code)
    assert (membership.organisation, membership.user, membership.role) == (org, lea, "moderator")
    assert Actor.for_user(lea, org).can(Perm.MODERATION_ACT)
    invitation = Invitation.objects.get()
    assert invitation.status == "accepted" and invitation.accepted_by == lea
    assert list(AuditEvent.objects.filter(actor=lea).values_list("action", flat=True)) == [
        "member.added",
        "invitation.accepted",
    ]
    # Single use: nobody else joins with the same code.
    with pytest.raises(ValidationError) as error:
        accept_invitation(user=make_user("lea-bis"), code=issued.code)
    assert fields_of(error.value) == {"code"}


def test_an_invitation_expires(org, owner_actor, make_user):
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        issued = invite_member(actor=owner_actor, email="lea@example.com", role=Role.ANALYST, site_url=SITE)
        traveller.shift(INVITATION_LIFETIME + timedelta(seconds=1))
        with pytest.raises(ValidationError, match="expired"):
            accept_invitation(user=make_user("lea"), code=issued.code)
    assert not Membership.objects.filter(user__username="lea").exists()


def test_a_withdrawn_invitation_opens_nothing(org, owner_actor, make_user):
    issued = invite_member(actor=owner_actor, email="lea@example.com", role=Role.ANALYST, site_url=SITE)
    revoke_invitation(actor=owner_actor, invitation=issued.invitation)
    with pytest.raises(ValidationError, match="withdrawn"):
        accept_invitation(user=make_user("lea"), code=issued.code)
    with pytest.raises(ValidationError):
        accept_invitation(user=make_user("guess"), code="plbinv_" + "A" * 32)


def test_joining_with_a_new_account_checks_the_password(org, owner_actor, make_user):
    make_user("prise")
    issued = invite_member(actor=owner_actor, email="lea@example.com", role=Role.ANALYST, site_url=SITE)
    with pytest.raises(ValidationError) as error:
        join_with_new_account(code=issued.code, username="prise", password="12345678")
    assert fields_of(error.value) == {"username", "password"}
    with pytest.raises(ValidationError) as error:
        join_with_new_account(code=issued.code, username="léa <b>", password=GOOD_PASSWORD)
    assert fields_of(error.value) == {"username"}
    membership = join_with_new_account(code=issued.code, username="lea", password=GOOD_PASSWORD)
    assert membership.user.check_password(GOOD_PASSWORD) and membership.organisation == org
    # A bad code creates no account.
    with pytest.raises(ValidationError):
        join_with_new_account(code=issued.code, username="lea2", password=GOOD_PASSWORD)
    assert not Membership.objects.filter(user__username="lea2").exists()


def test_an_admin_cannot_invite_an_owner(org, make_member, actor_for):
    admin = actor_for(make_member(org, Role.ADMIN).user, org)
    with pytest.raises(PermissionDenied):
        invite_member(actor=admin, email="boss@example.com", role=Role.OWNER, site_url=SITE)
    assert not Invitation.objects.exists()


def test_a_leavers_pending_invitations_are_withdrawn(org, owner_actor, make_member, actor_for, make_user):
    admin = make_member(org, Role.ADMIN)
    issued = invite_member(
        actor=actor_for(admin.user, org), email="lea@example.com", role=Role.ANALYST, site_url=SITE
    )
    report = offboard_member(actor=owner_actor, membership=admin)
    assert report["invitations_revoked"] == 1
    with pytest.raises(ValidationError, match="withdrawn"):
        accept_invitation(user=make_user("lea"), code=issued.code)


# --- another organisation's accounts -----------------------------------------------------------


def test_an_owner_cannot_add_an_existing_account_by_name(org, owner_actor, camille, client, owner):
    """The old way in: any owner named any account, saw its e-mail and could remove it later."""
    with pytest.raises(PermissionDenied):
        add_member(actor=owner_actor, username="camille", role=Role.ANALYST)
    client.force_login(owner)
    # Neither the API nor the pages offer it any more.
    response = client.post("/api/members", {"username": "camille", "role": "analyst"}, "application/json")
    assert response.status_code == 405
    assert client.post("/members/new/", {"username": "camille", "role": "analyst"}).status_code == 404
    assert not Membership.objects.filter(organisation=org, user=camille.user).exists()


def test_inviting_reveals_nothing_about_an_existing_account(org, owner, owner_actor, camille, client):
    client.force_login(owner)
    answers = []
    for email in ("camille@autre.fr", "personne@nulle-part.fr"):
        response = client.post("/api/invitations", {"email": email, "role": "analyst"}, "application/json")
        assert response.status_code == 201
        answers.append(response.json())
    known, unknown = answers
    assert set(known) == set(unknown)
    assert {
        k: v for k, v in known.items() if k not in {"id", "email", "code", "link", "created_at", "expires_at"}
    } == {
        k: v
        for k, v in unknown.items()
        if k not in {"id", "email", "code", "link", "created_at", "expires_at"}
    }
    assert "camille" not in str(known).replace("camille@autre.fr", "")
    # Inviting changes nothing for the account until its owner accepts.
    assert not Membership.objects.filter(organisation=org, user=camille.user).exists()
    listed = client.get("/api/invitations").json()
    assert {i["status"] for i in listed} == {"pending"} and "camille@autre.fr" in {i["email"] for i in listed}
    assert "camille" not in str(listed).replace("camille@autre.fr", "")
    events = AuditEvent.objects.filter(organisation=org, action="invitation.created")
    assert {e.target_type for e in events} == {"orgs.invitation"}


def test_an_owner_cannot_touch_another_organisations_people(org, owner, camille, client, owner_of):
    autre = camille.organisation
    autre_owner = Actor.for_user(owner_of(autre), autre)
    pending = invite_member(actor=autre_owner, email="x@autre.fr", role=Role.ANALYST, site_url=SITE)
    client.force_login(owner)
    assert (
        client.patch(f"/api/members/{camille.pk}", {"role": "analyst"}, "application/json").status_code == 404
    )
    assert client.delete(f"/api/members/{camille.pk}").status_code == 404
    assert client.delete(f"/api/invitations/{pending.invitation.pk}").status_code == 404
    assert client.get("/api/invitations").json() == []
    assert "camille" not in client.get("/api/members", {"include_former": True}).content.decode()
    assert client.post(reverse("member_remove", args=[camille.pk])).status_code == 404
    assert client.post(reverse("invitation_revoke", args=[pending.invitation.pk])).status_code == 404
    owner_actor = Actor.for_user(owner, org)
    with pytest.raises(NotInOrganisation):
        revoke_invitation(actor=owner_actor, invitation=pending.invitation)
    camille.refresh_from_db()
    assert camille.is_active and camille.role == Role.ADMIN
    assert Invitation.objects.get(pk=pending.invitation.pk).status == "pending"


# --- leaving one organisation ---------------------------------------------------------------------


def test_leaving_one_organisation_keeps_the_others(org, owner_actor, camille, make_user):
    """Camille joins Maison Dupont too, then Dupont's owner removes her: only Dupont's access ends."""
    person = camille.user
    autre = camille.organisation
    issued = invite_member(actor=owner_actor, email="camille@autre.fr", role=Role.ADMIN, site_url=SITE)
    here = accept_invitation(user=person, code=issued.code)
    _t, token_here = create_api_token(actor=Actor.for_user(person, org), name="here", scopes=["items.view"])
    _t, token_there = create_api_token(
        actor=Actor.for_user(person, autre), name="there", scopes=["items.view"]
    )
    browser, phone = Client(), Client()
    browser.force_login(person)
    phone.force_login(person)
    assert browser.get("/api/organisation", headers={"X-Palabre-Organisation": org.slug}).status_code == 200

    report = offboard_member(actor=owner_actor, membership=here)

    assert report["sessions_revoked"] == 0 and report["api_tokens_revoked"] == 1
    for device in (browser, phone):
        assert (
            device.get("/api/organisation", headers={"X-Palabre-Organisation": org.slug}).status_code == 401
        )
        mine = device.get("/api/organisation")
        assert mine.status_code == 200 and mine.json()["slug"] == autre.slug
        assert device.get(reverse("home")).status_code == 200
    assert _bearer(token_here).get("/api/items").status_code == 401
    assert _bearer(token_there).get("/api/items").status_code == 200
    assert ApiToken.objects.get(name="there").revoked_at is None


def _bearer(raw: str) -> Client:
    return Client(headers={"Authorization": f"Bearer {raw}"})


# --- accepting through the API and the pages ----------------------------------------------------


def test_accepting_through_the_api_needs_a_signed_in_person(org, owner_actor, make_user, client):
    issued = invite_member(actor=owner_actor, email="lea@example.com", role=Role.ANALYST, site_url=SITE)
    _t, raw = create_api_token(actor=owner_actor, name="bot", scopes=["members.manage"])
    by_token = _bearer(raw).post("/api/invitations/accept", {"code": issued.code}, "application/json")
    assert by_token.status_code == 401
    lea = make_user("lea")
    client.force_login(lea)
    joined = client.post("/api/invitations/accept", {"code": issued.code}, "application/json")
    assert joined.status_code == 201 and joined.json() == {"organisation": org.slug, "role": "analyst"}
    again = client.post("/api/invitations/accept", {"code": issued.code}, "application/json")
    assert again.status_code == 422 and "code" in again.json()["fields"]


def test_the_link_accepts_nothing_until_posted(org, owner_actor, make_user, client):
    issued = invite_member(actor=owner_actor, email="lea@example.com", role=Role.ANALYST, site_url=SITE)
    client.force_login(make_user("lea"))
    path = reverse("invitation", args=[issued.code])
    assert client.get(path).status_code == 200
    assert not Membership.objects.filter(user__username="lea").exists()
    assert client.post(path).status_code == 302
    assert Membership.objects.filter(user__username="lea", organisation=org).exists()


@pytest.mark.parametrize("typed", ["a/b", "../../admin", "plbinv_x y", "x" * 101])
def test_a_mistyped_code_is_answered_on_the_form(client, typed):
    response = client.get(reverse("invitation_code"), {"code": typed})
    assert response.status_code == 200 and 'class="error"' in response.content.decode()
