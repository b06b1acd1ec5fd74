"""Akismet's `true` means spam: a toxic comment that is not spam is answered as its site chose
(default: `false`, held in Palabre, with `X-Palabre-Held: toxic`), through the real client."""

from __future__ import annotations

import akismet
import httpx
import pytest
from django.urls import reverse

from palabre.compat.akismet.comments import TOXIC_REASONS, verdict_for
from palabre.conversations.models import Item
from palabre.moderation import engine
from palabre.moderation import services as moderation
from palabre.moderation.models import ItemModeration, ModerationSite, ModerationStatus, ToxicAnswer
from palabre.orgs.models import AuditEvent
from palabre.orgs.services import Actor, create_api_token

pytestmark = pytest.mark.django_db(transaction=True)

IP = "203.0.113.9"
# Insults, threats and hate written to a blog: none of them sells anything.
TOXIC = [
    "Espèce de connard, ton article est une merde",
    "Ferme ta gueule, sale con",
    "Bande d'abrutis, vous ne savez pas écrire",
    "T'es qu'une salope, retourne à ta cuisine",
    "Je vais te retrouver et te buter",
    "On sait où tu habites, fais gaffe à toi",
    "Les musulmans sont tous des terroristes",
    "Les juifs contrôlent tout, il faudrait tous les virer.",
    "Va te faire enculer avec ta recette de merde",
    "Fils de pute, tu mérites de crever",
    "Sale bougnoule, rentre chez toi",
    "Les femmes sont toutes des putes",
    "Nique ta mère l'auteur",
    "Tu es une grosse conne",
    "You are a fucking idiot",
    "Shut up you stupid bitch",
    "I will kill you and your family",
    "Go back to your country, immigrants are ruining everything",
    "What a retard, this is the dumbest post ever",
    "Kill yourself, nobody reads your garbage",
]
SPAM = "Buy cheap viagra online now!!! Best price, free shipping http://cheap-pills.xyz http://pills.top"
HAM = "J'ai trouvé ce tutoriel très clair, surtout la partie sur la pâte brisée."


def comment(text: str, number: int = 0) -> dict:
    return {
        "comment_content": text,
        "comment_type": "comment",
        "comment_author": f"Lecteur {number}",
        "comment_author_email": f"lecteur{number}@example.org",
        "permalink": "https://blog.maison-dupont.fr/2024/05/tarte",
    }


def test_twenty_toxic_comments_are_not_spam_and_wait_in_palabre(blog, sync_client):
    client = sync_client(blog)
    answers = [client.comment_check(IP, **comment(text, i)) for i, text in enumerate(TOXIC)]
    assert answers == [akismet.CheckResponse.HAM] * len(TOXIC)
    states = ItemModeration.objects.filter(item__channel=blog.site.channel)
    assert states.count() == len(TOXIC)
    # The site may publish them: in Palabre each waits for a person, none is filed away as rejected.
    assert set(states.values_list("status", flat=True)) == {ModerationStatus.HELD}
    for state in states.select_related("last_decision"):
        codes = {reason["code"] for reason in state.last_decision.reasons}
        assert codes & TOXIC_REASONS
        assert not codes & {"score_spam", "known_spam"}
    # Spam is still spam, and ordinary comments are published.
    assert client.comment_check(IP, **comment(SPAM, 99)) == akismet.CheckResponse.DISCARD
    assert client.comment_check(IP, **comment(HAM, 98)) == akismet.CheckResponse.HAM


def test_self_promotion_is_spam_held_not_discarded(blog, sync_client):
    # A reader sent to the author's own channel, no link: spam (true), kept in Palabre for a person.
    client = sync_client(blog)
    promotion = "Super recette ! Venez voir mes vidéos de cuisine, abonnez-vous à ma chaîne"
    assert client.comment_check(IP, **comment(promotion, 7)) == akismet.CheckResponse.SPAM
    state = ItemModeration.objects.get(item__channel=blog.site.channel)
    assert state.status == ModerationStatus.HELD
    assert "lexicon_self_promotion" in {reason["code"] for reason in state.last_decision.reasons}


def test_the_held_header_says_why(blog, http):
    base = {"api_key": blog.key, "blog": blog.site.url, "user_ip": IP}
    toxic = http.post("/1.1/comment-check", data={**base, **comment(TOXIC[0])})
    assert (toxic.text, toxic.headers["X-Palabre-Held"]) == ("false", "toxic")
    ham = http.post("/1.1/comment-check", data={**base, **comment(HAM, 1)})
    assert ham.text == "false" and "X-Palabre-Held" not in ham.headers
    spam = http.post("/1.1/comment-check", data={**base, **comment(SPAM, 2)})
    assert spam.text == "true" and "X-Palabre-Held" not in spam.headers
    # A re-check of the same comment answers the same from what was stored.
    again = http.post("/1.1/comment-check", data={**base, **comment(TOXIC[0]), "recheck_reason": "edit"})
    assert (again.text, again.headers["X-Palabre-Held"]) == ("false", "toxic")


