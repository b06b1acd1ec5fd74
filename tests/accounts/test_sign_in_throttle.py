"""Wrong passwords on the sign-in form: after the limit, the account and the address are locked."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from palabre.cli import main as palabre

PASSWORD = "Rue-de-la-Soif-1907"
ATTACKER = "203.0.113.7"
OFFICE = "198.51.100.20"


def sign_in(client, username: str, password: str, address: str):
    return client.post(reverse("login"), {"username": username, "password": password}, REMOTE_ADDR=address)


def signed_in(response) -> bool:
    return response.status_code == 302 and response.url == reverse("home")


def guess(client, username: str, address: str, times: int) -> None:
    for attempt in range(times):
        response = sign_in(client, username, f"wrong-{attempt}", address)
        assert response.status_code in {200, 429}


@pytest.fixture
def frozen():
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        yield traveller


@pytest.fixture
def camille(make_user):
    return make_user("camille", password=PASSWORD)


@pytest.fixture
def dominique(make_user):
    return make_user("dominique", password=PASSWORD)


def test_ten_wrong_passwords_lock_the_account_until_the_cool_off(client, camille, frozen):
    assert settings.AXES_FAILURE_LIMIT == 10
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    guess(client, "camille", ATTACKER, 10)

    refused = sign_in(client, "camille", PASSWORD, ATTACKER)
    assert refused.status_code == 429
    assert "_auth_user_id" not in client.session
    assert b"Sign-in locked" in refused.content

    # From any address: the account itself is locked.
    assert sign_in(client, "camille", PASSWORD, OFFICE).status_code == 429

    frozen.shift(settings.AXES_COOLOFF_TIME - timedelta(seconds=5))
    assert sign_in(client, "camille", PASSWORD, OFFICE).status_code == 429

    frozen.shift(timedelta(seconds=10))
    assert signed_in(sign_in(client, "camille", PASSWORD, OFFICE))


def test_another_account_from_another_address_is_not_affected(client, camille, dominique, frozen):
    guess(client, "camille", ATTACKER, 10)
    assert signed_in(sign_in(client, "dominique", PASSWORD, OFFICE))


def test_the_guessing_address_is_locked_for_every_account(client, camille, dominique, frozen):
    for attempt in range(10):
        sign_in(client, "camille" if attempt % 2 else "nobody", f"wrong-{attempt}", ATTACKER)
    assert sign_in(client, "dominique", PASSWORD, ATTACKER).status_code == 429


def test_nine_wrong_passwords_then_the_right_one_signs_in_and_the_count_restarts(client, camille, frozen):
    guess(client, "camille", ATTACKER, 9)
    assert signed_in(sign_in(client, "camille", PASSWORD, ATTACKER))
    client.logout()
    guess(client, "camille", ATTACKER, 9)
    assert signed_in(sign_in(client, "camille", PASSWORD, ATTACKER))


def test_the_locked_page_speaks_french(client, camille, frozen):
    guess(client, "camille", ATTACKER, 10)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "fr"
    refused = sign_in(client, "camille", PASSWORD, ATTACKER)
    assert refused.status_code == 429
    assert "Connexion bloquée" in refused.content.decode()


def test_palabre_unlock_lifts_the_lock_of_an_account(client, camille, frozen, capsys):
    guess(client, "camille", ATTACKER, 10)
    assert sign_in(client, "camille", PASSWORD, OFFICE).status_code == 429

    palabre(["unlock", "camille"])
    assert "camille" in capsys.readouterr().out
    assert signed_in(sign_in(client, "camille", PASSWORD, OFFICE))


def test_palabre_unlock_lifts_the_lock_of_an_address(client, camille, dominique, frozen, capsys):
    guess(client, "camille", ATTACKER, 10)
    palabre(["unlock", "--address", ATTACKER])
    assert ATTACKER in capsys.readouterr().out
    # The address is free again (and its wrong passwords are forgotten).
    assert signed_in(sign_in(client, "dominique", PASSWORD, ATTACKER))


def test_the_address_behind_trusted_proxies_is_the_one_counted(client, camille, dominique, frozen, settings):
    settings.CLIENT_PROXY_COUNT = 1
    proxy = "10.0.0.2"
    for attempt in range(10):
        client.post(
            reverse("login"),
            {"username": "nobody", "password": f"wrong-{attempt}"},
            REMOTE_ADDR=proxy,
            HTTP_X_FORWARDED_FOR=f"1.2.3.4, {ATTACKER}",
        )
    # Another client through the same proxy signs in.
    response = client.post(
        reverse("login"),
        {"username": "dominique", "password": PASSWORD},
        REMOTE_ADDR=proxy,
        HTTP_X_FORWARDED_FOR=OFFICE,
    )
    assert signed_in(response)


@pytest.mark.parametrize(
    ("remote", "forwarded", "proxies", "counted"),
    [
        ("203.0.113.7", "", 0, "203.0.113.7"),
        ("203.0.113.7", "1.2.3.4", 0, "203.0.113.7"),  # no proxy: the header is the client's own
        ("10.0.0.2", "1.2.3.4, 198.51.100.20", 1, "198.51.100.20"),
        ("10.0.0.2", "198.51.100.20, 10.0.0.1", 2, "198.51.100.20"),
        ("10.0.0.2", "", 1, "10.0.0.2"),  # fewer entries than proxies: the connection's
        ("::ffff:203.0.113.7", "", 0, "203.0.113.7"),
        ("2001:DB8::0:1", "", 0, "2001:db8::1"),
        ("", "", 0, "0.0.0.0"),  # a Unix socket
        ("10.0.0.2", "<script>", 1, "0.0.0.0"),
    ],
)
def test_the_address_counted(rf, settings, remote, forwarded, proxies, counted):
    from palabre.orgs.throttle import client_address

    settings.CLIENT_PROXY_COUNT = proxies
    request = rf.get("/login/", REMOTE_ADDR=remote, HTTP_X_FORWARDED_FOR=forwarded)
    assert client_address(request) == counted
