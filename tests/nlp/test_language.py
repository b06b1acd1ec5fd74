import pytest

from palabre.nlp.language import detect_language


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("Bonjour, je voudrais savoir quand ma commande arrivera", "fr"),
        ("Hello, I would like to know when my order will arrive", "en"),
        ("merci", "fr"),
        ("thanks a lot", "en"),
        ("Hola, ¿cómo estás? Muy bien, gracias por preguntar", "es"),
        ("Das ist wirklich nicht gut, ich bin enttäuscht", "de"),
    ],
)
def test_languages(text, lang):
    assert detect_language(text) == lang


@pytest.mark.parametrize("text", ["", "ok", "😂😂", "12345", "@user http://x.fr", None])
def test_unsure(text):
    assert detect_language(text) == "und"


def test_a_batch_gets_the_answer_each_text_gets_alone():
    from palabre.demo.loader import demo_items, demo_spec
    from palabre.nlp.language import detect_languages

    texts = [spec["text"] for org in demo_spec()["organisations"] for spec in demo_items(org)]
    # Spam waves: the same words with other links, mentions and hashtags; and texts with no words.
    texts += [f"{text} https://site{n}.example/p @someone{n} #promo{n}" for n, text in enumerate(texts[:40])]
    texts += ["", "https://only.example/link", "@brand", "42", "ok"]
    assert len(texts) > 400
    assert detect_languages(texts) == [detect_language(text) for text in texts]
