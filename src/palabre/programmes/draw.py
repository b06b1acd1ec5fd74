"""A contest draw anyone can check, from the published rules to the announced winners.

Before the contest opens, its rules publish a *commitment*: the SHA-256 of a secret seed. When it
closes, the list of eligible entries is frozen and its digest published. Only then is the seed
revealed, and the winners follow from the seed and the entries alone, by the procedure below. So
nobody (the brand included) could choose the seed after seeing the entries, nor change the entries
after seeing the seed: a different seed breaks the commitment, a different list breaks the digest.

Everything here is pure and byte-exact: JSON in a canonical form, SHA-256 and HMAC-SHA256, integer
arithmetic. The same inputs give the same winners on any machine, in any Python, and in any other
language that follows this description (docs/programmes.md spells it out).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from collections.abc import Sequence
from dataclasses import dataclass

SEED_BYTES = 32
PROCEDURE = "palabre-draw-v1"


class DrawError(ValueError):
    """The published facts do not hold together (said in words, for the person checking)."""


def new_seed() -> str:
    """A secret seed: 32 random bytes from the operating system, written in hexadecimal."""
    return secrets.token_hex(SEED_BYTES)


def commitment(seed: str) -> str:
    """What the rules publish before the contest opens: SHA-256 of the seed's text."""
    _check_seed(seed)
    return hashlib.sha256(seed.encode("ascii")).hexdigest()


def canonical_entries(entries: Sequence[str]) -> bytes:
    """The frozen list of entries as bytes: entrant references, unique, sorted, as compact JSON."""
    references = [str(entry) for entry in entries]
    if len(set(references)) != len(references):
        raise DrawError("An entrant appears twice in the list of entries.")
    if any(not reference.strip() for reference in references):
        raise DrawError("An entry has an empty reference.")
    return json.dumps(sorted(references), ensure_ascii=True, separators=(",", ":")).encode("ascii")


def entries_digest(entries: Sequence[str]) -> str:
    """What is published when the contest closes, before the seed is revealed."""
    return hashlib.sha256(canonical_entries(entries)).hexdigest()


def _check_seed(seed: str) -> None:
    try:
        raw = bytes.fromhex(seed)
    except ValueError:
        raise DrawError("The seed must be written in hexadecimal.") from None
    if len(raw) != SEED_BYTES or seed != seed.lower():
        raise DrawError(f"The seed must be {SEED_BYTES * 2} lowercase hexadecimal characters.")


def _random_below(key: bytes, digest: str, counter: int, bound: int) -> tuple[int, int]:
    """A uniform integer in [0, bound), from HMAC-SHA256(seed, "digest:counter"); rejection
    sampling keeps every index equally likely. Returns the integer and the next counter."""
    space = 1 << 256
    limit = space - space % bound
    while True:
        message = f"{PROCEDURE}:{digest}:{counter}".encode("ascii")
        value = int.from_bytes(hmac.new(key, message, hashlib.sha256).digest(), "big")
        counter += 1
        if value < limit:
            return value % bound, counter


def draw(seed: str, entries: Sequence[str], winners: int) -> list[str]:
    """The winners, in the order drawn: a Fisher-Yates shuffle of the sorted entries, stopped after
    `winners` places, each place chosen by `_random_below`."""
    _check_seed(seed)
    if winners < 1:
        raise DrawError("A draw needs at least one winner.")
    pool = json.loads(canonical_entries(entries))
    digest = entries_digest(pool)
    key = bytes.fromhex(seed)
    counter = 0
    chosen = min(winners, len(pool))
    for place in range(chosen):
        offset, counter = _random_below(key, digest, counter, len(pool) - place)
        pick = place + offset
        pool[place], pool[pick] = pool[pick], pool[place]
    return pool[:chosen]


@dataclass(frozen=True)
class Verification:
    """What a check of a published draw found: `ok`, and each finding in words."""

    ok: bool
    winners: list[str]
    findings: list[str]


def verify(
    *,
    commitment_published: str,
    digest_published: str,
    seed: str,
    entries: Sequence[str],
    winners_announced: Sequence[str],
) -> Verification:
    """Recompute a draw from what was published and say whether each published fact holds."""
    findings: list[str] = []
    try:
        seed_holds = commitment(seed) == commitment_published.lower()
    except DrawError as error:
        return Verification(False, [], [str(error)])
    findings.append(
        "The revealed seed matches the commitment published with the rules."
        if seed_holds
        else "The revealed seed does NOT match the commitment published with the rules."
    )
    try:
        list_holds = entries_digest(entries) == digest_published.lower()
    except DrawError as error:
        return Verification(False, [], [*findings, str(error)])
    findings.append(
        "The list of entries is the one frozen at the close."
        if list_holds
        else "The list of entries is NOT the one frozen at the close: it was changed."
    )
    recomputed = draw(seed, entries, max(len(winners_announced), 1)) if entries else []
    winners_hold = recomputed == list(winners_announced)
    findings.append(
        "The announced winners are the ones the seed draws from this list."
        if winners_hold
        else "The announced winners are NOT the ones the seed draws from this list."
    )
    return Verification(seed_holds and list_holds and winners_hold, recomputed, findings)