def test_a_site_may_choose_to_file_toxic_comments_as_spam(org, blog, sync_client):
    moderation.update_moderation_site(
        actor=Actor.palabre(org),
        site=blog.site,
        name=blog.site.name,
        allowed_origins=[],
        toxic_answer=ToxicAnswer.SPAM,
    )
    client = sync_client(blog)
    answers = {client.comment_check(IP, **comment(text, i)) for i, text in enumerate(TOXIC[:6])}
    assert answers == {akismet.CheckResponse.SPAM}
    assert client.comment_check(IP, **comment(HAM, 50)) == akismet.CheckResponse.HAM
    assert Item.objects.filter(channel=blog.site.channel).count() == 7


def test_test_calls_answer_the_same_and_store_nothing(blog, sync_client):
    client = sync_client(blog)
    assert client.comment_check(IP, **comment(TOXIC[1]), is_test=True) == akismet.CheckResponse.HAM
    assert not Item.objects.filter(channel=blog.site.channel).exists()


@pytest.mark.parametrize(
    ("action", "reasons", "choice", "expected"),
    [
        (engine.PUBLISH, [], ToxicAnswer.HOLD, (False, False, "")),
        (engine.REJECT, [("score_insult", engine.REJECT)], ToxicAnswer.HOLD, (False, False, "toxic")),
        (engine.REJECT, [("score_insult", engine.REJECT)], ToxicAnswer.SPAM, (True, False, "")),
        (engine.HOLD, [("lexicon_threat", engine.HOLD)], ToxicAnswer.HOLD, (False, False, "toxic")),
        (engine.HOLD, [("banned_word", engine.HOLD)], ToxicAnswer.SPAM, (True, False, "")),
        (engine.HOLD, [("first_time_author", engine.HOLD)], ToxicAnswer.SPAM, (False, False, "review")),
        (engine.HOLD, [("lexicon_self_promotion", engine.HOLD)], ToxicAnswer.HOLD, (True, False, "")),
        (engine.HOLD, [("lexicon_phishing", engine.HOLD)], ToxicAnswer.HOLD, (True, False, "")),
        # Held as spam by its links alone (a customer's photo of the damage): no claim of spam.
        (engine.HOLD, [("spam_by_links", engine.HOLD)], ToxicAnswer.HOLD, (False, False, "review")),
        (engine.HOLD, [("spam_by_links", engine.HOLD)], ToxicAnswer.SPAM, (False, False, "review")),
        (
            engine.REJECT,
            [("score_spam", engine.REJECT), ("score_insult", engine.HOLD)],
            ToxicAnswer.HOLD,
            (True, True, ""),
        ),
        (
            engine.HOLD,
            [("too_many_links", engine.HOLD), ("score_toxicity", engine.HOLD)],
            ToxicAnswer.HOLD,
            (True, False, ""),
        ),
    ],
)
def test_verdicts(action, reasons, choice, expected):
    assert verdict_for(action, reasons, choice) == expected


# --- the choice, on the site's page and through the API ----------------------------------------


def test_the_choice_is_on_the_sites_page_in_french_and_english(org, owner, client, blog):
    client.force_login(owner)
    url = reverse("moderation:site_edit", args=[blog.site.pk])
    page = client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Toxic comments that are not spam" in page and "X-Palabre-Held: toxic" in page
    french = client.get(url, HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert "Commentaires toxiques qui ne sont pas du spam" in french
    response = client.post(url, {"name": "Blog", "allowed_origins": "", "toxic_answer": "spam"})
    assert response.status_code == 302
    blog.site.refresh_from_db()
    assert blog.site.toxic_answer == ToxicAnswer.SPAM
    event = AuditEvent.objects.filter(action="moderation.site_updated").latest("pk")
    assert (event.before["toxic_answer"], event.after["toxic_answer"]) == ("hold", "spam")
    refused = client.post(url, {"name": "Blog", "allowed_origins": "", "toxic_answer": "delete"})
    assert refused.status_code == 200 and "toxic_answer" in refused.content.decode()
    blog.site.refresh_from_db()
    assert blog.site.toxic_answer == ToxicAnswer.SPAM


def test_the_choice_through_the_api(org, owner_actor, blog, make_org, register_site, live_server):
    _token, secret = create_api_token(actor=owner_actor, name="sites", scopes=["moderation.rules"])
    api = httpx.Client(
        base_url=live_server.url + "/api", headers={"Authorization": f"Bearer {secret}"}, timeout=20
    )
    listed = api.get("/moderation/sites").json()
    assert [(s["id"], s["toxic_answer"]) for s in listed] == [(blog.site.pk, "hold")]
    changed = api.patch(f"/moderation/sites/{blog.site.pk}", json={"toxic_answer": "spam"})
    assert changed.status_code == 200 and changed.json()["toxic_answer"] == "spam"
    assert ModerationSite.objects.get(pk=blog.site.pk).toxic_answer == "spam"
    bad = api.patch(f"/moderation/sites/{blog.site.pk}", json={"toxic_answer": "delete"})
    assert bad.status_code == 422 and "toxic_answer" in bad.text
    other = register_site(make_org("Autre"), url="https://autre.example.org/")
    assert api.patch(f"/moderation/sites/{other.site.pk}", json={"toxic_answer": "spam"}).status_code == 404
    assert ModerationSite.objects.get(pk=other.site.pk).toxic_answer == "hold"
