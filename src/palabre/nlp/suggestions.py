"""Is a message a suggestion to the brand ("ce serait bien d'avoir l'Oslo en velours", "you should
sell spare covers")? The cue phrases are data (`lexicons/suggestions.txt`), matched on the folded
text as whole words; a question about an order or a complaint is not a suggestion for that."""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

from palabre.nlp.normalize import fold

_LEXICONS = Path(__file__).with_name("lexicons")
# Words, and "+1" as one word: a vote for an idea is often nothing else.
_WORD = re.compile(r"\+1|[a-z0-9]+")
# A "+1", "moi aussi" or 👍 is support when the reply says little else.
SUPPORT_MAX_WORDS = 6


@lru_cache(maxsize=2)
def _phrases(name: str) -> tuple[str, ...]:
    phrases = []
    for line in (_LEXICONS / name).read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            phrases.append(" ".join(_WORD.findall(fold(line))))
    return tuple(phrases)


def _first_phrase(text: str, name: str) -> str | None:
    padded = f" {' '.join(_WORD.findall(fold(text)))} "
    return next((phrase for phrase in _phrases(name) if f" {phrase} " in padded), None)


def suggestion_cue(text: str) -> str | None:
    """The cue phrase that makes `text` a suggestion, or None."""
    return _first_phrase(text, "suggestions.txt")


def is_support(text: str) -> bool:
    """A short reply that backs the message it answers: "+1", "Moi aussi !", "👍", "same here"."""
    if len(_WORD.findall(fold(text))) > SUPPORT_MAX_WORDS:
        return False
    return "👍" in text or _first_phrase(text, "support.txt") is not None
