"""Votes read from replies: "2", "je vote pour le vert", "2️⃣", "the first one", or an option's emoji.

A reply names one option or it is not a vote: a reply that names two options ("entre le 1 et le
2...") is counted as unclear, never split or guessed. Pure functions: the service feeds them the
replies of a poll's post in the order they were written.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from palabre.nlp.normalize import fold

# Ordinal words of French and English, folded, for "le premier", "la deuxième", "the second".
_ORDINALS = {
    "premier": 1, "premiere": 1, "first": 1, "1er": 1, "1ere": 1,
    "deuxieme": 2, "second": 2, "seconde": 2, "2e": 2, "2eme": 2, "2nd": 2,
    "troisieme": 3, "third": 3, "3e": 3, "3eme": 3, "3rd": 3,
    "quatrieme": 4, "fourth": 4, "4e": 4, "4eme": 4, "4th": 4,
    "cinquieme": 5, "fifth": 5, "5e": 5, "5eme": 5, "5th": 5,
}  # fmt: skip
# Numbers written out, for "je vote deux", "option three".
_NUMBER_WORDS = {
    "un": 1, "une": 1, "one": 1, "deux": 2, "two": 2, "trois": 3, "three": 3,
    "quatre": 4, "four": 4, "cinq": 5, "five": 5,
}  # fmt: skip
# "un" and "une" are articles far more often than votes: only read right after a voting word.
_VOTING_WORDS = {"vote", "votes", "voter", "option", "choix", "choice", "numero", "number", "no", "n"}
_TOKEN = re.compile(r"[a-z0-9]+")
_KEYCAP_TEN = "\U0001f51f"  # 🔟: folded to nothing, so read before folding


@dataclass(frozen=True)
class PollOption:
    label: str
    emoji: str = ""


@dataclass(frozen=True)
class Ballot:
    """A reply as it was read: the option's number (1-based), or None with the reason."""

    option: int | None
    unclear: bool = False


def read_vote(text: str, options: Sequence[PollOption]) -> Ballot:
    """The option a reply votes for, by number, ordinal, name or emoji."""
    found: set[int] = set()
    for number, option in enumerate(options, start=1):
        if option.emoji and option.emoji in text:
            found.add(number)
    if _KEYCAP_TEN in text and len(options) >= 10:
        found.add(10)
    folded = fold(text.replace(_KEYCAP_TEN, " "))
    tokens = _TOKEN.findall(folded)
    previous = ""
    for token in tokens:
        if token.isdigit() and 1 <= int(token) <= len(options):
            found.add(int(token))
        elif token in _ORDINALS and _ORDINALS[token] <= len(options):
            found.add(_ORDINALS[token])
        elif (
            token in _NUMBER_WORDS
            and _NUMBER_WORDS[token] <= len(options)
            and (token not in ("un", "une", "one") or previous in _VOTING_WORDS)
        ):
            found.add(_NUMBER_WORDS[token])
        previous = token
    padded = f" {' '.join(tokens)} "
    for number, option in enumerate(options, start=1):
        label = " ".join(_TOKEN.findall(fold(option.label)))
        if label and f" {label} " in padded:
            found.add(number)
    if len(found) == 1:
        return Ballot(found.pop())
    return Ballot(None, unclear=len(found) > 1)


@dataclass
class PollResult:
    """Votes per option (1-based), one per person: a person's latest clear vote counts."""

    counts: Counter = field(default_factory=Counter)
    voters: int = 0
    changed_minds: int = 0
    unclear: int = 0
    not_votes: int = 0

    def share(self, option: int) -> float:
        return self.counts[option] / self.voters if self.voters else 0.0


def count_votes(replies: Iterable[tuple[str, str]], options: Sequence[PollOption]) -> PollResult:
    """`replies`: (person, text) in the order they were written; `person` is the merged contact,
    so one person voting from two accounts counts once."""
    latest: dict[str, int] = {}
    result = PollResult()
    for person, text in replies:
        ballot = read_vote(text, options)
        if ballot.option is None:
            if ballot.unclear:
                result.unclear += 1
            else:
                result.not_votes += 1
            continue
        if person in latest and latest[person] != ballot.option:
            result.changed_minds += 1
        latest[person] = ballot.option
    result.counts = Counter(latest.values())
    result.voters = len(latest)
    return result
