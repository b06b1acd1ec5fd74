"""The Akismet protocol as the real `akismet` client (sync and async) and raw HTTP clients speak it."""

from __future__ import annotations

import asyncio

import akismet
import pytest

from palabre.conversations.models import Item
from palabre.moderation.models import ItemModeration, MessageFingerprint, ModerationDecision, ModerationStatus

pytestmark = pytest.mark.django_db(transaction=True)

HAM = "J'ai trouvé ce tutoriel très clair, surtout la partie sur la pâte brisée. Bravo 2024"
SPAM = "Buy cheap viagra online now!!! Best price, free shipping http://cheap-pills.xyz http://pills.top"
IP = "203.0.113.7"


def comment(text: str = HAM, **extra) -> dict:
    fields = {
        "comment_content": text,
        "comment_type": "comment",
        "comment_author": "Camille",
        "comment_author_email": "camille@example.org",
        "permalink": "https://blog.maison-dupont.fr/2024/05/tarte",
        "user_agent": "Mozilla/5.0",
    }
    fields.update(extra)
    return fields


def form(registered, **fields) -> dict:
    return {"api_key": registered.key, "blog": registered.site.url, "user_ip": IP, **fields}


def items_of(registered):
    return Item.objects.filter(channel=registered.site.channel)


# --- verify-key --------------------------------------------------------------------------------


def test_the_real_client_verifies_its_key(blog, sync_client):
    client = akismet.SyncClient.validated_client(
        config=blog.config, http_client=sync_client(blog)._http_client
    )
    assert client.verify_key() is True
    assert client.verify_key(key="not-a-key-of-palabre", url=blog.site.url) is False
    assert client.verify_key(key=blog.key, url="https://another-blog.example.com/") is False


def test_an_invalid_key_answers_invalid_with_the_debug_header(blog, http, sync_client):
    response = http.post("/1.1/verify-key", data={"key": "0" * 24, "blog": blog.site.url})
    assert (response.status_code, response.text) == (200, "invalid")
    assert response.headers["X-akismet-debug-help"]
    response = http.post("/1.1/comment-check", data={**form(blog), "api_key": "0" * 24, **comment()})
    assert response.text == "invalid"
    assert "unknown" in response.headers["X-akismet-debug-help"]
    with pytest.raises(akismet.APIKeyError):
        sync_client(blog, key="0" * 24).comment_check(IP, **comment())
    with pytest.raises(akismet.APIKeyError):
        akismet.SyncClient.validated_client(
            config=akismet.Config(key="0" * 24, url=blog.site.url), http_client=sync_client(blog)._http_client
        )


def test_a_revoked_key_is_invalid(blog, http):
    from palabre.moderation import services as moderation
    from palabre.orgs.services import Actor

    moderation.revoke_moderation_site(actor=Actor.palabre(blog.site.organisation), site=blog.site)
    assert http.post("/1.1/verify-key", data={"key": blog.key, "blog": blog.site.url}).text == "invalid"


def test_missing_fields_are_named_in_the_debug_header(blog, http):
    response = http.post("/1.1/verify-key", data={"key": blog.key})
    assert response.text == "invalid"
    assert response.headers["X-akismet-debug-help"] == 'Empty "blog" value'
    response = http.post("/1.1/comment-check", data={"api_key": blog.key, "user_ip": IP, **comment()})
    assert response.text == "invalid"
    assert response.headers["X-akismet-debug-help"] == 'Empty "blog" value'
    response = http.post("/1.1/comment-check", data={"blog": blog.site.url, "user_ip": IP, **comment()})
    assert response.headers["X-akismet-debug-help"] == 'Empty "api_key" value'
    response = http.post("/1.1/comment-check", data={"api_key": blog.key, "blog": blog.site.url, **comment()})
    assert response.text == "Missing required field: user_ip."
    # Akismet's own wording: the body says which field, the debug header that it was empty.
    assert response.headers["X-akismet-debug-help"] == 'Empty "user_ip" value'
    assert not items_of(blog).exists()


def test_the_blog_is_compared_leniently_but_must_be_the_keys_site(blog, http):
    for same in (
        "http://blog.maison-dupont.fr",
        "https://www.blog.maison-dupont.fr/",
        "blog.maison-dupont.fr",
    ):
        assert http.post("/1.1/verify-key", data={"key": blog.key, "blog": same}).text == "valid", same
    response = http.post("/1.1/verify-key", data={"key": blog.key, "blog": "https://maison-dupont.fr/"})
    assert response.text == "invalid"
    assert "not the site of this key" in response.headers["X-akismet-debug-help"]


