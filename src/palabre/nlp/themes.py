"""Suggestions grouped by theme: "l'Oslo en velours" and "un Oslo en velours côtelé svp" together,
"livrez en Belgique" apart. TF-IDF on content words (French elisions, plurals and stop words
handled by `terms.analyzer`), then average-linkage clustering on cosine distance with a threshold:
no number of themes to guess beforehand. Each theme is named by its most central suggestion."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from palabre.nlp.terms import analyzer

# Two suggestions share a theme when their cosine similarity is above about 0.25 on average.
DISTANCE_THRESHOLD = 0.75


@dataclass(frozen=True)
class Theme:
    members: tuple[int, ...]  # indexes into the texts given
    central: int  # the member closest to the others: the theme's name


def group_by_theme(texts: Sequence[str]) -> list[Theme]:
    """Themes, largest first; a text with no content word is a theme of its own."""
    if not texts:
        return []
    if len(texts) == 1:
        return [Theme((0,), 0)]
    import numpy as np
    from sklearn.cluster import AgglomerativeClustering
    from sklearn.feature_extraction.text import TfidfVectorizer

    try:
        matrix = TfidfVectorizer(analyzer=analyzer, sublinear_tf=True).fit_transform(texts).toarray()
    except ValueError:  # no content word anywhere
        return [Theme((i,), i) for i in range(len(texts))]
    empty = ~matrix.any(axis=1)
    matrix[empty, 0] = 1.0  # keeps the cosine defined; such texts end up alone or together
    labels = AgglomerativeClustering(
        n_clusters=None, metric="cosine", linkage="average", distance_threshold=DISTANCE_THRESHOLD
    ).fit_predict(matrix)
    themes = []
    for label in sorted(
        set(labels), key=lambda value: (-int((labels == value).sum()), int(np.argmax(labels == value)))
    ):
        members = np.flatnonzero(labels == label)
        block = matrix[members]
        centrality = (block @ block.T).sum(axis=1)
        themes.append(Theme(tuple(int(m) for m in members), int(members[int(np.argmax(centrality))])))
    return themes
