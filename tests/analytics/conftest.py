"""The analytics fixture: one small week of Maison Dupont whose figures the tests compute by hand.

The organisation's time zone is Europe/Paris (UTC+2 in June) and its business hours the default
ones, Monday to Friday, 09:00 to 18:00; the first response target is 120 business minutes. The
period is Monday 8 to Sunday 14 June 2026; afterwards the clock stands on Wednesday 17 June, 10:15.

Built with Palabre's own services, in the order things happen (the clock is moved to each moment):
items come in through `ingest_item` and are analysed on commit, answers go out through the
inbox's `send_reply`, moderators decide through `review_item`, mentions come through listening's
`ingest_candidates`.

    Mon 8   08:00 the brand posts p1 on the blog (10 likes, 4 shares)
            08:30 Camille comments p1 (r1, substantive); 09:00 Emma answers "👍" (r2)
            09:30 Alice marks r2 as spam (published automatically: a reversed decision)
            10:00 Camille asks c1 (blog, assigned to Alice); 10:30 Alice answers; 11:00 closed
            17:00 Louis complains c2 (blog, Alice; he wrote once on 3 June: returning)
    Tue 9   10:00 Alice answers c2; 19:00 closed.            12:00 mention m1 (brand, negative)
    Wed 10  09:00 Nina asks c4 (shop), never answered.       13:00 m2 (brand, negative)
            12:00 the brand posts p2 on the shop (2 favourites, 1 reblog)   15:00 m3 (brand, positive)
    Thu 11  14:00 Zoé comments p1 with "remboursement": held by a suspect-word rule (c5)
            14:30 Alice rejects c5                            16:00 m4 (competitor, neutral)
    Sat 13  11:00 Paul thanks the shop (c3, Bruno); 12:00 Bruno answers (out of hours)
"""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

PARIS = ZoneInfo("Europe/Paris")


def paris(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 6, day, hour, minute, tzinfo=PARIS)


@pytest.fixture
def period():
    from palabre.analytics.metrics import Period

    return Period(date(2026, 6, 8), date(2026, 6, 14), "Europe/Paris")


@pytest.fixture
def after_the_week():
    return paris(17, 10, 15)


