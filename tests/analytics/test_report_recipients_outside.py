"""An address outside the organisation receiving its report e-mails is a standing export of its
figures: adding one needs the permission to change the organisation's settings (org.manage), the
recipient records who added it, and it goes when that person leaves (audit log, offboarding
report). Members' addresses need only analytics.view, as before."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from palabre.analytics import services
from palabre.analytics.models import ReportRecipient
from palabre.orgs.models import AuditEvent
from palabre.orgs.permissions import Role
from palabre.orgs.services import Actor, change_role, create_api_token, offboard_member

pytestmark = pytest.mark.django_db

REFUSAL_FR = (
    "Seul un membre autorisé à modifier les réglages de l’organisation ajoute une adresse "
    "extérieure\u202f; choisissez un membre."
)


@pytest.fixture
def analyst(org, make_member):
    return make_member(org, Role.ANALYST, username="claire", email="claire@maison-dupont.fr")


@pytest.fixture
def admin(org, make_member):
    return make_member(org, Role.ADMIN, username="marc", email="marc@maison-dupont.fr")


def _outside(actor, email="direction@maison-dupont.fr"):
    return services.add_recipient(actor=actor, email=email, language="fr", weekly=True, monthly=False)


def test_the_service_refuses_an_outside_address_to_an_analyst_and_a_community_manager(
    org, analyst, make_member
):
    cm = make_member(org, Role.COMMUNITY_MANAGER, username="sarah")
    for membership in (analyst, cm):
        with pytest.raises(ValidationError) as refused:
            _outside(Actor.for_user(membership.user, org))
        assert list(refused.value.message_dict) == ["email"]
    # A member's address stays theirs to add.
    services.add_recipient(
        actor=Actor.for_user(analyst.user, org),
        member_id=analyst.user_id,
        language="fr",
        weekly=True,
        monthly=False,
    )
    assert list(ReportRecipient.objects.for_org(org).values_list("user_id", "email")) == [
        (analyst.user_id, "")
    ]


def test_the_page_says_why_and_keeps_what_was_typed(client, org, analyst):
    client.force_login(analyst.user)
    page = client.get("/analytics/emails/", HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert "Une adresse extérieure à l’organisation demande" in page  # said before it is typed
    refused = client.post(
        "/analytics/emails/recipients/",
        {"email": "ami@ailleurs.example", "language": "en", "monthly": "on"},
        HTTP_ACCEPT_LANGUAGE="fr",
    )
    assert refused.status_code == 400
    html = refused.content.decode()
    # The reason is next to the address field, which keeps what was typed.
    field = html[html.index('<div class="field has-error">') :].split("</div>")[0]
    assert 'name="email"' in field and 'value="ami@ailleurs.example"' in field and REFUSAL_FR in field
    assert '<option value="en" selected>' in html
    assert ReportRecipient.objects.for_org(org).count() == 0


def test_the_api_refuses_naming_the_field_and_says_who_added_a_recipient(client, org, analyst, owner_of):
    client.force_login(analyst.user)
    url = "/api/analytics/report-recipients"
    body = {"email": "ami@ailleurs.example", "language": "fr"}
    refused = client.post(url, body, content_type="application/json", HTTP_ACCEPT_LANGUAGE="fr")
    assert refused.status_code == 422 and refused.json()["fields"] == {"email": [REFUSAL_FR]}
    owner = owner_of(org)
    client.force_login(owner)
    added = client.post(url, body, content_type="application/json")
    assert added.status_code == 201 and added.json()["added_by"] == owner.get_username()
    assert ReportRecipient.objects.get(pk=added.json()["id"]).created_by_id == owner.pk


def test_a_leaving_member_takes_the_outside_addresses_they_added_with_them(client, org, admin, owner_of):
    owner = owner_of(org)
    as_admin = Actor.for_user(admin.user, org)
    mine = _outside(as_admin)
    _token, raw = create_api_token(actor=as_admin, name="reports", scopes=["analytics.view", "org.manage"])
    by_token = client.post(
        "/api/analytics/report-recipients",
        {"email": "agence@ailleurs.example", "language": "en"},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {raw}",
    ).json()
    kept_member = services.add_recipient(
        actor=as_admin, member_id=owner.pk, language="fr", weekly=True, monthly=False
    )
    theirs = _outside(Actor.for_user(owner, org), email="conseil@ailleurs.example")
    assert ReportRecipient.objects.get(pk=by_token["id"]).created_by_id == admin.user_id

    report = offboard_member(actor=Actor.for_user(owner, org), membership=admin)

    assert set(ReportRecipient.objects.for_org(org).values_list("pk", flat=True)) == {
        kept_member.pk,
        theirs.pk,
    }
    removed = AuditEvent.objects.filter(organisation=org, action="analytics.report_recipient_removed")
    assert sorted(e.before["email"] for e in removed) == ["agence@ailleurs.example", mine.email]
    assert {e.after["reason"] for e in removed} == {"added_by_member_left"}
    work = [w for w in report["handover"]["work"] if w["kind"] == "report_recipient"]
    assert sorted(w["label"] for w in work) == ["agence@ailleurs.example", "direction@maison-dupont.fr"]
    client.force_login(owner)
    page = client.get(f"/members/{admin.pk}/report/", HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert "Adresses extérieures retirées des rapports" in page and "agence@ailleurs.example" in page


def test_a_member_demoted_below_org_manage_no_longer_keeps_the_outside_addresses_they_added(
    org, admin, owner_of, make_member
):
    """A demotion would otherwise leave a standing export that its author could not set up any more."""
    owner = Actor.for_user(owner_of(org), org)
    other_admin = make_member(org, Role.ADMIN, username="lea")
    theirs = _outside(Actor.for_user(admin.user, org))
    kept = _outside(Actor.for_user(other_admin.user, org), email="conseil@ailleurs.example")

    change_role(actor=owner, membership=other_admin, role=Role.OWNER)  # still org.manage: nothing goes
    change_role(actor=owner, membership=admin, role=Role.ANALYST)

    assert list(ReportRecipient.objects.for_org(org).values_list("pk", flat=True)) == [kept.pk]
    removed = AuditEvent.objects.get(organisation=org, action="analytics.report_recipient_removed")
    assert removed.before["email"] == theirs.email
    assert removed.after == {"reason": "added_by_lost_permission", "added_by": "marc"}
    # Made admin again, the person adds what they need again: nothing comes back by itself.
    change_role(actor=owner, membership=admin, role=Role.ADMIN)
    assert ReportRecipient.objects.for_org(org).count() == 1


def test_an_account_deleted_outright_takes_the_outside_addresses_it_added(org, admin, owner_of):
    """Deleted from Django's admin or a shell, the account never left: its outside addresses would
    stay with no one behind them (created_by emptied)."""
    owner = Actor.for_user(owner_of(org), org)
    theirs = _outside(Actor.for_user(admin.user, org))
    kept = _outside(owner, email="conseil@ailleurs.example")

    admin.user.delete()

    assert list(ReportRecipient.objects.for_org(org).values_list("pk", flat=True)) == [kept.pk]
    removed = AuditEvent.objects.get(organisation=org, action="analytics.report_recipient_removed")
    assert removed.before["email"] == theirs.email
    assert removed.after == {"reason": "added_by_account_deleted", "added_by": "marc"}
