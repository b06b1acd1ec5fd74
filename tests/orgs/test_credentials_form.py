"""The credentials page is built from the connector's declared fields: each labelled, explained
and checked; a wrong or missing field is named next to it and what was typed stays."""

from __future__ import annotations

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


@pytest.fixture
def sky(org, make_channel):
    return make_channel(org, "bluesky", handle="maison.example.com", name="Bluesky")


@pytest.fixture
def signed_in(client, owner):
    client.force_login(owner)
    client.post(reverse("language"), {"language": "en", "next": "/"})
    return client


def _field_block(html: str, name: str) -> str:
    return html.split(f'for="id_credential_{name}"')[1].split('<div class="field')[0]


def test_the_page_shows_each_declared_field_with_where_to_find_it(signed_in, sky):
    html = signed_in.get(reverse("channel_credentials", args=[sky.pk])).content.decode()
    assert 'name="credential_identifier"' in html and 'name="credential_service"' in html
    assert 'type="password" name="credential_app_password"' in html
    assert "App passwords" in html  # where to find it on the platform
    assert 'name="key_1"' not in html  # no free rows for a platform that declares its fields
    assert "(optional)" not in _field_block(html, "identifier")
    assert "(optional)" in _field_block(html, "service")


def test_a_missing_field_is_named_next_to_it_and_what_was_typed_stays(signed_in, sky):
    url = reverse("channel_credentials", args=[sky.pk])
    response = signed_in.post(
        url, {"credential_app_password": "abcd-efgh", "credential_service": "http://pds.example"}
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert 'class="error"' in _field_block(html, "identifier")
    assert 'class="error"' in _field_block(html, "service")  # plain http refused
    assert 'value="abcd-efgh"' in html and 'value="http://pds.example"' in html
    sky.refresh_from_db()
    assert not sky.has_credentials


def test_a_misspelled_field_in_the_json_box_is_refused_by_name(signed_in, sky):
    url = reverse("channel_credentials", args=[sky.pk])
    typed = '{"identifier": "maison.example.com", "app_password": "x", "servce": "https://pds.example"}'
    response = signed_in.post(url, {"credentials_json": typed})
    html = response.content.decode()
    assert response.status_code == 200 and "servce" in html and "service" in html
    assert "pds.example" in html  # the JSON typed is kept
    sky.refresh_from_db()
    assert not sky.has_credentials


def test_good_credentials_are_stored_tidied(signed_in, sky):
    url = reverse("channel_credentials", args=[sky.pk])
    response = signed_in.post(
        url,
        {
            "credential_identifier": " maison.example.com ",
            "credential_app_password": "abcd-efgh",
            "credential_service": "https://pds.example/",
        },
    )
    # Stored, then tried at once: pds.example does not exist, so the page stays, says why, and
    # keeps what was typed for a correction.
    html = response.content.decode()
    assert response.status_code == 200 and "Connection failed" in html
    assert 'value="abcd-efgh"' in html and 'value="https://pds.example/"' in html
    sky.refresh_from_db()
    assert sky.read_credentials() == {
        "identifier": "maison.example.com",
        "app_password": "abcd-efgh",
        "service": "https://pds.example",
    }
