"""Rule-based intent, French and English, with the sentiment it leans on."""

import pytest

from palabre.nlp.intent import detect_intent
from palabre.nlp.triage import triage_many


@pytest.mark.parametrize(
    ("text", "sentiment", "intent"),
    [
        ("Le canapé Oslo existe-t-il en vert ?", "neutral", "question"),
        ("Do you ship to Belgium?", "neutral", "question"),
        ("Toujours pas reçu ma commande, aucune réponse du SAV, inadmissible", "negative", "complaint"),
        ("Still waiting for my refund, worst customer service ever", "negative", "complaint"),
        ("Bravo pour la livraison, le buffet est superbe !", "positive", "praise"),
        ("Love the new lamp, thanks!", "positive", "praise"),
        ("Vous faites des devis pour notre hôtel ? Il nous faudrait 40 chaises", "neutral", "lead"),
        ("Do you offer wholesale prices for our office?", "neutral", "lead"),
        ("Ma lampe Nova a pris feu, mon fils s'est brûlé, c'est dangereux !", "negative", "crisis"),
        ("Voilà.", "neutral", "other"),
    ],
)
def test_intents(text, sentiment, intent):
    assert detect_intent(text, sentiment).label == intent


def test_thanks_in_advance_is_not_praise():
    assert detect_intent("Quel est le délai de livraison ? Merci d'avance", "neutral").label == "question"


def test_scores_are_shares():
    scores = detect_intent("Merci, mais toujours pas reçu ma commande ?", "negative").scores
    assert abs(sum(scores.values()) - 1.0) < 0.01 or sum(scores.values()) == 0


@pytest.mark.parametrize(
    ("text", "sentiment", "intent"),
    [
        # Questions with a kind word are questions (the inbox tagged them as praise).
        ("Super la nouvelle collection ! Vous livrez en Suisse ?", "positive", "question"),
        ("Top ces baskets, elles taillent comment ?", "positive", "question"),
        ("Great jacket! Do you ship to Canada?", "positive", "question"),
        # A wish to buy is a lead, whatever the emoji.
        ("😭 would love to order", "negative", "lead"),
        ("J'aimerais vraiment commander 😭 mais le site ne livre pas en Corse ?", "negative", "lead"),
        # Idioms are not crises, and a negated complaint word is not a complaint.
        ("Je suis mort de rire devant votre dernière vidéo 😂", "negative", "praise"),
        ("Ça fait dix ans que je suis cliente et je ne suis jamais déçue.", "negative", "praise"),
        ("Votre livraison est en retard depuis 3 semaines, c'est inadmissible.", "neutral", "complaint"),
        (
            "Un livreur m'a traité de connard au téléphone, je veux porter réclamation",
            "negative",
            "complaint",
        ),
        ("Pourquoi personne ne répond à mes mails depuis dix jours ?", "negative", "complaint"),
        ("Merci pour rien, toujours pas de nouvelles de ma commande.", "positive", "complaint"),
        ("Est-ce que vos steaks hachés sont concernés par le rappel sanitaire ?", "neutral", "crisis"),
        ("Le chargeur a pris feu pendant la nuit, on aurait pu mourir.", "neutral", "crisis"),
    ],
)
def test_known_defects(text, sentiment, intent):
    assert detect_intent(text, sentiment).label == intent


@pytest.mark.parametrize(
    ("text", "sentiment", "intent"),
    [
        # A problem told as solved is thanks, whatever word names the problem.
        ("Service client au top, problème réglé en 5 minutes", "neutral", "praise"),
        ("Merci pour le remboursement rapide", "neutral", "praise"),
        ("Colis abîmé mais remplacé en deux jours, c'est parfait", "neutral", "praise"),
        ("Thanks for the quick refund, all sorted!", "neutral", "praise"),
        ("Remboursement demandé sur la page, ça a marché cette fois.", "neutral", "praise"),
        ("Ça a marché deux jours puis la lampe est tombée en panne", "negative", "complaint"),
        # ... but not where the customer says it is not.
        ("Merci pour le remboursement que je n'ai jamais reçu", "negative", "complaint"),
        ("Problème réglé ? Toujours pas de remboursement depuis trois semaines", "negative", "complaint"),
        # Asking what a warranty covers is a question, not a complaint about the damage named.
        ("Est-ce que l'assurance prend en charge la casse ?", "neutral", "question"),
        ("La garantie ne couvre pas la casse, c'est inadmissible", "negative", "complaint"),
    ],
)
def test_a_solved_problem_and_a_coverage_question(text, sentiment, intent):
    assert detect_intent(text, sentiment).label == intent


