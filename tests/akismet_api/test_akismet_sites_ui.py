"""The Sites page (keys of the Akismet-compatible API) and `palabre apikey create`."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from palabre.cli import main
from palabre.moderation import services as moderation
from palabre.moderation.models import ModerationSite
from palabre.orgs.models import AuditEvent
from palabre.orgs.permissions import MATRIX, Perm, Role
from palabre.orgs.services import Actor

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(org, owner, make_member):
    users = {Role.OWNER: owner}
    for role in Role:
        if role != Role.OWNER:
            users[role] = make_member(org, role.value).user
    return users


@pytest.mark.parametrize("role", list(Role))
def test_the_sites_page_follows_the_role_matrix(people, client, role):
    client.force_login(people[role])
    expected = 200 if Perm.MODERATION_RULES in MATRIX[role] else 403
    assert client.get(reverse("moderation:sites")).status_code == expected
    response = client.post(reverse("moderation:sites"), {"name": "Blog", "url": "https://blog.example.com/"})
    assert response.status_code == expected
    assert ModerationSite.objects.exists() == (expected == 200)


def test_signed_out_people_are_sent_to_the_login_page(client):
    response = client.get(reverse("moderation:sites"))
    assert response.status_code == 302
    assert reverse("login") in response["Location"]


def test_a_new_key_is_shown_once_and_only_its_hint_afterwards(org, owner, client):
    client.force_login(owner)
    response = client.post(
        reverse("moderation:sites"), {"name": "Le blog", "url": "https://blog.maison-dupont.fr/"}
    )
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    site = ModerationSite.objects.get(organisation=org)
    key = response.context["key"]
    assert key in response.content.decode()
    assert moderation.site_for_key(key) == site

    listing = client.get(reverse("moderation:sites")).content.decode()
    assert key not in listing
    assert f"…{site.api_key_hint}" in listing
    assert site.public_id in listing and "Le blog" in listing and site.channel.name in listing


def test_the_form_keeps_what_was_typed_and_names_the_problem(owner, client):
    client.force_login(owner)
    response = client.post(reverse("moderation:sites"), {"name": "Mon forum", "url": "forum sans adresse"})
    assert response.status_code == 200
    page = response.content.decode()
    assert 'value="Mon forum"' in page and 'value="forum sans adresse"' in page
    assert response.context["form"].errors["url"]
    assert not ModerationSite.objects.exists()


@pytest.mark.parametrize("url", ["https://=HYPERLINK(1)/", "https://blog_test/", "https://-x.example/"])
def test_a_site_whose_address_names_no_host_is_refused_naming_url(org, url):
    """The host becomes the site channel's handle and goes into the key's CSV and the audit log:
    `https://=HYPERLINK(1)/` was taken as a site."""
    with pytest.raises(ValidationError) as refused:
        moderation.create_moderation_site(actor=Actor.palabre(org), name="Blog", url=url)
    assert list(refused.value.message_dict) == ["url"]
    assert not ModerationSite.objects.exists()
    # An accented domain is a site's address (written in its ASCII form by browsers).
    site, _key = moderation.create_moderation_site(
        actor=Actor.palabre(org), name="Café", url="https://café.fr/"
    )
    assert site.channel.handle == "café.fr"


def test_revoking_a_key_makes_it_invalid(org, owner, client):
    site, key = moderation.create_moderation_site(
        actor=Actor.palabre(org), name="Blog", url="https://blog.maison-dupont.fr/"
    )
    client.force_login(owner)
    response = client.post(reverse("moderation:site_revoke", args=[site.pk]))
    assert response.status_code == 302
    assert moderation.site_for_key(key) is None
    assert AuditEvent.objects.filter(action="moderation.site_revoked").exists()
    assert 'class="badge revoked"' in client.get(reverse("moderation:sites")).content.decode()


def test_another_organisations_site_answers_404(org, owner, make_org, client):
    other = make_org("Autre")
    site, key = moderation.create_moderation_site(
        actor=Actor.palabre(other), name="Forum", url="https://forum.autre.fr/"
    )
    client.force_login(owner)
    assert client.post(reverse("moderation:site_revoke", args=[site.pk])).status_code == 404
    assert moderation.site_for_key(key) == site
    assert "Forum" not in client.get(reverse("moderation:sites")).content.decode()


def test_the_rules_page_links_to_the_sites(owner, client):
    client.force_login(owner)
    assert reverse("moderation:sites") in client.get(reverse("moderation:rules")).content.decode()


# --- palabre apikey create ---------------------------------------------------------------------


def test_apikey_create_prints_a_working_key(org, capsys):
    main(
        ["apikey", "create", "--org", org.slug, "--site", "https://blog.maison-dupont.fr/", "--name", "Blog"]
    )
    out, err = capsys.readouterr()
    key = out.strip()
    site = moderation.site_for_key(key)
    assert (site.organisation, site.name, site.url) == (org, "Blog", "https://blog.maison-dupont.fr/")
    assert "shown this once" in err and key not in err


def test_apikey_create_names_the_site_after_its_host(org, capsys):
    main(["apikey", "create", "--org", org.slug, "--site", "https://forum.maison-dupont.fr/"])
    assert moderation.site_for_key(capsys.readouterr().out.strip()).name == "forum.maison-dupont.fr"


def test_apikey_create_refuses_an_unknown_organisation_or_a_bad_address(org):
    with pytest.raises(SystemExit, match="No organisation"):
        main(["apikey", "create", "--org", "nobody", "--site", "https://blog.example.com/"])
    with pytest.raises(SystemExit, match="url"):
        main(["apikey", "create", "--org", org.slug, "--site", "blog without scheme"])
    assert not ModerationSite.objects.exists()


# --- editing a site: its name and the other addresses that may embed its comment form ----------


def test_a_site_is_renamed_and_given_other_origins(org, owner, client):
    site, key = moderation.create_moderation_site(
        actor=Actor.palabre(org), name="Blog", url="https://blog.maison-dupont.fr/"
    )
    moderation.site_for_key(key, cached=True)  # the compatible APIs keep it in memory
    client.force_login(owner)
    page = client.get(reverse("moderation:site_edit", args=[site.pk])).content.decode()
    assert 'value="Blog"' in page
    response = client.post(
        reverse("moderation:site_edit", args=[site.pk]),
        {
            "name": "Le blog",
            "allowed_origins": "https://www.maison-dupont.fr/recettes\n\nhttp://staging.maison-dupont.fr:8443",
        },
    )
    assert response.status_code == 302
    site.refresh_from_db()
    assert site.name == "Le blog"
    assert site.allowed_origins == ["https://www.maison-dupont.fr", "http://staging.maison-dupont.fr:8443"]
    assert moderation.site_for_key(key, cached=True).name == "Le blog"  # not the copy kept before
    event = AuditEvent.objects.get(action="moderation.site_updated")
    assert event.before["allowed_origins"] == [] and len(event.after["allowed_origins"]) == 2
    listing = client.get(reverse("moderation:sites")).content.decode()
    assert "http://staging.maison-dupont.fr:8443" in listing


def test_a_bad_origin_is_named_and_what_was_typed_is_kept(org, owner, client):
    site, _key = moderation.create_moderation_site(
        actor=Actor.palabre(org), name="Blog", url="https://blog.maison-dupont.fr/"
    )
    client.force_login(owner)
    typed = "https://www.maison-dupont.fr\nftp://fichiers.maison-dupont.fr"
    response = client.post(
        reverse("moderation:site_edit", args=[site.pk]), {"name": "Blog", "allowed_origins": typed}
    )
    assert response.status_code == 200
    assert "ftp://fichiers.maison-dupont.fr" in response.context["form"].errors["allowed_origins"][0]
    assert typed in response.content.decode()
    site.refresh_from_db()
    assert site.allowed_origins == []


def test_another_organisations_site_cannot_be_edited(org, owner, make_org, client):
    other = make_org("Autre")
    site, _key = moderation.create_moderation_site(
        actor=Actor.palabre(other), name="Forum", url="https://forum.autre.fr/"
    )
    client.force_login(owner)
    assert client.get(reverse("moderation:site_edit", args=[site.pk])).status_code == 404
    response = client.post(
        reverse("moderation:site_edit", args=[site.pk]), {"name": "Pris", "allowed_origins": ""}
    )
    assert response.status_code == 404
    site.refresh_from_db()
    assert site.name == "Forum"


def test_the_new_key_page_says_how_a_wordpress_blog_uses_it(org, owner, client):
    client.force_login(owner)
    response = client.post(
        reverse("moderation:sites"),
        {"name": "WP", "url": "https://wp.maison-dupont.fr/"},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    page = response.content.decode()
    assert len(response.context["key"]) == 12
    assert "Palabre for Akismet" in page and "Settings › Akismet Anti-Spam" in page
    response = client.post(
        reverse("moderation:sites"),
        {"name": "WP2", "url": "https://wp2.maison-dupont.fr/"},
        HTTP_ACCEPT_LANGUAGE="fr",
    )
    assert "Réglages › Akismet Anti-Spam" in response.content.decode()
