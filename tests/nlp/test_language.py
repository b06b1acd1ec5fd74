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
