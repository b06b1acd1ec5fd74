"""Why: the terms that emerge in a spike against its baseline."""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from palabre.nlp.normalize import fold

_WORD = re.compile(r"#?[a-z0-9][a-z0-9_-]{2,}")
_ELISION = re.compile(r"\b(?:l|d|j|m|n|s|t|c|qu|jusqu|lorsqu|puisqu)['’]")
_URL = re.compile(r"https?://\S+|www\.\S+")
STOPWORDS = frozenset(
    [
        "les",
        "des",
        "une",
        "est",
        "pas",
        "que",
        "qui",
        "pour",
        "dans",
        "sur",
        "avec",
        "par",
        "plus",
        "tout",
        "tous",
        "mais",
        "son",
        "ses",
        "aux",
        "ete",
        "etre",
        "avoir",
        "fait",
        "faire",
        "elle",
        "ils",
        "nous",
        "vous",
        "leur",
        "leurs",
        "cette",
        "ces",
        "comme",
        "ont",
        "sont",
        "sans",
        "tres",
        "bien",
        "deja",
        "encore",
        "aussi",
        "alors",
        "donc",
        "car",
        "quand",
        "meme",
        "apres",
        "avant",
        "chez",
        "entre",
        "rien",
        "peu",
        "trop",
        "moins",
        "lui",
        "oui",
        "non",
        "ici",
        "the",
        "and",
        "for",
        "with",
        "that",
        "this",
        "are",
        "was",
        "were",
        "you",
        "your",
        "our",
        "they",
        "their",
        "from",
        "have",
        "has",
        "had",
        "not",
        "but",
        "all",
        "just",
        "can",
        "will",
        "would",
        "about",
        "what",
        "when",
        "there",
        "been",
        "more",
        "some",
        "than",
        "them",
        "then",
        "out",
        "get",
        "got",
        "its",
    ]
)


def terms_of(text: str) -> set[str]:
    """The distinct terms of a text: folded, elisions cut, hashtags kept, stop words left out."""
    folded = _ELISION.sub(" ", _URL.sub(" ", fold(text).replace("’", "'")))
    return {
        word for word in _WORD.findall(folded) if word.lstrip("#") not in STOPWORDS and not word.isdigit()
    }


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
