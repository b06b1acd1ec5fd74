"""French-aware word handling shared by the personalisation check and knowledge-base suggestions:
case and accents folded, elisions cut (l', d', qu'), stop words dropped, plurals reduced."""

from __future__ import annotations

import re

from palabre.nlp.normalize import fold

_WORD = re.compile(r"[a-z0-9]+(?:['’][a-z0-9]+)?")
_ELISION = re.compile(r"^(?:l|d|j|m|n|s|t|c|qu|jusqu|lorsqu|puisqu)['’]")

STOP_WORDS = frozenset(
    """
    a ai aie aient aies ait alors as au aucun aura aurai aussi autre aux avait avant avec avez avoir
    avons bien bon bonjour bonsoir car ce ceci cela celle celui ces cet cette chez comme comment dans
    de des deja depuis dire doit donc dont du elle elles en encore entre est et etait ete etre eu eux
    fait faire fois hui ici il ils je juste la le les leur leurs lui ma mais me meme merci mes moi mon
    ne ni nos notre nous on ont ou par pas peu peut plus pour pourquoi quand que quel quelle quelles
    quels qui quoi sa sans se ses si son sont sous suis sur ta te tes toi ton tous tout toute toutes
    tres tu un une vos votre vous vraiment y
    about after again all also am an and any are as at be been before being but by can could did do
    does done for from get got had has have hello her here hi him his how i if in into is it its just
    me more my no not now of on or our out please so some than thank thanks that the their them then
    there these they this those to too up us very was we were what when where which who why will with
    would yes you your
    """.split()
)


def words(text: str) -> list[str]:
    """Content words of a text, normalised (French elisions and plurals handled)."""
    found = []
    for token in _WORD.findall(fold(text).lower()):
        token = _ELISION.sub("", token)
        if len(token) < 3 or token in STOP_WORDS or token.isdigit() and len(token) < 4:
            continue
        found.append(stem(token))
    return found


def stem(word: str) -> str:
    """A light stem: enough for "commandes" to meet "commande", "livraisons" "livraison"."""
    if len(word) > 4 and word.endswith(("s", "x")):
        word = word[:-1]
    if len(word) > 5 and word.endswith("e"):
        word = word[:-1]
    return word


def analyzer(text: str) -> list[str]:
    """Words and word pairs, for TF-IDF."""
    tokens = words(text)
    return tokens + [f"{a} {b}" for a, b in zip(tokens, tokens[1:], strict=False)]
