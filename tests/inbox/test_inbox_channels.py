"""Honest channels: the reply box only where a connector delivers replies, the channels page says
which channels Palabre can reach, and a failed delivery says so in the person's language."""

from __future__ import annotations

import pytest
from lxml import html as lxml_html

from palabre.connectors.models import ActionStatus, OutboundAction
from palabre.inbox import services

pytestmark = pytest.mark.clock


@pytest.fixture
def french(client, cm):
    client.force_login(cm)
    client.cookies["django_language"] = "fr"
    return client


def _get(client, url):
    response = client.get(url, HTTP_ACCEPT_LANGUAGE="fr")
    assert response.status_code == 200
    return response.content.decode()


@pytest.fixture
def without_connector():
    """`without_connector("facebook")`: the platform as it was before its connector, for the test's run."""
    from palabre.connectors.registry import connector_class_for, register_connector, unregister_connector

    taken = {}

    def take(platform: str) -> None:
        taken[platform] = connector_class_for(platform)
        unregister_connector(platform)

    yield take
    for platform, previous in taken.items():
        if previous is not None:
            register_connector(platform, previous)


def test_no_reply_box_where_no_connector_delivers_replies(
    french, channel, post, conversation_of, make_channel, org, without_connector
):
    without_connector("facebook")
    facebook = make_channel(org, "facebook", handle="maisondupont", name="Page Facebook")
    on_facebook = conversation_of(post(facebook, "Ma commande est arrivée cassée", author="zoe"))
    on_site = conversation_of(post(channel, "La lampe existe-t-elle en noir ?", author="yves"))
    page = _get(french, f"/inbox/t/{on_facebook.pk}/")
    forms = [form.get("action") for form in lxml_html.fromstring(page).xpath("//form")]
    assert f"/inbox/t/{on_facebook.pk}/reply/" not in forms and 'id="reply-form"' not in page
    assert "Palabre ne peut pas encore répondre sur Page Facebook" in page
    assert 'id="reply-form"' in _get(french, f"/inbox/t/{on_site.pk}/")


def test_the_thread_api_says_whether_palabre_can_reply(
    channel, post, conversation_of, make_channel, org, owner_actor, client, without_connector
):
    without_connector("youtube")
    from palabre.orgs.permissions import Perm
    from palabre.orgs.services import create_api_token

    youtube = make_channel(org, "youtube", handle="@MaisonDupontTV", name="YouTube")
    on_youtube = conversation_of(post(youtube, "Quel est le modèle de la lampe ?", author="max"))
    on_site = conversation_of(post(channel, "Livrez-vous en Belgique ?", author="eva"))
    _token, secret = create_api_token(actor=owner_actor, name="reach", scopes=[p.value for p in Perm])
    auth = {"HTTP_AUTHORIZATION": f"Bearer {secret}"}
    assert client.get(f"/api/inbox/threads/{on_youtube.pk}", **auth).json()["can_reply"] is False
    assert client.get(f"/api/inbox/threads/{on_site.pk}", **auth).json()["can_reply"] is True


def test_channels_page_shows_which_channels_palabre_can_reach(
    french, channel, make_channel, org, owner, without_connector
):
    without_connector("instagram")
    make_channel(org, "instagram", handle="maisondupont", name="Insta")
    french.force_login(owner)
    tree = lxml_html.fromstring(_get(french, "/channels/"))
    rows = {row.xpath("string(td[1])").strip(): row for row in tree.xpath("//tbody/tr")}
    insta, site = rows["Insta"], rows[channel.name]
    assert "Non relié" in insta.text_content()
    assert "ni lire ni répondre" in insta.xpath(".//span[contains(@class, 'warn')]")[0].get("title")
    assert "ni lire ni répondre" in tree.xpath("string(//p[@id='unreachable-note'])")
    assert not insta.xpath(".//span[contains(@class, 'badge') and contains(@class, 'active')]")
    assert (
        "répondre" in site.xpath("string(td[@data-reach])")
        and site.xpath("td[@data-reach]")[0].get("data-reach") != "0"
    )
    assert site.xpath(".//span[contains(@class, 'badge') and contains(@class, 'active')]")


def test_a_reply_that_failed_for_good_says_so_in_french(french, channel, post, conversation_of, cm_actor):
    thread = conversation_of(post(channel, "Où en est ma commande ?", author="lou"))
    reply = services.send_reply(
        actor=cm_actor,
        conversation=thread,
        text="Bonjour Lou, votre commande part demain matin.",
        idempotency_key="k-failed-fr",
    )
    OutboundAction.objects.filter(pk=reply.action_id).update(
        status=ActionStatus.QUEUED,
        attempts=2,
        last_error="HTTP 503 from the platform",
        last_error_code="transient",
    )
    retrying = _get(french, f"/inbox/t/{thread.pk}/")
    assert "Nouvel essai prévu (tentative 2 échouée)" in retrying
    assert "La plateforme n’a pas pu être jointe." in retrying
    OutboundAction.objects.filter(pk=reply.action_id).update(status=ActionStatus.FAILED, attempts=5)
    failed = _get(french, f"/inbox/t/{thread.pk}/")
    badge = lxml_html.fromstring(failed).xpath("//span[@data-delivery]")[0]
    assert badge.text_content() == "Non distribuée" and "danger" in badge.get("class")
    assert "En file d" not in failed
    assert "La plateforme n’a pas pu être jointe." in failed and "HTTP 503 from the platform" in failed


def test_the_contact_trust_reads_in_french(french, channel, post, conversation_of):
    thread = conversation_of(post(channel, "Bonjour, une question sur la garantie", author="noe"))
    tree = lxml_html.fromstring(_get(french, f"/inbox/t/{thread.pk}/"))
    trust = tree.xpath("//*[@data-trust]")
    assert trust and trust[0].get("data-trust") == "new"
    assert trust[0].text_content().strip() == "Nouvel auteur"
