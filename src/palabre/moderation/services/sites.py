"""Sites (Akismet-compatible API and comment form): registration, keys, allowed origins, revocation."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from palabre.moderation.models import (
    ModerationSite,
    ToxicAnswer,
)
from palabre.orgs.permissions import Perm
from palabre.orgs.services import Actor, NotInOrganisation, record
from palabre.recent import RecentReads


def _key_hash(raw: str) -> str:
    """Keys are hexadecimal; WordPress's Akismet plugin keeps the case a person typed."""
    import hashlib

    return hashlib.sha256(raw.strip().lower().encode()).hexdigest()


@transaction.atomic
def create_moderation_site(*, actor: Actor, name: str, url: str) -> tuple[ModerationSite, str]:
    """Register a blog or forum; returns the site and its API key, shown this once.

    Its comments go to the organisation's site-comments channel for that address (created if needed).
    """
    import secrets
    from urllib.parse import urlsplit

    from palabre.orgs.services import create_channel

    actor.require(Perm.MODERATION_RULES)
    errors = {}
    if not name.strip():
        errors["name"] = _("Name the site.")
    parts = urlsplit(url.strip())
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        errors["url"] = _("Give the site's address, starting with https://")
    elif not _host_name(parts.hostname):
        # The host becomes the channel's handle and goes into the key's CSV and the audit log:
        # `https://=HYPERLINK(...)/` named no site.
        errors["url"] = _("“%(host)s” is not a site's address; give it as https://blog.example.fr/")
        errors["url"] %= {"host": parts.hostname}
    if errors:
        raise ValidationError(errors)
    handle = parts.hostname.removeprefix("www.")
    channel = actor.organisation.channels.filter(platform="site", handle=handle).first()
    if channel is None:
        channel = create_channel(actor=actor, platform="site", handle=handle, name=name.strip())
    # 12 hexadecimal characters: the only keys WordPress's Akismet plugin sends (docs/security.md).
    key = secrets.token_hex(6)
    site = ModerationSite.objects.create(
        organisation=actor.organisation,
        channel=channel,
        name=name.strip(),
        url=url.strip(),
        api_key_hash=_key_hash(key),
        api_key_hint=key[-4:],
        public_id=secrets.token_urlsafe(12),
    )
    record(actor, "moderation.site_created", site, after={"name": site.name, "url": site.url})
    return site, key


def _host_name(host: str) -> bool:
    """A DNS name (accented ones too, as their ASCII form) or an IP address."""
    try:
        ascii_host = host.encode("idna").decode("ascii")
    except UnicodeError:
        return False
    return bool(
        re.fullmatch(r"[a-z0-9]([a-z0-9\-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9\-]*[a-z0-9])?)*", ascii_host)
    ) or (bool(re.fullmatch(r"[0-9a-f:.]+", host)) and (host.count(".") == 3 or ":" in host))


def origin_of(url: str) -> str | None:
    """scheme://host[:port] of an address, lower-cased, default port left out; None if not http(s)."""
    try:
        parts = urlsplit((url or "").strip())
        port = parts.port
    except ValueError:
        return None
    if parts.scheme.lower() not in {"http", "https"} or not parts.hostname:
        return None
    scheme, host = parts.scheme.lower(), parts.hostname.lower()
    if not re.fullmatch(r"[a-z0-9.\-_:\[\]]+", host):
        return None  # also keeps origins safe to write into a header
    if ":" in host:
        host = f"[{host}]"
    if port and port != {"http": 80, "https": 443}[scheme]:
        return f"{scheme}://{host}:{port}"
    return f"{scheme}://{host}"


MAX_ALLOWED_ORIGINS = 20


def update_moderation_site(
    *,
    actor: Actor,
    site: ModerationSite,
    name: str,
    allowed_origins: list[str],
    toxic_answer: str | None = None,
) -> ModerationSite:
    """Rename a site, set the other addresses whose pages may embed its comment form (a
    second domain, a staging copy), each written as an origin: https://host[:port], and what
    the Akismet-compatible API answers for a toxic comment that is not spam (`ToxicAnswer`)."""
    actor.require(Perm.MODERATION_RULES)
    if site.organisation_id != actor.organisation.pk:
        raise NotInOrganisation
    errors = {}
    if not name.strip():
        errors["name"] = _("Name the site.")
    origins = []
    for written in (o.strip() for o in allowed_origins):
        if not written:
            continue
        origin = origin_of(written)
        if origin is None:
            errors["allowed_origins"] = _(
                "“%(value)s” is not an address starting with https:// or http://."
            ) % {"value": written[:200]}
            break
        origins.append(origin)
    origins = list(dict.fromkeys(origins))
    if len(origins) > MAX_ALLOWED_ORIGINS:
        errors["allowed_origins"] = _("At most %(n)d addresses.") % {"n": MAX_ALLOWED_ORIGINS}
    toxic_answer = site.toxic_answer if toxic_answer is None else toxic_answer
    if toxic_answer not in ToxicAnswer.values:
        errors["toxic_answer"] = _("Choose “%(hold)s” or “%(spam)s”.") % {
            "hold": ToxicAnswer.HOLD.value,
            "spam": ToxicAnswer.SPAM.value,
        }
    if errors:
        raise ValidationError(errors)
    before = {
        "name": site.name,
        "allowed_origins": list(site.allowed_origins or []),
        "toxic_answer": site.toxic_answer,
    }
    site.name = name.strip()
    site.allowed_origins = origins
    site.toxic_answer = toxic_answer
    site.save(update_fields=["name", "allowed_origins", "toxic_answer"])
    _recent_sites.forget(site.api_key_hash)
    record(
        actor,
        "moderation.site_updated",
        site,
        before=before,
        after={"name": site.name, "allowed_origins": origins, "toxic_answer": toxic_answer},
    )
    return site


# Sites are read on every call of the compatible APIs: kept a few seconds in the `recent` cache
# (palabre.recent). A revocation applies at once where the cache is shared (Redis), else in the
# process that made it and within 5 seconds elsewhere.
_recent_sites = RecentReads("moderation-site", seconds=5.0)


def site_for_key(raw_key: str, *, cached: bool = False) -> ModerationSite | None:
    if not raw_key or not raw_key.strip():
        return None
    key_hash = _key_hash(raw_key)

    def read() -> ModerationSite | None:
        return (
            ModerationSite.objects.select_related("organisation", "channel")
            .filter(api_key_hash=key_hash, revoked_at__isnull=True)
            .first()
        )

    if not cached:
        _recent_sites.forget(key_hash)
    return _recent_sites.get(key_hash, read)


@transaction.atomic
def revoke_moderation_site(*, actor: Actor, site: ModerationSite) -> ModerationSite:
    actor.require(Perm.MODERATION_RULES)
    if site.organisation_id != actor.organisation.pk:
        raise NotInOrganisation
    if site.revoked_at is None:
        site.revoked_at = timezone.now()
        site.save(update_fields=["revoked_at"])
        _recent_sites.forget(site.api_key_hash)
        record(actor, "moderation.site_revoked", site, before={"revoked": False}, after={"revoked": True})
    return site
