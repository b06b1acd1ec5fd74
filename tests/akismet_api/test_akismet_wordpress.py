"""WordPress's Akismet plugin, as its code (class.akismet.php, 5.0) shapes each request: keys it
accepts, the calls of its settings page, slashed checks, reports matched to their checks, replies.

Plain httpx on a live server, with the plugin's User-Agent and fields; the real plugin is run by
tests/wordpress/test_wordpress_akismet.py where WordPress is installed."""

from __future__ import annotations

import hashlib
import re
import secrets

import httpx
import pytest

from palabre.conversations.models import Item
from palabre.moderation import services as moderation
from palabre.moderation.models import ItemModeration, ModerationDecision, ModerationStatus
from palabre.orgs.models import AuditEvent
from palabre.orgs.services import Actor

pytestmark = pytest.mark.django_db(transaction=True)

AGENT = "WordPress/6.1.9 | Akismet/5.0.2"
BLOG = "https://blog.maison-dupont.fr"
IP = "203.0.113.7"
SPAM = "Buy cheap viagra online now!!! Best price, free shipping http://cheap-pills.xyz http://pills.top"


@pytest.fixture
def wp(live_server):
    """An httpx client that sends what the plugin's `Akismet::http_post` sends."""
    headers = {
        "User-Agent": AGENT,
        "Content-Type": "application/x-www-form-urlencoded; charset=UTF-8",
    }
    with httpx.Client(base_url=live_server.url, headers=headers, timeout=30) as client:
        yield client


def new_comment(blog, text: str, *, post: str = "12", parent: str = "0", **extra) -> dict:
    """What `auto_check_comment` posts for a comment from the form: WordPress's comment data
    (slashed), the request's server fields, the blog's options; no id, no date."""
    fields = {
        "comment_post_ID": post,
        "comment_author": "Camille",
        "comment_author_email": "camille@example.org",
        "comment_author_url": "",
        "comment_content": text,
        "comment_type": "comment",
        "comment_parent": parent,
        "user_ID": "0",
        "user_id": "0",
        "user_ip": IP,
        "user_agent": "Mozilla/5.0 (X11; Linux x86_64)",
        "referrer": f"{BLOG}/2026/11/tarte/",
        "blog": BLOG,
        "blog_lang": "fr_FR",
        "blog_charset": "UTF-8",
        "permalink": f"{BLOG}/?p={post}",
        "akismet_comment_nonce": "passed",
        "POST_comment": text,
        "POST_comment_post_ID": post,
        "REQUEST_URI": "/wp-comments-post.php",
        "comment_post_modified_gmt": "2026-11-30 10:00:00",
        "api_key": blog.key,
    }
    fields.update(extra)
    return fields


def report(blog, text: str, *, comment_id: str, post: str = "12", **extra) -> dict:
    """What `submit_spam_comment` / `submit_nonspam_comment` post: the stored comment's row merged
    with what the check sent (kept unslashed by WordPress), and the reporter."""
    fields = {
        "comment_ID": comment_id,
        "comment_post_ID": post,
        "comment_author": "Camille",
        "comment_author_email": "camille@example.org",
        "comment_author_url": "",
        "comment_author_IP": IP,
        "comment_date": "2026-12-01 11:04:05",
        "comment_date_gmt": "2026-12-01 10:04:05",
        "comment_content": text,
        "comment_karma": "0",
        "comment_approved": "1",
        "comment_agent": "Mozilla/5.0 (X11; Linux x86_64)",
        "comment_type": "comment",
        "comment_parent": "0",
        "user_id": "0",
        "user_ip": IP,
        "user_agent": "Mozilla/5.0 (X11; Linux x86_64)",
        "blog": BLOG,
        "blog_lang": "fr_FR",
        "blog_charset": "UTF-8",
        "permalink": f"{BLOG}/?p={post}",
        "reporter": "admin",
        "user_role": "",
        "comment_post_modified_gmt": "2026-11-30 10:00:00",
        "api_key": blog.key,
    }
    fields.update(extra)
    return fields


def items_of(blog):
    return Item.objects.filter(channel=blog.site.channel)


# --- keys --------------------------------------------------------------------------------------


def test_new_keys_are_twelve_hexadecimal_characters_as_the_plugin_requires(org, register_site, wp):
    keys = {register_site(org, url=f"https://blog{n}.example.org/", name=f"B{n}").key for n in range(5)}
    assert len(keys) == 5
    assert all(re.fullmatch(r"[0-9a-f]{12}", key) for key in keys), keys


