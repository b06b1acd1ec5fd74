"""The alerts page given a cursor it did not write (edited, truncated, from an old link) shows the
first page, as the mentions and outbox pages do, instead of a server error."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("cursor", ["abc", "0", "-1", "W10", "eyJ4IjogMX0"])
def test_an_unknown_cursor_shows_the_first_page(client, owner, cursor):
    client.force_login(owner)
    first = client.get("/listening/alerts/")
    answer = client.get("/listening/alerts/", {"cursor": cursor})
    assert first.status_code == 200
    assert answer.status_code == 200