@pytest.fixture
def week(org, make_channel, make_member, ingest, clock, django_capture_on_commit_callbacks, after_the_week):
    """Builds the week; returns what the tests name (channels, members, items, conversations)."""
    try:
        from palabre.connectors.search import Candidate
    except ImportError:  # before listening's sources moved into connectors
        from palabre.listening.sources import Candidate
    from palabre.conversations.services import IncomingAuthor
    from palabre.inbox import services as inbox
    from palabre.inbox.models import Conversation
    from palabre.listening.corrections import correct_mention
    from palabre.listening.models import Mention
    from palabre.listening.services import create_query, create_source, ingest_candidates
    from palabre.moderation.services import create_rule, review_item
    from palabre.orgs.services import Actor

    # Each step is stamped at its stated minute, however long it takes to run (the first reply loads
    # the models: seconds on a loaded machine); the clock ticks again once the week is written.
    clock.move_to(paris(1, 9), tick=False)
    blog = make_channel(org, "site", handle="blog.maison-dupont.fr", name="Blog")
    shop = make_channel(org, "site", handle="shop.maison-dupont.fr", name="Boutique")
    alice = make_member(org, "community_manager", username="alice").user
    bruno = make_member(org, "community_manager", username="bruno").user
    as_alice, as_bruno, as_palabre = (
        Actor.for_user(alice, org),
        Actor.for_user(bruno, org),
        Actor.palabre(org),
    )
    rule = create_rule(actor=as_palabre, kind="suspect_word", pattern="remboursement", enabled=True)
    create_query(actor=as_palabre, name="Marque", query='"Maison Dupont"')
    create_query(actor=as_palabre, name="Concurrent", query='"Atelier Boréal"', kind="competitor")
    source = create_source(
        actor=as_palabre, name="Presse", kind="rss", config={"url": "https://example.org/feed"}
    )

    def take(channel, external_id, at: datetime, **fields):
        """The item arrives when it is written and is analysed on commit, as a connector delivers it."""
        clock.move_to(at, tick=False)
        with django_capture_on_commit_callbacks(execute=True):
            return ingest(channel, external_id, created_at=at, **fields)

    def answer(actor, item, at: datetime, text: str):
        clock.move_to(at, tick=False)
        conversation = Conversation.objects.get(root=item.thread)
        with django_capture_on_commit_callbacks(execute=True):
            inbox.send_reply(
                actor=actor,
                conversation=conversation,
                text=text,
                idempotency_key=f"reply-{item.external_id}",
                confirmed=True,
            )

    def close(actor, item, at: datetime):
        clock.move_to(at, tick=False)
        inbox.set_status(actor=actor, conversation=Conversation.objects.get(root=item), status="closed")

    def assign(item, user):
        inbox.assign(actor=as_alice, conversation=Conversation.objects.get(root=item), assignee_id=user.pk)

    def review(item, at: datetime, action: str):
        clock.move_to(at, tick=False)
        with django_capture_on_commit_callbacks(execute=True):
            review_item(actor=as_alice, item_id=item.pk, action=action)

    def mention(external_id: str, text: str, at: datetime, sentiment: str):
        clock.move_to(at, tick=False)
        ingest_candidates(
            source=source, candidates=[Candidate(external_id=external_id, text=text, published_at=at)]
        )
        row = Mention.objects.get(source=source, external_id=external_id)
        if row.sentiment != sentiment:
            correct_mention(actor=as_alice, mention=row, field="sentiment", value=sentiment)

    def brand(channel):
        return IncomingAuthor(handle=channel.handle, display_name="Maison Dupont")

    take(blog, "old-1", paris(3, 15), text="Vous livrez à Lyon ?", author="louis")
    post1 = take(
        blog,
        "p1",
        paris(8, 8),
        kind="post",
        text="Notre nouvelle collection de lampes est là.",
        author=brand(blog),
        metrics={"likes": 10, "shares": 4},
    )
    praise = take(
        blog, "r1", paris(8, 8, 30), text="Superbe collection, bravo !", author="camille", parent="p1"
    )
    thumb = take(blog, "r2", paris(8, 9), text="👍", author="emma", parent="p1")
    review(thumb, paris(8, 9, 30), "spam")
    c1 = take(blog, "c1", paris(8, 10), text="Bonjour, où est ma commande 4512 ?", author="camille")
    assign(c1, alice)
    answer(as_alice, c1, paris(8, 10, 30), "Bonjour Camille, votre commande 4512 part demain matin.")
    close(as_alice, c1, paris(8, 11))
    c2 = take(blog, "c2", paris(8, 17), text="Ma livraison est en retard depuis une semaine.", author="louis")
    assign(c2, alice)
    answer(as_alice, c2, paris(9, 10), "Louis, nous relançons le transporteur aujourd'hui même.")
    mention(
        "m1", "Maison Dupont : lampe arrivée cassée, service client injoignable.", paris(9, 12), "negative"
    )
    close(as_alice, c2, paris(9, 19))
    c4 = take(shop, "c4", paris(10, 9), text="Comment changer mon adresse de livraison ?", author="nina")
    post2 = take(
        shop,
        "p2",
        paris(10, 12),
        kind="post",
        text="Soldes d'été : -20 % sur les suspensions.",
        author=brand(shop),
        metrics={"favourites": 2, "reblogs": 1},
    )
    mention("m2", "Encore un retard chez Maison Dupont, quelle déception.", paris(10, 13), "negative")
    mention("m3", "Ravie de ma suspension Maison Dupont, superbe qualité.", paris(10, 15), "positive")
    held = take(
        blog, "c5", paris(11, 14), text="Je demande le remboursement de ma lampe", author="zoe", parent="p1"
    )
    review(held, paris(11, 14, 30), "reject")
    mention("m4", "Atelier Boréal ouvre une boutique à Nantes.", paris(11, 16), "neutral")
    c3 = take(shop, "c3", paris(13, 11), text="Merci !", author="paul")
    assign(c3, bruno)
    answer(as_bruno, c3, paris(13, 12), "Avec plaisir Paul, bon week-end à vous !")
    clock.move_to(after_the_week, tick=True)
    return {
        "org": org,
        "blog": blog,
        "shop": shop,
        "alice": alice,
        "bruno": bruno,
        "rule": rule,
        "items": {
            "post1": post1,
            "post2": post2,
            "praise": praise,
            "thumb": thumb,
            "held": held,
            "c1": c1,
            "c2": c2,
            "c3": c3,
            "c4": c4,
        },
    }


