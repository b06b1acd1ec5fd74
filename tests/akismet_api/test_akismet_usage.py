"""`/1.2/usage-limit` counts comment-check calls, as Akismet does, not the comments stored."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import time_machine

from palabre.compat import journal
from palabre.compat.models import CheckedComment, SiteMonthlyUsage
from palabre.conversations.models import Item

pytestmark = pytest.mark.django_db

IP = "203.0.113.7"


def check(client, blog, text: str = "Merci pour la recette, elle est parfaite.", **extra) -> str:
    data = {"api_key": blog.key, "blog": blog.site.url, "user_ip": IP, "comment_content": text, **extra}
    response = client.post("/1.1/comment-check", data)
    assert response.status_code == 200
    return response.content.decode()


def usage(client, blog) -> dict:
    response = client.post("/1.2/usage-limit", {"api_key": blog.key})
    assert response.status_code == 200
    return response.json()


@time_machine.travel(datetime(2026, 11, 12, 10, 0, tzinfo=UTC), tick=False)
def test_every_call_counts_a_recheck_too_and_the_waiting_ones(client, blog, monkeypatch):
    assert usage(client, blog)["usage"] == 0
    assert check(client, blog) in ("true", "false")
    assert check(client, blog, recheck_reason="edit") in ("true", "false")  # the same comment again
    assert Item.objects.filter(channel=blog.site.channel).count() == 1
    assert usage(client, blog)["usage"] == 2
    # Calls answered and not stored yet count too, and once stored they are not counted twice.
    monkeypatch.setattr(journal, "ask_for_storing", lambda **kwargs: None)
    check(client, blog, "Une autre question : livrez-vous en Belgique ?")
    assert CheckedComment.objects.count() == 1
    assert usage(client, blog)["usage"] == 3
    journal.store_waiting()
    assert CheckedComment.objects.count() == 0
    assert usage(client, blog)["usage"] == 3
    assert SiteMonthlyUsage.objects.get(site=blog.site).calls == 3


def test_a_month_counts_its_own_calls_and_another_sites_count_apart(client, blog, register_site, org):
    other = register_site(org, url="https://forum.maison-dupont.fr/", name="Forum")
    with time_machine.travel(datetime(2026, 11, 30, 23, 59, 59, tzinfo=UTC), tick=False):
        check(client, blog)
        check(client, other, "Bonjour depuis le forum")
    with time_machine.travel(datetime(2026, 12, 1, 0, 0, 1, tzinfo=UTC), tick=False):
        check(client, blog, "Premier commentaire de décembre")
        assert usage(client, blog)["usage"] == 1
        assert usage(client, other)["usage"] == 0
    assert dict(SiteMonthlyUsage.objects.filter(site=blog.site).values_list("month", "calls")) == {
        202611: 1,
        202612: 1,
    }


def test_usage_limit_says_throttled_once_the_minutes_limit_is_reached(client, blog, monkeypatch):
    monkeypatch.setenv("PALABRE_AKISMET_RATE_LIMIT", "3")
    with time_machine.travel(datetime(2026, 11, 12, 10, 0, 5, tzinfo=UTC), tick=False):
        assert usage(client, blog)["throttled"] is False  # 1 request
        check(client, blog)  # 2
        assert usage(client, blog)["throttled"] is True  # 3: the limit is reached
        assert client.post("/1.2/usage-limit", {"api_key": blog.key}).status_code == 429
