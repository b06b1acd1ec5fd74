"""What the pages do: forms that keep what was typed, htmx fragments, and the changes they make."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from palabre.orgs import services
from palabre.orgs.models import ApiToken, AuditEvent, Channel, Invitation, Membership, UserPreference
from palabre.orgs.permissions import MATRIX, Perm, Role
from palabre.orgs.services import Actor

HTMX = {"HX-Request": "true"}
PASSWORD = "Palabre-test-2024!"


def page(response) -> str:
    return response.content.decode()


# --- signing in, language, organisations --------------------------------------------------------


def test_login_keeps_the_user_name_after_a_wrong_password(world, client):
    response = client.post(reverse("login"), {"username": "owner", "password": "wrong"})
    assert response.status_code == 200
    assert 'value="owner"' in page(response)
    assert "errorlist" in page(response) or 'class="error"' in page(response)
    response = client.post(reverse("login"), {"username": "owner", "password": PASSWORD})
    assert response.status_code == 302 and response.url == reverse("home")


def test_logout_ends_the_session(owner_client):
    assert owner_client.post(reverse("logout")).status_code == 302
    assert owner_client.get(reverse("home")).status_code == 302


def test_language_choice_is_saved_for_the_person_and_in_the_cookie(world, owner_client):
    response = owner_client.post(reverse("language"), {"language": "en", "next": reverse("channels")})
    assert response.status_code == 302 and response.url == reverse("channels")
    assert UserPreference.objects.get(user=world.users[Role.OWNER]).language == "en"
    assert response.cookies["palabre_language"].value == "en"
    assert "Channels" in page(owner_client.get(reverse("channels")))
    owner_client.post(reverse("language"), {"language": "fr", "next": reverse("channels")})
    french = page(owner_client.get(reverse("channels")))
    assert '<html lang="fr">' in french and "Canaux" in french


def test_anonymous_language_choice_uses_the_cookie(world, client):
    response = client.post(reverse("language"), {"language": "en", "next": reverse("login")})
    assert response.cookies["palabre_language"].value == "en"
    assert "Sign in to Palabre" in page(client.get(reverse("login")))


def test_switching_organisation(world, login):
    services.add_member(actor=Actor.palabre(world.other), username="analyst", role="analyst")
    client = login(world.users[Role.ANALYST])
    assert "Maison Dupont" in page(client.get(reverse("home")))
    response = client.post(reverse("switch_organisation"), {"organisation": world.other.pk})
    assert response.status_code == 302
    home = page(client.get(reverse("home")))
    assert "<h1>Autre Marque</h1>" in home
    # Not a member there: no switching into it.
    outsider = login(world.users[Role.MODERATOR])
    assert outsider.post(reverse("switch_organisation"), {"organisation": world.other.pk}).status_code == 404


def test_switching_organisation_with_htmx_redirects_home(world, login):
    services.add_member(actor=Actor.palabre(world.other), username="analyst", role="analyst")
    client = login(world.users[Role.ANALYST])
    response = client.post(reverse("switch_organisation"), {"organisation": world.other.pk}, headers=HTMX)
    assert response.headers["HX-Redirect"] == reverse("home")


def test_person_without_organisation_lands_on_the_welcome_page(db, client):
    person = get_user_model().objects.create_user("lonely", password=PASSWORD)
    client.force_login(person)
    response = client.get(reverse("home"))
    assert response.status_code == 302 and response.url == reverse("no_organisation")
    welcome = client.get(reverse("no_organisation"))
    assert welcome.status_code == 200 and b"<form" not in welcome.content.split(b"<main")[1]


def test_an_administrator_of_the_install_creates_the_first_organisation(db, client):
    admin = get_user_model().objects.create_superuser("root", password=PASSWORD)
    client.force_login(admin)
    response = client.post(reverse("no_organisation"), {"name": "  ", "slug": ""})
    assert response.status_code == 200 and 'class="error"' in page(response)
    response = client.post(reverse("no_organisation"), {"name": "Café Lumière", "slug": ""})
    assert response.status_code == 302
    assert "Café Lumière" in page(client.get(reverse("home")))


# --- home ---------------------------------------------------------------------------------------


def test_home_shows_counts_latest_items_and_audit(world, owner_client):
    content = page(owner_client.get(reverse("home")))
    assert "Bonjour, où est ma commande ?" in content
    assert reverse("audit") in content
    tiles = content.split('class="tiles"')[1].split("</div>\n</div>")[0]
    assert '<div class="value">1</div>' in tiles  # channels
    assert '<div class="value">7</div>' in tiles  # members
    assert '<div class="value">3</div>' in tiles  # items of the last 7 days


def test_home_of_an_agency_guest_has_no_members_nor_audit(world, login):
    content = page(login(world.users[Role.AGENCY_GUEST]).get(reverse("home")))
    assert reverse("audit") not in content and reverse("members") not in content
    assert "Bonjour, où est ma commande ?" in content


# --- channels -----------------------------------------------------------------------------------


def test_create_a_brand_channel(world, owner_client):
    response = owner_client.post(
        reverse("channel_create"), {"platform": "bluesky", "handle": "dupont.bsky.social", "name": "Bluesky"}
    )
    assert response.status_code == 302
    channel = Channel.objects.get(organisation=world.organisation, platform="bluesky")
    assert channel.kind == "brand" and channel.status == "active"
    assert AuditEvent.objects.filter(action="channel.created", target_id=str(channel.pk)).exists()


def test_channel_form_keeps_the_input_and_shows_the_error_next_to_the_field(world, owner_client):
    response = owner_client.post(
        reverse("channel_create"), {"platform": "mastodon", "handle": "@dupont@piaille.fr", "name": "Doublon"}
    )
    assert response.status_code == 200
    content = page(response)
    assert 'value="Doublon"' in content and 'value="@dupont@piaille.fr"' in content
    handle_field = content.split('for="id_handle"')[1].split('<div class="field')[0]
    assert 'class="error"' in handle_field
    assert Channel.objects.filter(organisation=world.organisation).count() == 1


def test_connect_my_own_account_waits_for_an_owner(world, login):
    manager = world.users[Role.COMMUNITY_MANAGER]
    client = login(manager)
    client.post(
        reverse("channel_create"),
        {"platform": "x", "handle": "@cm_perso", "name": "Compte de la CM", "spokesperson": "on"},
    )
    channel = Channel.objects.get(handle="@cm_perso")
    assert channel.kind == "spokesperson" and channel.status == "awaiting_approval"
    assert channel.spokesperson == manager
    # An administrator cannot approve it; an owner can.
    admin = login(world.users[Role.ADMIN])
    assert admin.post(reverse("channel_approve", args=[channel.pk])).status_code == 403
    assert reverse("channel_approve", args=[channel.pk]) not in page(admin.get(reverse("channels")))
    owner = login(world.users[Role.OWNER])
    assert reverse("channel_approve", args=[channel.pk]) in page(owner.get(reverse("channels")))
    assert owner.post(reverse("channel_approve", args=[channel.pk])).status_code == 302
    channel.refresh_from_db()
    assert channel.status == "active" and channel.can_publish


def test_edit_a_channel(world, owner_client):
    url = reverse("channel_edit", args=[world.channel.pk])
    form = page(owner_client.get(url))
    assert 'value="Piaille"' in form
    response = owner_client.post(url, {"name": "", "handle": "@nouveau", "status": "paused"})
    assert response.status_code == 200 and 'value="@nouveau"' in page(response)
    response = owner_client.post(url, {"name": "Piaille FR", "handle": "@nouveau", "status": "paused"})
    assert response.status_code == 302
    world.channel.refresh_from_db()
    assert (world.channel.name, world.channel.handle, world.channel.status) == (
        "Piaille FR",
        "@nouveau",
        "paused",
    )


def test_a_spokesperson_channel_cannot_be_activated_by_editing(world, login):
    manager = login(world.users[Role.COMMUNITY_MANAGER])
    manager.post(
        reverse("channel_create"), {"platform": "x", "handle": "@moi", "name": "Moi", "spokesperson": "on"}
    )
    channel = Channel.objects.get(handle="@moi")
    response = manager.post(
        reverse("channel_edit", args=[channel.pk]), {"name": "Moi", "handle": "@moi", "status": "active"}
    )
    assert response.status_code == 200
    status_field = page(response).split('for="id_status"')[1]
    assert 'class="error"' in status_field.split('<div class="field')[0]
    channel.refresh_from_db()
    assert channel.status == "awaiting_approval"


def test_credentials_are_write_only(world, owner_client):
    url = reverse("channel_credentials", args=[world.channel.pk])
    # A Mastodon channel: one field per credential its connector declares.
    response = owner_client.post(
        url,
        {"credential_access_token": "tres-secret-123", "credential_api_base_url": "https://piaille.fr/"},
    )
    # Stored, then tried at once: piaille.fr cannot be reached from the tests, so the page stays
    # and says so, with what was typed kept for a correction.
    assert response.status_code == 200 and "Échec de la connexion" in response.content.decode()
    world.channel.refresh_from_db()
    assert world.channel.read_credentials() == {
        "access_token": "tres-secret-123",
        "api_base_url": "https://piaille.fr",
    }
    for name in ("channels", "audit", "home"):
        content = page(owner_client.get(reverse(name)))
        assert "tres-secret-123" not in content
    assert "tres-secret-123" not in page(owner_client.get(url))
    assert "Configur" in page(owner_client.get(reverse("channels")))
    response = owner_client.post(
        url, {"credentials_json": '{"access_token": "cle-json", "api_base_url": "https://piaille.fr"}'}
    )
    # Stored, then tried at once: piaille.fr cannot be reached from the tests, so the page stays
    # and says so, with what was typed kept for a correction.
    assert response.status_code == 200 and "Échec de la connexion" in response.content.decode()
    world.channel.refresh_from_db()
    assert world.channel.read_credentials() == {
        "access_token": "cle-json",
        "api_base_url": "https://piaille.fr",
    }


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"credentials_json": "{pas du json"}, "credentials_json"),
        ({"credentials_json": "[1, 2]"}, "credentials_json"),
        ({"credential_access_token": "t"}, "credential_api_base_url"),
        (
            {"credential_access_token": "t", "credential_api_base_url": "http://piaille.fr"},
            "credential_api_base_url",
        ),
    ],
)
def test_credentials_form_errors_keep_the_input(world, owner_client, data, field):
    response = owner_client.post(reverse("channel_credentials", args=[world.channel.pk]), data)
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    content = page(response)
    assert 'class="error"' in content.split(f'for="id_{field}"')[1].split('<div class="field')[0]
    if "credentials_json" in data:
        assert data["credentials_json"].replace('"', "&quot;").replace("'", "&#x27;") in content
    world.channel.refresh_from_db()
    assert not world.channel.has_credentials


def test_empty_credentials_form_is_refused(world, owner_client):
    response = owner_client.post(reverse("channel_credentials", args=[world.channel.pk]), {})
    assert response.status_code == 200 and "alert danger" in page(response)


# --- members ------------------------------------------------------------------------------------


def test_invite_a_member_who_joins_with_a_new_account(world, owner_client, mailoutbox):
    response = owner_client.post(
        reverse("member_invite"), {"email": "nouvelle@dupont.example", "role": "moderator"}
    )
    content = page(response)
    assert response.status_code == 200 and response["Cache-Control"] == "no-store"
    link = next(line for line in mailoutbox[0].body.splitlines() if line.startswith("http"))
    assert link.startswith("http://testserver/invitations/plbinv_") and link in content
    assert not Membership.objects.filter(user__username="nouvelle").exists()

    path = link.removeprefix("http://testserver")
    client = Client()  # the invited person, not signed in
    assert "Maison Dupont" in page(client.get(path))
    response = client.post(
        path, {"username": "nouvelle", "email": "nouvelle@dupont.example", "password": "court"}
    )
    assert response.status_code == 200 and 'value="nouvelle"' in page(response)
    response = client.post(path, {"username": "nouvelle", "email": "", "password": PASSWORD})
    assert response.status_code == 302
    membership = Membership.objects.active().get(organisation=world.organisation, user__username="nouvelle")
    assert membership.role == "moderator"
    assert "Maison Dupont" in page(client.get(reverse("home")))
    # Used up (the page is in French, the install's language, for this person).
    assert "Cette invitation a déjà servi." in page(client.get(path))


def test_a_signed_in_person_joins_with_a_code(world, login):
    issued = services.invite_member(
        actor=world.actor(), email="rival-cm@autre.example", role="analyst", site_url="http://testserver/"
    )
    client = login(world.other_membership.user)
    response = client.get(reverse("invitation_code"), {"code": issued.code})
    assert response.status_code == 302
    assert 'method="post"' in page(client.get(response["Location"]))
    assert client.post(response["Location"]).status_code == 302
    assert Membership.objects.active().filter(organisation=world.organisation, role="analyst").count() == 2
    assert client.get(reverse("invitation", args=["plbinv_nothing"])).status_code == 404


def test_invite_form_keeps_the_input_on_errors(world, owner_client):
    response = owner_client.post(reverse("member_invite"), {"email": "pas-un-email", "role": "analyst"})
    content = page(response)
    assert response.status_code == 200 and 'value="pas-un-email"' in content
    assert 'class="error"' in content.split('for="id_email"')[1].split('<div class="field')[0]
    assert '<option value="analyst" selected>' in content


def test_an_administrator_cannot_invite_an_owner(world, login):
    client = login(world.users[Role.ADMIN])
    form = page(client.get(reverse("member_invite")))
    assert 'value="owner"' not in form
    response = client.post(reverse("member_invite"), {"email": "boss2@example.com", "role": "owner"})
    assert response.status_code == 200 and 'class="error"' in page(response)
    assert not Invitation.objects.exists()


def test_pending_invitations_are_listed_and_withdrawn(world, owner_client):
    issued = services.invite_member(
        actor=world.actor(), email="bientot@dupont.example", role="analyst", site_url="http://testserver/"
    )
    assert "<td>bientot@dupont.example</td>" in page(owner_client.get(reverse("members")))
    response = owner_client.post(reverse("invitation_revoke", args=[issued.invitation.pk]))
    assert response.status_code == 302
    assert "<td>bientot@dupont.example</td>" not in page(owner_client.get(reverse("members")))
    assert "Cette invitation a été retirée." in page(
        owner_client.get(reverse("invitation", args=[issued.code]))
    )


def test_change_role_inline_with_htmx(world, owner_client):
    target = world.memberships[Role.CONTRIBUTOR]
    response = owner_client.post(
        reverse("member_role", args=[target.pk]), {"role": "moderator"}, headers=HTMX
    )
    assert response.status_code == 200
    content = page(response)
    assert content.strip().startswith(f'<tr id="member-{target.pk}">')
    assert '<option value="moderator" selected>' in content and "<html" not in content
    target.refresh_from_db()
    assert target.role == "moderator"
    event = AuditEvent.objects.get(action="member.role_changed")
    assert (event.before, event.after) == ({"role": "contributor"}, {"role": "moderator"})


def test_change_role_without_htmx_redirects(world, owner_client):
    target = world.memberships[Role.CONTRIBUTOR]
    response = owner_client.post(reverse("member_role", args=[target.pk]), {"role": "analyst"})
    assert response.status_code == 302 and response.url == reverse("members")


def test_the_last_owner_keeps_the_role_and_the_row_says_why(world, owner_client):
    owner = world.memberships[Role.OWNER]
    response = owner_client.post(reverse("member_role", args=[owner.pk]), {"role": "admin"}, headers=HTMX)
    content = page(response)
    assert 'class="error"' in content and '<option value="owner" selected>' in content
    owner.refresh_from_db()
    assert owner.role == "owner"


def test_an_administrator_sees_the_owner_row_read_only(world, login):
    client = login(world.users[Role.ADMIN])
    owner = world.memberships[Role.OWNER]
    content = page(client.get(reverse("members")))
    assert reverse("member_role", args=[owner.pk]) not in content
    assert reverse("member_remove", args=[owner.pk]) not in content
    assert client.get(reverse("member_remove", args=[owner.pk])).status_code == 403
    response = client.post(reverse("member_role", args=[owner.pk]), {"role": "analyst"}, headers=HTMX)
    assert 'class="error"' in page(response)
    owner.refresh_from_db()
    assert owner.role == "owner"


def test_remove_a_member_shows_the_access_report_then_the_result(world, owner_client, login):
    manager = world.memberships[Role.ADMIN]
    services.create_api_token(
        actor=world.actor(Role.ADMIN), name="Script de la CM", scopes=[Perm.ITEMS_VIEW.value]
    )
    url = reverse("member_remove", args=[manager.pk])
    confirm = page(owner_client.get(url))
    assert "Piaille" in confirm and "Script de la CM" in confirm
    manager.refresh_from_db()
    assert manager.is_active  # looking is not removing
    response = owner_client.post(url)
    assert response.status_code == 302 and response.url == reverse("member_report", args=[manager.pk])
    report = page(owner_client.get(response.url))
    assert "Script de la CM" in report and "Piaille" in report
    manager.refresh_from_db()
    assert not manager.is_active
    assert ApiToken.objects.get(name="Script de la CM").revoked_at is not None
    members = page(owner_client.get(reverse("members")))
    former = members.split('id="former-members"')[-1] if 'id="former-members"' in members else members
    assert reverse("member_report", args=[manager.pk]) in former
    # Gone means gone: the former member's pages answer like a stranger's.
    assert login(world.users[Role.ADMIN]).get(reverse("channels")).status_code == 302


def test_report_of_an_active_member_does_not_exist(world, owner_client):
    assert (
        owner_client.get(reverse("member_report", args=[world.memberships[Role.ANALYST].pk])).status_code
        == 404
    )


def test_permission_matrix_page_lists_every_role_and_permission(world, login):
    content = page(login(world.users[Role.CONTRIBUTOR]).get(reverse("permissions")))
    for perm in Perm:
        assert f"<code>{perm.value}</code>" in content
    assert content.count('class="yes"') == sum(len(perms) for perms in MATRIX.values())


# --- audit --------------------------------------------------------------------------------------


def test_audit_log_filters_and_htmx_fragment(world, owner_client):
    url = reverse("audit")
    full = page(owner_client.get(url))
    assert 'id="audit-results"' in full and "<html" in full
    fragment = page(owner_client.get(url, {"action": "channel.created"}, headers=HTMX))
    assert "<html" not in fragment and "Piaille" in fragment and "member.added" not in fragment
    by_text = page(owner_client.get(url, {"q": "analyst"}, headers=HTMX))
    assert "analyst" in by_text and "channel.created" not in by_text
    by_actor = page(owner_client.get(url, {"actor": "rival"}, headers=HTMX))
    assert "0 " in by_actor  # another organisation's people are not even a choice
    tomorrow = (date.today() + timedelta(days=2)).isoformat()
    future = page(owner_client.get(url, {"date_from": tomorrow}, headers=HTMX))
    assert "channel.created" not in future
    today = page(owner_client.get(url, {"date_to": tomorrow, "target_type": "orgs.channel"}, headers=HTMX))
    assert "channel.created" in today and "member.added" not in today


def test_audit_log_rejects_an_inverted_date_range(world, owner_client):
    content = page(owner_client.get(reverse("audit"), {"date_from": "2024-05-10", "date_to": "2024-05-01"}))
    assert 'value="2024-05-10"' in content and "alert danger" in content


def test_audit_log_is_paginated(world, owner_client):
    actor = world.actor()
    # Sites, not feeds: a feed's address is looked up, and 60 look-ups in a row made the resolver
    # of a machine without network stall 5 s now and then.
    for number in range(60):
        services.create_channel(
            actor=actor, platform="site", handle=f"blog{number}.example.fr", name=f"Flux {number}"
        )
    first = page(owner_client.get(reverse("audit")))
    assert "page=2" in first
    second = page(owner_client.get(reverse("audit"), {"page": 2}, headers=HTMX))
    assert "Flux 0" in second and "<html" not in second


# --- tokens -------------------------------------------------------------------------------------


def test_token_is_shown_once(world, owner_client):
    response = owner_client.post(
        reverse("token_create"), {"name": "Forum", "scopes": ["items.ingest", "items.view"]}
    )
    assert response.status_code == 200 and response["Cache-Control"] == "no-store"
    content = page(response)
    plaintext = content.split('id="token-value" type="text" readonly value="')[1].split('"')[0]
    assert plaintext.startswith("plb_")
    assert services.authenticate_token(plaintext).name == "Forum"
    assert plaintext not in page(owner_client.get(reverse("tokens")))


def test_token_scopes_are_limited_to_what_the_creator_may_do(world, login):
    client = login(world.users[Role.ADMIN])
    form = page(client.get(reverse("token_create")))
    assert 'value="spokesperson.approve"' not in form and 'value="items.view"' in form
    response = client.post(reverse("token_create"), {"name": "Trop", "scopes": ["spokesperson.approve"]})
    assert response.status_code == 200 and 'value="Trop"' in page(response)
    assert not ApiToken.objects.filter(name="Trop").exists()


def test_token_form_keeps_input_on_a_past_expiry(world, owner_client):
    response = owner_client.post(
        reverse("token_create"), {"name": "Ancien", "scopes": ["items.view"], "expires_on": "2020-01-01"}
    )
    content = page(response)
    assert response.status_code == 200 and 'value="Ancien"' in content and 'value="2020-01-01"' in content
    assert 'class="error"' in content.split('for="id_expires_on"')[1].split('<div class="field')[0]
    assert 'value="items.view" id="id_scopes_' in content and "checked" in content


def test_revoke_a_token(world, owner_client):
    response = owner_client.post(reverse("token_revoke", args=[world.token.pk]))
    assert response.status_code == 302
    world.token.refresh_from_db()
    assert world.token.revoked_at is not None


# --- conversations ------------------------------------------------------------------------------


def test_items_list_filters(world, owner_client):
    url = reverse("conversations:items")
    everything = page(owner_client.get(url))
    assert everything.index("Love the new chairs!") < everything.index("Bonjour, où est ma commande ?")
    english = page(owner_client.get(url, {"language": "en"}, headers=HTMX))
    assert "Love the new chairs!" in english and "Bonjour" not in english and "<html" not in english
    replies = page(owner_client.get(url, {"kind": "reply"}))
    assert "Elle arrive demain" in replies and "Love the new" not in replies
    search = page(owner_client.get(url, {"q": "COMMANDE"}))
    assert "Bonjour, où est ma commande ?" in search and "Love" not in search
    by_channel = page(owner_client.get(url, {"channel": world.channel.pk}))
    assert "Love the new chairs!" in by_channel
    assert "Un message" not in page(owner_client.get(url, {"channel": world.other_channel.pk}))


def test_items_list_is_paginated(world, owner_client, make_item):
    for number in range(35):
        make_item(world.channel, f"p{number}", f"Message numéro {number}", ago=10 + number)
    first = page(owner_client.get(reverse("conversations:items")))
    assert "page=2" in first and "Message numéro 0" in first and "Message numéro 34" not in first
    second = page(owner_client.get(reverse("conversations:items"), {"page": 2}))
    assert "Message numéro 34" in second


def test_item_detail_shows_thread_author_contact_and_metrics(world, owner_client):
    root, reply, _english = world.items
    content = page(owner_client.get(reverse("conversations:item", args=[reply.pk])))
    assert "Elle arrive demain" in content and "Bonjour, où est ma commande ?" in content
    assert "@2-author" in content and "Auteur 2" in content and "likes" in content
    root_page = page(owner_client.get(reverse("conversations:item", args=[root.pk])))
    assert reverse("conversations:item", args=[reply.pk]) in root_page


# --- no N+1 on list pages ----------------------------------------------------------------------


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


@pytest.mark.parametrize("name", ["channels", "members", "audit", "tokens", "conversations:items", "home"])
def test_list_pages_do_not_query_per_row(world, owner_client, name, make_item):
    before = _queries(owner_client, reverse(name))
    actor = world.actor()
    for number in range(5):
        channel = services.create_channel(
            actor=actor, platform="rss", handle=f"https://f{number}.example", name=f"F{number}"
        )
        make_item(channel, f"n{number}", f"Encore {number}")
        services.add_member(
            actor=Actor.palabre(world.organisation), username=f"extra{number}", role="analyst"
        )
        services.invite_member(
            actor=actor, email=f"extra{number}@example.com", role="analyst", site_url="http://testserver/"
        )
        services.create_api_token(actor=actor, name=f"T{number}", scopes=["items.view"])
    assert _queries(owner_client, reverse(name)) == before
