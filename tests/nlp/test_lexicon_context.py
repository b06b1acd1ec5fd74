"""The context lexicons (context_fr.tsv, context_en.tsv): each kind of entry, read by read_context."""

from __future__ import annotations

from palabre.nlp.lexicon import Span, load_lexicon, masked_text, read_context
from palabre.nlp.normalize import normalize


def reading(text: str, lang: str | None = None, **options):
    norm = normalize(text)
    spans = load_lexicon().match(norm).spans() + [
        Span(s.start, s.end, "target", s.term, s.category)
        for s in load_lexicon("targets").match(norm).spans()
    ]
    return read_context(norm, spans, lang, **options)


def excused(text: str, lang: str | None = None) -> dict[str, str]:
    """Excused words (as written) and why."""
    return {text[span.start : span.end]: why for span, why in reading(text, lang).excused}


def test_a_word_is_an_insult_in_its_own_language_only():
    assert excused("Ma commande est en retard", "fr")["retard"] in {"other_language", "harmless"}
    assert excused("Toujours du retard chez vous")["retard"] in {"other_language", "harmless"}
    assert "retard" not in excused("You are a retard")
    assert "retard" not in excused("You are a retard", "en")
    # "bite" is French vulgar slang, an ordinary English word.
    assert excused("The dog gave me a nasty bite yesterday", "en")["bite"] == "other_language"
    assert "bite" not in excused("suce ma bite", "fr")
    assert excused("I love my pet so much") == {"pet": "other_language"}  # detected as English
    assert excused("pros and cons")["cons"] == "other_language"
    assert "con" in str(load_lexicon().match("Quel con ce livreur").spans())


def test_the_language_is_detected_when_not_given():
    assert reading("The mosquito bite on my arm is itching a lot today").language == "en"
    assert reading("Le retard de ma commande est inadmissible").language in {"fr", "und"}


def test_harmless_phrases_and_their_threatening_counterparts():
    assert excused("Je vais tuer le temps en magasin samedi") == {"Je vais tuer": "harmless"}
    assert "je vais le tuer" in excused("je vais le tuer de rire avec cette blague")
    assert not excused("Je vais te tuer")
    assert not excused("Je vais poser une bombe dans votre magasin")
    assert not excused("on va te retrouver")
    # The harmless phrase is left out of scoring.
    text = "Ce parfum est une bombe"
    assert masked_text(text, reading(text).masked).strip() == "Ce parfum est"


def test_reported_and_quoted_insults_are_mentions():
    assert excused("Un livreur m'a traité de connard au téléphone")["connard"] == "reported"
    assert excused("He called me an idiot on the phone")["idiot"] == "reported"
    assert excused("Il m'a dit « espèce d'idiot » devant tout le monde")["idiot"] == "quoted"
    assert excused('Quelqu\'un a écrit "connard" sur mon colis')["connard"] == "quoted"
    # Quotes around a word said to someone, or a quoted insult alone, are still insults.
    assert "connard" not in excused('T\'es un "connard"')
    assert "connard" not in excused("« connard »")
    # The frame reaches a few words in its clause, not the next sentence.
    assert "connard" not in excused("Il m'a traité de menteur. Connard.")
    assert "connard" not in excused("on m'a traité de menteur mais toi t'es un vrai connard")


def test_counter_speech_and_negated_hate():
    found = reading("Dire que les immigrés volent nos emplois est faux.")
    assert {why for _span, why in found.excused} == {"counter_speech"}
    assert not found.group_hostile
    assert not reading("Les immigrés ne volent pas nos emplois").group_hostile
    assert reading("Les immigrés volent nos emplois").group_hostile
    # A negation excuses the attributes it denies, never a threat or an insult, and ends with its clause.
    text = "Je ne déteste pas les femmes, je veux juste les tuer"
    assert [text[a:b] for a, b in reading(text).masked] == ["Je ne déteste pas les femmes"]
    assert set(excused(text).values()) == {"counter_speech"}
    assert "connard" not in excused("Les immigrés ne sont pas des voleurs, connard")
    assert excused("Les immigrés ne sont pas des voleurs") == {"voleurs": "negated"}
    # A claim negated with no listed word is left to the models: "ne sont pas capables" is no counter-speech.
    assert reading("Les femmes ne sont pas capables de réfléchir").masked == ()
    # A negation that denies humanity is no counter-speech.
    assert reading("Les juifs ne sont pas des humains").group_hostile


