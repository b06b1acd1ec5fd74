"""The comment page without JavaScript (`/widget/<id>/form`), with Django's test client: it never loses
what a person typed, tells the outcome, and only the site's pages may frame it."""

from __future__ import annotations

import re

import pytest
from django.utils import timezone
from widget_world import BANNED, BANNED_TEXT, BLOG, FINE_TEXT, HELD_TEXT, PAGE, status_of

from palabre.conversations.models import Item
from palabre.moderation.models import ModerationSite

pytestmark = pytest.mark.django_db


def _items():
    return list(Item.objects.filter(external_id__startswith="widget:"))


def _post(client, blog, data, **headers):
    headers.setdefault("HTTP_ORIGIN", "http://testserver")
    return client.post(f"{blog.form_url}?page={PAGE}", data, **headers)


def test_the_page_lists_the_form_and_may_be_framed_by_the_site_only(client, blog):
    response = client.get(blog.form_url, {"page": PAGE})
    assert response.status_code == 200
    content = response.content.decode()
    assert '<form class="palabre-form" method="post"' in content
    assert 'name="form_token"' in content and 'name="website"' in content
    assert "X-Frame-Options" not in response.headers
    assert f"frame-ancestors 'self' {BLOG}" in response.headers["Content-Security-Policy"].split("; ")


def test_a_fine_comment_is_published_and_listed(client, blog):
    response = _post(client, blog, blog.comment())
    assert response.status_code == 303
    assert "sent=published" in response["Location"]
    (item,) = _items()
    assert status_of(item) == "published"
    assert item.url == PAGE and item.channel_id == blog.site.channel_id
    assert item.raw["author"]["email"] == "lea.martin@example.org"
    page = client.get(response["Location"]).content.decode()
    assert FINE_TEXT.replace("'", "&#x27;") in page or FINE_TEXT in page
    assert "Léa Martin" in page
    assert "lea.martin@example.org" not in page  # an e-mail address is never shown
    assert "Thank you, your comment is published." in page


def test_a_held_comment_is_shown_to_its_author_only(client, blog, django_user_model):
    from django.test import Client

    response = _post(client, blog, blog.comment(text=HELD_TEXT))
    assert response.status_code == 303 and "sent=held" in response["Location"]
    (item,) = _items()
    assert status_of(item) == "held"
    assert "palabre_widget_author" in response.cookies
    mine = client.get(response["Location"]).content.decode()
    assert "Je demande le remboursement" in mine
    assert "Awaiting moderation: only you can see it." in mine
    stranger = Client().get(blog.form_url, {"page": PAGE}).content.decode()
    assert "Je demande le remboursement" not in stranger


def test_a_refused_comment_keeps_its_text_and_says_why(client, blog):
    response = _post(client, blog, blog.comment(text=BANNED_TEXT))
    assert response.status_code == 200
    content = response.content.decode()
    assert "Your comment was not published" in content
    assert f"“{BANNED}”" in content  # the reason, in plain words
    assert re.search(r"<textarea[^>]*>\s*Cette boutique est une arnaque.</textarea>", content)
    (item,) = _items()
    assert status_of(item) == "rejected"
    assert "Cette boutique" not in client.get(blog.form_url, {"page": PAGE}).content.decode()


def test_an_invalid_email_keeps_everything_typed_and_names_the_field(client, blog):
    response = _post(client, blog, blog.comment(email="lea.martin@", text="Mon texte\nsur deux lignes"))
    assert response.status_code == 200
    content = response.content.decode()
    assert 'id="id_email_error"' in content and "This e-mail address looks wrong" in content
    assert 'aria-invalid="true"' in content
    assert re.search(r"<textarea[^>]*>\s*Mon texte\s+sur deux lignes</textarea>", content)
    assert 'value="lea.martin@"' in content and 'value="Léa Martin"' in content
    assert _items() == []


def test_a_too_long_comment_keeps_all_of_it(client, blog):
    text = "Très long avis. " * 400  # 6,400 characters
    response = _post(client, blog, blog.comment(text=text))
    content = response.content.decode()
    assert 'id="id_text_error"' in content and "the limit is 5000" in content
    assert text.strip() in content  # not cut at 5,000
    assert 'maxlength="5000"' not in content  # the browser must not cut it either
    assert _items() == []


def test_an_empty_comment_is_asked_for(client, blog):
    content = _post(client, blog, blog.comment(text="   ")).content.decode()
    assert "Write your comment." in content
    assert _items() == []


def test_a_filled_honeypot_looks_like_moderation_but_is_rejected_as_a_robot(client, blog):
    response = _post(client, blog, blog.comment(website="https://cheap-pills.example"))
    assert response.status_code == 303 and "sent=held" in response["Location"]
    (item,) = _items()
    assert status_of(item) == "rejected"
    assert "honeypot" in [r["code"] for r in item.moderation.last_decision.reasons]


