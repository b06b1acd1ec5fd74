"""Context: when a listed word is not used as what it is listed as (ordinary in the text's language, a harmless phrase, reported or quoted speech, counter-speech, a negated claim, a self-description)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from palabre.nlp.lexicon.entries import Span, load_lexicon
from palabre.nlp.normalize import NormalizedText

# Kinds of entries in context_<language>.tsv (README.md in the lexicons folder says what each does).
CONTEXT_KINDS = (
    "ordinary",
    "harmless",
    "impersonal",
    "reported",
    "direct",
    "counter",
    "negated",
    "neutral",
    "group_hostile",
    "reference",
    "needs_person",
    "person",
)
# Lexicon categories that a context may excuse: a mention of the word, not a use of it.
HOSTILE_CATEGORIES = frozenset(
    {"insult", "slur", "dehumanizing", "threat", "sexual", "profanity", "neg_attribute"}
)
# What counter-speech may excuse inside its region: never an insult (said to someone present), and
# a negation never a threat ("je ne déteste pas les X, je veux juste...").
COUNTER_EXCUSES = HOSTILE_CATEGORIES - {"insult"}
NEGATED_EXCUSES = HOSTILE_CATEGORIES - {"insult", "threat"}
_NEGATIVE_TERM = re.compile(r"\b(?:ne|n|pas|jamais|rien|not|never|no|nt)\b")
_OTHER_SOURCES = {"fr": frozenset({"en", "ldnoobw_en"}), "en": frozenset({"fr", "ldnoobw_fr"})}
# Quoted text: « », “ ”, „ “, straight double quotes.
_QUOTE = re.compile(r"«([^«»]{1,300})»|“([^“”]{1,300})”|„([^„“]{1,300})“|\"([^\"]{1,300})\"")
_CLAUSE_END = re.compile(r"[.;!?:\n]")
# Words after which a negated claim goes on to assert something ("pas des X mais des Y").
_CONTRAST = re.compile(r"\b(?:mais|plut[oô]t|juste|seulement|sinon|que|qu|but|just|only|rather|than)\b", re.I)
_TEXT_WORD = re.compile(r"[^\W_]+")
# An account's handle: @name on X, Instagram and Threads, @name@server on the fediverse,
# @name.bsky.social on Bluesky (not an e-mail address: no word character before the "@").
_HANDLE = re.compile(r"(?<![\w.@])@[\w-]+(?:[.@][\w-]+)*")
# An identity word used of people: plural ("les noirs", "femmes") or after an article or a
# determiner ("une femme", "un black"); not an adjective of a thing ("le boudin blanc").
_PEOPLE_BEFORE = re.compile(
    r"\b(?:un|une|le|la|l|les|des|ces|aux|tous|toutes|vos|nos|leurs|sales?|a|an|the|all|these|those|dirty)\W+$",
    re.I,
)
# How far a reported-speech frame ("il m'a traité de") reaches, and a self-description ("je suis").
REPORTED_REACH = 4
NEUTRAL_REACH = 0


@dataclass(frozen=True, slots=True)
class ContextReading:
    """What the context of a text says of its lexicon hits, in original-text offsets.

    `excused`: hits that are mentions, not uses (span, why: handle, other_language, harmless, impersonal,
    quoted, reported, counter_speech, negated, neutral_mention); `masked`: ranges of the text that classifiers
    should not read as the author's own words (excused hits, harmless expressions, counter-speech,
    self-descriptions, order references); `group_hostile`: hostile statements about a group
    that need no slur ("contrôlent tout", "il faudrait tous les virer"), to be combined with a
    group target; `unaimed`: hits of words that hurt only when said of people ("dangereux",
    "je déteste", "thon", "victime") in a text that names no group and points at no person: no
    reason to hold, still scored; `language`: the language whose context entries applied ("und"
    when unknown).
    """

    language: str
    excused: tuple[tuple[Span, str], ...] = ()
    masked: tuple[tuple[int, int], ...] = ()
    group_hostile: tuple[Span, ...] = ()
    unaimed: tuple[Span, ...] = ()

    def is_excused(self, span: Span) -> bool:
        return any(_hit(s) == _hit(span) for s, _ in self.excused)

    def is_unaimed(self, span: Span) -> bool:
        return any(_hit(s) == _hit(span) for s in self.unaimed)


def _hit(span: Span) -> tuple[int, int, str]:
    """What identifies a lexicon hit: where it is and what it is listed as."""
    return span.start, span.end, span.category


def _words_between(text: str, start: int, end: int) -> int:
    return len(_TEXT_WORD.findall(text, start, end)) if end > start else 0


def _overlaps(a: Span | tuple[int, int], b: Span | tuple[int, int]) -> bool:
    a0, a1 = (a.start, a.end) if isinstance(a, Span) else a
    b0, b1 = (b.start, b.end) if isinstance(b, Span) else b
    return a0 < b1 and b0 < a1


def _inside(inner: Span, outer: Span | tuple[int, int]) -> bool:
    o0, o1 = (outer.start, outer.end) if isinstance(outer, Span) else outer
    return o0 <= inner.start and inner.end <= o1


def _of_people(text: str, target: Span) -> bool:
    end = target.end
    while end < len(text) and text[end].isalnum():
        end += 1
    return text[end - 1 : end].lower() in ("s", "x") or bool(
        _PEOPLE_BEFORE.search(text, max(0, target.start - 16), target.start)
    )


def merged_ranges(ranges: list[tuple[int, int]]) -> tuple[tuple[int, int], ...]:
    """Ranges sorted and joined where they touch or overlap, as `masked_text` takes them."""
    out: list[list[int]] = []
    for a, b in sorted(ranges):
        if out and a <= out[-1][1]:
            out[-1][1] = max(out[-1][1], b)
        else:
            out.append([a, b])
    return tuple((a, b) for a, b in out)


def context_language(text: str, lang: str | None) -> str:
    """The language whose context entries apply: the one given, else the detected one (by its
    function words when they are clear, by the statistical detector otherwise)."""
    if lang:
        return lang
    from palabre.nlp.language import detect_language, french_or_english

    return french_or_english(text) or detect_language(text)


def read_context(
    normalized: NormalizedText,
    spans: list[Span],
    lang: str | None = None,
    *,
    references: bool = True,
) -> ContextReading:
    """Read the hits of a text (`spans`: lexicon and identity-target spans in original offsets,
    targets with category "target") in their context, with the entries of the text's language.

    Counter-speech patterns run only when a hit or a target is there; order references only
    with `references` (when a spam score could change); the language is detected only when a
    word listed as ordinary in some language meets a hit of another language's lexicon.
    """
    text = normalized.original
    hostile = [s for s in spans if s.category in HOSTILE_CATEGORIES]
    targets = [s for s in spans if s.category == "target"]
    entries = load_lexicon("context").match(normalized).spans()
    if hostile or targets:
        entries += load_lexicon("context_counter").match(normalized).spans()
    if references:
        entries += load_lexicon("context_reference").match(normalized).spans()
    if not (hostile or targets or entries):
        return ContextReading(lang or "und")
    # Expressions are specific enough to apply whatever the language; a word listed as ordinary
    # ("retard" in French, "bite" in English) applies only in its language, detected when needed.
    language = lang or "und"
    ordinary = [s for s in entries if s.category == "ordinary"]
    if not lang and ordinary:
        language = context_language(text, lang)
    found = [s for s in entries if s.category != "ordinary" or s.source == language]
    kinds: dict[str, list[Span]] = {kind: [] for kind in CONTEXT_KINDS}
    for s in found:
        kinds.setdefault(s.category, []).append(s)

    excused: list[tuple[Span, str]] = []
    masked: list[tuple[int, int]] = []
    quotes = [(m.start(), m.end()) for m in _QUOTE.finditer(text)] if hostile else []
    outside_quotes = (
        len(_TEXT_WORD.findall(text)) - sum(len(_TEXT_WORD.findall(text, a, b)) for a, b in quotes)
        if quotes
        else 0
    )
    other_sources = _OTHER_SOURCES.get(language, frozenset())

    def quoted(hit: Span) -> bool:
        if outside_quotes < 2:
            return False  # a quoted insult alone is still an insult
        for a, b in quotes:
            if a <= hit.start and hit.end <= b:
                # 'T'es un "connard"', '« connard », c'est ce que tu es': quotes around a word said
                # to someone do not make it a mention.
                addressed = any(
                    (d.end <= a and not text[d.end : a].strip())
                    or (d.start >= b and not text[b : d.start].strip(" ,.:;!?-–—"))
                    for d in kinds["direct"]
                )
                return not addressed
        return False

    def reported(hit: Span) -> bool:
        for frame in kinds["reported"]:
            if frame.end > hit.start:
                continue
            if _CLAUSE_END.search(text, frame.end, hit.start):
                continue
            if _words_between(text, frame.end, hit.start) > REPORTED_REACH:
                continue
            if any(frame.end <= d.start and d.end <= hit.start for d in kinds["direct"]):
                continue
            return True
        return False

    def said_of_group(hit: Span, region: Span) -> bool:
        """An insult inside a counter-speech region, predicated of an identity group named
        before it in the region (not said to someone: 'arrête d'insulter les gens, connard')."""
        return _inside(hit, region) and any(region.start <= t.start and t.end <= hit.start for t in targets)

    handles = [(m.start(), m.end()) for m in _HANDLE.finditer(text)] if "@" in text else []
    for hit in hostile:
        why = ""
        handle = next(((a, b) for a, b in handles if a <= hit.start and hit.end <= b), None)
        if handle:
            # "@DICKS why you messing with me": an account's name (the sports shop), chosen by its
            # owner, is no word the author says; the whole handle is left out of scoring.
            why = "handle"
            masked.append(handle)
        elif hit.source in other_sources and any(_inside(hit, o) for o in kinds["ordinary"]):
            why = "other_language"
        elif any(_overlaps(hit, h) and (h.start < hit.start or h.end > hit.end) for h in kinds["harmless"]):
            # "je vais le tuer de rire": the phrase reaches past the hit; "poser une bombe" is
            # a threat around the harmless "une bombe", not in it.
            why = "harmless"
        elif not targets and any(_inside(hit, i) for i in kinds["impersonal"]):
            # "c'est une honte de traiter les clients comme ça" says a deed is shameful; said where
            # a group is named ("les X, c'est une honte de les laisser entrer") it is not excused.
            why = "impersonal"
        elif hit.category in COUNTER_EXCUSES and any(_inside(hit, c) for c in kinds["counter"]):
            why = "counter_speech"
        elif hit.category == "insult" and any(said_of_group(hit, c) for c in kinds["counter"]):
            # 'arrêtez de dire que les immigrés sont des parasites': the insult is the claim refuted.
            why = "counter_speech"
        elif hit.category == "insult" and any(
            said_of_group(hit, c) and not _CONTRAST.search(text, c.start, hit.start) for c in kinds["negated"]
        ):
            # 'les immigrés ne sont pas des voleurs' denies the insult; '... pas des voleurs mais
            # des parasites' asserts the second one.
            why = "negated"
        elif (
            hit.category in NEGATED_EXCUSES
            and not _NEGATIVE_TERM.search(hit.term)  # "ne sont pas capables" says the negative itself
            and any(_inside(hit, c) for c in kinds["negated"])
        ):
            why = "negated"
        elif quoted(hit):
            why = "quoted"
        elif reported(hit):
            why = "reported"
        if why:
            excused.append((hit, why))
            masked.append((hit.start, hit.end))
    for target in targets:
        for frame in kinds["neutral"]:
            if (
                frame.end <= target.start
                and _words_between(text, frame.end, target.start) <= NEUTRAL_REACH
                and not _CLAUSE_END.search(text, frame.end, target.start)
            ):
                excused.append((target, "neutral_mention"))
                masked.append((target.start, target.end))
                break
    masked += [(h.start, h.end) for h in kinds["harmless"]]
    if not targets:
        masked += [(i.start, i.end) for i in kinds["impersonal"]]
    masked += [(r.start, r.end) for r in kinds["reference"]]
    group_hostile = []
    for predicate in kinds["group_hostile"]:
        if any(_inside(predicate, c) for c in kinds["counter"] + kinds["negated"]):
            excused.append((predicate, "counter_speech"))
            masked.append((predicate.start, predicate.end))
        else:
            group_hostile.append(predicate)
    excused_at = {_hit(span) for span, _why in excused}
    used = [h for h in hostile if _hit(h) not in excused_at]
    # "Une salade au thon", "votre chargeur est dangereux": a word that hurts only when said of
    # people, in a text that names no group and points at no one, is no reason to hold; the models
    # still read it (their scores decide), so nothing is masked.
    unaimed = []
    if not kinds["person"] and not any(_of_people(text, t) for t in targets):
        unaimed = [h for h in used if any(_inside(h, n) for n in kinds["needs_person"])]
    # A word ordinary in the text's language is left out of scoring too, lexicon hit or not: the
    # models learnt it from the other language ("vos retards" read 0.90 toxic from English tweets'
    # "retards"). Not where a hit of the text's own language uses it ("bande de retardés").
    masked += [(o.start, o.end) for o in kinds["ordinary"] if not any(_overlaps(o, h) for h in used)]
    for region in kinds["counter"]:
        # Counter-speech quotes the claim it refutes: none of it is the author's own claim, unless
        # a word it may not excuse (an insult) is in it.
        if any(_overlaps(region, s) for s in hostile + targets + kinds["group_hostile"]) and not any(
            _overlaps(region, h) for h in used
        ):
            masked.append((region.start, region.end))
    for region in kinds["negated"]:
        # A negated claim whose every listed word is excused ('les immigrés ne sont pas des
        # voleurs': the word is both an insult and an attribute, excused as the attribute) says
        # nothing hostile: the whole claim is left out of scoring, as counter-speech is.
        inside = [h for h in hostile if _overlaps(region, h)]
        if inside and not any(_overlaps(region, h) for h in used):
            masked.append((region.start, region.end))
    return ContextReading(
        language, tuple(excused), merged_ranges(masked), tuple(group_hostile), tuple(unaimed)
    )


def masked_text(text: str, ranges: tuple[tuple[int, int], ...]) -> str:
    """`text` without the given ranges (each left as one space), for scoring what remains."""
    parts = []
    position = 0
    for a, b in ranges:
        parts.append(text[position:a])
        parts.append(" ")
        position = b
    parts.append(text[position:])
    return "".join(parts)
