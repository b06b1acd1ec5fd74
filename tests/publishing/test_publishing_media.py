"""A community manager's week, the publishing part: pictures on drafts (checked by content, counted
per platform, described for screen readers, sent by the connectors in their documented shapes),
channels that cannot publish said before approval, dropping a channel, deleting a draft, a new time
on an approved post, the per-network preview and counter, and open crisis alerts."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone
from PIL import Image

from palabre.connectors.base import Capability, Connector, Delivered
from palabre.orgs.models import AuditEvent
from palabre.orgs.services import NotInOrganisation
from palabre.publishing import limits, services
from palabre.publishing import media as post_media
from palabre.publishing.models import Post, PostMedia, PostStatus, VariantState

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "connectors"))
from platform_server import Answer, PlatformServer  # noqa: E402

pytestmark = pytest.mark.clock


class InstagramPublisher(Connector):
    """Instagram has no built-in connector: this one stands for the day it has."""

    platform = "instagram"
    capabilities = frozenset({Capability.PUBLISH, Capability.PUBLISH_MEDIA})

    def publish(self, channel, *, text, media=(), idempotency_key):
        return Delivered("ig-1", "https://www.instagram.com/p/ig-1/")

    @classmethod
    def with_platform(cls, platform: str) -> type[Connector]:
        return type(f"{platform.title()}Publisher", (cls,), {"platform": platform})


@pytest.fixture(autouse=True)
def english():
    """Services answer in the active language; pages choose theirs by Accept-Language."""
    from django.utils import translation

    with translation.override("en"):
        yield


@pytest.fixture
def platform_server_here(allow_loopback):
    """The connector tests' loopback platform, playing Mastodon or Bluesky from their fixtures."""
    server = PlatformServer().start()
    yield server
    server.stop()


def png(width=64, height=48, color=(200, 120, 40), kind="PNG") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), color).save(out, kind)
    return out.getvalue()


def draft(actor, *channels, text="Le canapé Oslo arrive en vert sapin.", at=None):
    return services.create_post(
        actor=actor,
        title="Oslo",
        variants=[{"channel": c, "text": text, "scheduled_at": at} for c in channels],
    )


# --- files --------------------------------------------------------------------------------------


def test_a_picture_is_checked_by_its_content_stored_and_thumbnailed(contributor, forum):
    post = draft(contributor, forum)
    attached = post_media.attach_media(
        actor=contributor, post=post, content=png(kind="JPEG"), filename="oslo.png", description="Le canapé"
    )
    assert attached.mime_type == "image/jpeg"  # what the bytes are, not what the name says
    assert (attached.width, attached.height) == (64, 48)
    assert attached.file.name.endswith(".jpg") and attached.file.storage.exists(attached.file.name)
    with Image.open(attached.thumbnail.open("rb")) as thumb:
        assert thumb.format == "JPEG"
    assert AuditEvent.objects.filter(action="post.media_added", target_id=str(post.pk)).exists()


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (b"GIF89a but not really a picture", "not a picture"),
        (b"", "empty"),
        (png(8, 8), "too small"),
        (png(9000, 40), "8192"),
        (png(5000, 4000), "16 million"),
        (png(4100, 4100, kind="WEBP"), "16 million"),
    ],
)
def test_a_file_that_is_not_a_usable_picture_is_refused_with_the_field_named(
    contributor, forum, content, words
):
    post = draft(contributor, forum)
    with pytest.raises(ValidationError) as caught:
        post_media.attach_media(actor=contributor, post=post, content=content, filename="x.png")
    assert words in " ".join(caught.value.message_dict["file"])
    assert not PostMedia.objects.exists()


def test_a_large_picture_is_thumbnailed_without_decoding_it_whole(tmp_path):
    """A JPEG is decoded at an eighth of its size for its thumbnail; converting it first held three
    full copies (516 MB for 8192 x 8192). Measured in a process of its own: its peak memory."""
    picture = tmp_path / "large.jpg"
    Image.new("RGB", (8192, 4096), (200, 120, 40)).save(picture, "JPEG")
    measure = (
        "import resource, sys, django; django.setup();"
        "from palabre.publishing.media import _thumbnail;"
        "content = open(sys.argv[1], 'rb').read();"
        "before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss;"
        "thumb = _thumbnail(content);"
        "print((resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) // 1024, len(thumb))"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "palabre.settings"}
    done = subprocess.run(
        [sys.executable, "-c", measure, str(picture)], capture_output=True, text=True, env=env, check=True
    )
    grown_mb, thumb_bytes = map(int, done.stdout.split())
    assert thumb_bytes > 0
    assert grown_mb < 40, f"{grown_mb} MB more while making the thumbnail"


