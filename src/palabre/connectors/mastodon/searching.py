"""Listening's search of Mastodon (`search(kind, config, cursor)`: a hashtag or the public
timeline of an instance), its statuses read as search candidates as the channel side reads them."""

from __future__ import annotations

from urllib.parse import urlsplit

import httpx
from django.utils.translation import gettext

from palabre.connectors import outbound
from palabre.connectors.base import (
    ConnectorError,
)
from palabre.connectors.search import (
    Candidate,
    SearchError,
    SearchMalformed,
    SearchPage,
    from_connector_error,
)


def status_candidate(status, instance: str) -> Candidate:
    """A Mastodon status, read as the channel side reads it (`parse_status`), as a listening
    candidate: known by its URI (the same status seen from several instances is one)."""
    from palabre.connectors.mastodon import MastodonConnector  # the package imports this module

    host = urlsplit(instance).hostname or ""
    item = MastodonConnector().parse_status(status, host=host)
    author = item.author
    return Candidate(
        external_id=str(status.get("uri") or f"{instance}/statuses/{status['id']}")[:500],
        text=item.text,
        published_at=item.created_at,
        url=item.url,
        author=str(item.raw["acct"]),
        author_name=author.display_name if author else "",
        author_reach=author.followers if author else None,
        language=item.language,
        domain=urlsplit(item.url).hostname or host,
    )


def search(kind: str, config: dict, cursor: dict) -> SearchPage:
    """A hashtag's timeline (`mastodon_hashtag`) or the public one (`mastodon_timeline`, `local`
    for the instance's own), since the cursor's `since_id`; a boost brings the boosted status."""
    from palabre.connectors.mastodon import (  # the package imports this
        MastodonConnector,
        _id_order,
        api_client,
    )

    try:
        # Checked first for a clear refusal; the guarded session pins every request and redirect.
        instance = outbound.checked_base_url(config["instance"])
    except httpx.HTTPError as error:
        raise SearchError(
            gettext("Could not reach %(url)s: %(error)s") % {"url": config["instance"], "error": error}
        ) from error
    connector = MastodonConnector()
    api = api_client(instance, config.get("access_token") or None)
    since_id = cursor.get("since_id")
    try:
        if kind == "mastodon_hashtag":
            statuses = connector._call(
                api, "timeline_hashtag", config["hashtag"], since_id=since_id, limit=40
            )
        else:
            statuses = connector._call(
                api, "timeline_public", since_id=since_id, limit=40, local=config.get("local", False)
            )
        if not isinstance(statuses, list):
            raise SearchMalformed(gettext("The Mastodon instance did not answer a list of statuses."))
        candidates = [
            status_candidate(dict(status["reblog"]) if status.get("reblog") else status, config["instance"])
            for status in statuses
        ]
    except ConnectorError as error:
        raise from_connector_error(error) from error
    ids = [str(s.get("id")) for s in statuses if s.get("id") is not None]
    newest = max([*ids, *([str(since_id)] if since_id else [])], key=_id_order) if ids else since_id
    return SearchPage(candidates, {"since_id": newest} if newest else {})
