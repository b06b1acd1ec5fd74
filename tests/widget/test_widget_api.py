"""The widget's JSON endpoint and script, with Django's test client: outcomes, errors naming the field,
CORS for the site's origins only, the author's own awaiting comments, one organisation per site."""

from __future__ import annotations

import json

import pytest
from widget_world import BANNED, BANNED_TEXT, BLOG, FINE_TEXT, HELD_TEXT, PAGE, status_of

from palabre.conversations.models import Item

pytestmark = pytest.mark.django_db

OTHER_BLOG = "http://127.0.0.1:8765"


def _items():
    return list(Item.objects.filter(external_id__startswith="widget:"))


def _send(client, blog, data, *, origin=BLOG, token=None, **extra_headers):
    headers = {"HTTP_ORIGIN": origin, **extra_headers} if origin else dict(extra_headers)
    if token:
        headers["HTTP_X_PALABRE_AUTHOR"] = token
    return client.post(blog.comments_url, json.dumps(data), content_type="application/json", **headers)


def _list(client, blog, *, origin=BLOG, token=None, page=PAGE):
    headers = {"HTTP_ORIGIN": origin} if origin else {}
    if token:
        headers["HTTP_X_PALABRE_AUTHOR"] = token
    return client.get(blog.comments_url, {"page": page}, **headers)


def test_a_fine_comment_is_published_and_listed(client, blog):
    answer = _send(client, blog, blog.comment())
    assert answer.status_code == 201
    body = answer.json()
    assert body["status"] == "published"
    assert body["message"] == "Thank you, your comment is published."
    assert body["comment"]["text"] == FINE_TEXT and body["comment"]["name"] == "Léa Martin"
    assert "email" not in body["comment"]
    assert len(body["author_token"]) == 32 and body["form_token"]
    listed = _list(client, blog).json()
    assert [c["text"] for c in listed["comments"]] == [FINE_TEXT]
    assert listed["pending"] == [] and listed["form_token"]
    assert "lea.martin@example.org" not in json.dumps(listed)


def test_a_french_reader_is_answered_in_french(client, blog):
    answer = _send(client, blog, blog.comment(), HTTP_ACCEPT_LANGUAGE="fr-FR,fr;q=0.9")
    assert answer.json()["message"] == "Merci, votre commentaire est publié."


def test_the_list_takes_four_queries_however_many_comments(client, blog, django_assert_num_queries):
    for number in range(4):
        _send(client, blog, blog.comment(text=f"{FINE_TEXT} ({number})"))
    _send(client, blog, blog.comment(text=HELD_TEXT), token="t" * 32)
    # the site, the published comments, the reader's awaiting ones, the brand's replies
    with django_assert_num_queries(4):
        body = _list(client, blog, token="t" * 32).json()
    assert len(body["comments"]) == 4 and len(body["pending"]) == 1


def test_a_held_comment_is_listed_for_its_author_only(client, blog):
    body = _send(client, blog, blog.comment(text=HELD_TEXT)).json()
    assert body["status"] == "held"
    assert "awaits moderation" in body["message"]
    assert body["comment"]["status"] == "held"
    token = body["author_token"]
    assert _list(client, blog, token=token).json()["pending"][0]["text"] == HELD_TEXT
    assert _list(client, blog).json()["pending"] == []
    assert _list(client, blog, token="x" * 32).json()["pending"] == []
    assert _list(client, blog, token=token).json()["comments"] == []
    # The same reader keeps their token: the next comment is theirs too.
    again = _send(client, blog, blog.comment(text=HELD_TEXT + " Encore."), token=token).json()
    assert again["author_token"] == token
    assert len(_list(client, blog, token=token).json()["pending"]) == 2