def test_the_key_is_read_whatever_its_case(blog, wp):
    # The plugin keeps the case a person typed (`preg_replace('/[^a-f0-9]/i', ...)`).
    assert wp.post("/1.1/verify-key", data={"key": blog.key.upper(), "blog": BLOG}).text == "valid"


def test_an_older_24_character_key_keeps_working(blog, wp):
    older = secrets.token_hex(12)
    blog.site.api_key_hash = hashlib.sha256(older.encode()).hexdigest()
    blog.site.save(update_fields=["api_key_hash"])
    moderation.site_for_key(older)  # forget the cached read
    assert wp.post("/1.1/verify-key", data={"key": older, "blog": BLOG}).text == "valid"
    assert wp.post("/1.1/verify-key", data={"key": blog.key, "blog": BLOG}).text == "invalid"
    response = wp.post("/1.1/comment-check", data={**new_comment(blog, "Merci !"), "api_key": older})
    assert response.text == "false"


def test_a_twelve_character_key_may_be_the_first_label_of_the_host(blog, live_server, settings):
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, ".rest.akismet.com"]
    with httpx.Client(base_url=live_server.url) as client:
        host = {"Host": f"{blog.key}.rest.akismet.com"}
        assert client.post("/1.1/verify-key", data={"blog": BLOG}, headers=host).text == "valid"
        # A host whose first label is no key is not read as one.
        other = {"Host": "palabre-server.rest.akismet.com"}
        response = client.post("/1.1/verify-key", data={"blog": BLOG}, headers=other)
        assert response.headers["X-akismet-debug-help"] == 'Empty "key" value'


# --- the settings page's calls -----------------------------------------------------------------


def test_the_connectivity_test_answers_connected(wp):
    response = wp.get("/1.1/test")
    assert (response.status_code, response.text) == (200, "connected")
    assert response.headers["Content-Type"].startswith("text/plain")
    assert wp.post("/1.1/test").text == "connected"


def test_get_subscription_says_active_for_a_valid_key_and_invalid_otherwise(blog, wp):
    response = wp.post("/1.1/get-subscription", data={"key": blog.key, "blog": BLOG})
    assert response.status_code == 200
    account = response.json()
    assert account["status"] == "active"
    assert account["account_type"] != "free-api-key"  # no "upgrade" nag on the settings page
    assert account["next_billing_date"] is None
    assert not account["limit_reached"]

    assert wp.post("/1.1/get-subscription", data={"key": "0" * 12, "blog": BLOG}).text == "invalid"
    response = wp.post("/1.1/get-subscription", data={"key": blog.key, "blog": "https://ailleurs.example"})
    assert response.text == "invalid"
    assert "not the site of this key" in response.headers["X-akismet-debug-help"]
    moderation.revoke_moderation_site(actor=Actor.palabre(blog.site.organisation), site=blog.site)
    assert wp.post("/1.1/get-subscription", data={"key": blog.key, "blog": BLOG}).text == "invalid"


def test_get_stats_counts_spam_ham_and_the_corrections(blog, wp):
    assert wp.post("/1.1/comment-check", data=new_comment(blog, "Très bonne recette, merci.")).text == "false"
    spam = new_comment(blog, SPAM, comment_author="Pharma", comment_author_email="p@pills.top")
    assert wp.post("/1.1/comment-check", data=spam).text == "true"
    missed = "Une remarque honnête sur la cuisson, rien de plus."
    assert wp.post("/1.1/comment-check", data=new_comment(blog, missed, comment_author="Léo")).text == "false"
    reported = report(blog, missed, comment_id="7", comment_author="Léo", comment_approved="spam")
    assert wp.post("/1.1/submit-spam", data=reported).text.startswith("Thanks")

    for period in ("all", "6-months", "60-days"):
        response = wp.post("/1.1/get-stats", data={"key": blog.key, "blog": BLOG, "from": period})
        stats = response.json()
        assert (stats["spam"], stats["ham"], stats["missed_spam"], stats["false_positives"]) == (2, 1, 1, 0)
        assert stats["accuracy"] == pytest.approx(66.67)
    response = wp.post("/1.1/get-stats", data={"key": blog.key, "blog": BLOG, "from": "last-year"})
    assert response.text == "invalid"
    assert '"from"' in response.headers["X-akismet-debug-help"]


