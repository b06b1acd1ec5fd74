"""The organisation switcher given something other than an organisation's id answers 404, as for
an organisation the person is not a member of, instead of a server error."""

from __future__ import annotations

import pytest

from palabre.storable import MAX_ROW_ID

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("value", ["abc", "x\x00y", str(MAX_ROW_ID * 10), "-1", "1.5"])
def test_a_value_that_is_no_id_answers_404(client, owner, value):
    client.force_login(owner)
    client.raise_request_exception = False
    assert client.post("/organisation/switch/", {"organisation": value}).status_code == 404


def test_the_persons_own_organisation_is_switched_to(client, owner, org):
    client.force_login(owner)
    assert client.post("/organisation/switch/", {"organisation": str(org.pk)}).status_code == 302