def test_count_per_platform_and_missing_alt_text(contributor, forum, x_channel):
    post = draft(contributor, forum, x_channel)
    for n in range(5):
        post_media.attach_media(actor=contributor, post=post, content=png(40 + n, 40), filename=f"p{n}.png")
    x_variant = post.variants.get(channel=x_channel)
    findings = services.check_variant(x_variant).findings
    assert any(f.guardrail == "channel_limits" and "5" in f.explanation for f in findings)
    forum_variant = post.variants.get(channel=forum)
    forum_findings = services.check_variant(forum_variant).findings
    assert not any(f.guardrail == "channel_limits" for f in forum_findings)  # a forum takes 10
    assert any(f.guardrail == "media_alt_text" and f.severity == "warn" for f in forum_findings)
    with pytest.raises(ValidationError):
        services.submit_post(actor=contributor, post=post)


def test_another_organisation_never_reaches_a_file(contributor, forum, make_org, make_member, actor_for):
    from palabre.orgs.permissions import Role

    other_org = make_org("Maison Martin", slug="maison-martin")
    post = draft(contributor, forum)
    attached = post_media.attach_media(actor=contributor, post=post, content=png(), filename="a.png")
    stranger = actor_for(make_member(other_org, Role.COMMUNITY_MANAGER).user, other_org)
    with pytest.raises(NotInOrganisation):
        post_media.get_media(actor=stranger, media_id=attached.pk)
    with pytest.raises(NotInOrganisation):
        post_media.remove_media(actor=stranger, media=attached)


# --- channels that cannot publish ---------------------------------------------------------------


def test_instagram_needs_a_picture_and_says_not_connected_before_approval(contributor, org, make_channel):
    instagram = make_channel(org, "instagram", handle="maisondupont", name="Instagram")
    post = draft(contributor, instagram)
    reasons = {f["guardrail"]: f for f in post.variants.get().guardrail_findings}
    assert "channel_limits" in reasons  # a picture is required
    # Instagram's connector needs the brand's credentials, which this channel has none of.
    assert reasons["channel_ready"]["params"]["reason"] == "no_credentials"
    with pytest.raises(ValidationError) as caught:
        services.submit_post(actor=contributor, post=post)
    assert "Not connected" in " ".join(caught.value.messages) or "connect" in " ".join(caught.value.messages)


def test_instagram_with_a_picture_and_a_connector_can_be_submitted(contributor, org, make_channel):
    from palabre.connectors.registry import connector_class_for, register_connector

    previous = connector_class_for("instagram")
    register_connector("instagram", InstagramPublisher)
    try:
        instagram = make_channel(org, "instagram", handle="maisondupont", name="Instagram")
        post = draft(contributor, instagram)
        post_media.attach_media(
            actor=contributor, post=post, content=png(), filename="oslo.png", description="Le canapé Oslo"
        )
        assert services.submit_post(actor=contributor, post=post).status == PostStatus.PENDING
    finally:
        # The real Instagram connector comes back for the tests that follow in this process.
        register_connector("instagram", previous)


def test_a_channel_without_credentials_is_said_before_approval(contributor, org, make_channel):
    mastodon = make_channel(org, "mastodon", handle="@dupont@mastodon.example", name="Mastodon")
    post = draft(contributor, mastodon)
    reasons = [f["params"].get("reason") for f in post.variants.get().guardrail_findings]
    assert "no_credentials" in reasons


# --- drop a channel, delete a post --------------------------------------------------------------