def test_a_form_sent_too_fast_is_held_not_lost(client, blog):
    page = client.get(blog.form_url, {"page": PAGE}).content.decode()
    token = re.search(r'name="form_token" value="([^"]+)"', page).group(1)
    response = _post(client, blog, blog.comment(form_token=token))
    assert response.status_code == 303 and "sent=held" in response["Location"]
    (item,) = _items()
    assert status_of(item) == "held"
    (reason,) = [r for r in item.moderation.last_decision.reasons if r["code"] == "too_fast"]
    assert reason["action"] == "hold" and reason["params"]["seconds"] < 3


def test_a_forged_or_missing_token_keeps_the_text_and_gives_a_new_form(client, blog):
    response = _post(client, blog, blog.comment(form_token="forged", text="Mon avis compte"))
    content = response.content.decode()
    assert "This form is too old or incomplete" in content
    assert "Mon avis compte" in content
    new_token = re.search(r'name="form_token" value="([^"]+)"', content).group(1)
    assert new_token != "forged"
    assert _items() == []


def test_a_post_from_another_origin_is_refused(client, blog):
    response = _post(client, blog, blog.comment(), HTTP_ORIGIN="https://evil.example")
    assert response.status_code == 403
    assert _items() == []


def test_a_page_outside_the_site_is_refused(client, blog):
    assert client.get(blog.form_url, {"page": "https://elsewhere.example/post"}).status_code == 400
    assert client.get(blog.form_url).status_code == 400


def test_a_revoked_site_answers_404_everywhere(client, blog):
    ModerationSite.objects.filter(pk=blog.site.pk).update(revoked_at=timezone.now())
    assert client.get(blog.form_url, {"page": PAGE}).status_code == 404
    assert client.get(blog.comments_url, {"page": PAGE}).status_code == 404
    assert client.get(blog.embed_url).status_code == 404
    assert _post(client, blog, blog.comment()).status_code == 404


def _token_in(content: str) -> str:
    return re.search(r'name="form_token" value="([^"]+)"', content).group(1)


def test_one_form_token_serves_one_comment(client, blog):
    data = blog.comment()
    assert _post(client, blog, data).status_code == 303
    again = _post(client, blog, dict(data, text="Et un deuxième avis avec le même formulaire."))
    assert again.status_code == 200
    content = again.content.decode()
    assert "This form was already sent once" in content
    assert "Et un deuxième avis avec le même formulaire." in content  # the text is kept
    fresh = _token_in(content)
    assert fresh != data["form_token"]
    assert len(_items()) == 1
    # The fresh form works (once).
    assert _post(client, blog, dict(data, text="Un deuxième avis.", form_token=fresh)).status_code == 303
    assert len(_items()) == 2


def test_a_refused_comment_can_be_changed_and_sent_again(client, blog):
    data = blog.comment(text=BANNED_TEXT)
    content = _post(client, blog, data).content.decode()
    fresh = _token_in(content)
    assert fresh != data["form_token"]  # the used token is replaced: the corrected text can be sent
    assert _post(client, blog, dict(data, text=FINE_TEXT, form_token=fresh)).status_code == 303
    assert sorted(status_of(item) for item in _items()) == ["published", "rejected"]


def test_a_post_saying_neither_origin_nor_referer_is_refused_with_the_text_kept(client, blog):
    data = blog.comment(text="Mon avis, tapé sans JavaScript")
    response = client.post(f"{blog.form_url}?page={PAGE}", data)  # no Origin, no Referer
    assert response.status_code == 403
    content = response.content.decode()
    assert "Your browser did not say which page sent this comment." in content
    assert re.search(r"<textarea[^>]*>\s*Mon avis, tapé sans JavaScript</textarea>", content)
    assert 'value="Léa Martin"' in content
    assert _token_in(content) != data["form_token"]
    assert _items() == []
    # A browser without JavaScript sends Origin (its own page, the form's host) or at least Referer.
    assert (
        client.post(f"{blog.form_url}?page={PAGE}", data, HTTP_ORIGIN="http://testserver").status_code == 303
    )
    referer = f"http://testserver{blog.form_url}?page={PAGE}"
    assert (
        client.post(f"{blog.form_url}?page={PAGE}", blog.comment(), HTTP_REFERER=referer).status_code == 303
    )
    assert len(_items()) == 2


def test_too_many_comments_from_one_address_keep_the_text(client, blog, monkeypatch):
    from palabre.compat.widget import comments as widget

    monkeypatch.setattr(widget, "POSTS_PER_ADDRESS_A_MINUTE", 1)
    assert _post(client, blog, blog.comment()).status_code == 303
    response = _post(client, blog, blog.comment(text="Mon second\ncommentaire"))
    assert response.status_code == 429
    content = response.content.decode()
    assert "Too many comments sent from here" in content
    assert re.search(r"<textarea[^>]*>\s*Mon second\s+commentaire</textarea>", content)
    assert len(_items()) == 1
