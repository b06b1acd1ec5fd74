"""One TF-IDF cosine similarity for every app: a new post against the brand's and competitors'
recent posts, a reply against the replies sent lately, a thread against the knowledge base."""

from __future__ import annotations

from collections.abc import Callable, Sequence


def similarities(
    text: str, others: Sequence[str], *, analyzer: Callable[[str], list[str]] | None = None
) -> list[float]:
    """Cosine similarity of `text` with each of `others`, between 0 and 1, on TF-IDF weights with
    sublinear term frequencies, learnt from the texts compared. By default the terms are character
    3- to 5-grams inside words, case and accents folded: what near-copies share however they are
    cut or accented. `analyzer` gives other terms (a function from a text to its terms, such as
    words and word pairs). A text with no term at all is similar to nothing (0)."""
    others = list(others)
    if not others or not text.strip() or not any(other.strip() for other in others):
        return [0.0] * len(others)
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.metrics.pairwise import linear_kernel

    if analyzer is None:
        vectorizer = TfidfVectorizer(
            analyzer="char_wb", ngram_range=(3, 5), strip_accents="unicode", sublinear_tf=True
        )
    else:
        vectorizer = TfidfVectorizer(analyzer=analyzer, sublinear_tf=True)
    try:
        matrix = vectorizer.fit_transform([text, *others])
    except ValueError:  # no term in any of the texts
        return [0.0] * len(others)
    # The rows are L2-normalised: their dot product is the cosine.
    return [float(score) for score in linear_kernel(matrix[0:1], matrix[1:]).ravel()]
