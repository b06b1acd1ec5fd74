"""Features shared by training and inference: hashed n-grams of the normalised text and a
few dense signals (lexicon hits, identity targets, links, contact details, shouting).

Nothing here is fitted: hashing needs no vocabulary, so the shipped model is a weight
matrix plus this code, and the two cannot drift apart.
"""

from __future__ import annotations

import math
import re
import zlib
from array import array
from dataclasses import dataclass

import numpy as np

from palabre.nlp.lexicon import LexiconHits, load_lexicon
from palabre.nlp.normalize import normalize

__all__ = ["FeatureConfig", "Featurizer", "DENSE_FEATURES", "Analysis", "SparseRows"]

# Anchored at token starts with possessive runs: linear time even on a 100k-letter "word".
_URL = re.compile(
    r"https?://|www\.|(?<![\w-])[\w-]++\.(?:com|fr|net|org|io|ly|be|ch|co|me|info|biz|xyz|tk|ru)\b", re.I
)
_EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]++@[\w-]++\.[\w.]+")
# A telephone number as people write one to be called, not any long number: a postcode ("Paris
# 75011"), an order number ("#47002") or an amount is none. International (+33 6 12 34 56 78,
# 0044 20 7946 0958), French (06 12 34 56 78), other national numbers with a trunk 0 (UK
# 0870 443 9680, 0207-083-6089), North American ((555) 123-4567, 555-123-4567), and a short
# number after a word that asks to call or text it ("txt WIN to 87121", "appelez le 3615").
_PHONE = re.compile(
    r"(?<![\w+])(?:\+|00)[1-9]\d{0,2}[\s.-]?(?:\(0\)[\s.-]?)?\d(?:[\s.-]?\d){5,12}(?!\d)"
    r"|(?<![\w.,])0[1-9](?:[\s.-]?\d{2}){4}(?![\d.,]\d|\d)"
    r"|(?<![\w.,])0\d{2,4}[\s.-]?\d{3,4}[\s.-]?\d{3,4}(?![\d.,]\d|\d)"
    r"|(?<![\w.,])(?:\(\d{3}\)\s?|\d{3}[\s.-])\d{3}[\s.-]\d{4}(?![\d.,]\d|\d)"
    r"|\b(?:call|ring|text|txt|sms|tel|phone|appel(?:le[rz]?|ez)|t[eé]l[eé]phone[rz]?|composez)\b"
    r"(?:\W{1,3}\w{1,12}){0,3}?\W{1,3}\d{4,6}(?!\d|[.,]\d)",
    re.I,
)
_MONEY = re.compile(r"[$€£]\s?\d|\d\s?(?:[$€£]|euros?\b|eur\b|dollars?\b|usd\b|k€)", re.I)
_PERCENT = re.compile(r"\d\s?%")
_LETTER = re.compile(r"[^\W\d_]")
_DIGIT = re.compile(r"\d")
_HIGH_CHAR = re.compile("[\u2190-\U0010ffff]")  # arrows, symbols, pictographs, and other scripts' letters
_SECOND_PERSON = re.compile(r"\b(?:tu|t|te|toi|ta|ton|tes|vous|you|u|ur|your|youre|yourself)\b")
_MENTION = re.compile(r"(?<!\w)@\w")
_HASHTAG = re.compile(r"(?<!\w)#\w")

MAX_CHARS = 20_000
HATE_CATS = ("insult", "slur", "dehumanizing", "threat")
DENSE_FEATURES = (
    "insult",
    "slur",
    "dehumanizing",
    "threat",
    "sexual",
    "spam",
    "profanity",
    "ldnoobw",
    "target",
    "target_x_hostile",
    "target_x_dehumanizing",
    "neg_attribute",
    "target_x_neg_attribute",
    "identity_rule",
    "second_person",
    "second_person_x_insult",
    "url",
    "email",
    "phone",
    "money",
    "percent",
    "caps_ratio",
    "exclamations",
    "length",
    "digit_ratio",
    "emoji",
    "mentions",
    "hashtags",
    "positive",
    "negative",
    "negation",
    "negated_positive",
    "questions",
    "bias",
)


