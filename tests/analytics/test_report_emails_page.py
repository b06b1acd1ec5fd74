"""The page of the report e-mails: who receives them, added and removed through the services, bad
input re-rendered with the field named, another organisation's recipients out of reach."""

from __future__ import annotations

import pytest

from palabre.analytics.models import ReportRecipient
from palabre.orgs.models import AuditEvent
from palabre.orgs.services import Actor

pytestmark = pytest.mark.django_db


@pytest.fixture
def analyst(org, make_member):
    return make_member(org, "analyst", username="claire", email="claire@maison-dupont.fr").user


@pytest.fixture
def signed_in(client, analyst):
    client.force_login(analyst)
    return client


def test_a_member_and_an_address_are_added_then_removed(signed_in, org, analyst, owner_of):
    page = signed_in.get("/analytics/emails/", HTTP_ACCEPT_LANGUAGE="fr")
    html = page.content.decode()
    assert page.status_code == 200
    assert "Rapports par e-mail" in html and "Personne ne reçoit encore les rapports." in html
    assert "claire &lt;claire@maison-dupont.fr&gt;" in html  # the members offered, with their address
    added = signed_in.post(
        "/analytics/emails/recipients/",
        {"member": analyst.pk, "language": "fr", "weekly": "on"},
        HTTP_ACCEPT_LANGUAGE="fr",
    )
    assert added.status_code == 302
    # An address outside the organisation: the owner adds it (org.manage).
    signed_in.force_login(owner_of(org))
    signed_in.post(
        "/analytics/emails/recipients/",
        {"email": "direction@maison-dupont.fr", "language": "en", "weekly": "on", "monthly": "on"},
    )
    rows = list(
        ReportRecipient.objects.for_org(org).values_list("user_id", "email", "language", "weekly", "monthly")
    )
    assert rows == [
        (analyst.pk, "", "fr", True, False),
        (None, "direction@maison-dupont.fr", "en", True, True),
    ]
    html = signed_in.get("/analytics/emails/", HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert "hebdomadaire et mensuel" in html and "direction@maison-dupont.fr" in html
    recipient = ReportRecipient.objects.get(email="direction@maison-dupont.fr")
    assert signed_in.post(f"/analytics/emails/recipients/{recipient.pk}/delete/").status_code == 302
    assert ReportRecipient.objects.for_org(org).count() == 1
    actions = list(
        AuditEvent.objects.filter(organisation=org, action__startswith="analytics.").values_list(
            "action", flat=True
        )
    )
    assert sorted(actions) == [
        "analytics.report_recipient_added",
        "analytics.report_recipient_added",
        "analytics.report_recipient_removed",
    ]


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        (
            {"language": "fr", "weekly": "on"},
            "member",
            "Choisissez un membre ou saisissez une adresse, pas les deux.",
        ),
        ({"email": "pas-une-adresse", "language": "fr", "weekly": "on"}, "email", "Saisissez une adresse"),
        (
            {"email": "a@b.fr", "language": "fr"},
            "weekly",
            "Choisissez le rapport hebdomadaire, le rapport mensuel ou les deux.",
        ),
        ({"email": "a@b.fr", "language": "de", "weekly": "on"}, "language", "Sélectionnez un choix valide"),
    ],
)
def test_bad_input_is_re_rendered_with_the_field_named(signed_in, org, data, field, message):
    answer = signed_in.post("/analytics/emails/recipients/", data, HTTP_ACCEPT_LANGUAGE="fr")
    html = answer.content.decode()
    assert answer.status_code == 400
    assert message in html
    # What was typed stays in the form.
    if "email" in data:
        assert f'value="{data["email"]}"' in html
    assert ReportRecipient.objects.for_org(org).count() == 0


def test_another_organisations_members_and_recipients_are_out_of_reach(signed_in, org, make_org, owner_of):
    from palabre.analytics import services

    other = make_org("Atelier Voisin", slug="atelier-voisin")
    stranger = owner_of(other)
    # Their member is not offered, and refused when posted all the same.
    refused = signed_in.post(
        "/analytics/emails/recipients/", {"member": stranger.pk, "language": "fr", "weekly": "on"}
    )
    assert refused.status_code == 400 and ReportRecipient.objects.count() == 0
    theirs = services.add_recipient(
        actor=Actor.for_user(stranger, other),
        email="voisin@atelier.fr",
        language="fr",
        weekly=True,
        monthly=False,
    )
    assert "voisin@atelier.fr" not in signed_in.get("/analytics/emails/").content.decode()
    assert signed_in.post(f"/analytics/emails/recipients/{theirs.pk}/delete/").status_code == 404
    assert ReportRecipient.objects.filter(pk=theirs.pk).exists()


