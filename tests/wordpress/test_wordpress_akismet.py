"""WordPress's own Akismet plugin (Debian's wordpress 6.1, Akismet 5.0) talking to Palabre through
the companion plugin (integrations/wordpress/palabre-akismet), against a live Palabre on loopback.

The key is entered on Akismet's settings page as a person does; comments are posted by visitors
through wp-comments-post.php; the administrator marks them spam and not spam with the links of
WordPress's comment list, and the Akismet plugin reports each to Palabre."""

from __future__ import annotations

import html
import re
from pathlib import Path

import httpx
import pytest

from palabre.conversations.models import Item
from palabre.moderation import services as moderation
from palabre.moderation.models import ItemModeration, ModerationDecision, ModerationStatus
from palabre.orgs.models import AuditEvent
from palabre.orgs.services import Actor

pytestmark = pytest.mark.django_db(transaction=True)

COMPANION = Path(__file__).resolve().parents[2] / "integrations" / "wordpress" / "palabre-akismet"
AKISMET = "akismet/akismet.php"
PALABRE = "palabre-akismet/palabre-akismet.php"
SPAM = (
    "Buy cheap viagra online now!!! Best price, free shipping http://cheap-pills.xyz "
    "http://pills.top http://pills.example"
)


@pytest.fixture
def akismet_on_palabre(wordpress, live_server, org):
    """Both plugins active, the companion pointed at the live Palabre, a site registered for the
    blog; everything undone afterwards (the WordPress serves other tests of the session)."""
    site, key = moderation.create_moderation_site(actor=Actor.palabre(org), name="Blog WP", url=wordpress.url)
    wordpress.add_plugin(COMPANION)
    wordpress.activate_plugin(AKISMET)
    wordpress.activate_plugin(PALABRE)
    wordpress.set_option("palabre_akismet_address", live_server.url)
    # Spam goes to WordPress's spam folder rather than being discarded, so a test can see it.
    wordpress.set_option("akismet_strictness", "0")
    yield site, key
    wordpress.php("delete_option('wordpress_api_key'); delete_option('palabre_akismet_address');")
    wordpress.deactivate_plugin(PALABRE)
    wordpress.deactivate_plugin(AKISMET)


def settings_page(wordpress, client: httpx.Client) -> str:
    response = client.get(f"{wordpress.url}/wp-admin/options-general.php?page=akismet-key-config")
    assert response.status_code == 200, response.text[:500]
    return response.text


def enter_key(wordpress, client: httpx.Client, key: str) -> str:
    """Akismet's "Manually enter an API key" form, as a person fills it."""
    page = settings_page(wordpress, client)
    nonce = re.search(r'name="_wpnonce" value="([0-9a-f]+)"', page).group(1)
    response = client.post(
        f"{wordpress.url}/wp-admin/options-general.php?page=akismet-key-config",
        data={"_wpnonce": nonce, "action": "enter-key", "key": key, "submit": "Connect with API key"},
    )
    assert response.status_code in {200, 302}, response.text[:500]
    return settings_page(wordpress, client)


def moderate(wordpress, client: httpx.Client, comment_id: int, action: str) -> None:
    """Follows the "Spam" / "Not Spam" link of WordPress's comment list for that comment."""
    listing = "edit-comments.php?comment_status=spam" if action == "unspamcomment" else "edit-comments.php"
    page = html.unescape(client.get(f"{wordpress.url}/wp-admin/{listing}").text)
    link = re.search(rf"comment\.php\?c={comment_id}&action={action}&_wpnonce=([0-9a-f]+)", page)
    assert link, f"no {action} link for comment {comment_id}"
    response = client.get(
        f"{wordpress.url}/wp-admin/comment.php",
        params={"c": comment_id, "action": action, "_wpnonce": link.group(1)},
    )
    assert response.status_code == 302, response.text[:500]


def item_of(site, text: str) -> Item:
    return Item.objects.get(channel=site.channel, text=text)