_GROUP_DETERMINERS = re.compile(
    r"(?:\b(?:les|des|ces|aux|tous|toutes|aucun|aucune|chaque|sales?|vos|nos|leurs|the|all|these|those|many|most|some|every|no|dirty|ils|elles)"
    r"(?: les| des| ces| de)?|\bd)\W+$"
)


def group_targets(text: str, targets: LexiconHits) -> int:
    """Identity terms used for a group (plural or after a determiner), not "ma femme"."""
    n = 0
    for start, end, *_ in targets.hits:
        word_end = end
        while word_end < len(text) and text[word_end].isalnum():
            word_end += 1
        if text[word_end - 1] in "sx" or _GROUP_DETERMINERS.search(text, max(0, start - 16), start):
            n += 1
    return n


def identity_rule(counts, n_targets: int) -> float:
    """Target-aware hate rule in [0, 1]: a slur, or an identity group named together with
    an insult, a dehumanising or negative attribute, or a threat."""
    if counts.get("slur", 0):
        return 0.9
    if n_targets and (counts.get("dehumanizing", 0) or counts.get("threat", 0)):
        return 0.85
    if n_targets and (counts.get("neg_attribute", 0) or counts.get("insult", 0)):
        return 0.7
    return 0.0


@dataclass(frozen=True, slots=True)
class FeatureConfig:
    word_bits: int = 18
    char_bits: int = 18
    char_ngrams: tuple[int, int] = (2, 5)
    dense_scale: float = 1.0
    # 1 + log(count) instead of the count: a word said five times is not five times the evidence.
    sublinear: bool = False

    @property
    def n_features(self) -> int:
        return (1 << self.word_bits) + (1 << self.char_bits) + len(DENSE_FEATURES)

    def as_dict(self) -> dict:
        return {
            "word_bits": self.word_bits,
            "char_bits": self.char_bits,
            "char_ngrams": list(self.char_ngrams),
            "dense_scale": self.dense_scale,
            "sublinear": self.sublinear,
        }

    @classmethod
    def from_dict(cls, d: dict) -> FeatureConfig:
        return cls(
            d["word_bits"],
            d["char_bits"],
            tuple(d["char_ngrams"]),
            d["dense_scale"],
            d.get("sublinear", False),
        )


@dataclass(slots=True)
class SparseRows:
    """Rows of a sparse matrix in CSR form (numpy only, so inference needs no scipy)."""

    indices: np.ndarray  # int64 column of every stored value
    values: np.ndarray  # float32
    indptr: np.ndarray  # row i holds [indptr[i], indptr[i+1])
    n_features: int

    def dot(self, W: np.ndarray) -> np.ndarray:
        """self @ W for a dense (n_features, k) matrix."""
        n_rows = len(self.indptr) - 1
        out = np.zeros((n_rows, W.shape[1]), dtype=np.float64)
        if len(self.indices):
            contrib = W[self.indices] * self.values[:, None]
            starts = self.indptr[:-1]
            nonempty = self.indptr[1:] > starts
            out[nonempty] = np.add.reduceat(contrib, starts[nonempty], axis=0)
        return out

    def to_scipy(self):
        import scipy.sparse as sp

        return sp.csr_matrix(
            (self.values, self.indices, self.indptr), shape=(len(self.indptr) - 1, self.n_features)
        )


_TOKEN = re.compile(r"\w+")


# The character n-gram columns kept of the words seen (``Featurizer._char_columns``).
CHAR_COLUMNS_KEPT = 1_000_000


def _hashed(grams: list[str], mask: int) -> list[int]:
    """Each n-gram's column: its CRC-32 (stable across runs and platforms) within ``mask``.
    Normalised text holds no surrogates, so strict UTF-8 encoding cannot fail."""
    return [crc & mask for crc in map(zlib.crc32, map(str.encode, grams))]