def test_neutral_mentions_of_groups():
    assert excused("je suis noir") == {"noir": "neutral_mention"}
    assert excused("Mon fils est autiste") == {"autiste": "neutral_mention"}
    assert excused("I am a muslim and proud") == {"muslim": "neutral_mention"}
    assert "noirs" not in excused("je suis contre les noirs")


def test_hostile_statements_about_groups_without_slurs():
    found = reading("Les juifs contrôlent tout, il faudrait tous les virer.")
    said = {
        "Les juifs contrôlent tout, il faudrait tous les virer."[s.start : s.end] for s in found.group_hostile
    }
    assert said == {"contrôlent tout", "tous les virer"}
    assert reading("Go back to your country, immigrants").group_hostile


def test_order_references_are_masked_only_when_asked():
    text = "Bonjour, où en est ma commande ML-47002 ?"
    assert masked_text(text, reading(text).masked) == "Bonjour, où en est ma   ?"
    assert reading(text, references=False).masked == ()
    assert reading("Colis n°8837261 bloqué").masked
    assert reading("Your order #4821930 is late").masked


def test_nothing_to_read_costs_no_detection():
    found = reading("Bonjour, le canapé Oslo existe-t-il en vert ?")
    assert found.excused == () and found.masked == () and found.group_hostile == ()


def test_counter_speech_excuses_an_insult_said_of_a_group_not_to_someone():
    text = "Vous devez arrêter de dire que les musulmans sont des parasites."
    assert excused(text)["parasites"] == "counter_speech"
    assert [text[a:b] for a, b in reading(text).masked] == [
        "arrêter de dire que les musulmans sont des parasites"
    ]
    # Said to someone, in the same region: still an insult.
    text = "Arrête d'insulter les gens sale connard"
    assert not [s for s, _why in reading(text).excused if s.category == "insult"]


def test_a_negated_claim_with_every_word_excused_is_left_out_of_scoring():
    text = "Les immigrés ne sont pas des voleurs"
    assert [text[a:b] for a, b in reading(text).masked] == [text]
    # A contrast word after the denial asserts what follows it.
    text = "Les immigrés ne sont pas des voleurs mais des parasites"
    insults = {text[s.start : s.end] for s, _why in reading(text).excused if s.category == "insult"}
    assert insults == {"voleurs"}
    assert text not in [text[a:b] for a, b in reading(text).masked]


def test_denials_of_worth_about_a_group_are_hostile():
    for text in (
        "Les femmes ne seront jamais aussi intelligentes que les hommes",
        "Je n'ai aucune compassion pour les réfugiés",
        "Il n'existe pas de musulmans honnêtes",
    ):
        assert reading(text).group_hostile, text
    # Saying nobody deserves harm is no hostility.
    assert reading("Aucun réfugié ne mérite de mourir en mer").group_hostile == ()


def test_a_word_inside_an_accounts_handle_is_a_name_not_a_word_said():
    # DICK'S Sporting Goods on X; a fediverse and a Bluesky handle.
    assert excused("@DICKS why you messing with me", "en") == {"DICKS": "handle"}
    assert excused("Merci @connard_du_69@piaille.example pour le lien", "fr") == {"connard": "handle"}
    assert excused("cc @salope.bsky.social", "fr") == {"salope": "handle"}
    # The same word said beside the handle, or in an e-mail address, is still the author's.
    assert excused("@DICKS you are dicks", "en") == {"DICKS": "handle"}
    assert "connard" not in excused("écris à marc@connard.fr, connard", "fr")
    masked = reading("@DICKS why you messing with me", "en").masked
    assert masked_text("@DICKS why you messing with me", masked).strip() == "why you messing with me"
