"""The verifiable draw: the same winners from the same published facts, anywhere; tampering shows."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys

import pytest

from palabre.programmes.draw import DrawError, commitment, draw, entries_digest, verify

SEED = "5f2c" * 16
ENTRIES = [f"mastodon:@fan{n}@mastodon.social" for n in range(40)] + ["site:camille", "site:léa"]


def test_commitment_and_digest_are_plain_sha256_of_documented_bytes():
    assert commitment(SEED) == hashlib.sha256(SEED.encode()).hexdigest()
    canonical = json.dumps(sorted(ENTRIES), ensure_ascii=True, separators=(",", ":")).encode()
    assert entries_digest(ENTRIES) == hashlib.sha256(canonical).hexdigest()
    # The order in which entries are listed does not matter; their content does.
    assert entries_digest(list(reversed(ENTRIES))) == entries_digest(ENTRIES)


def test_the_draw_is_pinned_so_that_any_machine_finds_the_same_winners():
    # Pinned once: a change to the procedure would silently change published results.
    assert draw(SEED, ENTRIES, 3) == [
        "mastodon:@fan12@mastodon.social",
        "mastodon:@fan19@mastodon.social",
        "mastodon:@fan30@mastodon.social",
    ]
    assert draw(SEED, list(reversed(ENTRIES)), 3) == draw(SEED, ENTRIES, 3)


def _documented_procedure(seed: str, entries: list[str], winners: int) -> list[str]:
    """docs/programmes.md's description, written again from the text alone."""
    import hmac

    pool = sorted(entries)
    digest = hashlib.sha256(json.dumps(pool, separators=(",", ":")).encode()).hexdigest()
    counter = 0
    for place in range(min(winners, len(pool))):
        bound = len(pool) - place
        while True:
            message = f"palabre-draw-v1:{digest}:{counter}".encode()
            value = int.from_bytes(hmac.new(bytes.fromhex(seed), message, "sha256").digest(), "big")
            counter += 1
            if value < 2**256 - 2**256 % bound:
                break
        pick = place + value % bound
        pool[place], pool[pick] = pool[pick], pool[place]
    return pool[: min(winners, len(pool))]


@pytest.mark.parametrize("winners", [1, 3, 42, 50])
def test_the_documented_procedure_written_again_finds_the_same_winners(winners):
    assert draw(SEED, ENTRIES, winners) == _documented_procedure(SEED, ENTRIES, winners)


def test_another_seed_or_another_list_gives_other_winners():
    other_seed = "a" * 64
    assert draw(other_seed, ENTRIES, 5) != draw(SEED, ENTRIES, 5)
    assert draw(SEED, ENTRIES[:-1], 5) != draw(SEED, ENTRIES, 5)


def test_every_entrant_can_win_and_none_twice():
    wins = {entry: 0 for entry in ENTRIES}
    for n in range(2000):
        seed = hashlib.sha256(str(n).encode()).hexdigest()
        winners = draw(seed, ENTRIES, 2)
        assert len(set(winners)) == 2
        for winner in winners:
            wins[winner] += 1
    # 4,000 places over 42 entrants: about 95 each; a biased procedure would leave some far off.
    assert min(wins.values()) > 55 and max(wins.values()) < 140


def test_fewer_entries_than_winners_gives_every_entrant():
    assert sorted(draw(SEED, ["site:a", "site:b"], 5)) == ["site:a", "site:b"]


@pytest.mark.parametrize(
    ("seed", "entries", "message"),
    [
        ("not hex", ["site:a"], "hexadecimal"),
        ("ab" * 8, ["site:a"], "64 lowercase"),
        ("AB" * 32, ["site:a"], "64 lowercase"),
        (SEED, ["site:a", "site:a"], "twice"),
        (SEED, ["site:a", " "], "empty"),
    ],
)
def test_bad_facts_are_refused_in_words(seed, entries, message):
    with pytest.raises(DrawError, match=message):
        draw(seed, entries, 1)


def _published(**changes):
    winners = draw(SEED, ENTRIES, 2)
    record = {
        "commitment_published": commitment(SEED),
        "digest_published": entries_digest(ENTRIES),
        "seed": SEED,
        "entries": ENTRIES,
        "winners_announced": winners,
    }
    record.update(changes)
    return record


def test_verify_says_each_fact_holds():
    result = verify(**_published())
    assert result.ok
    assert result.findings == [
        "The revealed seed matches the commitment published with the rules.",
        "The list of entries is the one frozen at the close.",
        "The announced winners are the ones the seed draws from this list.",
    ]


def test_verify_names_what_was_tampered_with():
    added = verify(**_published(entries=[*ENTRIES, "site:cousin-of-the-brand"]))
    assert not added.ok and "it was changed" in added.findings[1]
    reseeded = verify(**_published(seed="b" * 64))
    assert not reseeded.ok and "does NOT match the commitment" in reseeded.findings[0]
    other_winner = verify(**_published(winners_announced=["site:camille", "site:léa"]))
    assert not other_winner.ok and "NOT the ones the seed draws" in other_winner.findings[2]


def _record(**changes) -> dict:
    record = {
        "procedure": "palabre-draw-v1",
        "commitment": commitment(SEED),
        "entries_digest": entries_digest(ENTRIES),
        "entries": ENTRIES,
        "seed": SEED,
        "winners": draw(SEED, ENTRIES, 2),
    }
    record.update(changes)
    return record


def _verify_command(tmp_path, record) -> subprocess.CompletedProcess:
    path = tmp_path / "record.json"
    path.write_text(json.dumps(record), encoding="utf-8")
    return subprocess.run(
        [sys.executable, "-m", "palabre", "contest", "verify", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_palabre_contest_verify_needs_only_the_published_record(tmp_path):
    held = _verify_command(tmp_path, _record())
    assert held.returncode == 0, held.stderr
    assert held.stdout.strip().endswith("The draw holds.")
    tampered = _verify_command(tmp_path, _record(entries=ENTRIES[:-1]))
    assert tampered.returncode == 1
    assert "it was changed" in tampered.stdout
    undrawn = _verify_command(tmp_path, _record(seed=None))
    assert undrawn.returncode == 2
    assert "missing: seed" in undrawn.stderr