# --- comment-check -----------------------------------------------------------------------------


def test_comment_check_answers_spam_and_ham_and_stores_moderated_items(blog, sync_client):
    client = sync_client(blog)
    assert client.comment_check(IP, **comment(HAM)) == akismet.CheckResponse.HAM
    assert client.comment_check(IP, **comment(SPAM, comment_author="Pharma")) == akismet.CheckResponse.DISCARD

    ham, spam = items_of(blog).order_by("received_at")
    assert (ham.text, ham.kind, ham.raw["author"]["ip"], ham.author.handle) == (
        HAM,
        "comment",
        IP,
        "camille@example.org",
    )
    assert ItemModeration.objects.get(item=ham).status == ModerationStatus.PUBLISHED
    spam_state = ItemModeration.objects.get(item=spam)
    assert spam_state.status == ModerationStatus.REJECTED
    assert any(r["code"] == "score_spam" for r in spam_state.last_decision.reasons)


def test_comment_check_returns_a_guid_and_a_recheck_updates_the_same_item(blog, http):
    first = http.post("/1.1/comment-check", data=form(blog, **comment(HAM)))
    guid = first.headers["X-akismet-guid"]
    again = http.post("/1.1/comment-check", data=form(blog, **comment(HAM), recheck_reason="edit"))
    assert again.headers["X-akismet-guid"] == guid
    (item,) = items_of(blog)
    assert item.external_id.endswith(guid)
    assert item.raw["akismet"]["recheck_reason"] == "edit"
    assert ModerationDecision.objects.filter(item=item, source="automatic").count() >= 2


def test_the_async_client_speaks_the_same_protocol(blog, async_http):
    async def scenario():
        async with akismet.AsyncClient(config=blog.config, http_client=async_http()) as client:
            assert await client.verify_key() is True
            ham = await client.comment_check(IP, **comment(HAM))
            spam = await client.comment_check(IP, **comment(SPAM, comment_author="Pharma"))
            submitted = await client.submit_ham(IP, **comment(SPAM, comment_author="Pharma"))
            usage = await client.usage_limit()
            return ham, spam, submitted, usage

    ham, spam, submitted, usage = asyncio.run(scenario())
    assert (ham, spam, submitted) == (akismet.CheckResponse.HAM, akismet.CheckResponse.DISCARD, True)
    assert usage == {"limit": "none", "usage": 2, "percentage": "0.00", "throttled": False}


def test_comment_types_become_item_kinds(blog, sync_client):
    client = sync_client(blog)
    client.comment_check(IP, **comment("Une question sur vos horaires ?", comment_type="contact-form"))
    client.comment_check(IP, **comment("Je réponds à Paul : oui.", comment_type="reply"))
    client.comment_check(IP, **comment("Nouveau sujet sur le forum.", comment_type="forum-post"))
    assert sorted(items_of(blog).values_list("kind", flat=True)) == ["direct_message", "post", "reply"]


# --- Akismet's test triggers -------------------------------------------------------------------


def test_guaranteed_spam_triggers_answer_spam_and_store_nothing(blog, sync_client):
    client = sync_client(blog)
    assert client.comment_check(IP, **comment(HAM, comment_author="akismet-guaranteed-spam")) == 1
    assert client.comment_check(
        IP, **comment(HAM, comment_author_email="akismet-guaranteed-spam@example.com")
    )
    assert not items_of(blog).exists()


def test_an_administrator_is_never_spam(blog, sync_client):
    client = sync_client(blog)
    assert client.comment_check(IP, **comment(SPAM, user_role="administrator")) == akismet.CheckResponse.HAM
    assert client.comment_check(IP, **comment(SPAM, user_role="administrator", is_test=True)) == 0


def test_is_test_is_moderated_but_stores_and_trains_nothing(blog, sync_client):
    client = sync_client(blog)
    assert client.comment_check(IP, **comment(SPAM, is_test=True)) == akismet.CheckResponse.DISCARD
    assert client.comment_check(IP, **comment(HAM, is_test=True)) == akismet.CheckResponse.HAM
    assert client.submit_spam(IP, **comment(HAM, is_test=True)) is True
    assert not items_of(blog).exists()
    assert not MessageFingerprint.objects.exists()
    # the same comment, for real, is still ham: the test submission taught nothing
    assert client.comment_check(IP, **comment(HAM)) == akismet.CheckResponse.HAM


