"""Contest hunters: people who enter every contest with throw-away accounts and never talk to the
brand otherwise. Each entrant gets a score from 0 to 1 and the reasons behind it, in words, for a
moderator to review: nobody is excluded by the score alone.

The signals (weights add up, capped at 1; `FLAG_AT` flags for review):
- many accounts with one pattern: handles that differ only by their trailing digits
  ("julie.concours12", "julie.concours13"), three or more in one contest;
- no other interaction with the brand than contest entries;
- enters many contests: five or more of the brand's contests in the last year, and more contest
  entries than other messages;
- a new account (under 30 days, where the platform tells its age) or an empty one (under 10
  followers, where known);
- a generic comment: nothing but "je participe", a tag of friends, emoji.
A regular customer (other messages to the brand, an account with a history) is never flagged on a
generic comment alone, and that is tested.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from palabre.nlp.normalize import fold

FLAG_AT = 0.5
NEW_ACCOUNT_DAYS = 30
EMPTY_ACCOUNT_FOLLOWERS = 10
SERIAL_CONTESTS = 5
PATTERN_ACCOUNTS = 3

WEIGHTS = {
    "pattern": 0.4,
    "no_interaction": 0.3,
    "serial": 0.3,
    "new_account": 0.25,
    "empty_account": 0.15,
    "generic": 0.2,
}

REASONS = {
    "pattern": _("%(count)s accounts in this contest share this account's name pattern (%(stem)s…)"),
    "no_interaction": _("No message to the brand other than contest entries"),
    "serial": _("Entered %(count)s of the brand's contests this year, more than its other messages"),
    "new_account": _("Account created %(days)s days ago"),
    "empty_account": _("Account with %(followers)s followers"),
    "generic": _("Generic entry: nothing but participation words, tags or emoji"),
}

# Words of a bare participation, folded ("je participe", "moi !", "count me in").
_GENERIC_WORDS = frozenset(
    [
        "je",
        "j",
        "participe",
        "participation",
        "participer",
        "moi",
        "aussi",
        "merci",
        "tente",
        "ma",
        "chance",
        "croise",
        "les",
        "doigts",
        "jeu",
        "concours",
        "gagner",
        "svp",
        "stp",
        "please",
        "me",
        "i",
        "m",
        "in",
        "count",
        "enter",
        "entering",
        "done",
        "fait",
        "go",
        "oui",
        "yes",
        "pour",
        "et",
        "a",
        "the",
        "de",
        "la",
        "le",
        "bonne",
        "bon",
        "chance",
        "luck",
        "good",
        "thanks",
        "thank",
        "you",
    ]  # noqa: SIM905
)
_MENTION = re.compile(r"[@#][\w.]+")
_WORD = re.compile(r"[a-z0-9]+")
_TRAILING_DIGITS = re.compile(r"^(?P<stem>.*?)[._-]*\d+$")


@dataclass(frozen=True)
class EntrantFacts:
    """What Palabre knows of one entrant, gathered by the service."""

    reference: str
    handle: str
    entry_text: str
    other_messages: int
    contests_entered_this_year: int
    account_age_days: int | None = None
    followers: int | None = None


@dataclass(frozen=True)
class HunterScore:
    reference: str
    score: float
    # (signal, figures): the words are written when read, in the reader's language.
    reasons: tuple[tuple[str, dict], ...]

    @property
    def flagged(self) -> bool:
        return self.score >= FLAG_AT


def reason_words(signal: str, figures: dict) -> str:
    """A reason in the active language; an unknown signal (from a later version) is shown as is."""
    template = REASONS.get(signal)
    return str(template % figures) if template is not None and figures else str(template or signal)


def is_generic(text: str) -> bool:
    words = _WORD.findall(fold(_MENTION.sub(" ", text)))
    return all(word in _GENERIC_WORDS for word in words)


def handle_stem(handle: str) -> str | None:
    """The name an account shares with its serial siblings, or None when it ends in no digits."""
    match = _TRAILING_DIGITS.match(fold(handle.strip().lstrip("@")).split("@")[0])
    if match is None:
        return None
    stem = match.group("stem")
    return stem if len(stem) >= 3 else None


def score_entrants(entrants: Sequence[EntrantFacts]) -> list[HunterScore]:
    stems = {e.reference: handle_stem(e.handle) for e in entrants}
    stem_counts = Counter(stem for stem in stems.values() if stem)
    scores = []
    for entrant in entrants:
        reasons: list[tuple[str, dict]] = []
        stem = stems[entrant.reference]
        if stem and stem_counts[stem] >= PATTERN_ACCOUNTS:
            reasons.append(("pattern", {"count": stem_counts[stem], "stem": stem}))
        if entrant.other_messages == 0:
            reasons.append(("no_interaction", {}))
        if (
            entrant.contests_entered_this_year >= SERIAL_CONTESTS
            and entrant.contests_entered_this_year > entrant.other_messages
        ):
            reasons.append(("serial", {"count": entrant.contests_entered_this_year}))
        if entrant.account_age_days is not None and entrant.account_age_days < NEW_ACCOUNT_DAYS:
            reasons.append(("new_account", {"days": entrant.account_age_days}))
        if entrant.followers is not None and entrant.followers < EMPTY_ACCOUNT_FOLLOWERS:
            reasons.append(("empty_account", {"followers": entrant.followers}))
        if is_generic(entrant.entry_text):
            reasons.append(("generic", {}))
        score = min(1.0, sum(WEIGHTS[signal] for signal, _figures in reasons))
        scores.append(HunterScore(entrant.reference, round(score, 2), tuple(reasons)))
    return scores