def test_deactivate_answers_deactivated_is_audited_and_the_key_stays_valid(blog, wp):
    response = wp.post("/1.1/deactivate", data={"key": blog.key, "blog": BLOG})
    assert (response.status_code, response.text) == (200, "deactivated")
    event = AuditEvent.objects.get(action="moderation.site_plugin_deactivated")
    assert event.after == {"blog": BLOG}
    assert wp.post("/1.1/verify-key", data={"key": blog.key, "blog": BLOG}).text == "valid"
    assert wp.post("/1.1/deactivate", data={"key": "0" * 12, "blog": BLOG}).text == "invalid"


# --- the site's addresses ----------------------------------------------------------------------


def test_the_blog_may_be_any_of_the_sites_addresses(blog, wp):
    for same in ("http://blog.maison-dupont.fr", "https://www.blog.maison-dupont.fr/", f"{BLOG}/fr/"):
        assert wp.post("/1.1/verify-key", data={"key": blog.key, "blog": same}).text == "valid", same
    other = "https://maison-dupont.example/blog"
    assert wp.post("/1.1/verify-key", data={"key": blog.key, "blog": other}).text == "invalid"
    moderation.update_moderation_site(
        actor=Actor.palabre(blog.site.organisation),
        site=blog.site,
        name=blog.site.name,
        allowed_origins=["https://maison-dupont.example"],
    )
    assert wp.post("/1.1/verify-key", data={"key": blog.key, "blog": other}).text == "valid"
    check = {**new_comment(blog, "Bravo pour ce billet."), "blog": other}
    assert wp.post("/1.1/comment-check", data=check).text == "false"
    assert wp.post("/1.1/verify-key", data={"key": blog.key, "blog": "https://example.net"}).text == "invalid"


# --- slashes -----------------------------------------------------------------------------------


def test_the_plugins_check_of_a_new_comment_is_unslashed(blog, wp):
    slashed = 'Merci d\\\'avance ! Le \\"vrai\\" chemin : C:\\\\recettes'
    check = new_comment(blog, slashed, comment_author="Jean d\\'Arc", user_agent='Agent \\"X\\"')
    assert wp.post("/1.1/comment-check", data=check).text == "false"
    (item,) = items_of(blog)
    assert item.text == 'Merci d\'avance ! Le "vrai" chemin : C:\\recettes'
    assert item.author.display_name == "Jean d'Arc"
    assert item.raw["author"]["user_agent"] == 'Agent "X"'
    assert item.url == f"{BLOG}/?p=12"


def test_other_clients_and_stored_comments_keep_their_backslashes(blog, wp, http):
    text = "Chemin : C:\\recettes\\tarte"
    fields = {**new_comment(blog, text), "comment_post_ID": ""}
    assert http.post("/1.1/comment-check", data=fields).text == "false"  # not the plugin
    recheck = report(blog, "Un autre \\ chemin", comment_id="9", recheck_reason="recheck_queue")
    assert wp.post("/1.1/comment-check", data=recheck).text == "false"  # a stored comment
    assert sorted(items_of(blog).values_list("text", flat=True)) == sorted([text, "Un autre \\ chemin"])


# --- reports -----------------------------------------------------------------------------------


def test_a_report_updates_the_item_its_check_stored(blog, wp):
    check = new_comment(blog, "Je recommande, d\\'autant que c\\'est simple.")
    guid = wp.post("/1.1/comment-check", data=check).headers["X-akismet-guid"]
    (item,) = items_of(blog)
    # WordPress reports it with its id and date, unslashed as it kept it.
    spam = report(blog, "Je recommande, d'autant que c'est simple.", comment_id="31", comment_approved="spam")
    assert wp.post("/1.1/submit-spam", data=spam).text.startswith("Thanks")
    (same,) = items_of(blog)
    assert (same.pk, same.external_id) == (item.pk, f"akismet-{guid}")
    state = ItemModeration.objects.get(item=item)
    assert (state.status, state.is_spam) == (ModerationStatus.REJECTED, True)
    assert state.last_decision.source == ModerationDecision.Source.MODERATOR
    assert AuditEvent.objects.filter(action="moderation.spam", actor_label="akismet:Blog").count() == 1
    assert same.raw["akismet"]["comment_ID"] == "31"

    ham = report(blog, "Je recommande, d'autant que c'est simple.", comment_id="31", comment_approved="1")
    assert wp.post("/1.1/submit-ham", data=ham).text.startswith("Thanks")
    assert items_of(blog).count() == 1
    state.refresh_from_db()
    assert (state.status, state.last_decision.action) == (ModerationStatus.APPROVED, "ham")