@pytest.mark.parametrize(
    ("text", "sentiment", "intent"),
    [
        # After "mais" / "but" the clause carries the point: a complaint there wins a tie with the
        # thanks or the solved problem before it...
        (
            "Problème réglé en 5 minutes mais le technicien a cassé le pied de la table",
            "neutral",
            "complaint",
        ),
        (
            "C'est réglé pour la facture, par contre la livraison est toujours en retard",
            "neutral",
            "complaint",
        ),
        ("Merci pour le remboursement partiel, mais il manque 20 €", "neutral", "complaint"),
        # ... English soft complaint cues count there whatever the tone...
        ("Thanks for the refund, but my second order still hasn't arrived", "positive", "complaint"),
        # ... unless the clause praises too.
        ("Great lamp, but I still love the old one", "positive", "praise"),
        ("Livraison en retard, mais le canapé est magnifique", "neutral", "praise"),
    ],
)
def test_the_clause_after_a_contrast_carries_the_point(text, sentiment, intent):
    assert detect_intent(text, sentiment).label == intent


def test_a_solved_problem_reads_positive_through_triage():
    """The sentiment model reads the same cues: a solved problem is no longer a complaint cue."""
    from palabre.nlp.triage import triage_many

    found = triage_many(
        [
            "Service client au top, problème réglé en 5 minutes",
            "Lampe récupérée en magasin, remboursement déjà sur mon compte. Bien géré finalement",
        ],
        ["fr", "fr"],
    )
    assert [(t.intent.label, t.sentiment) for t in found] == [("praise", "positive")] * 2


def test_french_brand_messages_figures():
    """The French set written and labelled for Palabre (tests/data/intent_fr.csv): every intent
    keeps an F1 of at least 0.8 through the real triage (sentiment model included). The rules
    were revised while reading this set's errors, so these are development figures."""
    import csv
    from pathlib import Path

    from sklearn.metrics import precision_recall_fscore_support

    from palabre.nlp.triage import triage_many

    path = Path(__file__).resolve().parents[1] / "data" / "intent_fr.csv"
    rows = list(csv.DictReader(path.open(encoding="utf-8")))
    assert len(rows) >= 300
    found = triage_many([r["text"] for r in rows], ["fr"] * len(rows))
    labels = ["question", "complaint", "praise", "lead", "crisis"]
    _, _, f1, support = precision_recall_fscore_support(
        [r["intent"] for r in rows], [t.intent.label for t in found], labels=labels, zero_division=0
    )
    assert min(support) >= 50
    assert min(f1) >= 0.8, dict(zip(labels, f1, strict=True))


def test_the_cue_phrases_are_data_each_a_valid_pattern(tmp_path):
    """lexicons/intent.tsv holds every category intent reads; each line compiles alone and never
    matches an empty text, and a line without its tab is refused with its number."""
    import re

    import pytest

    from palabre.nlp.intent import CUE_FILE, _load_cues

    cues = _load_cues(CUE_FILE)
    assert set(cues) == {
        "idiom",
        "asked_safety",
        "question",
        "complaint",
        "praise",
        "lead",
        "crisis",
        "soft_complaint",
        "weak_crisis",
        "resolved",
        "contrast",
        "reproach",
        "problem",
        "ironic",
        "negation",
    }
    for line in CUE_FILE.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            _category, pattern = line.split("\t")
            assert re.fullmatch(pattern, "") is None, line
    broken = tmp_path / "intent.tsv"
    broken.write_text("# cues\ncomplaint\tinadmissible\ncomplaint inacceptable\n", encoding="utf-8")
    with pytest.raises(ValueError, match="intent.tsv:3"):
        _load_cues(broken)


def test_a_polite_reproach_is_a_complaint_whatever_the_tone():
    """ "Vous auriez pu prévenir" is read positive by the sentiment model (polite words); intent
    reads the reproach. The sentiment model's own cues leave reproaches out."""
    from palabre.nlp.intent import sentiment_cues
    from palabre.nlp.normalize import normalize

    for text in (
        "Vous auriez pu prévenir avant de changer la recette.",
        "Contente d'être au courant, mais j'aurais préféré un mail.",
        "Dommage que personne ne réponde au téléphone.",
    ):
        assert detect_intent(text, "positive").label == "complaint", text
        assert sentiment_cues(text, normalize(text).text).counts[0] == 0, text
    assert (
        detect_intent("J'aurais aimé vous découvrir plus tôt, vos bougies sont sublimes !", "positive").label
        == "praise"
    )