def test_a_filled_honeypot_is_spam_and_marked_so(blog, http):
    fields = comment(HAM, honeypot_field_name="website_url", website_url="http://bot.example")
    assert http.post("/1.1/comment-check", data=form(blog, **fields)).text == "true"
    (item,) = items_of(blog)
    state = ItemModeration.objects.get(item=item)
    assert (state.status, state.is_spam, state.last_decision.action) == ("rejected", True, "spam")
    empty = comment("Un autre avis.", honeypot_field_name="website_url", website_url="")
    assert http.post("/1.1/comment-check", data=form(blog, **empty)).text == "false"


# --- feedback ----------------------------------------------------------------------------------


def test_submit_spam_changes_the_decision_on_a_near_identical_comment(blog, sync_client):
    client = sync_client(blog)
    assert client.comment_check(IP, **comment(HAM)) == akismet.CheckResponse.HAM
    assert client.submit_spam(IP, **comment(HAM)) is True

    (item,) = items_of(blog)  # found again, not stored twice
    state = ItemModeration.objects.get(item=item)
    assert (state.status, state.is_spam) == (ModerationStatus.REJECTED, True)
    assert state.last_decision.source == ModerationDecision.Source.MODERATOR
    from palabre.orgs.models import AuditEvent

    assert AuditEvent.objects.filter(action="moderation.spam", actor_label="akismet:Blog").exists()

    near = HAM.upper().replace("2024", "2025") + " !!"
    assert (
        client.comment_check(IP, **comment(near, comment_author="Dominique")) == akismet.CheckResponse.DISCARD
    )


def test_submit_spam_of_an_unknown_comment_stores_it_then_learns(blog, sync_client):
    client = sync_client(blog)
    assert client.submit_spam(IP, **comment(HAM)) is True
    (item,) = items_of(blog)
    assert ItemModeration.objects.get(item=item).is_spam
    assert (
        client.comment_check(IP, **comment(HAM + " ", comment_author="Autre"))
        == akismet.CheckResponse.DISCARD
    )


def test_submit_ham_approves_and_the_recheck_follows_the_person(blog, sync_client):
    client = sync_client(blog)
    spammy = comment(SPAM, comment_author="Pharma")
    assert client.comment_check(IP, **spammy) == akismet.CheckResponse.DISCARD
    assert client.submit_ham(IP, **spammy) is True
    (item,) = items_of(blog)
    state = ItemModeration.objects.get(item=item)
    assert (state.status, state.last_decision.action) == (ModerationStatus.APPROVED, "ham")
    assert client.comment_check(IP, **spammy, recheck_reason="recheck_queue") == akismet.CheckResponse.HAM


def test_submit_spam_as_coral_sends_it_in_json(blog, http):
    first = http.post("/1.1/comment-check", data=form(blog, **comment(HAM)))
    payload = {**form(blog, **comment(HAM)), "guid": first.headers["X-akismet-guid"], "is_test": False}
    payload["comment_author"] = "renamed in the JSON"  # found by its guid all the same
    response = http.post("/1.1/submit-spam", json=payload)
    assert (response.status_code, response.text) == (200, "Thanks for making the web a better place.")
    (item,) = items_of(blog)
    assert ItemModeration.objects.get(item=item).is_spam


def test_malformed_json_is_refused(blog, http):
    response = http.post(
        "/1.1/submit-spam", content=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400
    assert response.headers["X-akismet-debug-help"]


# --- the request itself ------------------------------------------------------------------------


def test_unknown_fields_are_ignored(blog, http):
    fields = form(
        blog,
        **comment(HAM),
        POST_comment_post_ID="12",
        POST_akismet_comment_nonce="abc",
        HTTP_ACCEPT_LANGUAGE="fr-FR",
        SERVER_SOFTWARE="nginx",
        blog_lang="fr_FR",
        blog_charset="UTF-8",
        something_new="?",
    )
    assert http.post("/1.1/comment-check", data=fields).text == "false"
    (item,) = items_of(blog)
    assert "POST_comment_post_ID" not in str(item.raw)


def test_nul_characters_are_dropped_so_the_comment_is_answered_and_stored(blog, http):
    fields = form(blog, **comment(HAM))
    fields["comment_author"] = "Lé\x00a"
    fields["comment_content"] = HAM.replace(" ", " \x00", 1)
    answer = http.post("/1.1/comment-check", data=fields)
    assert answer.status_code == 200 and answer.text == "false"
    (item,) = items_of(blog)
    assert item.text == HAM
    assert item.author.display_name == "Léa"


def test_the_key_may_be_the_first_label_of_the_host(blog, live_server, settings):
    import httpx

    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, ".rest.akismet.com"]
    fields = {"blog": blog.site.url, "user_ip": IP, **comment(SPAM, comment_author="Pharma")}
    with httpx.Client(base_url=live_server.url) as client:
        host = {"Host": f"{blog.key}.rest.akismet.com"}
        assert client.post("/1.1/comment-check", data=fields, headers=host).text == "true"
        assert client.post("/1.1/verify-key", data={"blog": blog.site.url}, headers=host).text == "valid"
        wrong = {"Host": f"{'f' * 24}.rest.akismet.com"}
        assert client.post("/1.1/comment-check", data=fields, headers=wrong).text == "invalid"