def test_the_companion_plugin_is_valid_php():
    import shutil
    import subprocess

    php = shutil.which("php")
    if php is None:
        pytest.skip("Debian's php-cli not installed (scripts/test.sh installs it)")
    linted = subprocess.run(
        [php, "-l", str(COMPANION / "palabre-akismet.php")], capture_output=True, text=True
    )
    assert linted.returncode == 0, linted.stdout + linted.stderr


def test_akismet_connects_checks_and_reports_through_palabre(wordpress, akismet_on_palabre):
    site, key = akismet_on_palabre
    post = wordpress.create_post("La tarte aux pommes", "<p>Notre recette, pas à pas.</p>")

    with httpx.Client(timeout=60, follow_redirects=False) as client:
        wordpress.login(client)
        # The key is a Palabre key of 12 characters: the plugin sends it, Palabre says valid, and
        # the settings page reads the account (get-subscription) and the counts (get-stats).
        page = enter_key(wordpress, client, key)
        assert wordpress.get_option("wordpress_api_key") == key
        assert wordpress.php("echo json_encode(Akismet::verify_key($args['key']));", {"key": key}) == "valid"
        assert "existing-key-invalid" not in page and "new-key-invalid" not in page
        assert re.search(r"Status</th>.*?<p>\s*Active\s*</p>", page, re.S), page[:3000]
        assert "Palabre: Blog WP" in page  # the account's name, from get-subscription
        companion = client.get(f"{wordpress.url}/wp-admin/options-general.php?page=palabre-akismet").text
        assert "Palabre answers at" in companion

        # A visitor's comment: checked by Palabre, published; WordPress's slashes are gone.
        ham = wordpress.post_comment(
            post["id"], "Merci d'avance, je l'essaie ce week-end !", author="Camille"
        )
        assert ham.status == "approved"
        stored = item_of(site, "Merci d'avance, je l'essaie ce week-end !")
        assert ItemModeration.objects.get(item=stored).status == ModerationStatus.PUBLISHED
        assert stored.author.display_name == "Camille"
        guid = wordpress.comment(ham.id)["meta"]["palabre_akismet_guid"][0]
        assert stored.external_id == f"akismet-{guid}"

        # A reply hangs under its parent.
        reply = wordpress.post_comment(
            post["id"], "Avec des pommes Boskoop, c'est encore mieux.", author="Marie", parent=ham.id
        )
        assert reply.status == "approved"
        assert item_of(site, "Avec des pommes Boskoop, c'est encore mieux.").parent_id == stored.pk

        # Spam is caught as spam.
        spam = wordpress.post_comment(post["id"], SPAM, author="Pharma", email="sales@pills.example")
        assert spam.status == "spam"
        assert ItemModeration.objects.get(item=item_of(site, SPAM)).status == ModerationStatus.REJECTED

        # The administrator marks the first comment spam, then not spam: the Akismet plugin reports
        # both, and Palabre updates the item its check stored (no second item).
        count = Item.objects.filter(channel=site.channel).count()
        moderate(wordpress, client, ham.id, "spamcomment")
        assert wordpress.comment_status(ham.id) == "spam"
        state = ItemModeration.objects.get(item=stored)
        assert (state.status, state.is_spam) == (ModerationStatus.REJECTED, True)
        assert state.last_decision.source == ModerationDecision.Source.MODERATOR
        assert AuditEvent.objects.filter(action="moderation.spam", actor_label="akismet:Blog WP").exists()

        moderate(wordpress, client, ham.id, "unspamcomment")
        state.refresh_from_db()
        assert (state.status, state.last_decision.action) == (ModerationStatus.APPROVED, "ham")
        assert Item.objects.filter(channel=site.channel).count() == count

        # The settings page now counts what Palabre stored (get-stats): one spam caught.
        page = settings_page(wordpress, client)
        assert re.search(r"<span>1</span>\s*Spam blocked", page), page[:3000]