def test_praise_after_the_last_contrast_carries_the_point():
    """The clause after "mais" carries the point both ways: praise there wins a tie even where
    the sentiment model reads the whole as negative; a complaint there still wins."""
    assert detect_intent("Colis en retard, mais le livreur a été adorable.", "negative").label == "praise"
    assert (
        detect_intent("Le vendeur était adorable mais le canapé est arrivé cassé.", "negative").label
        == "complaint"
    )


def triaged(text: str, lang: str):
    """One message through `palabre triage`'s models and rules."""
    (found,) = triage_many([text], [lang])
    return found


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("On a attendu 1h30 pour être servis, le plat était froid", "fr"),
        ("La pizza est arrivée écrasée, le livreur s'en fichait complètement", "fr"),
        ("Le vendeur a été super désagréable avec ma mère âgée", "fr"),
        ("La chambre sentait le tabac froid, on a dû changer", "fr"),
        ("Le mot de passe ne se réinitialise pas, je suis bloquée", "fr"),
        ("La musique du magasin est beaucoup trop forte", "fr"),
        ("Mon chat a vomi après vos croquettes, je veux des explications", "fr"),
        ("Mon code promo BIENVENUE10 a été refusé alors que c'est ma première commande", "fr"),
        ("Le livreur DPD a laissé un avis de passage alors que j'étais chez moi", "fr"),
        ("Votre hotline au 3949 m'a fait attendre 45 minutes", "fr"),
        ("Le bon de réduction de 5 € n'apparaît pas dans mon compte fidélité", "fr"),
        # A parcel arrived "explosé" is smashed, no explosion (session 21: a crisis, 80 points).
        ("Le meuble est arrivé explosé, le carton était défoncé.", "fr"),
        ("Mon colis est arrivé éclaté", "fr"),
        # English (each was "other"; complaints_en, tweets never read for the cues, unchanged).
        ("The food was cold when it arrived", "en"),
        ("We waited 45 minutes to be served", "en"),
        ("The app logs me out every two minutes", "en"),
        ("My card was declined but the money left my account", "en"),
        ("The hotel room smelled of smoke", "en"),
        ("I received a size M instead of an L", "en"),
        ("The box was empty", "en"),
    ],
)
def test_a_problem_told_as_a_fact_is_a_complaint_through_triage(text, lang):
    """Session 19: no complaint word, a problem all the same (each was "other" or "praise")."""
    found = triaged(text, lang)
    assert found.intent.label == "complaint", (found.intent, found.sentiment)


def test_an_intensifier_of_a_complaint_is_not_praise():
    found = triaged("Le vendeur a été super désagréable", "fr")
    assert found.intent.label == "complaint"
    found = triaged("Votre pub avec le chien est trop mignonne", "fr")
    assert found.intent.label == "praise"


@pytest.mark.parametrize(
    "text",
    [
        "Est-ce que je peux avoir une taille M au lieu d'une L ?",
        "Combien de temps faut-il attendre 2 jours ou 3 jours pour la livraison ?",
        "Vous pouvez me rappeler, je suis bloquée au travail jusqu'à 18h ?",
    ],
)
def test_a_question_with_the_words_of_a_problem_stays_a_question(text):
    found = triaged(text, "fr")
    assert found.intent.label == "question", (found.intent, found.sentiment)


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("Ma carte bancaire a été avalée par le distributeur, je fais comment ?", "complaint"),
        ("Votre application bancaire me déconnecte toutes les 2 minutes", "complaint"),
        ("On m'a prélevé 3 fois 29,99 € pour un abonnement que je n'ai jamais souscrit", "complaint"),
        ("Coupure de gaz sans préavis, j'ai deux enfants en bas âge", "complaint"),
        ("Les frais de résiliation de 49 € sont abusifs", "complaint"),
        ("Je cherche une offre pro pour 15 lignes mobiles, qui contacter ?", "lead"),
        ("Nous aimerions devenir distributeur de vos bougies en Belgique", "lead"),
        ("Vous avez un distributeur de billets dans le magasin ?", "question"),
        ("On peut venir sans prévenir ?", "question"),
    ],
)
def test_banks_telecom_and_energy_customers(text, intent):
    """Session 19: a cash machine was a lead ("distributeur"), the rest "other"."""
    found = triaged(text, "fr")
    assert found.intent.label == intent, (found.intent, found.sentiment)


def test_an_english_question_with_the_words_of_a_problem_stays_a_question():
    found = triaged("Can I swap a size M for an L?", "en")
    assert found.intent.label == "question"