def test_a_report_with_the_text_wordpress_stored_finds_its_check(blog, wp):
    # No copy of what was checked: WordPress's filters changed the text it stored (links get rel
    # attributes, spacing) and the report sends that.
    checked = (
        'J\'ai suivi votre recette et voyez <a href="https://example.org/pate">ma pâte</a>,   bien  reposée, '
        "elle a levé toute la nuit."
    )
    assert wp.post("/1.1/comment-check", data=new_comment(blog, checked)).text == "false"
    stored = (
        'J\'ai suivi votre recette et voyez <a href="https://example.org/pate" rel="nofollow ugc">ma pâte</a>, '
        "bien reposée, elle a levé toute la nuit."
    )
    response = wp.post(
        "/1.1/submit-spam", data=report(blog, stored, comment_id="44", user_ip="", comment_approved="spam")
    )
    assert response.text.startswith("Thanks")  # user_ip taken from comment_author_IP
    (item,) = items_of(blog)
    assert ItemModeration.objects.get(item=item).is_spam
    # Found again by its WordPress id, whatever its text.
    assert wp.post("/1.1/submit-ham", data=report(blog, "edited", comment_id="44")).text.startswith("Thanks")
    (item,) = items_of(blog)
    assert ItemModeration.objects.get(item=item).status == ModerationStatus.APPROVED


def test_a_report_of_another_post_or_author_is_another_comment(blog, wp):
    text = "Excellent, merci pour le partage."
    assert wp.post("/1.1/comment-check", data=new_comment(blog, text)).text == "false"
    other_post = report(blog, text + " ", comment_id="50", post="13", comment_approved="spam")
    assert wp.post("/1.1/submit-spam", data=other_post).text.startswith("Thanks")
    assert items_of(blog).count() == 2


# --- replies -----------------------------------------------------------------------------------


def test_a_reply_hangs_under_its_parent(blog, wp):
    parent_guid = wp.post(
        "/1.1/comment-check", data=new_comment(blog, "Quelle farine utilisez-vous ?")
    ).headers["X-akismet-guid"]
    # The companion plugin sends the guid the parent's check was answered.
    answer = new_comment(
        blog,
        "De la T55, tout simplement.",
        comment_author="Marie",
        parent="31",
        comment_parent_guid=parent_guid,
    )
    assert wp.post("/1.1/comment-check", data=answer).text == "false"
    parent = items_of(blog).get(external_id=f"akismet-{parent_guid}")
    reply = items_of(blog).exclude(pk=parent.pk).get()
    assert reply.parent_id == parent.pk
    assert reply.thread_root_id == parent.pk


def test_without_the_companion_a_reply_finds_a_parent_wordpress_reported(blog, wp):
    assert wp.post("/1.1/comment-check", data=new_comment(blog, "Et sans beurre ?")).text == "false"
    ham = report(blog, "Et sans beurre ?", comment_id="61")
    assert wp.post("/1.1/submit-ham", data=ham).text.startswith("Thanks")
    parent = items_of(blog).get()
    answer = new_comment(blog, "Avec de la margarine, ça marche.", comment_author="Marie", parent="61")
    assert wp.post("/1.1/comment-check", data=answer).text == "false"
    reply = items_of(blog).exclude(pk=parent.pk).get()
    assert reply.parent_id == parent.pk
    # An unknown parent leaves the reply at the top of its own thread.
    orphan = new_comment(blog, "Moi aussi je me demandais.", comment_author="Noé", parent="999")
    assert wp.post("/1.1/comment-check", data=orphan).text == "false"
    assert items_of(blog).get(text="Moi aussi je me demandais.").parent_id is None


@pytest.mark.parametrize(
    ("slashed", "typed"),
    [
        ("d\\'avance", "d'avance"),
        ('\\"guillemets\\"', '"guillemets"'),
        ("C:\\\\tarte", "C:\\tarte"),
        ("nul\\0", "nul"),  # addslashes writes NUL as \0; Palabre stores no NUL
        ("\\\\0", "\\0"),  # a typed backslash before a zero
        ("fin\\", "fin"),  # PHP's stripslashes drops a lone trailing backslash
    ],
)
def test_unslash_is_phps_stripslashes(slashed, typed):
    from palabre.compat.akismet.wordpress import unslash

    assert unslash(slashed) == typed
