"""A thread that answers a brand post shows that post (text, date, link) above the messages; when
the post was never collected, the reference kept at ingestion says which post it was."""

from __future__ import annotations

import pytest

from palabre.orgs.permissions import Perm
from palabre.orgs.services import create_api_token

pytestmark = pytest.mark.clock

PROMO = "Les Journées Lumière commencent : -20 % sur tous les canapés jusqu'à dimanche."


@pytest.fixture
def answering(channel, post, conversation_of):
    post(channel, PROMO, author=channel.handle, external_id="brand-post-1")
    return conversation_of(
        post(channel, "Le -20 % s'applique aussi au canapé d'angle ?", author="sophie", parent="brand-post-1")
    )


def test_the_thread_shows_the_brand_post_it_answers_in_french(client, cm, answering, settings):
    settings.LANGUAGE_CODE = "fr"
    client.force_login(cm)
    html = client.get(f"/inbox/t/{answering.pk}/", HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    panel = html.split('id="answered-post"', 1)[1].split("</section>", 1)[0]
    assert "En réponse à la publication de Blog" in panel and "Les Journées Lumière commencent" in panel
    # Shown once, above the thread, not again as its first message.
    assert html.count("Les Journées Lumière commencent") == 1
    assert html.index('id="answered-post"') < html.index('class="inbox-items"')


def test_a_post_never_collected_is_named_by_its_reference(client, cm, channel, post, conversation_of):
    orphan = conversation_of(post(channel, "Et en bleu, il existe ?", author="marc", parent="post-absent-42"))
    client.force_login(cm)
    html = client.get(f"/inbox/t/{orphan.pk}/").content.decode()
    assert "In answer to a post Palabre has not collected" in html and "post-absent-42" in html


def test_a_thread_that_answers_no_post_shows_no_panel(client, cm, channel, post, conversation_of):
    alone = conversation_of(post(channel, "Bonjour, vous livrez en Belgique ?", author="ines"))
    client.force_login(cm)
    assert 'id="answered-post"' not in client.get(f"/inbox/t/{alone.pk}/").content.decode()


def test_the_api_gives_the_answered_post(client, owner_actor, answering):
    _token, secret = create_api_token(actor=owner_actor, name="post", scopes=[p.value for p in Perm])
    detail = client.get(f"/api/inbox/threads/{answering.pk}", HTTP_AUTHORIZATION=f"Bearer {secret}").json()
    assert detail["answers_post"]["stored"] is True
    assert detail["answers_post"]["external_id"] == "brand-post-1"
    assert detail["answers_post"]["text"] == PROMO
    assert detail["reply_limit"] is None  # the site: no limit
