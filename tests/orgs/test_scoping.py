"""One organisation scope (`palabre.orgs.scoping`): `for_org` and `visible_to` read one
organisation's rows, and the organisation filters written by hand only go away in the apps."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from palabre.listening.models import ListeningQuery
from palabre.orgs.services import Actor

PACKAGE = Path(__file__).resolve().parents[2] / "src" / "palabre"

# Hand-written organisation filters (`.filter(organisation=...)`, `.exclude(organisation_id=...)`,
# `.get(channel__organisation=...)`...) left in each app read through the scoped queryset: a count
# only goes down (lower it when you remove some); an app at 0 uses `for_org` / `visible_to`
# everywhere it can. None: an app not moved yet; give it its count when it moves.
HAND_FILTERS = {
    "analytics": 0,
    "compat": 0,
    "connectors": 0,
    "conversations": 1,  # conversations/pipeline.py
    "inbox": 0,
    "listening": 0,
    "moderation": 0,
    "orgs": 0,
    "programmes": 0,
    "publishing": 0,
}
SCOPE_KEYWORDS = {"organisation", "organisation_id", "channel__organisation", "channel__organisation_id"}


def hand_filters(app: str, root: Path = PACKAGE) -> list[str]:
    found = []
    for path in sorted((root / app).rglob("*.py")):
        if "migrations" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in {"filter", "exclude", "get"}
                and any(keyword.arg in SCOPE_KEYWORDS for keyword in node.keywords)
            ):
                found.append(f"{path.relative_to(root)}:{node.lineno}")
    return found


@pytest.mark.parametrize("app", sorted(app for app, count in HAND_FILTERS.items() if count is not None))
def test_organisation_filters_written_by_hand_only_go_away(app):
    found = hand_filters(app)
    assert len(found) <= HAND_FILTERS[app], (
        f"{app}: a new organisation filter written by hand; use Model.objects.for_org(organisation) "
        f"or .visible_to(actor) (palabre.orgs.scoping): {found}"
    )


def test_the_count_finds_a_hand_filter(tmp_path):
    app = tmp_path / "billing"
    app.mkdir()
    (app / "queries.py").write_text(
        "def rows(actor):\n    return Invoice.objects.filter(organisation=actor.organisation)\n"
    )
    assert hand_filters("billing", root=tmp_path) == ["billing/queries.py:2"]


@pytest.mark.django_db
def test_for_org_and_visible_to_read_one_organisation(make_org, owner_of):
    ours, theirs = make_org("Maison Une"), make_org("Maison Deux")
    mine = ListeningQuery.objects.create(organisation=ours, name="marque", query="maison")
    ListeningQuery.objects.create(organisation=theirs, name="marque", query="maison")
    actor = Actor.for_user(owner_of(ours), ours)

    assert list(ListeningQuery.objects.for_org(ours)) == [mine]
    assert list(ListeningQuery.objects.for_org(ours.pk)) == [mine]
    assert list(ListeningQuery.objects.visible_to(actor)) == [mine]
    # a queryset method: it narrows what is already filtered, and chains on
    assert list(ListeningQuery.objects.filter(name="marque").visible_to(actor).filter(active=True)) == [mine]
