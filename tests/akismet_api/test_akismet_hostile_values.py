"""What a key holder or a site's editor sends is hostile until checked: a comment's date the API
would refuse (before 1970, after 2999) is taken as no date, the comment dated when it arrived,
never a server error (year 9999 at UTC-14 overflowed when stored in UTC); a site's host name is
written in the key-sites CSV as text, never as a spreadsheet formula."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.test import Client
from django.utils import timezone

from palabre.conversations.models import Item
from palabre.moderation.models import ModerationSite

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


def test_the_key_sites_csv_writes_a_formula_as_text(org, register_site):
    """A site's address is written by a member who edits the rules; the key-sites CSV is opened in
    a spreadsheet by whoever holds the key: a host name like `=1+1` must stay text there. (Such an
    address is refused now; one saved before the check is still written as text.)"""
    hostile = register_site(org, url="https://piege.example/", name="Piège")
    ModerationSite.objects.filter(pk=hostile.site.pk).update(url="https://=HYPERLINK(1)/")
    answer = Client().get("/1.2/key-sites", {"api_key": hostile.key, "format": "csv"})
    assert answer.status_code == 200
    rows = answer.content.decode().splitlines()
    assert rows[2].startswith("'=hyperlink(1)")


@pytest.mark.parametrize("path", ["/1.2/key-sites", "/1.2/usage-limit"])
@pytest.mark.parametrize("month", ["9999-12", "0001-01", "1969-12", "2024-13"])
def test_a_month_out_of_range_is_refused_naming_it(blog, path, month):
    """December 9999 has no month after it: key-sites answered a server error. It answers as
    Akismet does to a bad value: `invalid`, the help naming the field."""
    answer = Client().post(path, {"api_key": blog.key, "month": month})
    assert answer.status_code == 200
    if path == "/1.2/key-sites":
        assert answer.content == b"invalid" and '"month"' in answer["X-akismet-debug-help"]
