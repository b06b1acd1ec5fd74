"""Password rules wherever a password is set, and the page to change one's own."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.urls import reverse

from palabre.cli import main as palabre

PASSWORD = "Rue-de-la-Soif-1907"
NEW_PASSWORD = "Quai-des-Brumes-1938"


@pytest.mark.django_db
@pytest.mark.parametrize("weak", ["password", "12345678", "123", "maelle-leroux"])
def test_createadmin_refuses_a_weak_password(weak, capsys):
    with pytest.raises(SystemExit) as exit_:
        palabre(["createadmin", "maelle-leroux", "--password", weak, "--organisation", "Atelier Maëlle"])
    assert str(exit_.value.code).startswith("password: ")
    assert not get_user_model().objects.filter(username="maelle-leroux").exists()


@pytest.mark.django_db
def test_createadmin_says_why_a_password_is_refused():
    with pytest.raises(SystemExit) as exit_:
        palabre(["createadmin", "maelle", "--password", "123"])
    message = str(exit_.value.code)  # in the install's language
    assert "8" in message
    assert "numeric" in message or "numérique" in message


@pytest.mark.django_db
def test_the_demo_logins_pass_the_password_rules():
    from palabre.demo.loader import DEMO_PASSWORD, read_data

    people = read_data("organisations.json")["people"]
    assert people
    for person in people:
        fields = ("username", "email", "first_name", "last_name")
        validate_password(DEMO_PASSWORD, get_user_model()(**{field: person[field] for field in fields}))


@pytest.fixture
def signed_in(client, make_user):
    person = make_user("lea", password=PASSWORD)
    client.force_login(person)
    return person


def test_the_account_menu_links_to_the_password_page(client, signed_in):
    page = client.get(reverse("no_organisation"), follow=True)
    assert f'href="{reverse("password_change")}"'.encode() in page.content


def test_the_password_page_needs_a_signed_in_person(client, db):
    response = client.get(reverse("password_change"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


@pytest.mark.parametrize("weak", ["password", "12345678", "azerty123", "Lea"])
def test_a_weak_new_password_is_refused_and_the_old_one_kept(client, signed_in, weak):
    response = client.post(
        reverse("password_change"),
        {"old_password": PASSWORD, "new_password1": weak, "new_password2": weak},
    )
    assert response.status_code == 200
    assert response.context["form"].errors["new_password2"]
    signed_in.refresh_from_db()
    assert signed_in.check_password(PASSWORD)


def test_a_wrong_old_password_is_refused(client, signed_in):
    response = client.post(
        reverse("password_change"),
        {"old_password": "not-it", "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert response.status_code == 200
    assert "old_password" in response.context["form"].errors


def test_changing_the_password_keeps_this_session_and_ends_the_others(client, signed_in, django_user_model):
    from django.test import Client

    elsewhere = Client()
    elsewhere.force_login(signed_in)
    response = client.post(
        reverse("password_change"),
        {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert response.status_code == 302 and response.url == reverse("password_change_done")
    signed_in.refresh_from_db()
    assert signed_in.check_password(NEW_PASSWORD)
    assert client.get(reverse("password_change_done")).status_code == 200
    assert elsewhere.get(reverse("password_change")).status_code == 302  # signed out


def test_the_password_page_speaks_french(client, signed_in):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "fr"
    page = client.get(reverse("password_change")).content.decode()
    assert "Changer de mot de passe" in page
    weak = client.post(
        reverse("password_change"),
        {"old_password": PASSWORD, "new_password1": "12345678", "new_password2": "12345678"},
    ).content.decode()
    assert "Ce mot de passe est entièrement numérique." in weak


def test_wrong_current_passwords_lock_the_account_as_on_the_sign_in_page(client, signed_in):
    from django.test import Client

    address = {"REMOTE_ADDR": "203.0.113.7"}
    for attempt in range(settings.AXES_FAILURE_LIMIT):
        wrong = {
            "old_password": f"guess-{attempt}",
            "new_password1": NEW_PASSWORD,
            "new_password2": NEW_PASSWORD,
        }
        client.post(reverse("password_change"), wrong, **address)
    right = {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    refused = client.post(reverse("password_change"), right, **address)
    assert refused.status_code == 429
    signed_in.refresh_from_db()
    assert signed_in.check_password(PASSWORD)
    # Signing in to that account is refused too, from anywhere.
    elsewhere = Client().post(
        reverse("login"), {"username": "lea", "password": PASSWORD}, REMOTE_ADDR="198.51.100.20"
    )
    assert elsewhere.status_code == 429
