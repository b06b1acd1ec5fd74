"""Credentials are checked against each connector's declared fields before they are stored: a
misspelled, missing or ill-typed field is refused with its name, in the API (422) and the form
(which keeps what was typed); addresses must be https unless the install allows the host."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.test import Client

from palabre.connectors.base import Capability
from palabre.connectors.credentials import clean
from palabre.connectors.registry import registered
from palabre.orgs.models import Channel
from palabre.orgs.permissions import Perm
from palabre.orgs.services import create_api_token, set_channel_credentials

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(org, owner_actor):
    _token, plaintext = create_api_token(actor=owner_actor, name="t", scopes=[p.value for p in Perm])
    client = Client(headers={"Authorization": f"Bearer {plaintext}"})

    def call(method: str, path: str, body=None):
        return getattr(client, method)(
            "/api" + path,
            data=json.dumps(body) if body is not None else None,
            content_type="application/json",
        )

    return call


def test_every_built_in_connector_declares_its_credentials():
    for platform, connector_class in registered().items():
        assert connector_class.credential_fields is not None, platform
        for field in connector_class.credential_fields:
            assert str(field.label) and (field.help or not field.required), (platform, field.name)


def test_a_misspelled_bluesky_service_is_refused_never_defaulted_to_bsky_social(api):
    answer = api(
        "post",
        "/channels",
        {
            "platform": "bluesky",
            "handle": "maison.example.com",
            "name": "Bluesky",
            "credentials": {
                "identifier": "maison.example.com",
                "app_password": "abcd",
                "servcie": "https://pds.maison.example",
            },
        },
    )
    assert answer.status_code == 422
    fields = answer.json()["fields"]
    assert list(fields) == ["credentials.servcie"]
    assert "service" in fields["credentials.servcie"][0]  # the field it was probably meant to be
    assert not Channel.objects.filter(handle="maison.example.com").exists()


def test_a_missing_field_is_named(api):
    answer = api(
        "post",
        "/channels",
        {
            "platform": "mastodon",
            "handle": "@maison@piaille.fr",
            "name": "M",
            "credentials": {"access_token": "t"},
        },
    )
    assert answer.status_code == 422
    assert list(answer.json()["fields"]) == ["credentials.api_base_url"]


def test_replacing_credentials_is_checked_too(api, org, make_channel, owner_actor):
    channel = make_channel(org, "bluesky", handle="maison.bsky.social")
    answer = api("put", f"/channels/{channel.pk}/credentials", {"credentials": {"app_password": "x"}})
    assert answer.status_code == 422
    assert "credentials.identifier" in answer.json()["fields"]
    assert not Channel.objects.get(pk=channel.pk).has_credentials
    with pytest.raises(ValidationError) as error:
        set_channel_credentials(
            actor=owner_actor, channel=channel, credentials={"identifier": "m", "password": "x"}
        )
    assert set(error.value.message_dict) == {"credentials.password", "credentials.app_password"}


def test_addresses_must_be_https_unless_the_install_allows_the_host(monkeypatch):
    monkeypatch.setenv("PALABRE_OUTBOUND_ALLOWED_HOSTS", "")
    with pytest.raises(ValidationError) as error:
        clean("mastodon", {"access_token": "t", "api_base_url": "http://piaille.fr"})
    assert list(error.value.message_dict) == ["credentials.api_base_url"]
    with pytest.raises(ValidationError) as error:
        clean("mastodon", {"access_token": "t", "api_base_url": "piaille.fr"})
    assert list(error.value.message_dict) == ["credentials.api_base_url"]
    assert clean("mastodon", {"access_token": " t ", "api_base_url": "https://piaille.fr/"}) == {
        "access_token": "t",
        "api_base_url": "https://piaille.fr",
    }
    monkeypatch.setenv("PALABRE_OUTBOUND_ALLOWED_HOSTS", "pds.intranet")
    assert (
        clean("bluesky", {"identifier": "m", "app_password": "x", "service": "http://pds.intranet:2583"})[
            "service"
        ]
        == "http://pds.intranet:2583"
    )


def test_numbers_and_choices_are_checked():
    base = {"imap_host": "imap.example.com", "username": "u"}
    with pytest.raises(ValidationError) as error:
        clean("email", {**base, "imap_port": "nine", "smtp_security": "tls"})
    assert set(error.value.message_dict) == {"credentials.imap_port", "credentials.smtp_security"}
    assert clean("email", {**base, "imap_port": "993", "smtp_security": "ssl"})["imap_port"] == 993


def test_a_site_channel_takes_no_credentials_and_an_undeclared_platform_is_unchecked():
    with pytest.raises(ValidationError) as error:
        clean("site", {"widget_secret": "x"})
    assert "credentials" in error.value.message_dict
    assert clean("undeclared", {"bearer": "b"}) == {"bearer": "b"}  # no connector registered for it


def test_the_api_lists_each_platforms_credential_fields(api):
    answer = api("get", "/connectors/platforms")
    assert answer.status_code == 200
    platforms = {row["platform"]: row for row in answer.json()}
    bluesky = {field["name"]: field for field in platforms["bluesky"]["credentials"]}
    assert bluesky["app_password"]["secret"] is True and bluesky["app_password"]["required"] is True
    assert bluesky["service"]["kind"] == "url" and bluesky["service"]["required"] is False
    assert "Mots de passe d’application" in bluesky["app_password"]["help"]  # the organisation speaks French
    assert platforms["site"]["credentials"] == []


VALID = {
    "mastodon": {"access_token": "t", "api_base_url": "https://piaille.fr"},
    "bluesky": {"identifier": "maison.bsky.social", "app_password": "x"},
    "email": {"imap_host": "imap.example.com", "username": "u", "password": "p"},
    "rss": {"username": "u", "password": "p"},
    "facebook": {"client_id": "138483919580948", "client_secret": "s", "page_id": "1", "access_token": "t"},
    "instagram": {"client_id": "1384839", "client_secret": "s", "ig_user_id": "1", "access_token": "i"},
    "youtube": {"client_id": "1234-p.apps.googleusercontent.com", "client_secret": "s", "access_token": "t"},
    "x": {"tier": "basic", "client_id": "Y2xpZW50", "client_secret": "s", "access_token": "t"},
    "discourse": {"base_url": "https://forum.example.com", "api_key": "k", "api_username": "brand"},
    "reddit": {"client_id": "p-jcoLKBynTLew", "client_secret": "s", "username": "u", "password": "p"},
    "irc": {"server": "irc.libera.chat", "nick": "maison_bot", "irc_channel": "#maison"},
    "discord": {"bot_token": "t", "guild_id": "1101010101010101010", "channel_ids": "1202020202020202020"},
    "linkedin": {"client_id": "86abcdefgh", "client_secret": "s", "organization_id": "2414183"},
}


@pytest.mark.parametrize("platform", sorted(VALID))
def test_every_connector_refuses_a_misspelled_or_missing_field(platform):
    good = VALID[platform]
    assert clean(platform, good)  # accepted as it is
    name = next(iter(good))
    misspelled = {**{k: v for k, v in good.items() if k != name}, name[:-1] + "x" + name[-1]: good[name]}
    with pytest.raises(ValidationError) as error:
        clean(platform, misspelled)
    assert f"credentials.{name[:-1]}x{name[-1]}" in error.value.message_dict
    required = [f.name for f in registered()[platform].credential_fields if f.required]
    for field in required:
        with pytest.raises(ValidationError) as error:
            clean(platform, {k: v for k, v in good.items() if k != field})
        assert f"credentials.{field}" in error.value.message_dict


def test_every_registered_connector_is_covered_here():
    # The site connector takes no credentials (refused above); every other one has its set here.
    assert set(registered()) == set(VALID) | {"site"}


# Where a channel writes with its credentials (replies, posts), the connection check catches
# credentials that may not write, before the first reply fails: the test that shows it, per platform.
WRITE_CHECKS = {
    "mastodon": "mastodon/test_mastodon_permissions.py::test_a_token_with_fewer_scopes_than_its_application_is_caught",
    "bluesky": "bluesky/test_bluesky_permissions.py::test_an_account_waiting_for_sign_up_cannot_post_and_the_check_says_what_is_missing",
    "email": "email/test_email_connection_check.py::test_the_connection_check_logs_in_to_smtp",
    "facebook": "facebook/test_facebook_connector.py::test_health_names_the_page_and_a_missing_permission_with_its_review_status",
    "instagram": "instagram/test_instagram_connector.py::test_health_names_the_account_and_what_the_token_lacks",
    "youtube": "youtube/test_youtube_connector.py::test_health_names_the_channel_the_scopes_and_the_quota",
    "x": "x/test_x_connector.py::test_health_names_the_account_the_tier_and_the_scopes",
    "discourse": "discourse/test_discourse_connector.py::test_health_names_the_staff_user_and_refuses_a_plain_member",
    "reddit": "reddit/test_reddit_connector.py::test_health_checks_the_account_scopes_and_moderator_rights",
    "irc": "irc/test_irc_connector.py::test_health_says_when_the_bot_is_not_an_operator",
    "discord": "discord/test_discord_connector.py::test_health_checks_the_message_content_intent_and_the_channels",
    "linkedin": "linkedin/test_linkedin_connector.py::test_health_shows_the_access_level_and_names_missing_scopes",
}
# The others hold no write permission to check.
NOTHING_TO_WRITE_WITH = {
    # Reads feeds only (no reply, no publish); its optional login is a feed's HTTP Basic login.
    "rss",
    # Palabre's own comments: a reply is stored by Palabre itself, with no credentials at all.
    "site",
}


def test_every_connector_that_writes_has_its_write_permission_checked_at_connection():
    here = Path(__file__).parent
    for platform, connector_class in registered().items():
        writes = {Capability.REPLY, Capability.PUBLISH} & connector_class.capabilities
        if writes and connector_class.credential_fields:
            path, name = WRITE_CHECKS[platform].split("::")
            assert f"def {name}(" in (here / path).read_text(encoding="utf-8"), platform
        else:
            assert platform in NOTHING_TO_WRITE_WITH, platform
