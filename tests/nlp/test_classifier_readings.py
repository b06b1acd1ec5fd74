"""The pipeline asks the models about the same texts several times per batch (moderation's scores,
then the inbox's and listening's sentiment): each text is analysed once, and what is answered from
the kept readings is what a fresh analysis answers."""

from __future__ import annotations

from palabre.nlp.classifiers import MODELS_DIR, Classifiers

TEXTS = [
    "Bonjour, ma commande n'est toujours pas arrivée, pouvez-vous m'aider ?",
    "Espèce de c0nnaaard, vous êtes des voleurs",
    "Great post, thanks for sharing! Check my shop www.cheap-watches.example.com",
    "Love the new collection, the colours are beautiful",
    "Gagnez 1000 euros par jour depuis chez vous, cliquez ici http://argent-facile.example",
]


def test_each_text_is_analysed_once_across_scores_sentiment_and_explanations(monkeypatch):
    models = Classifiers(MODELS_DIR)
    analysed: list[str] = []
    transform = models.featurizer.transform

    def counted(texts):
        analysed.extend(texts)
        return transform(texts)

    monkeypatch.setattr(models.featurizer, "transform", counted)
    assessments = models.assess_many(TEXTS, ["fr", "fr", "en", "en", "fr"])
    sentiments = models.sentiment_many(TEXTS[::-1] + [TEXTS[0]])
    scores = models.score_many(TEXTS[1:3])
    assert sorted(analysed) == sorted(TEXTS)
    assert len(sentiments) == len(TEXTS) + 1 and len(scores) == 2
    assert assessments[1].spans  # the insult is explained from the kept analysis


def test_kept_readings_answer_what_a_fresh_analysis_answers():
    warm = Classifiers(MODELS_DIR)
    warm.sentiment_many(TEXTS[:3])  # kept, from another batch
    mixed = TEXTS[2:] + TEXTS[:2] + [TEXTS[4]]  # kept and new, one text twice
    langs = ["en", "en", "fr", "fr", "fr", "fr"]
    got = (warm.assess_many(mixed, langs), warm.sentiment_many(mixed), warm.score_many(mixed))
    fresh = [Classifiers(MODELS_DIR) for _ in range(3)]
    expected = (
        fresh[0].assess_many(mixed, langs),
        fresh[1].sentiment_many(mixed),
        fresh[2].score_many(mixed),
    )
    assert [(a.scores, a.spans, a.normalized) for a in got[0]] == [
        (a.scores, a.spans, a.normalized) for a in expected[0]
    ]
    assert got[1:] == expected[1:]
    # Callers may change what they get without changing what is kept.
    got[2][0]["spam"] = 2.0
    got[1][0][1]["negative"] = 2.0
    assert warm.score_many(mixed[:1]) == expected[2][:1]
    assert warm.sentiment_many(mixed[:1]) == expected[1][:1]
