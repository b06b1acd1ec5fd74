"""A channel's options (YouTube's privacy of uploads, the subreddit a Reddit channel moderates):
declared by the connector, changed by an organisation's admin on the channel's Options page,
checked with the field named, in French and English, audited, never another organisation's."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from palabre.connectors import services
from palabre.orgs.models import AuditEvent
from palabre.orgs.permissions import Role


@pytest.fixture
def youtube(org, make_channel):
    return make_channel(org, "youtube", handle="UCmaisondupont", name="Chaîne YouTube")


@pytest.fixture
def admin_client(client, owner):
    client.force_login(owner)
    return client


def _url(channel) -> str:
    return reverse("connectors:channel_options", args=[channel.pk])


def test_an_admin_sets_the_privacy_of_uploads_and_it_is_audited(admin_client, youtube):
    page = admin_client.get(_url(youtube), HTTP_ACCEPT_LANGUAGE="en")
    html = page.content.decode()
    assert page.status_code == 200
    assert "Privacy of published videos" in html and 'value="unlisted"' in html
    answer = admin_client.post(_url(youtube), {"privacy_status": "unlisted"})
    assert answer.status_code == 302 and answer["Location"] == reverse(
        "connectors:channel", args=[youtube.pk]
    )
    youtube.refresh_from_db()
    assert youtube.options["privacy_status"] == "unlisted"
    event = AuditEvent.objects.get(action="connectors.options_updated")
    assert event.before == {} and event.after == {"privacy_status": "unlisted"}
    # Empty goes back to the connector's default (private), and keeps what the connector keeps itself.
    youtube.options = {
        **youtube.options,
        "platform_moderation": {"on_reject": "hide", "on_restore": "unhide"},
    }
    youtube.save(update_fields=["options"])
    admin_client.post(_url(youtube), {"privacy_status": ""})
    youtube.refresh_from_db()
    assert youtube.options == {"platform_moderation": {"on_reject": "hide", "on_restore": "unhide"}}


def test_a_bad_value_is_refused_with_its_field_named_and_kept(admin_client, youtube):
    answer = admin_client.post(_url(youtube), {"privacy_status": "everyone"}, HTTP_ACCEPT_LANGUAGE="en")
    assert answer.status_code == 400
    form = answer.context["form"]
    assert list(form.errors) == ["privacy_status"]
    assert "everyone" in form.errors["privacy_status"][0]
    youtube.refresh_from_db()
    assert "privacy_status" not in youtube.options


def test_the_refusal_is_in_french(admin_client, youtube):
    answer = admin_client.post(_url(youtube), {"privacy_status": "everyone"}, HTTP_ACCEPT_LANGUAGE="fr")
    html = answer.content.decode()
    assert answer.status_code == 400
    assert "Options de «\u202fChaîne YouTube\u202f»" in html or "Options de « Chaîne YouTube »" in html
    assert "Confidentialité des vidéos publiées" in html


def test_the_service_names_an_unknown_or_malformed_option(owner_actor, youtube):
    with pytest.raises(ValidationError) as refused:
        services.update_channel_options(
            actor=owner_actor, channel=youtube, values={"privacy": "public", "privacy_status": "nobody"}
        )
    assert set(refused.value.message_dict) == {"options.privacy", "options.privacy_status"}


def test_only_an_admin_of_the_organisation_may_change_them(
    client, org, make_member, youtube, make_org, owner_of, actor_for
):
    manager = make_member(org, Role.COMMUNITY_MANAGER).user
    client.force_login(manager)
    assert client.get(_url(youtube)).status_code == 403
    assert client.post(_url(youtube), {"privacy_status": "public"}).status_code == 403
    with pytest.raises(PermissionDenied):
        services.update_channel_options(
            actor=actor_for(manager, org), channel=youtube, values={"privacy_status": "public"}
        )
    stranger = owner_of(make_org("Concurrent"))
    client.force_login(stranger)
    assert client.get(_url(youtube)).status_code == 404
    assert client.post(_url(youtube), {"privacy_status": "public"}).status_code == 404
    youtube.refresh_from_db()
    assert "privacy_status" not in youtube.options


def test_the_channel_page_links_to_the_options_for_an_admin_only(
    admin_client, youtube, org, make_member, client
):
    page = admin_client.get(reverse("connectors:channel", args=[youtube.pk])).content.decode()
    assert _url(youtube) in page
    admin_client.logout()
    client.force_login(make_member(org, Role.COMMUNITY_MANAGER).user)
    assert _url(youtube) not in client.get(reverse("connectors:channel", args=[youtube.pk])).content.decode()


def test_a_platform_without_options_says_so(admin_client, org, make_channel):
    feed = make_channel(org, "rss", handle="https://blog.maison-dupont.fr/feed/", name="Blog")
    page = admin_client.get(_url(feed), HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 200
    assert "has no options to set" in page.content.decode()


def _api(client, method, channel, secret, body=None):
    url = f"/api/connectors/channels/{channel.pk}/options"
    headers = {"HTTP_AUTHORIZATION": f"Bearer {secret}", "HTTP_ACCEPT_LANGUAGE": "en"}
    if method == "get":
        return client.get(url, **headers)
    return client.put(url, body, content_type="application/json", **headers)


def test_the_api_reads_and_sets_them_naming_a_refused_option(
    client, owner_actor, youtube, make_org, owner_of, actor_for
):
    from palabre.orgs.permissions import Perm
    from palabre.orgs.services import create_api_token

    _token, secret = create_api_token(actor=owner_actor, name="bot", scopes=[p.value for p in Perm])
    read = _api(client, "get", youtube, secret).json()
    assert read["options"] == {}
    assert [field["name"] for field in read["fields"]] == ["privacy_status"]
    assert read["fields"][0]["choices"] == ["private", "unlisted", "public"]
    answer = _api(client, "put", youtube, secret, {"options": {"privacy_status": "public"}})
    assert answer.status_code == 200 and answer.json()["options"] == {"privacy_status": "public"}
    refused = _api(client, "put", youtube, secret, {"options": {"privacy_status": "all", "colour": "red"}})
    assert refused.status_code == 422
    assert set(refused.json()["fields"]) == {"options.privacy_status", "options.colour"}
    youtube.refresh_from_db()
    assert youtube.options["privacy_status"] == "public"
    # Another organisation's token sees no such channel.
    concurrent = make_org("Concurrent")
    _t, other = create_api_token(
        actor=actor_for(owner_of(concurrent), concurrent), name="other", scopes=[p.value for p in Perm]
    )
    assert _api(client, "put", youtube, other, {"options": {"privacy_status": "private"}}).status_code == 404