# --- the week's campaigns ---------------------------------------------------------------------------
# Two campaigns of Maison Dupont publish through Palabre: "Lampes" (8 to 11 June) is the post p1 on
# the blog, "Soldes" (from 10 June, no end) the post p2 on the shop. A stand-in site platform
# publishes them and answers with the ids the posts have on the channels ("p1", "p2"), as a platform
# gives a post its id; that id ties each campaign to its post item.


@pytest.fixture
def publishing_site(monkeypatch):
    """The site platform, able to publish: a post gets the id the test chose for its text."""
    from palabre.connectors.base import Capability, Delivered
    from palabre.connectors.registry import connector_class_for, register_connector
    from palabre.connectors.site import SiteConnector

    class PublishingSite(SiteConnector):
        capabilities = SiteConnector.capabilities | {Capability.PUBLISH}
        ids: dict[str, str] = {}

        def publish(self, channel, *, text, media=(), idempotency_key):
            return Delivered(external_id=self.ids[text], url="")

    monkeypatch.setenv("PALABRE_CONNECTORS_MIN_INTERVAL", "0")
    previous = connector_class_for("site")
    register_connector("site", PublishingSite)
    yield PublishingSite
    register_connector("site", previous)


@pytest.fixture
def campaigns(week, publishing_site, django_capture_on_commit_callbacks):
    from datetime import timedelta

    from django.utils import timezone

    from palabre.orgs.services import Actor
    from palabre.publishing import services

    cm = Actor.for_user(week["alice"], week["org"])

    def publish(campaign, channel, text: str, external_id: str):
        publishing_site.ids[text] = external_id
        post = services.create_post(
            actor=cm, title=text[:40], campaign=campaign, variants=[{"channel": channel, "text": text}]
        )
        services.approve_post(actor=cm, post=post, acknowledge_warnings=True)
        variant = post.variants.get()
        services.schedule_variant(actor=cm, variant=variant, at=timezone.now() + timedelta(seconds=1))
        with django_capture_on_commit_callbacks(execute=True):
            assert (
                services.publish_due(variant.pk, now=timezone.now() + timedelta(seconds=5)) == "handed_over"
            )
        variant.refresh_from_db()
        assert variant.action.external_id == external_id

    lamps = services.create_campaign(
        actor=cm, name="Lampes", kind="event", starts_on=date(2026, 6, 8), ends_on=date(2026, 6, 11)
    )
    sales = services.create_campaign(
        actor=cm, name="Soldes", kind="exclusive_offer", starts_on=date(2026, 6, 10)
    )
    # Neither drawn: one without dates, one over before the week.
    services.create_campaign(actor=cm, name="Sans dates", kind="poll")
    services.create_campaign(
        actor=cm, name="Printemps", kind="event", starts_on=date(2026, 5, 1), ends_on=date(2026, 6, 7)
    )
    publish(lamps, week["blog"], "Notre nouvelle collection de lampes est là.", "p1")
    publish(sales, week["shop"], "Soldes d'été : -20 % sur les suspensions.", "p2")
    return {"lamps": lamps, "sales": sales}
