"""Intent of a message to a brand: question, complaint, praise, lead, crisis or other.

No train-licensed intent data exists (complaints_en is evaluation-only), so intent is rules on
the normalised text, helped by the sentiment model: cue phrases in French and English, weighed,
then an order of precedence a community manager would use (a crisis before anything, a lead
before a question, a complaint asked as a question is a complaint, a question with a kind word
is a question). Measured on complaints_en (eval) and on a French set written for Palabre
(tests/data/intent_fr.csv), reported in the model card.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from palabre.nlp.normalize import normalize

INTENTS = ("question", "complaint", "praise", "lead", "crisis", "other")


def _cues(*phrases: str) -> re.Pattern[str]:
    return re.compile(r"\b(?:" + "|".join(phrases) + r")\b")


# Patterns run on normalised text: lower case, no accents, leetspeak undone, apostrophes as spaces.
# Harmless idioms that carry crisis or complaint words, removed before matching.
IDIOMS = _cues(
    r"mort(?:e|s)? de rire",
    r"tuer le temps",
    r"(?:une|la) tuerie",
    r"(?:une|la) bombe",
    r"c est (?:mortel|de la bombe|une dinguerie)",
    r"(?:ne suis|n ai|ne serai|ne suis plus|n ai ete|n ai jamais ete|ne suis jamais) (?:jamais )?(?:decu|decue|decus)",
    r"jamais (?:decu|decue)",
    r"pas (?:de|un seul) (?:souci|probleme)",
    r"killing it",
    r"to die for",
    r"(?:the )?bomb",
    r"never disappoint(?:s|ed)?",
)
QUESTION = _cues(
    r"est ce que",
    r"est ce qu",
    r"savez vous",
    r"pouvez vous",
    r"pourriez vous",
    r"vous (?:avez|faites|livrez|prenez|acceptez|ouvrez|proposez|vendez)",
    r"avez vous",
    r"comment (?:faire|puis je|on|je|savoir|activer)",
    r"combien",
    r"quand (?:est ce|arrive|sera|allez|ouvrez)",
    r"ou (?:est|puis je|trouver|acheter)",
    r"quel(?:le)?s? (?:est|sont|taille|couleur|delai|difference|prix)",
    r"pourquoi",
    r"existe t (?:il|elle)",
    r"y a t il",
    r"a t (?:il|elle)",
    r"c est possible",
    r"je voudrais savoir",
    r"j aimerais (?:savoir|connaitre)",
    r"quelqu un sait",
    r"petite question",
    r"how (?:do|can|much|long|to)",
    r"when (?:will|is|does|do)",
    r"where (?:is|can|do)",
    r"what (?:is|are|time|size)",
    r"do you (?:have|ship|deliver|sell|know|accept|offer)",
    r"can i",
    r"could you",
    r"is there",
    r"are you (?:open|going)",
    r"any (?:idea|news|update)",
)
COMPLAINT = _cues(
    r"toujours (?:pas|rien|aucun|aucune|en attente)",
    r"(?:jamais|rien|pas encore|pas) (?:recu|venu|arrive|arrivee|eu)",
    r"je n ai (?:jamais |rien |pas )(?:recu|eu)",
    r"en retard",
    r"retard(?:s)? de livraison",
    r"encore un retard",
    r"(?:attends|attendons|j attends|attente|patiente)(?: \w+){0,4} depuis",
    r"ca fait \w+ (?:jours|semaines|mois|heures?|minutes) que",
    r"depuis (?:\d+|deux|trois|quatre|cinq|dix|quinze) (?:jours|semaines|mois)",
    r"rembourse(?:ment|z|r|e|ee)?",
    r"casse(?:e|s|es)?",
    r"abime(?:e|s|es)?",
    r"defectueu(?:x|se)",
    r"decousu(?:e)?",
    r"fui(?:t|te)",
    r"ne (?:fonctionne|marche|refroidit|chauffe|s allume|demarre|charge) (?:pas|plus)",
    r"(?:marche|fonctionne) pas",
    r"en panne",
    r"plante",
    r"decu(?:e|s)?",
    r"decevant(?:e)?",
    r"deception",
    r"inadmissible",
    r"inacceptable",
    r"scandaleu(?:x|se)",
    r"honte(?:ux)?",
    r"arnaque",
    r"service client",
    r"sav",
    r"personne ne (?:repond|rappelle)",
    r"aucune? (?:reponse|nouvelle|moyen|rappel)",
    r"sans (?:reponse|nouvelles)",
    r"plus jamais",
    r"lamentable",
    r"nul(?:le)?",
    r"catastroph(?:e|ique)",
    r"annul(?:er|ation|e|ee)",
    r"injoignable",
    r"raccroche",
    r"desagreable",
    r"deborde(?:e|es|s)?",
    r"trompeu(?:r|se|ses)",
    r"mauvaise (?:taille|couleur|reference|commande)",
    r"(?:facture|facturee?|debite(?:e)?) (?:est )?(?:fausse|deux fois|pour un)",
    r"facture est fausse",
    r"incomplet(?:e)?",
    r"il manque",
    r"colis (?:vide|perdu)",
    r"perdu",
    r"rupture de stock",
    r"regrette",
    r"degoute(?:e)?",
    r"a fuir",
    r"n importe quoi",
    r"merci pour rien",
    r"commence a bien faire",
    r"repousse(?:e)?",
    r"pour rien",
    r"j exige",
    r"reclamation",
    r"penible",
    r"musique en boucle",
    r"pas disponible",
    r"pixel mort",
    # Anger and damage as people write them to a brand.
    r"furieu(?:x|se|ses)",
    r"en colere",
    r"enerve(?:e|s|es)?",
    r"exaspere(?:e|s|es)?",
    r"agace(?:e|s|es)?",
    r"(?:j en ai|on en a|nous en avons) (?:vraiment |franchement )?marre",
    r"ras le bol",
    r"rayures?",
    r"dechire(?:e|s|es)?",
    r"fissure(?:e|s|es)?",
    r"ebreche(?:e|s|es)?",
    r"moisi(?:e|s|es)?",
    r"perime(?:e|s|es)?",
    r"still (?:no|not|waiting)",
    r"never (?:arrived|received|got|came)",
    r"not (?:received|working|happy|impressed)",
    r"refund",
    r"broken",
    r"damaged",
    r"disappointed",
    r"disappointing",
    r"unacceptable",
    r"terrible",
    r"awful",
    r"worst",
    r"horrible",
    r"ridiculous",
    r"rip ?off",
    r"scam",
    r"customer service",
    r"no (?:one|response|reply|answer)",
    r"doesn t work",
    r"does not work",
    r"stopped working",
    r"waste of",
    r"cancel(?:led|ed)?",
    r"fix (?:this|it)",
    r"fail(?:ed|s|ing)?",
    r"sucks",
    r"delayed",
    r"late again",
    r"charged (?:me )?twice",
    r"on hold for",
    r"wtf",
    r"been waiting",
    r"lost (?:my|our) (?:order|parcel|package|bag|luggage)",
    r"your (?:app|site|website) (?:is|keeps)",
)
PRAISE = _cues(
    r"merci(?: beaucoup| infiniment)?(?! d avance)(?! pour rien)",
    r"bravo",
    r"super",
    r"genial(?:e)?",
    r"parfait(?:e)?",
    r"magnifique",
    r"superbe",
    r"j adore",
    r"adore",
    r"adorable(?:s)?",
    r"top",
    r"excellent(?:e|es|s)?",
    r"ravi(?:e|s|es)?",
    r"content(?:e|s|es)?",
    r"satisfait(?:e|s|es)?",
    r"au top",
    r"nickel",
    r"impeccable",
    r"irreprochable",
    r"delicieu(?:x|se)",
    r"(?:un )?delice",
    r"formidable",
    r"recommande",
    r"fan de",
    r"(?:une|la) tuerie",
    r"(?:une|la) bombe",
    r"mortel",
    r"a tomber",
    r"reussi(?:e)?",
    r"efficaces?",
    r"impressionnant(?:e)?",
    r"apprecie(?:e)?",
    r"plaisir",
    r"chaleureu(?:x|se)",
    r"sympa(?:thique)?",
    r"pratique",
    r"rien a redire",
    r"jamais (?:decu|decue)",
    r"mort(?:e)? de rire",
    r"sauve",
    r"belle initiative",
    r"bien gere(?:e|s|es)?",
    r"reacti(?:f|fs|ve|ves)",
    r"thank(?:s| you)",
    r"love (?:it|this|your|the)",
    r"great",
    r"amazing",
    r"awesome",
    r"perfect",
    r"beautiful",
    r"well done",
    r"impressed",
    r"happy with",
    r"best",
)
PRAISE_EMOJI = re.compile(
    "[\u2764\U0001f60d\U0001f44f\U0001f970\U0001f929\U0001f64f\U0001f602\U0001f923\U0001f604]"
)
# Wanting to buy, or buying for an organisation: a person to answer soon, and kindly.
LEAD = _cues(
    r"devis",
    r"tarif(?:s)? (?:pro|professionnel|entreprise|de groupe)",
    r"(?:tarifs?|prix|remises?|offres?|programme) pour (?:les )?(?:professionnels|comites?|entreprises|associations|pros)",
    r"(?:pour|de) (?:mon|ma|notre|nos|mes) (?:entreprise|societe|hotel|restaurant|bureaux?|magasin|boutique|cafe|cabinet|"
    r"ecole|creche|association|mairie|garage|equipe|salaries|employes|flotte|salle|seminaire|mariage|chantier)",
    r"pour (?:les )?(?:employes|salaries) de",
    r"en gros",
    r"en lot",
    r"grossiste",
    r"revendeur",
    r"distribu(?:teur|er)",
    r"referencer",
    r"partenari(?:at|ats|e)",
    r"collaboration",
    r"sponsor(?:s|ing)?",
    r"appels? d offres?",
    r"compte (?:pro|professionnel|entreprise)",
    r"commande groupee",
    r"abonnement (?:entreprise|annuel|pro)",
    r"contrat de maintenance",
    r"faire un prix",
    r"(?:faites|faire|avoir) (?:une )?remise",
    r"m interesse(?:nt)?",
    r"interesse(?:e)? par",
    r"(?:je|j|on|nous) (?:voudrais|voudrait|voudrions|veux|veut|voulons|souhaite|souhaiterais|souhaitons|aimerais|adorerais|"
    r"vais|compte|cherche|cherchons) (?:vraiment )?(?:\w+ )?(?:commander|acheter|equiper|meubler|reserver|louer|prendre|offrir|"
    r"referencer|devenir|un devis|un fournisseur|un traiteur|un partenaire)",
    r"(?:prete?|partante?) (?:a commander|pour)",
    r"(?:envie|craque) (?:de|pour)",
    r"(?:je|j) (?:la|le|les) commande",
    r"passe commande",
    r"un conseiller (?:peut il|pour)",
    r"me (?:rappeler|contacter) pour",
    r"projet de",
    r"budget de",
    r"combien pour \d+",
    r"\d{2,} (?:chaises|tasses|t shirts|coffrets|tablettes|verres|tables|salaries|personnes|fauteuils|sieges|"
    r"vehicules|climatiseurs|cartes|maillots|trottinettes|velos|bureaux|couverts|invites)",
    r"(?:would|d) love to (?:order|buy|get)",
    r"want to (?:buy|order)",
    r"interested in",
    r"how much for \d+",
    r"quote",
    r"wholesale",
    r"bulk (?:order|price)",
    r"reseller",
    r"distributor",
    r"partnership",
    r"b2b",
    r"for (?:my|our) (?:company|office|hotel|restaurant|business|team|staff)",
    r"looking to (?:buy|order|furnish)",
    r"take my money",
)
# Harm to people, safety, health, a recall, the law or the press, a data breach, public outrage.
CRISIS = _cues(
    r"danger(?:eux|euse|s)?",
    r"brul(?:e|ee|es|er|ure|ures|ait|e la)",
    r"(?:pris|prend|mis le|mettre le) feu",
    r"(?:a|ont|avait|avaient) fait fondre",
    r"incendi(?:e|ee|ie)",
    r"alarme incendie",
    r"explos(?:e|ion|er|ee)",
    r"intoxi(?:cation|que|quee|ques|ques)",
    r"empoisonn(?:e|ee|ement)",
    r"rappel(?:e|ee|es)?(?: \w+)? (?:produit|de produit|sanitaire|de lot)",
    r"rappele(?:e|s)?",
    r"blesse(?:e|s|es|ure)?",
    r"fractur(?:e|ee)",
    r"coupures",
    r"commotion",
    r"hopital",
    r"hospitalise(?:e)?",
    r"urgences",
    r"pompiers",
    r"malaise",
    r"electrocut(?:e|ee|ion)",
    r"allergen(?:e|es)",
    r"anaphylact\w*",
    r"reaction grave",
    r"salmonell\w*",
    r"listeria",
    r"(?:morceau|bris|eclats?) de (?:verre|metal)",
    r"avale",
    r"insecte",
    r"rats",
    r"fuite de gaz",
    r"(?:gaz )?fuyait",
    r"inonde",
    r"effondre(?:e)?",
    r"mourir",
    r"(?:est|sont) mort(?:e|s)?",
    r"on aurait pu",
    r"boycott(?:ez|er)?",
    r"scandale",
    r"raciste",
    r"homophobe(?:s)?",
    r"sexiste",
    r"journal(?:istes|istes|aux)",
    r"les journaux",
    r"virale?",
    r"denonce(?:r|nt)?",
    r"(?:porte|porter) plainte",
    r"avocat",
    r"dgccrf",
    r"pirate",
    r"(?:donnees|adresses) (?:bancaires|personnelles|de tous)",
    r"(?:volees|exposees?|expose les)",
    r"toxiques?",
    r"produit chimique",
    r"plaques rouges",
    r"cameras",
    r"frappe",
    r"renverse",
    r"freins (?:ont lache|lachent)",
    r"perimes",
    r"mise en danger",
    r"dangerous",
    r"burn(?:ed|t|s)?",
    r"caught fire",
    r"fire",
    r"explod(?:e|ed)",
    r"injur(?:ed|y)",
    r"hospital",
    r"recall(?:ed)?",
    r"lawsuit",
    r"lawyer",
    r"boycott",
    r"poison(?:ed|ing)?",
    r"unsafe",
    r"toxic",
    r"data breach",
    r"hacked",
    r"food poisoning",
)
# Complaint cues of English messages to brands that count only when the tone is not positive
# ("still love it", "no problem").
SOFT_COMPLAINT = _cues(
    r"why (?:is|isn t|hasn t|haven t|can t|won t|does|do|did|are)",
    r"still",
    r"(?:hours|days|weeks) (?:now|later|ago)",
    r"again",
    r"nobody",
    r"can t (?:get|log|access|find)",
    r"won t",
    r"hasn t",
    r"haven t",
    r"didn t",
    r"not (?:been|yet)",
    r"problem",
    r"issues?",
    r"error",
    r"poor",
    r"rubbish",
    r"shocking",
    r"appalling",
    r"useless",
    r"joke",
    r"annoy(?:ing|ed)",
    r"frustrat(?:ing|ed)",
    r"fed up",
    r"pathetic",
    r"crap",
    r"disgrace(?:ful)?",
    r"delays?",
    r"been charged",
    r"overcharged",
    r"missing",
    r"wrong",
)
WEAK_CRISIS = _cues(
    r"scandale", r"avocat", r"toxiques?", r"virale?", r"denonce(?:r|nt)?", r"frappe", r"rats", r"fire"
)


_APOSTROPHES = re.compile(r"['\u2019\u02bc-]")


@dataclass(frozen=True)
class Intent:
    label: str
    scores: dict[str, float]


def _cue_texts(normalized: str) -> tuple[str, str]:
    """The normalised text with apostrophes as spaces, and the same without harmless idioms
    ("mort de rire", "tuer le temps", "jamais déçue" say nothing of harm or complaint)."""
    folded = _APOSTROPHES.sub(" ", normalized)
    return folded, IDIOMS.sub(" ", folded)


# The cues the sentiment model reads beside its words (training.fit, Classifiers): tweets, its
# training data, seldom speak of a scratched table or a parcel that never came.
SENTIMENT_CUES = ("complaint", "crisis", "praise")


@dataclass(frozen=True, slots=True)
class SentimentCues:
    """What the sentiment model reads of a text beside its words."""

    counts: tuple[int, int, int]  # SENTIMENT_CUES, in order
    # A question with no complaint or crisis cue (English complaint words count here too).
    plain_question: bool


def sentiment_cues(original: str, normalized: str) -> SentimentCues:
    """The complaint, crisis and praise cues of a text, and whether it is a plain question
    (``normalized``: its normalised form, which the featurizer has already made)."""
    folded, plain = _cue_texts(normalized)
    complaint, crisis = len(COMPLAINT.findall(plain)), len(CRISIS.findall(plain))
    praise = len(PRAISE.findall(folded)) + len(PRAISE_EMOJI.findall(original))
    asked = "?" in original or QUESTION.search(folded) is not None
    plain_question = asked and not (complaint or crisis or SOFT_COMPLAINT.search(plain))
    return SentimentCues((complaint, crisis, praise), plain_question)


# A question with no complaint cue is a complaint only when the sentiment model is this sure that
# it is negative. Tweets, its training data, ask questions mostly in anger; brands' customers mostly
# to know: at 0.7 "Quelles sont vos horaires pendant les fêtes ?" (0.84) was a complaint. Chosen on
# tests/data/intent_fr.csv (questions taken for complaints 7 -> 3 at 0.9, no complaint lost).
ANGRY_QUESTION = 0.9


def detect_intent(
    text: str,
    sentiment: str = "neutral",
    sentiment_scores: dict[str, float] | None = None,
    normalized: str | None = None,
) -> Intent:
    """``normalized``: the text's normalised form where the caller has it already (the models
    read it: `Classifiers.triage_readings`)."""
    folded, plain = _cue_texts(normalize(text).text if normalized is None else normalized)
    asked = "?" in text
    n_question = len(QUESTION.findall(folded))
    n_complaint = len(COMPLAINT.findall(plain))
    if sentiment != "positive":
        n_complaint += len(SOFT_COMPLAINT.findall(plain))
    n_praise = len(PRAISE.findall(folded)) + len(PRAISE_EMOJI.findall(text))
    n_lead = len(LEAD.findall(folded))
    crisis_hits = CRISIS.findall(plain)
    n_weak = sum(1 for h in crisis_hits if WEAK_CRISIS.fullmatch(h))
    negative = sentiment == "negative"
    p_negative = (sentiment_scores or {}).get("negative", 0.7 if negative else 0.0)
    scores = {
        "crisis": 2.0 * (len(crisis_hits) - n_weak) + 1.0 * n_weak,
        "lead": 1.5 * n_lead,
        "complaint": 1.2 * n_complaint + (1.0 if negative else 0.0),
        "question": n_question + (1.5 if asked else 0.0),
        "praise": n_praise + (0.5 if sentiment == "positive" else 0.0),
    }
    if scores["crisis"] >= 2.0 or (scores["crisis"] >= 1.0 and (negative or n_complaint)):
        best = "crisis"
    elif n_lead and n_complaint < 2:
        best = "lead"  # a lead asked as a question, or with a sigh, is a lead
    elif n_complaint and not (n_praise >= n_complaint and not negative):
        best = "complaint"  # a complaint asked as a question is a complaint
    elif (asked or n_question) and negative and p_negative >= ANGRY_QUESTION:
        best = "complaint"  # "why does nobody answer?": a question asked in anger
    elif asked or n_question:
        best = "question"  # "Super ! Vous livrez en Suisse ?" is a question, not praise
    elif n_praise:
        best = "praise"  # "merci pour rien" is not counted as praise (PRAISE's lookahead)
    elif negative and p_negative >= 0.5:
        best = "complaint"  # clear negativity addressed to a brand, without a cue
    else:
        best = "other"
    total = sum(scores.values()) or 1.0
    return Intent(best, {name: round(value / total, 3) for name, value in scores.items()})
