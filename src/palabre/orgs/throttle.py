"""Brakes on guessing: wrong passwords on the sign-in form, unknown keys on the machine APIs.

Sign-in is throttled by django-axes (settings `AXES_*`, computed in `palabre.settings`): it
counts failures per account and per address in the database, so every web process sees them.

Keys are throttled here, by the address that sends them: the organisation API's tokens
(`/api/`), the Akismet-compatible keys (`/1.1/`, `/1.2/`) and the Perspective-compatible keys
(`/v1alpha1/`). Each protocol calls `key_guess_wait` before it looks a key up (a blocked address
is refused before its key is even read, so guessing on cannot succeed) and `key_guess_failed`
when the key is unknown; each answers the wait in its own error shape. The counter lives in
Django's cache (the `throttle` cache: files in the data folder, shared by every process of the
machine, or Redis with `PALABRE_REDIS_URL`, shared by every machine): two small entries per
guessing address, each expiring with its cool-off, and a cap on the entries, so it stays bounded.
Without Redis, Palabre on several machines counts per machine.
"""

from __future__ import annotations

import functools
import ipaddress
import math
import time

from axes.backends import AxesStandaloneBackend
from django.conf import settings
from django.core.cache import caches
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from palabre.recent import RecentReads

_PREFIX = "palabre:key-guesses"
UNKNOWN_ADDRESS = "0.0.0.0"


def _cache():
    # A cache of its own (Redis, or files in the data folder, see settings.CACHES): shared by the
    # web processes and by `palabre unlock`.
    return caches["throttle"]


def client_address(request: HttpRequest) -> str:
    """The caller's address: the connection's, or the one the trusted reverse proxies saw.

    With `PALABRE_PROXY_COUNT` proxies in front, each appends the address it received the
    request from to X-Forwarded-For, so the client is that many entries from the right; what a
    client wrote further left is its own claim and never trusted.
    """
    remote = request.META.get("REMOTE_ADDR", "") or ""
    proxies = settings.CLIENT_PROXY_COUNT
    if proxies > 0:
        forwarded = [
            part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()
        ]
        if len(forwarded) >= proxies:
            remote = forwarded[-proxies]
    return _canonical(remote.strip()[:64])


# Parsing an address costs microseconds (tens for IPv6): the few addresses of the moment are
# remembered. What is not an address (no REMOTE_ADDR on a Unix socket, a proxy count set too high
# that reads a client's own text) counts as 0.0.0.0, one address for all of them: it must still
# be stored (the database column is an IP address) and must not let each request be a new client.
@functools.lru_cache(maxsize=4096)
def _canonical(remote: str) -> str:
    try:
        address = ipaddress.ip_address(remote)
    except ValueError:
        return UNKNOWN_ADDRESS
    mapped = getattr(address, "ipv4_mapped", None)
    return str(mapped or address)


@functools.lru_cache(maxsize=4096)
def _guesser(address: str) -> str:
    """Who is counted for key guesses: the address, or for IPv6 its /64, which one customer holds
    whole (an attacker changing addresses within it is still one guesser)."""
    if ":" not in address:
        return address
    try:
        return str(ipaddress.IPv6Network((address, 64), strict=False))
    except ValueError:
        return address


def client_group(address: str) -> str:
    """Who is counted as one client by the brakes: the address, or for IPv6 its /64."""
    return _guesser(address)


def _keys(address: str) -> tuple[str, str]:
    return f"{_PREFIX}:count:{address}", f"{_PREFIX}:until:{address}"


# Whether an address is blocked, as last read: every call of the hot paths asks, the files are read
# at most once a second per address, the answer kept in the `recent` cache (palabre.recent; a block
# set by another process applies within that second; one set or lifted here, at once).
_recent_blocks = RecentReads("key-guess-block", seconds=1.0, keep_missing=True)


