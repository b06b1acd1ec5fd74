import pytest

from palabre.nlp.lexicon import load_lexicon


def categories(text):
    return {s.category for s in load_lexicon().match(text).spans()}


def test_obfuscated_insult_is_found_with_original_span():
    text = "Franchement t'es un C0NNNNARD"
    spans = [s for s in load_lexicon().match(text).spans() if s.category == "insult"]
    assert any(text[s.start : s.end] == "C0NNNNARD" for s in spans)


def test_spaced_letters_span():
    text = "espèce de s a l o p e"
    spans = [s for s in load_lexicon().match(text).spans() if s.category == "insult"]
    assert any(text[s.start : s.end] == "s a l o p e" for s in spans)


def test_inflections_by_prefix():
    assert "insult" in categories("bande d'enculés")
    assert "insult" in categories("quelle bande d'abrutis")


def test_whole_words_only():
    assert "insult" not in categories("les cons\u00e9quences du concert")
    assert categories("Bonjour, merci pour votre aide") == set()


def test_threat_patterns():
    assert "threat" in categories("je vais te retrouver et te buter")
    assert "threat" in categories("t'es mort")
    assert "threat" in categories("I know where you live")
    assert "threat" in categories("il faut tous les exterminer")


def test_spam_vocabulary_fr_en():
    assert "spam" in categories("Gagnez 500€ avec le bitcoin, contactez-moi sur whatsapp")
    assert "spam" in categories("Crédit rapide sans frais")
    assert "spam" in categories("check out my channel and subscribe")


def test_sexual_and_slurs():
    assert "sexual" in categories("envoie des nudes")
    assert "slur" in categories("sale b0ugnoule")


def test_identity_targets():
    spans = load_lexicon("targets").match("Les musulmans et les femmes").spans()
    assert {s.category for s in spans} == {"religion", "gender"}


def test_bad_input():
    lex = load_lexicon()
    for text in ("", "😂", "\ud800", "a" * 100_000):
        lex.match(text)


@pytest.mark.parametrize(
    ("text", "term"),
    [
        ("Trop deconnasses dans ce pays.", "connasse*"),
        ("une espececonnard de vendeur", "connard"),
        ("sale debougnoules", "bougnoul*"),
    ],
)
def test_a_hostile_word_glued_to_the_word_before_it_is_read(text, term):
    assert term in [hit[3] for hit in load_lexicon("moderation").match(text).hits]


@pytest.mark.parametrize(
    "text",
    [
        "Les députés ont voté la loi.",
        "une bonne leçon",
        "Cespedes hit third",
        "le déconfinement",
        "Desperados",
    ],
)
def test_an_ordinary_word_that_begins_like_a_glued_insult_is_not_one(text):
    assert load_lexicon("moderation").match(text).hits == []