@pytest.mark.parametrize(
    ("text", "crisis"),
    [
        # Knocking at a door is no assault (session 21: paged as a crisis, 82 points).
        ("J'ai frappé à la porte du dépôt, personne.", False),
        ("Le livreur m'a frappé", True),
        ("La batterie a explosé dans ma poche", True),
    ],
)
def test_a_door_knocked_at_is_no_crisis_and_a_blow_is_one(text, crisis):
    assert (triaged(text, "fr").intent.label == "crisis") == crisis


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        # Asking whether a thing is safe is a question (session 22: crisis, 85 points); a report of
        # harm stays a crisis, asked or not.
        ("Ce radiateur est-il dangereux pour un chat ?", "question"),
        ("Est-ce que vos bougies sont sans danger pour un bébé ?", "question"),
        ("Vous livrez à Roubaix ou c'est trop risqué ?", "question"),
        ("Ce radiateur est dangereux, mon chat s'est brûlé la patte.", "crisis"),
        ("Le radiateur a pris feu cette nuit, est-ce normal ?", "crisis"),
        # Thanks in a verb (were "other"); a polite closing that asks for something is no thanks.
        ("Nous tenons à remercier toute l'équipe du magasin de Lyon.", "praise"),
        ("Je voulais vous remercier pour votre patience au téléphone.", "praise"),
        ("Je vous remercie d'avance de me rembourser le colis perdu.", "complaint"),
        ("En vous remerciant par avance, quel est le délai pour Lyon ?", "question"),
        # Fallen for a thing and bought it is praise (was a lead); about to buy it stays a lead.
        ("Ma femme a craqué pour le fauteuil bleu, il est superbe.", "praise"),
        ("Je vais craquer pour le fauteuil bleu, il en reste en magasin ?", "lead"),
        ("Les chaussures sont parfaites et les lacets superbes.", "praise"),
        ("Vendeur compétent et très gentil.", "praise"),
        # Complaints told without a complaint word (were "other").
        ("Le déménageur a abîmé le parquet et il est parti sans s'excuser.", "complaint"),
        ("Des frais cachés partout sur la facture.", "complaint"),
        ("Mon abonnement a doublé cette année sans aucune explication.", "complaint"),
        ("Le carton est arrivé éventré.", "complaint"),
        ("J'ai un gros souci avec ma box depuis hier.", "complaint"),
        ("Le vendeur m'a menti sur l'autonomie de la batterie.", "complaint"),
        ("Mon enceinte ne répond plus depuis la mise à jour.", "complaint"),
        # Harm to people's bodies and their data (were "other").
        ("Votre shampoing m'a provoqué des plaques sur tout le cou.", "crisis"),
        ("Après votre rouge à lèvres, j'ai les lèvres gonflées.", "crisis"),
        ("Mes coordonnées bancaires sont en vente sur un forum, c'est chez vous que ça a fuité ?", "crisis"),
        ("Une fuite de données chez vous ? J'ai reçu un faux mail à mon nom.", "crisis"),
        # Questions in words ("je voulais savoir", "une question sur").
        ("J'ai une question concernant la livraison express.", "question"),
        ("Je voulais savoir si le magasin est ouvert demain.", "question"),
        # Asking how to reach the customer service is a question about it (session 22: every one
        # was a complaint read negative, "service client" being a complaint cue).
        ("Comment joindre votre service client ?", "question"),
        ("Quel est le numéro du service client ?", "question"),
        ("Le service client est ouvert le dimanche ?", "question"),
        ("How do I contact customer service?", "question"),
        # Failing to reach it, or what it did, stays a complaint.
        ("Impossible de joindre le service client depuis lundi.", "complaint"),
        ("Comment joindre votre SAV ? Ça fait 3 jours que j'appelle sans réponse.", "complaint"),
        ("Votre SAV répond quand il veut.", "complaint"),
        ("I've been trying to contact customer service for 3 days", "complaint"),
        # Customers' data seen where it should not be is a crisis (session 22: "other" or a
        # complaint, so nobody was paged).
        ("Les adresses mail de vos clients circulent sur Telegram.", "crisis"),
        ("On trouve les numéros de téléphone de vos clients en ligne.", "crisis"),
        ("Votre base clients a fuité, j'ai reçu un SMS d'arnaque avec le détail de ma commande.", "crisis"),
        ("Toutes les commandes de vos clients sont visibles sans mot de passe sur votre site.", "crisis"),
        ("Your customers' emails are being sold on a forum.", "crisis"),
        # Customers' own orders and details asked about are not.
        ("Vos clients peuvent-ils voir leurs anciennes commandes en ligne ?", "question"),
        ("Les commandes de vos clients en ligne arrivent quand ?", "question"),
        ("How do I update my customer details?", "question"),
        # Praise denied is a complaint (session 22: every one was praise, read positive).
        ("Le repas n'était pas très bon.", "complaint"),
        ("Le vendeur n'était pas très aimable.", "complaint"),
        ("Pas top du tout.", "complaint"),
        ("Pas génial le service.", "complaint"),
        ("Je ne recommande pas ce magasin.", "complaint"),
        ("Not great, the order came late.", "complaint"),
        # Praise that denies a problem stays praise.
        ("Jamais déçue, je recommande.", "praise"),
        ("Je recommande, je ne suis pas déçue.", "praise"),
        ("Pas de souci, c'est parfait.", "praise"),
        ("Je n'ai jamais vu un service aussi efficace !", "praise"),
    ],
)
def test_french_messages_without_the_usual_cue_words(text, intent):
    """Session 22, written before the cue lines they led to (lexicons/intent.tsv)."""
    found = triaged(text, "fr")
    assert found.intent.label == intent, (found.intent, found.sentiment)