@dataclass(slots=True)
class Analysis:
    """What the featurizer saw in one text; kept for explanations."""

    hits: LexiconHits
    targets: LexiconHits
    dense: np.ndarray


class Featurizer:
    """``idf``: one weight per hashed column (inverse document frequency in the training texts,
    shipped with the model), applied before each block is L2-normalised; None = all ones."""

    def __init__(self, config: FeatureConfig, idf: np.ndarray | None = None):
        self.config = config
        self.idf = None if idf is None else np.asarray(idf, dtype=np.float64)
        self._word_mask = (1 << config.word_bits) - 1
        self._char_mask = (1 << config.char_bits) - 1
        self._char_offset = 1 << config.word_bits
        self._dense_offset = self._char_offset + (1 << config.char_bits)
        self._lexicon = load_lexicon("moderation")
        self._targets = load_lexicon("targets")
        self._polarity = load_lexicon("sentiment")
        self._chars_of: dict[str, array] = {}
        self._chars_kept = 0

    def analyse(self, text: str) -> Analysis:
        # Classifiers read the first MAX_CHARS characters; offsets stay those of the text.
        if isinstance(text, str) and len(text) > MAX_CHARS:
            text = text[:MAX_CHARS]
        norm = normalize(text)
        hits = self._lexicon.match(norm)
        targets = self._targets.match(norm)
        polarity = self._polarity.match(norm)
        return Analysis(hits, targets, self._dense(norm.original, norm.text, hits, targets, polarity))

    def _dense(
        self, original: str, s: str, hits: LexiconHits, targets: LexiconHits, polarity: LexiconHits
    ) -> np.ndarray:
        c = hits.counts
        pc = polarity.counts
        ldn = sum(1 for h in hits.hits if h[4].startswith("ldnoobw"))
        prof = c.get("profanity", 0) - ldn
        n_targets = group_targets(s, targets)
        hostile = sum(c.get(k, 0) for k in HATE_CATS)
        second = 1.0 if _SECOND_PERSON.search(s) else 0.0
        n = max(len(original), 1)
        head = original[:2000]
        # Character classes counted by the regex engine and str methods mapped in C: these loops
        # ran in Python per character and were a tenth of a decision's time.
        letters = _LETTER.findall(head)
        n_digits = len(_DIGIT.findall(head))
        caps = sum(map(str.isupper, letters)) / len(letters) if len(letters) >= 4 else 0.0
        emoji = sum(1 for ch in _HIGH_CHAR.findall(s) if not ch.isalnum())
        lg = math.log1p
        v = [
            lg(c.get("insult", 0)),
            lg(c.get("slur", 0)),
            lg(c.get("dehumanizing", 0)),
            lg(c.get("threat", 0)),
            lg(c.get("sexual", 0)),
            lg(c.get("spam", 0)),
            lg(prof),
            lg(ldn),
            lg(n_targets),
            float(n_targets > 0 and hostile > 0),
            float(n_targets > 0 and c.get("dehumanizing", 0) > 0),
            lg(c.get("neg_attribute", 0)),
            float(n_targets > 0 and c.get("neg_attribute", 0) > 0),
            identity_rule(c, n_targets),
            second,
            second * float(c.get("insult", 0) > 0),
            lg(len(_URL.findall(original))),
            # Cheap guards first: no address without "@", no phone number under four digits.
            float("@" in original and bool(_EMAIL.search(original))),
            float((n_digits >= 4 or len(original) > len(head)) and bool(_PHONE.search(original))),
            float(bool(_MONEY.search(original))),
            float(bool(_PERCENT.search(original))),
            caps,
            lg(original.count("!")),
            lg(len(s)) / 5.0,
            n_digits / n,
            lg(emoji),
            lg(len(_MENTION.findall(original))),
            lg(len(_HASHTAG.findall(original))),
            lg(pc.get("positive", 0)),
            lg(pc.get("negative", 0)),
            float(pc.get("negation", 0) > 0),
            float(pc.get("negation", 0) > 0 and pc.get("positive", 0) > 0),
            lg(original.count("?")),
            1.0,
        ]
        return np.asarray(v, dtype=np.float32) * self.config.dense_scale

    @staticmethod
    def _word_grams(text: str) -> list[str]:
        """Word 1-2-grams."""
        words = _TOKEN.findall(text)
        return words + [f"{a} {b}" for a, b in zip(words, words[1:], strict=False)]

    def _word_chars(self, word: str) -> list[str]:
        """A word's character n-grams (padded by spaces)."""
        lo, hi = self.config.char_ngrams
        w = f" {word} "
        n_w = len(w)
        return [w[i : i + n] for n in range(lo, min(hi, n_w) + 1) for i in range(n_w - n + 1)]

    def _char_columns(self, text: str, into: array) -> int:
        """Append the hashed columns of the text's character n-grams, word by word, to ``into``;
        return how many. Words repeat across texts: the columns of those seen are kept (words of
        at most 20 characters, up to a million columns, 8 MB: odd input cannot grow it, it starts
        again empty)."""
        before = len(into)
        for word in text.split():
            found = self._chars_of.get(word)
            if found is None:
                found = array("q", _hashed(self._word_chars(word), self._char_mask))
                if len(word) <= 20:
                    if self._chars_kept > CHAR_COLUMNS_KEPT:
                        self._chars_of.clear()
                        self._chars_kept = 0
                    self._chars_of[word] = found
                    self._chars_kept += len(found)
            into.extend(found)
        return len(into) - before

    def _block(self, hashed: np.ndarray, lengths: list[int], mask: int, offset: int):
        """Counts per row of the hashed columns (``hashed``: each row's, in turn), L2-normalised
        per row. Vectorised over the whole batch."""
        n_rows = len(lengths)
        if not len(hashed):
            return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.float64)
        rows = np.repeat(np.arange(n_rows, dtype=np.int64), lengths)
        keys, counts = np.unique(rows * (mask + 1) + hashed, return_counts=True)
        r = keys // (mask + 1)
        cols = keys % (mask + 1) + offset
        c = counts.astype(np.float64)
        if self.config.sublinear:
            c = 1.0 + np.log(c)
        if self.idf is not None:
            c *= self.idf[cols]
        norms = np.sqrt(np.bincount(r, weights=c * c, minlength=n_rows))
        return r, cols, c / norms[r]

    def transform(self, texts: list[str]) -> tuple[SparseRows, list[Analysis]]:
        analyses = [self.analyse(t) for t in texts]
        n = len(analyses)
        words: list[str] = []
        chars = array("q")
        n_words: list[int] = []
        n_chars: list[int] = []
        for a in analyses:
            w = self._word_grams(a.hits.normalized.text)
            words += w
            n_words.append(len(w))
            n_chars.append(self._char_columns(a.hits.normalized.text, chars))
        hashed_words = np.fromiter(_hashed(words, self._word_mask), dtype=np.int64, count=len(words))
        wr, wc, wv = self._block(hashed_words, n_words, self._word_mask, 0)
        hashed_chars = np.frombuffer(chars, dtype=np.int64)
        cr, cc, cv = self._block(hashed_chars, n_chars, self._char_mask, self._char_offset)
        n_dense = len(DENSE_FEATURES)
        dense = np.vstack([a.dense for a in analyses]) if analyses else np.zeros((0, n_dense), np.float32)
        dr = np.repeat(np.arange(n, dtype=np.int64), n_dense)
        dc = np.tile(np.arange(self._dense_offset, self._dense_offset + n_dense, dtype=np.int64), n)
        rows = np.concatenate([wr, cr, dr])
        order = np.argsort(rows, kind="stable")
        indptr = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(np.bincount(rows, minlength=n), out=indptr[1:])
        sparse = SparseRows(
            np.concatenate([wc, cc, dc])[order],
            np.concatenate([wv, cv, dense.ravel()]).astype(np.float32)[order],
            indptr,
            self.config.n_features,
        )
        return sparse, analyses
