"""Links and authors: the sites a message links to and the organisation's site rules, fingerprints of known spam, commercial author names, first-time and trusted authors."""

from __future__ import annotations

import hashlib
import re
from functools import lru_cache

from palabre.moderation.engine.context import (
    _GENERIC_COMPLIMENT,
    _NAME_URL,
    _SHOP_NAME_WORDS,
    _URL,
    HOLD,
    REJECT,
    Author,
    Reason,
    RuleSet,
    Thresholds,
    domain_key,
)
from palabre.nlp.normalize import normalize


def _matches_domain(host: str, domains: set[str]) -> bool:
    return any(host == d or host.endswith("." + d) for d in domains)


def fingerprint(text: str) -> str:
    """Same message modulo case, accents, digits, links and spacing: a spam wave's signature."""
    # A batch's texts are fingerprinted twice: for the marks to look up, then for the decision.
    return _recent_fingerprint(text) if len(text) <= 1000 else _fingerprint(text)


def _fingerprint(text: str) -> str:
    folded = normalize(_URL.sub(" ", text)).text
    core = re.sub(r"[\d\W_]+", " ", folded).strip()
    return hashlib.sha1(core.encode()).hexdigest()[:16] if len(core) >= 12 else ""


_recent_fingerprint = lru_cache(maxsize=2048)(_fingerprint)


def links_in(text: str) -> list[tuple[int, int, str]]:
    return [(m.start(), m.end(), domain_key(m.group(0))) for m in _URL.finditer(text)]


def links_to_allowed_sites(text: str, rules: RuleSet) -> list[tuple[int, int]]:
    """Where the text links to a site the organisation allows (its own shop, its help pages):
    a customer pasting the brand's link is no spam cue."""
    if not rules.allowed_domains or "." not in text:
        return []
    return [
        (start, end) for start, end, host in links_in(text) if _matches_domain(host, rules.allowed_domains)
    ]


@lru_cache(maxsize=4096)
def name_looks_commercial(name: str) -> bool:
    folded = normalize(name).text
    words = set(re.findall(r"[a-z0-9-]+", folded))
    if words & _SHOP_NAME_WORDS:
        return True
    return any(" " in w and w in folded for w in _SHOP_NAME_WORDS)


def _link_reasons(text, rules: RuleSet, thresholds: Thresholds, author: Author, reasons, add_span) -> None:
    links = links_in(text)
    outside = [link for link in links if not _matches_domain(link[2], rules.allowed_domains)]
    for start, end, host in outside:
        if _matches_domain(host, rules.blocked_domains):
            reasons.append(
                Reason("blocked_domain", REJECT, f"Links to the blocked site {host}.", {"domain": host})
            )
            add_span(start, end, "blocked_domain", "rules")
    if thresholds.max_links and len(outside) > thresholds.max_links:
        reasons.append(
            Reason(
                "too_many_links",
                HOLD,
                f"{len(outside)} links (more than {thresholds.max_links}).",
                {"count": len(outside), "max": thresholds.max_links},
            )
        )
        for start, end, _host in outside:
            add_span(start, end, "link", "rules")
    if outside and _GENERIC_COMPLIMENT.search(text) and len(text) < 400:
        reasons.append(
            Reason(
                "compliment_with_link", HOLD, "A generic compliment followed by a link, as comment spam does."
            )
        )


def _author_reasons(text, rules: RuleSet, thresholds: Thresholds, author: Author, reasons) -> None:
    for key in (author.handle, author.email, author.ip, author.name):
        rule = rules.spammers.get(key.strip().lower()) if key else None
        if rule is not None:
            reasons.append(
                Reason("known_spammer", REJECT, f"{key} is listed as a spammer.", {"author": key}, rule.id)
            )
            break
    if author.name and _NAME_URL.search(author.name):
        reasons.append(
            Reason("url_in_name", HOLD, "The commenter's name is a web address.", {"name": author.name})
        )
    elif author.name and name_looks_commercial(author.name):
        reasons.append(
            Reason(
                "commercial_name",
                HOLD,
                f"The commenter's name “{author.name}” reads as a keyword or a shop.",
                {"name": author.name},
            )
        )
    if author.url and links_in(author.url) and _GENERIC_COMPLIMENT.search(text) and not links_in(text):
        reasons.append(
            Reason(
                "compliment_with_link",
                HOLD,
                "A generic compliment signed with a website, as comment spam does.",
            )
        )
    if thresholds.first_time_hold_until and author.approved < thresholds.first_time_hold_until:
        reasons.append(
            Reason(
                "first_time_author",
                HOLD,
                f"New author: held until {thresholds.first_time_hold_until} approved comment(s).",
                {"approved": author.approved, "needed": thresholds.first_time_hold_until},
            )
        )
    if thresholds.rate_limit_per_hour and author.recent_count >= thresholds.rate_limit_per_hour:
        reasons.append(
            Reason(
                "rate_limited",
                HOLD,
                f"{author.recent_count + 1} messages within an hour.",
                {"count": author.recent_count + 1, "limit": thresholds.rate_limit_per_hour},
            )
        )