def test_drop_a_channel_then_delete_the_draft_audited(
    contributor, forum, org, make_channel, django_capture_on_commit_callbacks
):
    facebook = make_channel(org, "facebook", handle="dupont", name="Facebook")
    post = draft(contributor, forum, facebook)
    attached = post_media.attach_media(actor=contributor, post=post, content=png(), filename="a.png")
    services.remove_variant(actor=contributor, variant=post.variants.get(channel=facebook))
    assert list(post.variants.values_list("channel", flat=True)) == [forum.pk]
    with pytest.raises(ValidationError) as caught:
        services.remove_variant(actor=contributor, variant=post.variants.get())
    assert "delete the post" in caught.value.message_dict["variant"][0]
    name = attached.file.name
    with django_capture_on_commit_callbacks(execute=True):
        services.delete_post(actor=contributor, post=post)
    assert not Post.objects.filter(pk=post.pk).exists()
    assert not attached.file.storage.exists(name)
    actions = set(AuditEvent.objects.filter(target_id=str(post.pk)).values_list("action", flat=True))
    assert {"post.channel_dropped", "post.deleted"} <= actions


def test_a_scheduled_post_must_be_unscheduled_before_deletion(contributor, cm, forum, soon):
    post = draft(contributor, forum, at=soon(60))
    services.approve_post(actor=cm, post=post, acknowledge_warnings=True)
    with pytest.raises(ValidationError) as caught:
        services.delete_post(actor=cm, post=post)
    assert "calendar" in caught.value.message_dict["status"][0]
    services.reject_post(actor=cm, post=post, reason="Pas cette semaine")
    services.delete_post(actor=cm, post=post)
    assert not Post.objects.filter(pk=post.pk).exists()


# --- a new time on an approved post -------------------------------------------------------------


def _approved(contributor, cm, forum, soon):
    post = draft(contributor, forum, at=soon(60))
    return services.approve_post(actor=cm, post=post, acknowledge_warnings=True)


def _spec(post, **changes):
    variant = post.variants.get()
    return [
        {"channel": variant.channel_id, "text": variant.text, "scheduled_at": variant.scheduled_at, **changes}
    ]


def test_an_approver_moving_an_approved_post_keeps_the_approval_audited(contributor, cm, forum, soon):
    post = _approved(contributor, cm, forum, soon)
    later = soon(240)
    services.update_post(actor=cm, post=post, variants=_spec(post, scheduled_at=later))
    post.refresh_from_db()
    variant = post.variants.get()
    assert post.status == PostStatus.APPROVED
    assert variant.state == VariantState.SCHEDULED and variant.scheduled_at == later
    event = AuditEvent.objects.filter(action="post.rescheduled", target_id=str(post.pk)).latest("id")
    assert event.after["approval_kept"] is True


def test_a_new_text_or_a_policy_without_it_sends_the_post_back(contributor, cm, forum, soon):
    post = _approved(contributor, cm, forum, soon)
    services.update_post(actor=cm, post=post, variants=_spec(post, text="Un autre texte."))
    post.refresh_from_db()
    assert post.status == PostStatus.PENDING and post.variants.get().state == VariantState.DRAFT
    services.approve_post(actor=cm, post=post, acknowledge_warnings=True)
    services.update_policy(actor=cm, reschedule_keeps_approval=False)
    services.update_post(actor=cm, post=post, variants=_spec(post, scheduled_at=soon(300)))
    post.refresh_from_db()
    assert post.status == PostStatus.PENDING
    assert AuditEvent.objects.filter(action="post.sent_back", after__changed="time").exists()