def test_a_refused_comment_says_why_in_plain_words(client, blog):
    body = _send(client, blog, blog.comment(text=BANNED_TEXT)).json()
    assert body["status"] == "rejected"
    assert body["comment"] is None
    assert body["reasons"] == [f"It contains a word this site does not accept: “{BANNED}”."]
    (item,) = _items()
    assert status_of(item) == "rejected"
    assert _list(client, blog, token=body["author_token"]).json() | {"form_token": ""} == {
        "page": PAGE,
        "comments": [],
        "pending": [],
        "form_token": "",
    }


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"email": "lea.martin@"}, "email", "This e-mail address looks wrong"),
        ({"email": ""}, "email", "Give your e-mail address"),
        ({"name": ""}, "name", "Give your name."),
        ({"text": "  "}, "text", "Write your comment."),
        ({"text": "a" * 5001}, "text", "5001 characters long; the limit is 5000"),
        ({"page": "https://elsewhere.example/"}, "page", "This page is not on the site"),
        ({"form_token": "forged"}, "form_token", "This form is too old or incomplete"),
    ],
)
def test_bad_input_answers_400_naming_the_field(client, blog, change, field, message):
    answer = _send(client, blog, blog.comment(**change))
    assert answer.status_code == 400
    body = answer.json()
    assert list(body["errors"]) == [field]
    assert message in body["errors"][field][0]
    assert answer["Access-Control-Allow-Origin"] == BLOG  # the script can read why
    assert _items() == []


def test_an_expired_form_gets_a_fresh_token(client, blog):
    body = _send(client, blog, blog.comment(form_token=blog.token(seconds_ago=8 * 24 * 3600))).json()
    assert "form_token" in body["errors"] and body["form_token"]


def test_malformed_bodies_are_refused(client, blog):
    answer = client.post(blog.comments_url, "[1, 2]", content_type="application/json", HTTP_ORIGIN=BLOG)
    assert answer.status_code == 400 and "body" in answer.json()["errors"]
    answer = client.post(blog.comments_url, "{nope", content_type="application/json", HTTP_ORIGIN=BLOG)
    assert answer.status_code == 400
    huge = json.dumps(blog.comment(text="a" * 70_000))
    answer = client.post(blog.comments_url, huge, content_type="application/json", HTTP_ORIGIN=BLOG)
    assert answer.status_code == 413


def test_form_fields_are_accepted_too(client, blog):
    answer = client.post(blog.comments_url, blog.comment(), HTTP_ORIGIN=BLOG)
    assert answer.status_code == 201 and answer.json()["status"] == "published"


def test_a_filled_honeypot_answers_like_moderation_and_is_rejected(client, blog):
    body = _send(client, blog, blog.comment(website="http://cheap.example")).json()
    assert body["status"] == "held" and body["comment"]["status"] == "held"
    (item,) = _items()
    assert status_of(item) == "rejected"
    assert _list(client, blog, token=body["author_token"]).json()["pending"] == []


def test_a_comment_sent_too_fast_is_held(client, blog):
    token = _list(client, blog).json()["form_token"]
    body = _send(client, blog, blog.comment(form_token=token)).json()
    assert body["status"] == "held"
    (item,) = _items()
    codes = [r["code"] for r in item.moderation.last_decision.reasons]
    assert codes == ["too_fast"]


def test_the_analysis_task_keeps_the_forms_signals(client, blog):
    """The analysis task decides again on commit: it must agree with the answer given."""
    from palabre.moderation.services import moderate_item

    _send(client, blog, blog.comment(form_token=blog.token(seconds_ago=1)))
    _send(client, blog, blog.comment(website="x", text="Autre texte tout à fait normal."))
    for item in _items():
        moderate_item(item)
    assert sorted(status_of(item) for item in _items()) == ["held", "rejected"]


