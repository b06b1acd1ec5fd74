"""Bidirectional controls in names people and platforms give (U+202E turning "gpj.exe" into
"exe.jpg", an unclosed override or isolate flipping the rest of an audit line) are never shown or
sent as they are: every page of Django's URL map, the CSV exports and the e-mails are read with such
names in every object of the organisation, and hold none of those characters. Stored text keeps them
(an item's text is content; the API gives it back as received)."""

from __future__ import annotations

import pytest
from django.apps import apps
from django.core import mail
from django.db import models
from test_cross_org_routes import PARAMETER, _routes, _victim

from palabre.bidi import CONTROLS, strip_controls
from palabre.conversations.models import Item
from palabre.spreadsheet import safe_cell

pytestmark = pytest.mark.django_db

RLO, LRI, RLM = "\u202e", "\u2066", "\u200f"
# Fields that hold what a person or a platform names or writes.
NAMED = {"name", "title", "display_name", "text", "body", "question", "preview", "first_name", "last_name"}
SKIP = ("logout", "1.", "v1alpha1", "$", "^v1", "i18n", "api/", "akismet", "perspective", "widget")


def _hostile(value: str) -> str:
    return f"{RLO}gpj.{value[:20]}{LRI}{RLM}"


def _poison(organisation, owner) -> None:
    """Every named field of every row of the organisation gets an override and an open isolate."""
    # As rows written before names were cleaned on save (update() runs no signal).
    type(owner).objects.filter(pk=owner.pk).update(
        first_name=_hostile("Sarah"), last_name=_hostile("Lemoine")
    )
    type(organisation).objects.filter(pk=organisation.pk).update(name=_hostile(organisation.name))
    owner.refresh_from_db()
    organisation.refresh_from_db()
    for model in apps.get_models():
        if not model.__module__.startswith("palabre"):
            continue
        fields = {f.name: f for f in model._meta.concrete_fields}
        if "organisation" not in fields:
            continue
        for name, field in fields.items():
            if name in NAMED and isinstance(field, models.CharField | models.TextField) and not field.choices:
                for row in model.objects.filter(organisation=organisation):
                    setattr(row, name, _hostile(getattr(row, name) or "x"))
                    model.objects.filter(pk=row.pk).update(**{name: getattr(row, name)})


@pytest.fixture
def poisoned(make_org, owner_of, client, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    organisation = make_org("Maison Bidi", slug="maison-bidi")
    owner = owner_of(organisation)
    ids = _victim(organisation, owner)
    _poison(organisation, owner)
    client.force_login(owner)
    client.raise_request_exception = False
    return organisation, ids, client


def test_the_helper_takes_every_control_out_and_keeps_right_to_left_letters():
    assert strip_controls(f"{RLO}gpj.exe") == "gpj.exe"
    assert strip_controls("مرحبا" + RLM + " Camille" + LRI) == "مرحبا Camille"
    assert not set(strip_controls(CONTROLS)) and strip_controls("Bergen") == "Bergen"
    assert safe_cell(f"{RLO}=HYPERLINK(1)") == "'=HYPERLINK(1)"


def test_no_page_shows_a_bidirectional_control(poisoned):
    organisation, ids, client = poisoned
    assert Item.objects.filter(organisation=organisation, text__startswith=RLO).exists()  # stored as given
    read, shown = 0, []
    for route, _name, _entry in _routes():
        if route.startswith(SKIP):
            continue
        parameters = {m.group(2) for m in PARAMETER.finditer(route)}
        if parameters - set(ids):
            continue
        path = "/" + PARAMETER.sub(lambda m: str(ids[m.group(2)]), route).replace("^", "").replace("\\.", ".")
        answer = client.get(path)
        if answer.status_code != 200 or answer.streaming:
            continue
        read += 1
        text = answer.content.decode(errors="replace")
        shown += [(path, c) for c in CONTROLS if c in text]
    for export in ("/analytics/report.csv", "/listening/mentions.csv"):
        answer = client.get(export)
        content = b"".join(answer.streaming_content) if answer.streaming else answer.content
        shown += [(export, c) for c in CONTROLS if c in content.decode(errors="replace")]
    assert shown == []
    assert read > 60, read
    # The names are still there, letters in their order, and the length said is the body's.
    members = client.get("/members/")
    assert "gpj.Maison Bidi" in members.content.decode()
    assert int(members["Content-Length"]) == len(members.content)


def test_no_e_mail_carries_a_bidirectional_control(poisoned, settings, owner_of):
    from palabre import settings as configured
    from palabre.orgs.services import Actor, invite_member

    organisation, _ids, _client = poisoned
    # The backend Palabre's settings choose (pytest-django puts locmem in its place), sending
    # through locmem in place of SMTP.
    settings.EMAIL_BACKEND = configured.EMAIL_BACKEND
    settings.INNER_EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    mail.outbox.clear()
    invite_member(
        actor=Actor.for_user(owner_of(organisation), organisation),
        email="nouvelle@maison.fr",
        role="analyst",
        site_url="https://palabre.example",
    )
    (message,) = mail.outbox
    sent = message.subject + message.body + "".join(str(a[0]) for a in getattr(message, "alternatives", []))
    assert "gpj.Maison Bidi" in sent
    assert [c for c in CONTROLS if c in sent] == []


def test_names_typed_in_come_in_without_bidi_controls(client, org, owner, owner_actor, channel):
    """Names (an organisation, a channel, a query, a saved reply, a person) are names, not content:
    saved without their bidirectional controls, through the pages, the API and the services alike;
    the text of a saved reply keeps what was typed."""
    from palabre.inbox.models import SavedReply
    from palabre.inbox.services import save_saved_reply
    from palabre.listening.models import ListeningQuery

    client.force_login(owner)
    answer = client.post(
        "/api/listening/queries",
        {"name": f"{RLO}gpj.exe", "query": "bergen"},
        content_type="application/json",
    )
    assert answer.status_code in (200, 201), answer.content
    assert ListeningQuery.objects.get(organisation=org).name == "gpj.exe"
    save_saved_reply(actor=owner_actor, title=f"D\u00e9lais{LRI}", text=f"Six semaines{RLM}")
    saved = SavedReply.objects.get(organisation=org)
    assert (saved.title, saved.text) == ("D\u00e9lais", f"Six semaines{RLM}")
    owner.first_name = f"{RLO}Sarah"
    owner.save()
    owner.refresh_from_db()
    assert owner.first_name == "Sarah"
    channel.name = f"Blog{RLO}"
    channel.save()
    org.name = f"{LRI}Maison"
    org.save()
    channel.refresh_from_db()
    org.refresh_from_db()
    assert (channel.name, org.name) == ("Blog", "Maison")