def test_hard_french_brand_messages_figures():
    """tests/data/intent_fr_hard.csv: 130 French messages written and labelled in session 22 before
    any rule they led to (identity named in passing, thanks in a verb, complaints and crises
    without the usual words, safety asked about). Through the real triage: dev half 42/66 and
    test half 43/64 before; after the rules chosen on the dev half, test 52/64 (measured once),
    then its errors were read and a few general lines added, and the ironic lines: from then on
    development figures (63/66 and 60/64 at session 22's end)."""
    import csv
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "data" / "intent_fr_hard.csv"
    rows = list(csv.DictReader(path.open(encoding="utf-8")))
    assert len(rows) == 130
    found = triage_many([r["text"] for r in rows], ["fr"] * len(rows))
    right = sum(t.intent.label == r["intent"] for t, r in zip(found, rows, strict=True))
    assert right >= 118, right


def test_french_messages_of_many_trades_figures():
    """tests/data/intent_fr_trades.csv: 90 French messages to brands of many trades written and
    labelled in session 23 (an invoice unlike the quote, a product unlike its picture, a choice
    between two models, a price for a quantity, a video of an aggression that spreads). Dev half
    44/60 before the session's lines, chosen on it, 58/60 after; the test half, written after the
    lines and scored once, 22/30 before and 28/30 after."""
    import csv
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "data" / "intent_fr_trades.csv"
    rows = list(csv.DictReader(path.open(encoding="utf-8")))
    assert [sum(r["split"] == half for r in rows) for half in ("dev", "test")] == [60, 30]
    found = triage_many([r["text"] for r in rows], ["fr"] * len(rows))
    right = {
        half: sum(
            t.intent.label == r["intent"] for t, r in zip(found, rows, strict=True) if r["split"] == half
        )
        for half in ("dev", "test")
    }
    assert right["dev"] >= 58 and right["test"] >= 28, right


@pytest.mark.parametrize(
    ("text", "intent", "sentiment"),
    [
        # Kind words said of a problem are a complaint (session 22: five of seven were praise, read
        # positive, so the inbox put them last).
        ("Merci la SNCF pour ce retard de 2 heures, vraiment top.", "complaint", "negative"),
        ("Bravo pour la troisième panne de la semaine.", "complaint", "negative"),
        ("Super, encore une coupure de courant.", "complaint", "negative"),
        ("Merci de m'avoir raccroché au nez.", "complaint", "negative"),
        ("Thanks for the 3 hour delay, great service", "complaint", "negative"),
        # Thanks for what put a problem right, or for news of it, stay thanks.
        ("Merci pour le remboursement rapide malgré le retard.", "praise", "positive"),
        ("Bravo à l'équipe qui a réparé la panne en une heure.", "praise", "positive"),
        ("Super, merci d'avoir réglé la coupure si vite.", "praise", "positive"),
        ("Merci pour le suivi du retard, c'est rassurant.", "praise", "positive"),
        ("Merci pour votre patience malgré la panne, tout remarche.", "praise", "positive"),
    ],
)
def test_kind_words_said_of_a_problem_are_a_complaint(text, intent, sentiment):
    found = triaged(text, "fr")
    assert (found.intent.label, found.sentiment) == (intent, sentiment), found