def test_the_page_says_before_saving_what_a_new_time_does(client, contributor, cm, forum, soon):
    post = _approved(contributor, cm, forum, soon)
    client.force_login(cm.user)
    page = client.get(f"/publishing/posts/{post.pk}/", HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert "Une nouvelle heure garde la validation" in page
    assert 'id="post-status">Validée<' in page  # "une publication": the status agrees with it
    services.update_policy(actor=cm, reschedule_keeps_approval=False)
    page = client.get(f"/publishing/posts/{post.pk}/", HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert "Changer l’heure renverra la publication en validation" in page


# --- preview and counter ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("platform", "text", "size"),
    [
        ("x", "Voir https://maison-dupont.fr/produits/canape-oslo-vert-sapin 👍🏽", 5 + 23 + 1 + 2),
        ("x", "漢字", 4),
        (
            "mastodon",
            "@camille@piaille.fr merci https://maison-dupont.fr/une/tres/longue/adresse",
            8 + 7 + 23,
        ),
        ("bluesky", "Café 👨‍👩‍👧 🇫🇷", 8),
        ("instagram", "Été", 3),
    ],
)
def test_the_counter_counts_as_each_platform_does(org, make_channel, platform, text, size):
    channel = make_channel(org, platform, handle=f"dupont-{platform}", name=platform)
    counted = limits.counter(channel, text)
    assert counted["size"] == size
    assert counted["max"] == {"x": 280, "mastodon": 500, "bluesky": 300, "instagram": 2200}[platform]


def test_the_live_preview_shows_the_text_pictures_and_counter(client, contributor, x_channel):
    post = draft(contributor, x_channel)
    post_media.attach_media(
        actor=contributor, post=post, content=png(), filename="a.png", description="Un canapé"
    )
    variant = post.variants.get()
    client.force_login(contributor.user)
    answer = client.post(
        f"/publishing/posts/{post.pk}/variants/{variant.pk}/preview/",
        {f"v{variant.pk}-text": "x" * 290},
        HTTP_ACCEPT_LANGUAGE="fr",
    )
    page = answer.content.decode()
    assert answer.status_code == 200
    assert "290 / 280 caractères" in page and "10 caractères en trop" in page
    assert 'alt="Un canapé"' in page and "preview-x" in page


def test_upload_through_the_page_and_4xx_naming_the_field(client, contributor, forum):
    post = draft(contributor, forum)
    variant = post.variants.get()
    client.force_login(contributor.user)
    url = f"/publishing/posts/{post.pk}/variants/{variant.pk}/media/"
    bad = io.BytesIO(b"not an image")
    bad.name = "fake.png"
    answer = client.post(
        url, {f"m{variant.pk}-file": bad, f"m{variant.pk}-scope": "post"}, HTTP_ACCEPT_LANGUAGE="en"
    )
    assert answer.status_code == 422 and "not a picture" in answer.content.decode()
    good = io.BytesIO(png())
    good.name = "oslo.png"
    answer = client.post(
        url,
        {
            f"m{variant.pk}-file": good,
            f"m{variant.pk}-scope": "variant",
            f"m{variant.pk}-description": "Oslo",
        },
    )
    assert answer.status_code == 302
    attached = PostMedia.objects.get()
    assert attached.variant_id == variant.pk and attached.description == "Oslo"
    thumb = client.get(f"/publishing/media/{attached.pk}/?size=thumb")
    assert thumb.status_code == 200 and thumb["Content-Type"] == "image/jpeg"


# --- open crisis alerts -------------------------------------------------------------------------


@pytest.fixture
def recall_alert(org):
    from palabre.listening.models import CrisisAlert, ListeningQuery

    query = ListeningQuery.objects.create(
        organisation=org, name="Rappel produit lampe Lumo", query='"lampe Lumo" OR rappel', kind="topic"
    )
    now = timezone.now()
    return CrisisAlert.objects.create(
        organisation=org,
        query=query,
        metric="volume",
        bucket_minutes=60,
        window_start=now - timedelta(hours=1),
        window_end=now,
        observed=40,
        expected=3,
        score=9,
    )


def test_a_post_on_an_open_alert_subject_is_held_with_the_reason_and_link(contributor, forum, recall_alert):
    post = draft(contributor, forum, text="-30 % sur toutes nos Lampes LUMO ce week-end !")
    finding = next(f for f in post.variants.get().guardrail_findings if f["guardrail"] == "open_alert")
    assert finding["severity"] == "block"
    assert "Rappel produit lampe Lumo" in finding["explanation"]
    assert finding["params"]["url"] == f"/listening/alerts/{recall_alert.pk}/"
    text = post.variants.get().text
    assert text[finding["span"][0] : finding["span"][1]].lower() == "lampes lumo"  # plural, case folded


def test_a_promotion_during_an_open_alert_is_flagged_and_closing_it_lifts_the_hold(
    contributor, forum, recall_alert
):
    post = draft(contributor, forum, text="Soldes : -30 % sur nos canapés")
    finding = next(f for f in post.variants.get().guardrail_findings if f["guardrail"] == "open_alert")
    assert finding["severity"] == "warn"
    recall_alert.status = "dismissed"
    recall_alert.save()
    assert not [
        f for f in services.check_variant(post.variants.get()).findings if f.guardrail == "open_alert"
    ]


def test_at_send_time_an_alert_subject_holds_the_variant(contributor, cm, forum, soon, recall_alert):
    recall_alert.status = "dismissed"
    recall_alert.save()
    post = draft(contributor, forum, text="Notre lampe Lumo revient", at=soon(1))
    services.approve_post(actor=cm, post=post, acknowledge_warnings=True)
    recall_alert.status = "open"
    recall_alert.save()
    variant = post.variants.get()
    assert services.publish_due(variant.pk, now=soon(5)) == "held"
    variant.refresh_from_db()
    assert variant.state == VariantState.HELD and variant.held_reason == "alert"


# --- the connectors send the pictures -----------------------------------------------------------


def test_mastodon_gets_media_upload_then_status_with_alt_text(
    contributor, cm, org, make_channel, platform_server_here, soon
):
    server = platform_server_here
    server.on("POST", "/api/v2/media", Answer(body={"id": "4242", "type": "image"}))
    server.on(
        "POST",
        "/api/v1/statuses",
        Answer(
            body={"id": "1", "uri": "https://m.example/s/1", "url": "https://m.example/@d/1", "content": ""}
        ),
    )
    channel = make_channel(
        org,
        "mastodon",
        handle="@dupont@mastodon.example",
        name="Mastodon",
        credentials={"access_token": "secret-token", "api_base_url": server.url},
    )
    _send_with_picture(contributor, cm, channel, soon)
    upload = server.made("POST", "/api/v2/media")[0]
    assert b'name="description"' in upload.body and "Le canapé Oslo".encode() in upload.body
    assert b"\x89PNG" in upload.body
    assert server.made("POST", "/api/v1/statuses")[0].form()["media_ids[]"] == ["4242"]


def test_bluesky_gets_upload_blob_then_an_images_embed(
    contributor, cm, org, make_channel, platform_server_here, soon
):
    import json

    fixtures = Path(__file__).resolve().parents[1] / "connectors" / "bluesky" / "fixtures"
    server = platform_server_here
    server.on(
        "POST",
        "/xrpc/com.atproto.server.createSession",
        Answer(body=json.loads((fixtures / "create_session.json").read_text())),
    )
    blob = {"$type": "blob", "ref": {"$link": "bafkreibabalobzn6cd366ukcsjycp4yymjymgfxcv6xczmlgpemzkz3cfa"}}
    server.on(
        "POST",
        "/xrpc/com.atproto.repo.uploadBlob",
        Answer(body={"blob": {**blob, "mimeType": "image/png", "size": 99}}),
    )
    server.on(
        "POST",
        "/xrpc/com.atproto.repo.createRecord",
        Answer(body=json.loads((fixtures / "create_record.json").read_text())),
    )
    channel = make_channel(
        org,
        "bluesky",
        handle="maisondupont.bsky.social",
        name="Bluesky",
        credentials={
            "identifier": "maisondupont.bsky.social",
            "app_password": "abcd-efgh-ijkl-mnop",
            "service": server.url,
        },
    )
    _send_with_picture(contributor, cm, channel, soon)
    assert server.made("POST", "/xrpc/com.atproto.repo.uploadBlob")[0].body.startswith(b"\x89PNG")
    record = server.made("POST", "/xrpc/com.atproto.repo.createRecord")[0].json()["record"]
    assert record["embed"]["$type"] == "app.bsky.embed.images"
    assert record["embed"]["images"][0]["alt"] == "Le canapé Oslo"


def _send_with_picture(contributor, cm, channel, soon):
    from palabre.connectors import services as outbox

    post = draft(contributor, channel, at=soon(1))
    post_media.attach_media(
        actor=contributor, post=post, content=png(), filename="oslo.png", description="Le canapé Oslo"
    )
    services.submit_post(actor=contributor, post=post)
    services.approve_post(actor=cm, post=post, acknowledge_warnings=True)
    variant = post.variants.get()
    assert services.publish_due(variant.pk, now=soon(5)) == "handed_over", variant.guardrail_findings
    variant.refresh_from_db()
    step = outbox.deliver(variant.action_id)
    assert step.outcome == "sent", variant.action.last_error


# --- the API ------------------------------------------------------------------------------------


@pytest.fixture
def api(client, owner_of, org):
    from palabre.orgs.permissions import Perm
    from palabre.orgs.services import Actor, create_api_token

    def make(organisation):
        actor = Actor.for_user(owner_of(organisation), organisation)
        _t, token = create_api_token(actor=actor, name="api", scopes=[p.value for p in Perm])
        return {"HTTP_AUTHORIZATION": f"Bearer {token}"}

    return make


def test_api_files_drop_and_delete_name_fields_and_keep_organisations_apart(
    client, api, org, make_org, contributor, forum, x_channel
):
    post = draft(contributor, forum, x_channel)
    mine = api(org)
    url = f"/api/publishing/posts/{post.pk}/media"
    bad = client.post(url, {"file": io.BytesIO(b"%PDF-1.4 not a picture")}, **mine)
    assert bad.status_code == 422 and "file" in bad.json()["fields"]
    picture = io.BytesIO(png())
    picture.name = "oslo.png"
    made = client.post(url, {"file": picture, "description": "Le canapé"}, **mine)
    assert made.status_code == 201, made.content
    assert made.json()["mime_type"] == "image/png" and made.json()["description"] == "Le canapé"
    listed = client.get(f"/api/publishing/posts/{post.pk}", **mine).json()
    assert [a["filename"] for a in listed["attachments"]] == ["oslo.png"]
    theirs = api(make_org("Maison Martin", slug="maison-martin"))
    assert client.delete(f"/api/publishing/media/{made.json()['id']}", **theirs).status_code == 404
    assert client.delete(f"/api/publishing/posts/{post.pk}", **theirs).status_code == 404
    x_variant = post.variants.get(channel=x_channel)
    dropped = client.delete(f"/api/publishing/variants/{x_variant.pk}", **mine)
    assert dropped.status_code == 200 and [v["channel"] for v in dropped.json()["variants"]] == [forum.pk]
    last = client.delete(f"/api/publishing/variants/{post.variants.get().pk}", **mine)
    assert last.status_code == 422 and "variant" in last.json()["fields"]
    assert client.delete(f"/api/publishing/posts/{post.pk}", **mine).status_code == 204
    assert not Post.objects.filter(pk=post.pk).exists()


def test_an_upload_over_the_limit_is_refused_413_before_it_is_read(client, api, org, contributor, forum):
    """Django leaves the files of a multipart body out of PALABRE_MAX_BODY_BYTES and writes them to
    a temporary file before any view runs: a member allowed to draft could fill the disk with one
    endless upload, checked only once stored. A body larger than the largest file kept plus the
    usual body is refused on its declared length, with nothing written; a picture near 8 MB, over
    the usual body limit, still goes through."""
    import os

    from django.core.files.uploadhandler import TemporaryFileUploadHandler

    post = draft(contributor, forum)
    url = f"/api/publishing/posts/{post.pk}/media"
    written = []
    real = TemporaryFileUploadHandler.receive_data_chunk

    def spy(self, raw_data, start):
        written.append(len(raw_data))
        return real(self, raw_data, start)

    huge = io.BytesIO(b"\0" * (post_media.MAX_BYTES + 4 * 1024 * 1024))
    huge.name = "huge.png"
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(TemporaryFileUploadHandler, "receive_data_chunk", spy)
        refused = client.post(url, {"file": huge}, **api(org))
    assert refused.status_code == 413 and not written
    noise = io.BytesIO()
    Image.frombytes("RGB", (1400, 1400), os.urandom(1400 * 1400 * 3)).save(noise, "PNG")
    assert 2.5 * 1024 * 1024 < noise.tell() < post_media.MAX_BYTES
    noise.seek(0)
    noise.name = "bruit.png"
    assert client.post(url, {"file": noise}, **api(org)).status_code == 201


def test_the_413_names_the_limit_hit_and_the_field(client, api, org, contributor, forum, settings):
    """The refusal used to quote PALABRE_MAX_BODY_BYTES in bytes, not the limit the upload hit (the
    largest file kept plus that body) nor the field; a body without files still names its own."""
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024 * 1024
    post = draft(contributor, forum)
    huge = io.BytesIO(b"\0" * (post_media.MAX_BYTES + 1024 * 1024))
    huge.name = "huge.png"
    refused = client.post(f"/api/publishing/posts/{post.pk}/media", {"file": huge}, **api(org))
    assert refused.status_code == 413
    body = refused.json()
    assert list(body["fields"]) == ["file"] and body["message"].startswith("file: ")
    assert "9 MB" in body["message"] and "8 MB" in body["message"]
    assert "1 MB (PALABRE_MAX_BODY_BYTES)" in body["message"]
    plain = client.patch(
        f"/api/publishing/posts/{post.pk}",
        data=b'{"title": "' + b"x" * (1024 * 1024) + b'"}',
        content_type="application/json",
        **api(org),
    )
    assert plain.status_code == 413 and "fields" not in plain.json()
    assert plain.json()["message"] == "The body is larger than 1 MB (PALABRE_MAX_BODY_BYTES)."


@pytest.mark.parametrize(
    ("language", "said"),
    [
        ("en", ["Too large to be sent", "“Picture or video”", "at most 8 MB", "the whole form 10.5 MB"]),
        (
            "fr",
            [
                "Trop lourd pour être envoyé",
                "«\u202fImage ou vidéo\u202f»",
                "au plus 8\u00a0Mo",
                "10,5\u00a0Mo",
            ],
        ),
    ],
)
def test_an_upload_over_the_limit_through_the_page_is_a_413_page(contributor, forum, language, said):
    """The page's CSRF check reads the body first: the refusal was Django's bare 400. It is a 413
    page in the reader's language naming the field and the limits, with the way back to the post."""
    from django.test import Client

    post = draft(contributor, forum)
    variant = post.variants.get()
    browser = Client(enforce_csrf_checks=True, HTTP_ACCEPT_LANGUAGE=language)
    browser.force_login(contributor.user)
    assert browser.get(f"/publishing/posts/{post.pk}/").status_code == 200
    huge = io.BytesIO(b"\0" * (post_media.MAX_BYTES + 4 * 1024 * 1024))
    huge.name = "huge.png"
    answer = browser.post(
        f"/publishing/posts/{post.pk}/variants/{variant.pk}/media/",
        {
            "csrfmiddlewaretoken": browser.cookies["csrftoken"].value,
            f"m{variant.pk}-file": huge,
            f"m{variant.pk}-scope": "post",
        },
    )
    page = answer.content.decode()
    assert answer.status_code == 413 and all(words in page for words in said), page
    assert f'href="/publishing/posts/{post.pk}/#variant-{variant.pk}"' in page
    assert not PostMedia.objects.exists()


def test_the_calendar_asks_before_a_move_sends_an_approved_post_back(client, contributor, cm, forum, soon):
    post = _approved(contributor, cm, forum, soon)
    client.force_login(cm.user)
    assert "data-confirm-approved" not in client.get("/publishing/").content.decode()
    services.update_policy(actor=cm, reschedule_keeps_approval=False)
    variant = post.variants.get()
    # The week that holds the post (an hour from now may be next week, on a Sunday night).
    day = variant.scheduled_at.astimezone(ZoneInfo(forum.organisation.time_zone)).date()
    page = client.get(
        f"/publishing/?view=week&date={day.isoformat()}", HTTP_ACCEPT_LANGUAGE="fr"
    ).content.decode()
    assert "Changer l’heure renverra la publication en validation" in page
    assert f'data-variant="{variant.pk}" data-post-status="approved"' in page


def mp4() -> bytes:
    # The first box of an MP4 file: its size, "ftyp", then the brand.
    return b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2" + b"\x00" * 64


def test_a_video_goes_where_the_connector_sends_videos(contributor, cm, org, make_channel, forum):
    from palabre.connectors.registry import connector_class_for, register_connector

    previous = connector_class_for("bluesky")
    register_connector("bluesky", InstagramPublisher.with_platform("bluesky"))
    try:
        sky = make_channel(org, "bluesky", handle="dupont.bsky.social", name="Bluesky")
        post = draft(contributor, forum, sky)
        attached = post_media.attach_media(actor=contributor, post=post, content=mp4(), filename="visite.mp4")
        assert attached.mime_type == "video/mp4" and attached.width is None and not attached.thumbnail
        reasons = [
            f.params.get("reason") for f in services.check_variant(post.variants.get(channel=sky)).findings
        ]
        assert "media_type" in reasons  # Palabre sends pictures only to Bluesky
        assert "media_type" not in [
            f.params.get("reason") for f in services.check_variant(post.variants.get(channel=forum)).findings
        ]
    finally:
        register_connector("bluesky", previous)


@pytest.mark.parametrize(
    ("status", "reason"), [("archived", "archived"), ("awaiting_approval", "awaiting_approval")]
)
def test_an_archived_or_unapproved_channel_says_so_before_approval(contributor, forum, status, reason):
    forum.status = status
    forum.save(update_fields=["status"])
    post = draft(contributor, forum)
    assert reason in [f["params"].get("reason") for f in post.variants.get().guardrail_findings]


def test_the_delete_button_needs_its_confirmation(client, contributor, forum):
    post = draft(contributor, forum)
    client.force_login(contributor.user)
    page = client.get(f"/publishing/posts/{post.pk}/", HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert "Oui, supprimer définitivement cette publication" in page
    client.post(f"/publishing/posts/{post.pk}/delete/")
    assert Post.objects.filter(pk=post.pk).exists()  # not without the box ticked
    answer = client.post(f"/publishing/posts/{post.pk}/delete/", {"confirm": "on"})
    assert answer.status_code == 302 and not Post.objects.filter(pk=post.pk).exists()


def test_a_picture_too_heavy_for_bluesky_is_said_before_approval(contributor, org, make_channel, forum):
    import os

    from palabre.connectors.registry import connector_class_for, register_connector

    previous = connector_class_for("bluesky")
    register_connector("bluesky", InstagramPublisher.with_platform("bluesky"))
    try:
        sky = make_channel(org, "bluesky", handle="dupont.bsky.social", name="Bluesky")
        post = draft(contributor, forum, sky)
        # Noise does not compress: a 1,200 × 1,000 PNG of it weighs more than Bluesky's 1 MB.
        heavy = Image.frombytes("RGB", (1200, 1000), os.urandom(1200 * 1000 * 3))
        out = io.BytesIO()
        heavy.save(out, "PNG")
        post_media.attach_media(
            actor=contributor, post=post, content=out.getvalue(), filename="bruit.png", description="Du bruit"
        )
        sky_findings = services.check_variant(post.variants.get(channel=sky)).findings
        assert any("bruit.png is too heavy for Bluesky" in f.explanation for f in sky_findings)
        forum_findings = services.check_variant(post.variants.get(channel=forum)).findings
        assert not any("too heavy" in f.explanation for f in forum_findings)
    finally:
        register_connector("bluesky", previous)


def test_a_brand_alert_holds_posts_on_the_terms_that_clearly_rose_only(org):
    """The brand is in every post: its alert is about the terms that emerged with the spike, and
    only those that clearly rose (a weak one, "jour", would hold every post that says it)."""
    from palabre.listening.models import CrisisAlert, ListeningQuery
    from palabre.listening.services import open_alerts

    query = ListeningQuery.objects.create(organisation=org, name="Marque", query="lumiere", kind="brand")
    now = timezone.now()
    terms = [("nova", 3.45), ("lampe", 3.25), ("#rappelnova", 2.56), ("surchauffe", 1.98), ("jour", 1.2)]
    CrisisAlert.objects.create(
        organisation=org,
        query=query,
        metric="volume",
        bucket_minutes=60,
        window_start=now - timedelta(hours=1),
        window_end=now,
        observed=40,
        expected=3,
        score=9,
        explanation={"terms": [{"term": t, "score": s, "recent": 5, "baseline": 0} for t, s in terms]},
    )
    (alert,) = open_alerts(org)
    assert alert.terms == ("nova", "lampe", "#rappelnova")
