"""Channel credentials are encrypted at rest, survive a secret key change, and can be rotated."""

from __future__ import annotations

import pytest
from django.db import connection

from palabre.orgs import crypto
from palabre.orgs.models import AuditEvent, Channel
from palabre.orgs.services import rotate_credential_keys, set_channel_credentials

pytestmark = pytest.mark.django_db

SECRET = "EAAG-page-token-7f3a9c"
OLD_KEY = "old-secret-key-" + "o" * 40
NEW_KEY = "new-secret-key-" + "n" * 40


def raw_column(channel: Channel) -> str:
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT credentials_ciphertext FROM {Channel._meta.db_table} WHERE id = %s", [channel.pk]
        )
        return cursor.fetchone()[0]


def test_the_database_holds_only_ciphertext(org, make_channel):
    channel = make_channel(
        org, "facebook", credentials={"client_id": "42", "client_secret": SECRET, "page_id": "123456"}
    )
    stored = raw_column(channel)
    assert stored.startswith(f"{crypto.FORMAT}:{crypto.current_key().key_id}:")
    assert SECRET not in stored
    assert "client_secret" not in stored
    assert Channel.objects.get(pk=channel.pk).read_credentials() == {
        "client_id": "42",
        "client_secret": SECRET,
        "page_id": "123456",
    }


def test_replacing_credentials_is_audited_without_the_secret(org, owner_actor, make_channel):
    channel = make_channel(org, "mastodon", handle="@maison@piaille.fr")
    assert not channel.has_credentials
    assert channel.read_credentials() == {}
    credentials = {"access_token": SECRET, "api_base_url": "https://piaille.fr"}
    set_channel_credentials(actor=owner_actor, channel=channel, credentials=credentials)
    assert Channel.objects.get(pk=channel.pk).read_credentials() == credentials
    event = AuditEvent.objects.filter(action="channel.credentials_replaced").get()
    assert event.before == {"credentials": False}
    assert event.after == {"credentials": True, "fields": ["access_token", "api_base_url"]}
    assert SECRET not in str(event.before) + str(event.after) + event.target_label


def test_empty_credentials_are_refused(org, owner_actor, make_channel):
    from django.core.exceptions import ValidationError

    channel = make_channel(org)
    with pytest.raises(ValidationError) as error:
        set_channel_credentials(actor=owner_actor, channel=channel, credentials={})
    assert "credentials" in error.value.message_dict


def test_round_trip_keeps_every_json_value():
    value = {
        "token": SECRET,
        "expires": 3600,
        "scopes": ["read", "write"],
        "nested": {"é": "ü"},
        "none": None,
    }
    assert crypto.decrypt_json(crypto.encrypt_json(value)) == value


# An X app waiting for its OAuth connection: what the X connector accepts before the flow ran.
X_APP = {"tier": "basic", "client_id": "client-42", "client_secret": SECRET}


def test_former_secret_key_still_decrypts_until_rotation(settings, org, make_channel):
    settings.SECRET_KEY = OLD_KEY
    settings.SECRET_KEY_FALLBACKS = []
    channel = make_channel(org, "x", credentials=X_APP)
    old_id = crypto.key_id_of(raw_column(channel))

    settings.SECRET_KEY = NEW_KEY
    settings.SECRET_KEY_FALLBACKS = [OLD_KEY]
    assert Channel.objects.get(pk=channel.pk).read_credentials() == X_APP

    assert rotate_credential_keys() == 1
    new_ciphertext = raw_column(channel)
    assert crypto.key_id_of(new_ciphertext) == crypto.current_key().key_id != old_id
    assert SECRET not in new_ciphertext
    event = AuditEvent.objects.filter(action="channel.credentials_reencrypted").get()
    assert event.actor is None and event.actor_label == "Palabre"
    # Done once: a second run has nothing to move.
    assert rotate_credential_keys() == 0

    # Once rotated, the old key can be dropped.
    settings.SECRET_KEY_FALLBACKS = []
    assert Channel.objects.get(pk=channel.pk).read_credentials() == X_APP


def test_rotation_leaves_channels_without_credentials_alone(org, make_channel):
    make_channel(org, "rss", handle="https://example.fr/feed")
    assert rotate_credential_keys() == 0


def test_credentials_are_unreadable_without_their_key(settings, org, make_channel):
    settings.SECRET_KEY = OLD_KEY
    settings.SECRET_KEY_FALLBACKS = []
    channel = make_channel(org, "x", credentials=X_APP)
    settings.SECRET_KEY = NEW_KEY
    with pytest.raises(crypto.CredentialsUnreadable):
        Channel.objects.get(pk=channel.pk).read_credentials()


@pytest.mark.parametrize(
    "ciphertext",
    ["garbage", "fernet1:only-two", "other:abc:def", "fernet1:{key}:not-a-fernet-token"],
)
def test_malformed_or_tampered_ciphertexts_are_unreadable(ciphertext):
    with pytest.raises(crypto.CredentialsUnreadable):
        crypto.decrypt_json(ciphertext.format(key=crypto.current_key().key_id))


def test_a_tampered_ciphertext_is_unreadable():
    ciphertext = crypto.encrypt_json({"bearer": SECRET})
    prefix, token = ciphertext.rsplit(":", 1)
    flipped = token[:20] + ("A" if token[20] != "A" else "B") + token[21:]
    with pytest.raises(crypto.CredentialsUnreadable):
        crypto.decrypt_json(f"{prefix}:{flipped}")


def test_each_encryption_is_different_but_uses_the_same_key():
    first, second = crypto.encrypt_json({"a": 1}), crypto.encrypt_json({"a": 1})
    assert first != second
    assert crypto.key_id_of(first) == crypto.key_id_of(second) == crypto.current_key().key_id
    assert crypto.key_id_of("not-ours") == ""
