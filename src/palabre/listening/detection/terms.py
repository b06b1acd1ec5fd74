"""Why: the terms that emerge in a spike against its baseline."""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from palabre.nlp.normalize import fold
from palabre.nlp.terms import APOSTROPHES, ELIDED, NOT_TRENDS, STOP_WORDS

_WORD = re.compile(r"#?[a-z0-9][a-z0-9_-]{2,}")
# Elisions anywhere in a text (nlp's French rule cuts them at the start of a word).
_ELISION = re.compile(rf"\b(?:{ELIDED})[{APOSTROPHES}]")
_URL = re.compile(r"https?://\S+|www\.\S+")
# nlp's stop words, and the words that never name what a spike is about (counts, durations,
# answers: nlp/lexicons/not_trends.txt).
STOPWORDS = STOP_WORDS | NOT_TRENDS


def terms_of(text: str) -> set[str]:
    """The distinct terms of a text: folded, elisions cut, hashtags kept, stop words left out."""
    folded = _ELISION.sub(" ", _URL.sub(" ", fold(text)))
    return {
        word for word in _WORD.findall(folded) if word.lstrip("#") not in STOPWORDS and not word.isdigit()
    }


# A word as written, lower-cased, accents kept: what a term shows as.
_WRITTEN_WORD = re.compile(r"#?\w[\w-]{2,}")


def spelled_as(texts: Iterable[str], terms: Iterable[str]) -> dict[str, str]:
    """Each term (folded, as `terms_of` gives it) as people wrote it most often in `texts`, in
    lower case with its accents ("lumière", "délai", "#rappelnova"); the term itself where no text
    spells it."""
    wanted = set(terms)
    written: dict[str, Counter[str]] = {}
    for text in texts:
        for word in _WRITTEN_WORD.findall(text.lower()):
            key = fold(word)
            if key in wanted:
                written.setdefault(key, Counter())[word] += 1
    return {term: written[term].most_common(1)[0][0] if term in written else term for term in wanted}


@dataclass(frozen=True)
class EmergingTerm:
    term: str
    score: float  # z-score of the log-odds ratio
    recent: int  # documents of the spike that contain it
    baseline: int  # documents of the baseline that contain it


def emerging_terms(
    recent: Sequence[str], baseline: Sequence[str], *, top: int = 10, prior: float = 10.0, min_recent: int = 2
) -> list[EmergingTerm]:
    """Terms over-represented in `recent` against `baseline`: log-odds ratio with an informative
    Dirichlet prior (Monroe, Colaresi & Quinn, 2008), counted in documents so one repeated word
    does not count as a trend."""
    recent_counts = Counter(term for text in recent for term in terms_of(text))
    baseline_counts = Counter(term for text in baseline for term in terms_of(text))
    n_recent = sum(recent_counts.values())
    n_baseline = sum(baseline_counts.values())
    if not n_recent:
        return []
    vocabulary = recent_counts.keys() | baseline_counts.keys()
    total = n_recent + n_baseline
    alpha0 = prior * len(vocabulary)
    results = []
    for term, y_r in recent_counts.items():
        if y_r < min_recent:
            continue
        y_b = baseline_counts.get(term, 0)
        alpha = alpha0 * (y_r + y_b) / total
        delta = math.log((y_r + alpha) / (n_recent + alpha0 - y_r - alpha)) - math.log(
            (y_b + alpha) / (n_baseline + alpha0 - y_b - alpha)
        )
        z = delta / math.sqrt(1.0 / (y_r + alpha) + 1.0 / (y_b + alpha))
        if z > 0:
            results.append(EmergingTerm(term, round(z, 2), y_r, y_b))
    results.sort(key=lambda t: (-t.score, t.term))
    return results[:top]