def test_cors_answers_the_sites_origins_only(client, make_blog, org):
    blog = make_blog(org, origins=[OTHER_BLOG, "not an origin"])
    for origin in (BLOG, OTHER_BLOG):
        answer = _list(client, blog, origin=origin)
        assert answer.status_code == 200
        assert answer["Access-Control-Allow-Origin"] == origin
        assert "Origin" in answer["Vary"]
        preflight = client.options(
            blog.comments_url,
            HTTP_ORIGIN=origin,
            HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
            HTTP_ACCESS_CONTROL_REQUEST_HEADERS="content-type, x-palabre-author",
        )
        assert preflight.status_code == 204
        assert preflight["Access-Control-Allow-Origin"] == origin
        assert "POST" in preflight["Access-Control-Allow-Methods"]
        assert "X-Palabre-Author" in preflight["Access-Control-Allow-Headers"]
    for origin in ("https://evil.example", "null", "http://127.0.0.1:8766"):
        answer = _list(client, blog, origin=origin)
        assert answer.status_code == 403 and "Access-Control-Allow-Origin" not in answer
        assert "origin" in answer.json()["errors"]
        preflight = client.options(blog.comments_url, HTTP_ORIGIN=origin)
        assert preflight.status_code == 403 and "Access-Control-Allow-Origin" not in preflight
        assert _send(client, blog, blog.comment(), origin=origin).status_code == 403
    assert _items() == []


def test_a_post_must_say_where_it_comes_from(client, blog):
    assert _send(client, blog, blog.comment(), origin=None).status_code == 403
    answer = client.post(
        blog.comments_url,
        json.dumps(blog.comment()),
        content_type="application/json",
        HTTP_REFERER=PAGE,
    )
    assert answer.status_code == 201


def test_another_organisations_site_never_lists_these_comments(client, blog, make_org, make_blog):
    _send(client, blog, blog.comment())
    _send(client, blog, blog.comment(text=HELD_TEXT))
    # Another brand registers the same address (by mistake or on purpose): its own channel, nothing shared.
    other = make_blog(make_org("Autre Marque"))
    assert other.site.channel_id != blog.site.channel_id
    listed = _list(client, other).json()
    assert listed["comments"] == [] and listed["pending"] == []
    # A site for another address cannot ask for this blog's pages at all.
    elsewhere = make_blog(make_org("Troisième"), "https://troisieme.example/")
    answer = _list(client, elsewhere, origin="https://troisieme.example")
    assert answer.status_code == 400 and "page" in answer.json()["errors"]
    # And this site's token is no key to another site's form.
    answer = _send(client, other, blog.comment())
    assert answer.status_code == 400 and "form_token" in answer.json()["errors"]


def test_the_script_carries_the_sites_configuration(client, blog):
    answer = client.get(blog.embed_url)
    assert answer.status_code == 200
    assert answer["Content-Type"].startswith("text/javascript")
    script = answer.content.decode()
    assert "/*palabre-config*/" not in script
    assert f'"comments": "http://testserver/widget/{blog.site.public_id}/comments"' in script
    assert '"form": "http://testserver/widget/' in script
    assert '"fr": {' in script and '"en": {' in script
    assert "</" not in script.rsplit("})(", 1)[1]  # the configuration cannot close a <script>


def test_the_embed_snippet_gives_the_code_to_paste(rf, blog):
    from django.template.loader import render_to_string

    html = render_to_string(
        "compat/widget_embed_snippet.html", {"site": blog.site, "request": rf.get("/moderation/sites/")}
    )
    assert f"http://testserver/widget/{blog.site.public_id}/embed.js" in html
    assert "&lt;noscript&gt;&lt;iframe" in html
    assert f"http://testserver/widget/{blog.site.public_id}/form?page=" in html


def test_one_form_token_serves_one_comment(client, blog):
    data = blog.comment()
    assert _send(client, blog, data).status_code == 201
    again = _send(client, blog, dict(data, text="Un autre avis."))
    assert again.status_code == 400
    body = again.json()
    assert list(body["errors"]) == ["form_token"]
    assert body["message"] == "This form was already sent once. Send it again: your text is kept."
    assert body["form_token"] and body["form_token"] != data["form_token"]
    assert len(_items()) == 1
    assert _send(client, blog, dict(data, form_token=body["form_token"])).status_code == 201
    assert len(_items()) == 2


def test_each_answer_carries_a_new_unused_token(client, blog):
    first = _send(client, blog, blog.comment()).json()["form_token"]
    second = _send(client, blog, blog.comment()).json()["form_token"]
    listed = _list(client, blog).json()["form_token"]
    assert len({first, second, listed}) == 3