def test_an_oversized_body_is_refused(blog, http, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 2000
    response = http.post("/1.1/comment-check", data=form(blog, **comment("x" * 5000)))
    assert response.status_code == 413
    assert not items_of(blog).exists()


def test_too_many_requests_answer_429_with_retry_after(blog, http, sync_client, monkeypatch):
    monkeypatch.setenv("PALABRE_AKISMET_RATE_LIMIT", "3")
    client = sync_client(blog)
    assert client.verify_key() is True
    for _ in range(2):
        assert client.comment_check(IP, **comment(HAM)) == akismet.CheckResponse.HAM
    response = http.post("/1.1/comment-check", data=form(blog, **comment(HAM)))
    assert response.status_code == 429
    wait = int(response.headers["Retry-After"])
    assert 1 <= wait <= 60
    assert f"Retry in {wait} second" in response.text
    with pytest.raises(akismet.RequestError):
        client.comment_check(IP, **comment(HAM))


def test_usage_limit_and_key_sites(blog, sync_client, http):
    client = sync_client(blog)
    client.comment_check(IP, **comment(HAM))
    client.comment_check(IP, **comment(SPAM, comment_author="Pharma"))
    client.submit_spam(IP, **comment(HAM))
    assert client.usage_limit()["usage"] == 2
    report = http.get("/1.2/key-sites", params={"api_key": blog.key}).json()
    (month,) = [k for k in report if k not in {"limit", "offset", "total"}]
    assert report[month] == [
        {
            "site": "blog.maison-dupont.fr",
            "api_calls": 2,
            "spam": 2,
            "ham": 0,
            "missed_spam": 1,
            "false_positives": 0,
            "is_revoked": False,
        }
    ]
    csv = http.get("/1.2/key-sites", params={"api_key": blog.key, "format": "csv"}).text
    assert csv.splitlines()[2] == "blog.maison-dupont.fr,2,2,0,1,0,false"
    assert http.get("/1.2/key-sites", params={"api_key": "nope"}).text == "invalid"


# --- organisations stay apart ------------------------------------------------------------------


def test_one_organisations_key_never_reads_nor_trains_another(
    blog, make_org, register_site, sync_client, http
):
    other = register_site(make_org("Autre Maison"), url="https://forum.autre-maison.fr/", name="Forum")
    theirs, ours = sync_client(other), sync_client(blog)
    comment_theirs = comment(HAM, permalink="https://forum.autre-maison.fr/t/1")
    assert theirs.comment_check(IP, **comment_theirs) == akismet.CheckResponse.HAM
    guid = http.post("/1.1/comment-check", data=form(other, **comment_theirs)).headers["X-akismet-guid"]

    # our key cannot speak for their blog
    assert http.post("/1.1/verify-key", data={"key": blog.key, "blog": other.site.url}).text == "invalid"
    with pytest.raises(akismet.APIKeyError):
        sync_client(blog, url=other.site.url).comment_check(IP, **comment_theirs)

    # our spam report, even naming their guid, lands in our organisation only
    response = http.post("/1.1/submit-spam", data=form(blog, **comment(HAM), guid=guid))
    assert response.text == "Thanks for making the web a better place."
    (their_item,) = items_of(other)
    assert not ItemModeration.objects.get(item=their_item).is_spam
    assert ours.comment_check(IP, **comment(HAM + " !", comment_author="X")) == akismet.CheckResponse.DISCARD
    assert theirs.comment_check(IP, **comment(HAM + " !", comment_author="X")) == akismet.CheckResponse.HAM
    assert set(MessageFingerprint.objects.values_list("organisation_id", flat=True)) == {
        blog.site.organisation_id
    }