def key_guess_wait(request: HttpRequest) -> int:
    """Seconds before this address may send a key again; 0 when it may now."""
    if settings.KEY_GUESS_LIMIT <= 0:
        return 0
    address = _guesser(client_address(request))
    until = _recent_blocks.get(address, lambda: _cache().get(_keys(address)[1]))
    if until is None:
        return 0
    left = until - time.time()
    return max(1, int(left + 0.999)) if left > 0 else 0


def key_guess_failed(request: HttpRequest) -> int:
    """Count an unknown key from this address; the seconds it must now wait (0: not yet blocked)."""
    limit = settings.KEY_GUESS_LIMIT
    if limit <= 0:
        return 0
    cooloff = settings.KEY_GUESS_COOLOFF_SECONDS
    address = _guesser(client_address(request))
    count_key, until_key = _keys(address)
    cache = _cache()
    failures = _count_failure(cache, count_key, cooloff)
    if failures < limit:
        return 0
    cache.set(until_key, time.time() + cooloff, timeout=cooloff)
    cache.delete(count_key)
    _recent_blocks.forget(address)
    return cooloff


def _count_failure(cache, key: str, cooloff: int) -> int:
    """Add one to an address's count; the count now. On Redis, `add` and `incr` are single
    commands (SET NX, INCRBY), so failures sent at once to several processes or machines are all
    counted; on the files of one machine, `incr` reads then writes, and two processes writing at
    once may lose a failure (a bound, not an exact count). The count is forgotten one cool-off
    after the last failure (`touch` starts its expiry again; the time of the last failure, kept
    beside it, says the same by this process's clock, which tests move)."""
    now = time.time()
    last = cache.get(f"{key}:last")
    if last is not None and now - last >= cooloff:
        cache.delete(key)
    cache.set(f"{key}:last", now, timeout=cooloff)
    cache.add(key, 0, timeout=cooloff)
    try:
        failures = cache.incr(key)
    except ValueError:  # expired between the two calls
        cache.add(key, 0, timeout=cooloff)
        failures = cache.incr(key)
    cache.touch(key, timeout=cooloff)
    return failures


def key_guess_message(wait: int) -> str:
    return (
        "Too many unknown API keys from this address. "
        f"Retry in {wait} second{'s' if wait != 1 else ''}, with a valid key."
    )


def clear_key_guesses(address: str) -> bool:
    """Lift the block and forget the failures of one address; whether it was blocked."""
    address = _guesser(address)
    count_key, until_key = _keys(address)
    cache = _cache()
    blocked = cache.get(until_key) is not None
    cache.delete_many([count_key, f"{count_key}:last", until_key])
    _recent_blocks.forget(address)
    return blocked


def unlock(*, usernames: list[str] = (), address: str = "") -> list[str]:
    """Lift sign-in locks (accounts, an address) and the key block of an address; what was done.
    Raises ValueError for an address that is not an IP address."""
    from axes.utils import reset

    if address:
        parsed = ipaddress.ip_address(address.strip())
        address = str(getattr(parsed, "ipv4_mapped", None) or parsed)
    done = []
    for username in usernames:
        done.append(f"{username}: {reset(username=username)} failed sign-in(s) forgotten")
    if address:
        done.append(f"{address}: {reset(ip=address)} failed sign-in(s) forgotten")
        blocked = clear_key_guesses(address)
        done.append(f"{address}: API keys {'unblocked' if blocked else 'were not blocked'}")
    return done


class SignInThrottleBackend(AxesStandaloneBackend):
    """django-axes' check, on the sign-ins that come with a request (the sign-in page).

    `authenticate()` without a request (a script, a test client's `login`) has no address to
    count and no form to lock: it goes on to the password check as before.
    """

    def authenticate(self, request: HttpRequest | None, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)


def sign_in_locked(request: HttpRequest, original_response=None, credentials=None) -> HttpResponse:
    """The page a locked account or address gets instead of the sign-in form (429)."""
    minutes = max(1, math.ceil(settings.AXES_COOLOFF_TIME.total_seconds() / 60))
    return render(request, "orgs/locked_out.html", {"minutes": minutes}, status=429)