def test_a_token_is_claimed_once_per_site_and_old_claims_are_forgotten(blog, make_blog, org):
    from datetime import timedelta

    from django.utils import timezone

    from palabre.compat.models import UsedFormToken
    from palabre.compat.widget import comments as widget

    token = blog.token()
    assert widget.claim_form_token(blog.site, token) is True
    assert widget.claim_form_token(blog.site, token) is False
    other = make_blog(org, "https://forum.maison-dupont.fr/", name="Forum")
    assert widget.claim_form_token(other.site, token) is True  # (its signature names the blog anyway)
    UsedFormToken.objects.update(used_at=timezone.now() - timedelta(seconds=widget.FORM_TOKEN_MAX_AGE + 1))
    assert widget.claim_form_token(blog.site, blog.token()) is True
    assert UsedFormToken.objects.filter(site=blog.site).count() == 1


def test_the_commenters_address_is_the_clients_behind_the_proxies(client, blog, settings):
    """Behind a reverse proxy every comment used to carry the proxy's address: one address listed as
    a spammer's would reject every reader of the site. The address is the one the trusted proxies
    saw (PALABRE_PROXY_COUNT), never one the client wrote further left."""
    settings.CLIENT_PROXY_COUNT = 1
    forwarded = {"REMOTE_ADDR": "10.0.0.2", "HTTP_X_FORWARDED_FOR": "198.51.100.1, 203.0.113.9"}
    assert _send(client, blog, blog.comment(), **forwarded).status_code == 201
    settings.CLIENT_PROXY_COUNT = 0
    direct = {"REMOTE_ADDR": "192.0.2.7", "HTTP_X_FORWARDED_FOR": "203.0.113.9"}
    assert _send(client, blog, blog.comment(text="Livré en vert, merci !"), **direct).status_code == 201
    addresses = {item.text: item.raw["author"]["ip"] for item in _items()}
    assert addresses == {FINE_TEXT: "203.0.113.9", "Livré en vert, merci !": "192.0.2.7"}


def test_one_address_sends_a_few_comments_a_minute_to_a_site(client, blog, make_blog, make_org, monkeypatch):
    """Anyone may post through the widget: one client used to store (and have moderated on the
    shared workers) as many comments as it could send. An address now sends a few a minute to a
    site; the refusal names the text, which the reader keeps, and says when to send again."""
    from palabre.compat.widget import comments as widget

    monkeypatch.setattr(widget, "POSTS_PER_ADDRESS_A_MINUTE", 2)
    here = {"REMOTE_ADDR": "203.0.113.9"}
    for n in range(2):
        assert _send(client, blog, blog.comment(text=f"{FINE_TEXT} {n}"), **here).status_code == 201
    refused = _send(client, blog, blog.comment(text=f"{FINE_TEXT} 2"), **here)
    assert refused.status_code == 429
    wait = int(refused["Retry-After"])
    assert 1 <= wait <= 60
    assert f"send yours again in {wait} seconds" in refused.json()["errors"]["text"][0]
    assert refused.json()["form_token"]
    assert len(_items()) == 2
    # Another reader, and the same reader on another organisation's site, are not held back.
    assert _send(client, blog, blog.comment(), REMOTE_ADDR="198.51.100.4").status_code == 201
    other = make_blog(make_org("Autre"), "http://127.0.0.1:8765/")
    assert (
        _send(
            client, other, other.comment(page="http://127.0.0.1:8765/a"), origin=OTHER_BLOG, **here
        ).status_code
        == 201
    )


def test_a_sites_comments_count_in_its_per_minute_limit(client, blog, monkeypatch):
    monkeypatch.setenv("PALABRE_AKISMET_RATE_LIMIT", "2")
    for n in range(2):
        sent = _send(client, blog, blog.comment(text=f"{FINE_TEXT} {n}"), REMOTE_ADDR=f"203.0.113.{n + 1}")
        assert sent.status_code == 201
    assert _send(client, blog, blog.comment(), REMOTE_ADDR="203.0.113.50").status_code == 429
