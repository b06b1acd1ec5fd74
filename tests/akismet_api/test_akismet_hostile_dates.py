"""A comment's date is the blog's to send, and anything may come: a date the API would refuse
(before 1970, after 2999) is taken as no date, the comment dated when it arrived, never a server
error (year 9999 at UTC-14 overflowed when stored in UTC)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.test import Client
from django.utils import timezone

from palabre.conversations.models import Item

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize("path", ["/1.1/comment-check", "/1.1/submit-spam", "/1.1/submit-ham"])
def test_a_date_out_of_range_is_no_date(blog, path):
    sent = {
        "9999-12-31T23:59:59-14:00": None,
        "0001-01-01T00:00:00+14:00": None,
        "1969-12-31 23:59:59": None,
        "2024-05-01 10:00:00": datetime(2024, 5, 1, 10, tzinfo=UTC),
    }
    for n, (value, kept) in enumerate(sent.items()):
        answer = Client().post(
            path,
            {
                "api_key": blog.key,
                "blog": blog.site.url,
                "user_ip": "203.0.113.7",
                "comment_ID": str(100 + n),
                "comment_content": f"Merci pour la recette {n}",
                "comment_author": "Camille",
                "comment_date_gmt": value,
            },
        )
        assert answer.status_code == 200, (value, answer.content[:200])
        item = Item.objects.get(channel=blog.site.channel, text=f"Merci pour la recette {n}")
        if kept is None:
            assert abs(item.created_at - timezone.now()) < timedelta(days=1)
        else:
            assert item.created_at == kept