def test_a_member_without_analytics_is_refused(client, org, make_member):
    client.force_login(make_member(org, "contributor").user)
    assert client.get("/analytics/emails/").status_code == 403
    assert (
        client.post("/analytics/emails/recipients/", {"email": "a@b.fr", "language": "fr"}).status_code == 403
    )


def test_members_are_offered_and_listed_by_their_name(signed_in, org, analyst):
    analyst.first_name, analyst.last_name = "Claire", "Dubois"
    analyst.save()
    html = signed_in.get("/analytics/emails/").content.decode()
    assert "Claire Dubois &lt;claire@maison-dupont.fr&gt;" in html
    signed_in.post("/analytics/emails/recipients/", {"member": analyst.pk, "language": "fr", "weekly": "on"})
    listed = signed_in.get("/analytics/emails/").content.decode()
    recipients = listed[listed.index('id="recipients-title"') : listed.index('id="add-title"')]
    assert "Claire Dubois &lt;claire@maison-dupont.fr&gt;" in recipients
    # French typography and the section's own name.
    french = signed_in.get("/analytics/emails/", HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert "Rapport mensuel (le 1ᵉʳ du mois)" in french and "Retour aux analyses" in french


def test_a_member_who_may_not_see_analytics_is_neither_offered_nor_accepted(signed_in, org, make_member):
    moderator = make_member(org, "moderator", username="thomas", email="thomas@maison-dupont.fr").user
    html = signed_in.get("/analytics/emails/", HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert "claire &lt;claire@maison-dupont.fr&gt;" in html
    assert "thomas@maison-dupont.fr" not in html
    # Posted all the same: the form names the field and keeps the rest of what was chosen.
    refused = signed_in.post(
        "/analytics/emails/recipients/",
        {"member": moderator.pk, "language": "fr", "weekly": "on"},
        HTTP_ACCEPT_LANGUAGE="fr",
    )
    assert refused.status_code == 400
    html = refused.content.decode()
    field = html[html.index('<select name="member"') :].split("</div>")[0]
    assert "Choisissez un membre dont le rôle permet de voir les statistiques et les rapports." in field
    assert ReportRecipient.objects.for_org(org).count() == 0


def test_the_service_refuses_a_member_without_analytics_naming_the_field(org, analyst, make_member):
    from django.core.exceptions import ValidationError

    from palabre.analytics import services

    contributor = make_member(org, "contributor", username="amandine").user
    with pytest.raises(ValidationError) as refused:
        services.add_recipient(
            actor=Actor.for_user(analyst, org),
            member_id=contributor.pk,
            language="fr",
            weekly=True,
            monthly=False,
        )
    assert refused.value.message_dict == {
        "member": ["Le rôle de ce membre ne permet pas de voir les statistiques et les rapports."]
    }


def _token(org):
    from palabre.orgs.services import create_api_token

    _token, raw = create_api_token(
        actor=Actor.palabre(org), name="reports", scopes=["analytics.view", "org.manage"]
    )
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


def test_the_api_adds_lists_and_removes_recipients_and_names_the_field_it_refuses(
    client, org, analyst, make_member, make_org, owner_of
):
    auth = _token(org)
    moderator = make_member(org, "moderator", username="thomas").user
    url = "/api/analytics/report-recipients"
    refused = client.post(
        url, {"member": moderator.pk, "language": "fr"}, content_type="application/json", **auth
    )
    assert refused.status_code == 422
    assert refused.json()["fields"] == {
        "member": ["Le rôle de ce membre ne permet pas de voir les statistiques et les rapports."]
    }
    added = client.post(
        url,
        {"member": analyst.pk, "language": "fr", "monthly": True},
        content_type="application/json",
        **auth,
    )
    assert added.status_code == 201
    body = added.json()
    assert (body["member"], body["email"], body["language"], body["weekly"], body["monthly"]) == (
        analyst.pk,
        "",
        "fr",
        True,
        True,
    )
    both = client.post(
        url,
        {"member": analyst.pk, "email": "a@b.fr", "language": "fr"},
        content_type="application/json",
        **auth,
    )
    assert both.status_code == 422 and set(both.json()["fields"]) == {"member"}
    assert [row["member"] for row in client.get(url, **auth).json()] == [analyst.pk]
    # Another organisation's token sees none of them and cannot remove them.
    other = make_org("Atelier Voisin", slug="atelier-voisin")
    owner_of(other)
    theirs = _token(other)
    assert client.get(url, **theirs).json() == []
    assert client.delete(f"{url}/{body['id']}", **theirs).status_code == 404
    assert client.delete(f"{url}/{body['id']}", **auth).status_code == 204
    assert ReportRecipient.objects.for_org(org).count() == 0
