"""Fast VADER scorers that reproduce two reference implementations exactly (private).

Two rule sets are implemented, each a line-by-line port of its reference:

- ``"vader"``: ``vaderSentiment.vaderSentiment.SentimentIntensityAnalyzer`` 3.3.2
  (C.J. Hutto's maintained package; MIT licence);
- ``"nltk"``: ``nltk.sentiment.vader.SentimentIntensityAnalyzer`` in NLTK 3.10
  (Apache 2.0 licence).

Both use the VADER lexicon shipped inside the ``vaderSentiment`` package (NLTK's own copy lives in
``nltk_data``, which cannot be downloaded here; the two files have the same 7,506 entries).

The scores are the same four numbers, bit for bit (``==``, not approximately), because every
floating-point operation is performed in the same order as in the reference. What is faster:

* tokenisation: each whitespace token is normalised once and cached with everything the rules ask
  about it (lower case, capitals, valence, booster, negation, rule word, phrase word; see
  :func:`_info_maker`), instead of building every word+punctuation combination of the text
  (NLTK) or lower-casing the whole token list once per word and rule (vaderSentiment);
* only tokens that carry a lexicon valence are examined; a text without one is neutral at once;
* a sentiment word with no booster, negation or rule word among the three words before it takes
  its lexicon valence (and the capitals rule) directly: every other rule would add 0.0 to it;
* idiom and booster-phrase checks build their strings only when two neighbouring words can start
  a phrase (a first word followed by a second word of some phrase);
* the final arithmetic (punctuation emphasis, normalisation, proportions, rounding) runs in numpy
  for a whole batch with the same IEEE operations, and Python's own ``round`` where numpy's could
  differ (:func:`_round_exact`);
* no per-call set-up: lexicon, rule tables and caches are built once per scorer.

The sum of a text's valences is still Python's ``sum`` over the same values in the same order as
the reference's (zeros, whatever their type, change nothing), so its result -- which depends on
the Python version: 3.12 added compensated summation -- is the reference's on any Python.

Deduplication of repeated texts and the use of several processes live in
:mod:`journeylab.sentiment`.

Quirks of the references that are reproduced on purpose (tests pin each one):

* NLTK drops tokens of one character and strips punctuation only for the 17 forms of its
  ``PUNC_LIST`` (``good!`` -> ``good`` but ``good!?`` stays ``good!?``); vaderSentiment strips
  any leading/trailing ASCII punctuation unless two characters or fewer would be left.
* NLTK scores a repeated token (case-sensitive) in the context of its *first* occurrence.
* vaderSentiment's ``but`` rule finds each value's position with ``list.index`` (so equal
  valences can be scaled twice at the first position and not at a later one).
* vaderSentiment treats ``no`` before a lexicon word as a negator and replaces emoji by their
  descriptions (``😁`` -> ``beaming face with smiling eyes``); NLTK does neither.
* NLTK's ``never so/this`` at distance two multiplies by 1.5 (vaderSentiment 1.25); NLTK compares
  ``never``/``so``/``this`` and idioms case-sensitively; their booster lists and idiom lists differ.
"""
from __future__ import annotations

import math
import os
import re
import string
from functools import lru_cache
from itertools import compress
from operator import itemgetter

import numpy as np
import vaderSentiment
from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer as VaderAnalyzer

B_INCR = 0.293
B_DECR = -0.293
C_INCR = 0.733
N_SCALAR = -0.74

# Identical in both references (a list in vaderSentiment, a set in NLTK).
NEGATE = frozenset([
    "aint", "arent", "cannot", "cant", "couldnt", "darent", "didnt", "doesnt",
    "ain't", "aren't", "can't", "couldn't", "daren't", "didn't", "doesn't",
    "dont", "hadnt", "hasnt", "havent", "isnt", "mightnt", "mustnt", "neither",
    "don't", "hadn't", "hasn't", "haven't", "isn't", "mightn't", "mustn't",
    "neednt", "needn't", "never", "none", "nope", "nor", "not", "nothing", "nowhere",
    "oughtnt", "shant", "shouldnt", "uhuh", "wasnt", "werent",
    "oughtn't", "shan't", "shouldn't", "uh-uh", "wasn't", "weren't",
    "without", "wont", "wouldnt", "won't", "wouldn't", "rarely", "seldom", "despite",
])

_NLTK_BOOST_UP = (
    "absolutely amazingly awfully completely considerably decidedly deeply effing enormously "
    "entirely especially exceptionally extremely fabulously flipping flippin fricking frickin "
    "frigging friggin fully fucking greatly hella highly hugely incredibly intensely majorly more "
    "most particularly purely quite really remarkably so substantially thoroughly totally "
    "tremendously uber unbelievably unusually utterly very"
).split()
_NLTK_BOOST_DOWN = (
    "almost barely hardly kinda kindof kind-of less little marginally occasionally partly "
    "scarcely slightly somewhat sorta sortof sort-of"
).split() + ["just enough", "kind of", "sort of"]
NLTK_BOOSTER = {**{w: B_INCR for w in _NLTK_BOOST_UP}, **{w: B_DECR for w in _NLTK_BOOST_DOWN}}

_VADER_EXTRA_UP = (
    "considerable enormous exceptional extreme frackin fracking fuckin fuggin fugging incredible "
    "major total tremendous utter"
).split()
_VADER_EXTRA_DOWN = "marginal occasional scarce slight".split()
VADER_BOOSTER = {**NLTK_BOOSTER, **{w: B_INCR for w in _VADER_EXTRA_UP},
                 **{w: B_DECR for w in _VADER_EXTRA_DOWN}}

NLTK_SPECIAL = {"the shit": 3, "the bomb": 3, "bad ass": 1.5, "yeah right": -2,
                "cut the mustard": 2, "kiss of death": -1.5, "hand to mouth": -2}
VADER_SPECIAL = {"the shit": 3, "the bomb": 3, "bad ass": 1.5, "badass": 1.5, "bus stop": 0.0,
                 "yeah right": -2, "kiss of death": -1.5, "to die for": 3, "beating heart": 3.5}

NLTK_PUNC_LIST = frozenset([".", "!", "?", ",", ";", ":", "-", "'", '"', "!!", "!!!", "??", "???",
                            "?!?", "!?!", "?!?!", "!?!?"])

_PUNCT = string.punctuation
_PUNCT_SET = frozenset(_PUNCT)

RULES = ("vader", "nltk")

# index of each field in a token's info tuple
_NORM, _LOWER, _UPPER, _LEX, _BOOST, _NEG, _CAND, _INERT, _PLAIN, _FIRST, _SECOND = range(11)

# Words that take part in a rule about a neighbouring word (besides boosters and negations).
_RULE_WORDS = frozenset({"no", "least", "so", "this", "never", "without", "doubt", "or", "nor", "kind", "but"})

# Cached token infos are dropped when a scorer has seen this many distinct tokens (memory bound).
_CACHE_LIMIT = 2_000_000


# ----------------------------------------------------------------------------- resources


def resource_dir() -> str:
    """Folder of the installed ``vaderSentiment`` package (holds both lexicon files)."""
    return os.path.dirname(os.path.abspath(vaderSentiment.__file__))


@lru_cache(maxsize=None)
def base_lexicon() -> dict:
    """The VADER lexicon (term -> mean valence), parsed as vaderSentiment parses it."""
    path = os.path.join(resource_dir(), "vader_lexicon.txt")
    with open(path, encoding="utf-8") as fh:
        text = fh.read()
    lex = {}
    for line in text.rstrip("\n").split("\n"):
        if not line:
            continue
        word, measure = line.strip().split("\t")[0:2]
        lex[word] = float(measure)
    return lex


@lru_cache(maxsize=None)
def emoji_lexicon() -> dict:
    """Emoji -> textual description, parsed as vaderSentiment parses it."""
    path = os.path.join(resource_dir(), "emoji_utf8_lexicon.txt")
    with open(path, encoding="utf-8") as fh:
        text = fh.read()
    out = {}
    for line in text.rstrip("\n").split("\n"):
        emoji, description = line.strip().split("\t")[0:2]
        out[emoji] = description
    return out


def reference_analyzer(rules: str, lexicon: dict | None = None):
    """A reference analyzer (``polarity_scores``), with ``lexicon`` terms added or overridden.

    Used by the tests and the benchmark; never by :func:`journeylab.sentiment` itself.
    """
    folder = resource_dir()
    if rules == "vader":
        analyzer = VaderAnalyzer()
    elif rules == "nltk":
        # lazy: nltk adds ~2.3 s to `import journeylab` (measured; docs/architecture.md)
        import nltk.data
        from nltk.sentiment.vader import SentimentIntensityAnalyzer

        if folder not in nltk.data.path:
            nltk.data.path.append(folder)
        analyzer = SentimentIntensityAnalyzer(
            lexicon_file="file:" + os.path.join(folder, "vader_lexicon.txt"))
    else:  # pragma: no cover - callers validate
        raise ValueError(rules)
    if lexicon:
        analyzer.lexicon.update(lexicon)
    return analyzer


# ----------------------------------------------------------------------------- scorers


class Scorer:
    """Scores texts with one rule set and one lexicon.

    ``score(text) -> (neg, neu, pos, compound)`` for one text; ``score_many(texts)`` returns an
    ``(n, 4)`` float array and does the final arithmetic for all texts at once with numpy (the
    same IEEE operations, see :func:`_finish_many`). Instances are cheap to call and expensive to
    build (about 10 ms): build one per engine and lexicon. Pickles as its arguments (for worker
    processes).
    """

    def __init__(self, rules: str = "vader", overrides: dict | None = None):
        if rules not in RULES:
            raise ValueError(f"rules must be one of {RULES}, got {rules!r}")
        self.rules = rules
        self.overrides = dict(overrides or {})
        lexicon = dict(base_lexicon())
        lexicon.update(self.overrides)
        self.lexicon = lexicon
        self.clip = rules == "vader"  # vaderSentiment clips compound to [-1, 1]; NLTK does not
        if rules == "vader":
            self.raw = _vader_scorer(lexicon, emoji_lexicon())
        else:
            self.raw = _nltk_scorer(lexicon)

    def __reduce__(self):
        return (Scorer, (self.rules, self.overrides))

    def tokens(self, text: str) -> list:
        """The words the reference scores, normalised as it does (emoji replaced by their
        descriptions and punctuation stripped for ``vader``; one-letter tokens dropped and
        ``PUNC_LIST`` forms stripped for ``nltk``)."""
        if self.rules == "vader":
            if not text.isascii():
                text = _demoji(text, emoji_lexicon())
            return [_vader_norm(t) for t in text.split()]
        return [_nltk_map(t) for t in text.split() if len(t) > 1]

    def score(self, text: str) -> tuple:
        """``(neg, neu, pos, compound)`` of one text, as the reference's ``polarity_scores``."""
        return _finish_one(self.raw(text), self.clip)

    def score_many(self, texts) -> "np.ndarray":
        """``(n, 4)`` array of ``(neg, neu, pos, compound)``, one row per text."""
        raw = self.raw
        return _finish_many(np.array([raw(t) for t in texts], dtype=float).reshape(-1, 6), self.clip)


# What a scorer's ``raw`` returns: (sum_s, pos_sum, neg_sum, neu_count, ep_count, qm_count), the
# inputs of the references' score_valence; neu_count = -1 marks a text without tokens (the
# references return all zeros for it).
_RAW_EMPTY = (0.0, 0.0, 0.0, -1, 0, 0)
_DROPPED = ("", "", False, None, None, False, False, True, False, False, False)  # a token NLTK ignores (one character)
_cand_of = itemgetter(_CAND)
_upper_of = itemgetter(_UPPER)
_lower_of = itemgetter(_LOWER)


def _sift(sent: list, cands: list, n: int, text: str) -> tuple:
    """The sum of all sentiments and ``_sift_sentiment_scores``. Every non-zero sentiment is at a
    candidate position, so only those are visited (zeros add nothing and count as neutral)."""
    pos_sum = 0.0
    neg_sum = 0.0
    nonzero = 0
    for i in cands:
        s = sent[i]
        if s > 0:
            pos_sum += (float(s) + 1)
            nonzero += 1
        elif s < 0:
            neg_sum += (float(s) - 1)
            nonzero += 1
    return (float(sum(sent)), pos_sum, neg_sum, n - nonzero, text.count("!"), text.count("?"))


def _finish_one(raw: tuple, clip: bool) -> tuple:
    """``score_valence`` of both references, for one text, operation by operation."""
    sum_s, pos_sum, neg_sum, neu_count, ep_count, qm_count = raw
    if neu_count < 0:
        return (0.0, 0.0, 0.0, 0.0)
    neu_count = int(neu_count)
    ep_count = min(int(ep_count), 4)
    ep_amplifier = ep_count * 0.292
    qm_count = int(qm_count)
    qm_amplifier = 0
    if qm_count > 1:
        if qm_count <= 3:
            qm_amplifier = qm_count * 0.18
        else:
            qm_amplifier = 0.96
    punct = ep_amplifier + qm_amplifier
    if sum_s > 0:
        sum_s += punct
    elif sum_s < 0:
        sum_s -= punct
    compound = sum_s / math.sqrt((sum_s * sum_s) + 15)
    if clip:
        if compound < -1.0:
            compound = -1.0
        elif compound > 1.0:
            compound = 1.0
    fneg = math.fabs(neg_sum)
    if pos_sum > fneg:
        pos_sum += punct
    elif pos_sum < fneg:
        neg_sum -= punct
    total = pos_sum + math.fabs(neg_sum) + neu_count
    return (round(math.fabs(neg_sum / total), 3), round(math.fabs(neu_count / total), 3),
            round(math.fabs(pos_sum / total), 3), round(compound, 4))


def _round_exact(x: np.ndarray, digits: int) -> np.ndarray:
    """Python's ``round(x, digits)`` for every element.

    ``rint(x * 10**d) / 10**d`` is the nearest double to ``k / 10**d`` with ``k`` the nearest
    integer to ``x * 10**d``, which is what Python returns (it rounds the exact binary value to
    ``d`` decimals, half to even, and converts back correctly rounded) -- unless ``x * 10**d`` lies
    so close to a half-integer that the multiplication's rounding error could move it across.
    Those few elements are rounded by Python itself.
    """
    scale = 10.0 ** digits
    y = x * scale
    out = np.rint(y) / scale
    near = np.flatnonzero(np.abs(y - np.floor(y) - 0.5) < 1e-6)
    for i in near:
        out[i] = round(float(x[i]), digits)
    return out


def _finish_many(raw: np.ndarray, clip: bool) -> np.ndarray:
    """:func:`_finish_one` on an ``(n, 6)`` array of raw sums: the same IEEE operations in the same
    order, element-wise (numpy's +, -, *, / and sqrt are correctly rounded, like Python's), then
    :func:`_round_exact`. Returns ``(n, 4)``: neg, neu, pos, compound."""
    out = np.zeros((len(raw), 4))
    if not len(raw):
        return out
    sum_s, neu_count = raw[:, 0], raw[:, 3]
    pos_sum, neg_sum = raw[:, 1].copy(), raw[:, 2].copy()
    ep_amp = np.minimum(raw[:, 4], 4) * 0.292
    qm = raw[:, 5]
    qm_amp = np.where(qm > 1, np.where(qm <= 3, qm * 0.18, 0.96), 0.0)
    punct = ep_amp + qm_amp
    s = np.where(sum_s > 0, sum_s + punct, np.where(sum_s < 0, sum_s - punct, sum_s))
    compound = s / np.sqrt((s * s) + 15)
    if clip:
        compound = np.clip(compound, -1.0, 1.0)
    fneg = np.abs(neg_sum)
    up = pos_sum > fneg
    down = pos_sum < fneg
    pos_sum[up] = pos_sum[up] + punct[up]
    neg_sum[down] = neg_sum[down] - punct[down]
    with np.errstate(invalid="ignore", divide="ignore"):
        total = pos_sum + np.abs(neg_sum) + neu_count
        out[:, 0] = _round_exact(np.abs(neg_sum / total), 3)
        out[:, 1] = _round_exact(np.abs(neu_count / total), 3)
        out[:, 2] = _round_exact(np.abs(pos_sum / total), 3)
        out[:, 3] = _round_exact(compound, 4)
    out[neu_count < 0] = 0.0
    return out


_non_ascii = re.compile(r"[^\x00-\x7f]").finditer


def _demoji(text: str, emojis: dict) -> str:
    """vaderSentiment's emoji loop: a description replaces the character, preceded by a space
    unless it starts the text or follows a " " (the previous *character*: after an emoji,
    prev_space is False, so consecutive emoji are separated by spaces). Emoji are all non-ASCII,
    so only non-ASCII characters are looked at."""
    parts = []
    pos = 0
    for m in _non_ascii(text):
        start = m.start()
        desc = emojis.get(text[start])
        if desc is None:
            continue
        parts.append(text[pos:start])
        parts.append(desc if start == 0 or text[start - 1] == " " else " " + desc)
        pos = start + 1
    if not parts:
        return text
    parts.append(text[pos:])
    return "".join(parts)


def _vader_norm(tok: str) -> str:
    """vaderSentiment's ``SentiText._strip_punc_if_word``."""
    stripped = tok.strip(_PUNCT)
    return tok if len(stripped) <= 2 else stripped


def _follow(phrases) -> dict:
    """first word -> set of second words, over the phrases of several words. A sequence of tokens
    "a b ..." can equal a phrase only if (a, b) is such a pair (tokens hold no spaces)."""
    out: dict = {}
    for p in phrases:
        words = p.split(" ")
        if len(words) > 1:
            out.setdefault(words[0], set()).add(words[1])
    return {k: frozenset(v) for k, v in out.items()}


def _second_words(*phrase_sets) -> frozenset:
    """Second words of the phrases of several words."""
    return frozenset(w for phrases in phrase_sets for words in _follow(phrases).values() for w in words)


def _first_words(*phrase_sets) -> frozenset:
    """First words of the phrases of several words."""
    return frozenset(w for phrases in phrase_sets for w in _follow(phrases))


def _info_maker(lexicon: dict, booster: dict, first_words: frozenset, second_words: frozenset, cache: dict,
                norm_of):
    """The per-token record, cached by raw token:

    ``(norm, lower, isupper, valence or None, booster or None, negation, candidate, inert, plain,
    first, second)`` -- *candidate*: scored (in the lexicon, not a booster); *inert*: no rule looks
    at it when it precedes a candidate (not a booster, not a negation, not a rule word such as
    "no", "least", "so"); *plain*: a candidate that is not itself a rule word; *first*/*second*: it
    may be the first/second word of an idiom or a booster phrase. Two neighbours can start a phrase
    only if the first is *first* and the second *second*; the idiom checks run only then.
    """
    lex_get = lexicon.get
    boost_get = booster.get

    def info(tok):
        norm = norm_of(tok)
        low = norm.lower()
        lv = lex_get(low)
        b = boost_get(low)
        neg = low in NEGATE or "n't" in low
        cand = lv is not None and b is None
        rule = low in _RULE_WORDS
        inf = (norm, low, norm.isupper(), lv, b, neg, cand, b is None and not neg and not rule, cand and not rule,
               low in first_words, low in second_words)
        if len(cache) >= _CACHE_LIMIT:
            cache.clear()
        cache[tok] = inf
        return inf

    return info


def _vader_scorer(lexicon: dict, emojis: dict):
    """The raw sums of vaderSentiment 3.3.2's ``polarity_scores`` (see :func:`_sift`)."""
    cache: dict = {}
    get = cache.get
    special = VADER_SPECIAL
    booster = VADER_BOOSTER
    follow = _follow(special).get
    bfollow = _follow(booster).get
    info = _info_maker(lexicon, booster, _first_words(special, booster), _second_words(special, booster), cache,
                       _vader_norm)

    def idioms(valence, i, lowers, last):
        # _special_idioms_check; each sequence can match only if its first two words are a
        # phrase's first two words (the gates), so the strings are built only then.
        low, l1, l2, l3 = lowers[i], lowers[i - 1], lowers[i - 2], lowers[i - 3]
        a, b, c, d = follow(l1), follow(l2), follow(l3), follow(low)
        if (a and low in a) or (b and l1 in b) or (c and l2 in c) or (d and last > i and lowers[i + 1] in d):
            for seq in (f"{l1} {low}", f"{l2} {l1} {low}", f"{l2} {l1}", f"{l3} {l2} {l1}", f"{l3} {l2}"):
                if seq in special:
                    valence = special[seq]
                    break
            if last > i:
                seq = f"{low} {lowers[i + 1]}"
                if seq in special:
                    valence = special[seq]
            if last > i + 1:
                seq = f"{low} {lowers[i + 1]} {lowers[i + 2]}"
                if seq in special:
                    valence = special[seq]
        c, b = bfollow(l3), bfollow(l2)
        if (c and l2 in c) or (b and l1 in b):
            for seq in (f"{l3} {l2} {l1}", f"{l3} {l2}", f"{l2} {l1}"):
                if seq in booster:
                    valence = valence + booster[seq]
        return valence

    def score(text):
        # emoji are all non-ASCII; str.isascii() is O(1)
        if not text.isascii():
            text = _demoji(text, emojis)
        # (the reference strips the text here; neither split() nor the !/? counts depend on it)
        toks = text.split()
        n = len(toks)
        if not n:
            return _RAW_EMPTY
        infos = list(map(get, toks))
        if None in infos:
            infos = [x or info(t) for x, t in zip(infos, toks)]
        cands = list(compress(range(n), map(_cand_of, infos)))
        if not cands:
            return (0.0, 0.0, 0.0, n, 0, 0)
        n_up = sum(map(_upper_of, infos))
        cap_diff = 0 < n - n_up < n
        lowers = list(map(_lower_of, infos))
        sent = [0] * n
        last = n - 1
        for i in cands:
            inf = infos[i]
            if inf[8] and (i < 1 or infos[i - 1][7]) and (i < 2 or infos[i - 2][7]) and (i < 3 or infos[i - 3][7]):
                # Fast path: no rule word, booster or negation among the three words before, so
                # every rule but capitals and idioms leaves the valence as it is (adding 0.0).
                valence = inf[3]
                if inf[2] and cap_diff:
                    if valence > 0:
                        valence += C_INCR
                    else:
                        valence -= C_INCR
                if i > 2:
                    p1, p2, p3 = infos[i - 1], infos[i - 2], infos[i - 3]
                    if p3[3] is None and ((p1[9] and inf[10]) or (p2[9] and p1[10]) or (p3[9] and p2[10])
                                          or (inf[9] and i < last and infos[i + 1][10])):
                        valence = idioms(valence, i, lowers, last)
                sent[i] = valence
                continue
            low = inf[1]
            if low == "kind" and i < last and lowers[i + 1] == "of":
                continue
            lexval = inf[3]
            valence = lexval
            # "no" as a negator of the next lexicon word, not a word of its own
            if low == "no" and i != last and infos[i + 1][3] is not None:
                valence = 0.0
            if (i > 0 and lowers[i - 1] == "no") or (i > 1 and lowers[i - 2] == "no") \
                    or (i > 2 and lowers[i - 3] == "no" and lowers[i - 1] in ("or", "nor")):
                valence = lexval * N_SCALAR
            if inf[2] and cap_diff:
                if valence > 0:
                    valence += C_INCR
                else:
                    valence -= C_INCR
            # start_i = 0
            if i > 0:
                p = infos[i - 1]
                if p[3] is None:
                    s = 0.0
                    b = p[4]
                    if b is not None:
                        s = b
                        if valence < 0:
                            s *= -1
                        if p[2] and cap_diff:
                            if valence > 0:
                                s += C_INCR
                            else:
                                s -= C_INCR
                    valence = valence + s
                    if p[5]:
                        valence = valence * N_SCALAR
            # start_i = 1
            if i > 1:
                p = infos[i - 2]
                if p[3] is None:
                    s = 0.0
                    b = p[4]
                    if b is not None:
                        s = b
                        if valence < 0:
                            s *= -1
                        if p[2] and cap_diff:
                            if valence > 0:
                                s += C_INCR
                            else:
                                s -= C_INCR
                        if s != 0:
                            s = s * 0.95
                    valence = valence + s
                    l2 = p[1]
                    l1 = lowers[i - 1]
                    if l2 == "never" and (l1 == "so" or l1 == "this"):
                        valence = valence * 1.25
                    elif l2 == "without" and l1 == "doubt":
                        pass
                    elif p[5]:
                        valence = valence * N_SCALAR
            # start_i = 2
            if i > 2:
                p = infos[i - 3]
                if p[3] is None:
                    s = 0.0
                    b = p[4]
                    if b is not None:
                        s = b
                        if valence < 0:
                            s *= -1
                        if p[2] and cap_diff:
                            if valence > 0:
                                s += C_INCR
                            else:
                                s -= C_INCR
                        if s != 0:
                            s = s * 0.9
                    valence = valence + s
                    l3 = p[1]
                    l2 = lowers[i - 2]
                    l1 = lowers[i - 1]
                    if l3 == "never" and (l2 == "so" or l2 == "this") or (l1 == "so" or l1 == "this"):
                        valence = valence * 1.25
                    elif l3 == "without" and (l2 == "doubt" or l1 == "doubt"):
                        pass
                    elif p[5]:
                        valence = valence * N_SCALAR
                    p1, p2 = infos[i - 1], infos[i - 2]
                    if (p1[9] and inf[10]) or (p2[9] and p1[10]) or (p[9] and p2[10]) \
                            or (inf[9] and i < last and infos[i + 1][10]):
                        valence = idioms(valence, i, lowers, last)
            # _least_check
            if i > 1 and infos[i - 1][3] is None and lowers[i - 1] == "least":
                if lowers[i - 2] != "at" and lowers[i - 2] != "very":
                    valence = valence * N_SCALAR
            elif i > 0 and infos[i - 1][3] is None and lowers[i - 1] == "least":
                valence = valence * N_SCALAR
            sent[i] = valence
        if "but" in lowers:
            # _but_check, including its list.index lookup; zero entries are skipped because
            # rescaling a zero leaves it zero, which no later step can tell apart.
            bi = lowers.index("but")
            index = sent.index
            for k in cands:
                v = sent[k]
                if not v:
                    continue
                si = index(v)
                if si < bi:
                    sent[si] = v * 0.5
                elif si > bi:
                    sent[si] = v * 1.5
        return _sift(sent, cands, n, text)

    return score


def _nltk_map(tok: str) -> str:
    """NLTK's word+punctuation mapping for one token (``SentiText._words_and_emoticons``).

    NLTK maps ``p + w`` and ``w + p`` to ``w`` when ``p`` is in ``PUNC_LIST`` and ``w`` is a word of
    the text with its ASCII punctuation removed, longer than one character. Since ``w`` has no
    punctuation, this is a property of the token alone: a leading (or trailing) run of
    punctuation in ``PUNC_LIST`` and a remainder of two or more characters without punctuation.
    """
    n = len(tok)
    a = 0
    while a < n and tok[a] in _PUNCT_SET:
        a += 1
    if a == n:
        return tok
    b = n
    while tok[b - 1] in _PUNCT_SET:
        b -= 1
    if (a == 0) == (b == n):  # no punctuation at either end, or at both ends
        return tok
    core = tok[a:b]
    if len(core) <= 1 or any(c in _PUNCT_SET for c in core):
        return tok
    affix = tok[:a] if a else tok[b:]
    return core if affix in NLTK_PUNC_LIST else tok


def _nltk_scorer(lexicon: dict):
    """The raw sums of NLTK 3.10's ``SentimentIntensityAnalyzer.polarity_scores``."""
    cache: dict = {}
    get = cache.get
    special = NLTK_SPECIAL
    booster = NLTK_BOOSTER
    follow = _follow(special).get
    bfollow = _follow(booster).get
    # NLTK compares idioms case-sensitively; flagging by lower case only sends more words down
    # the gated check, which is always exact.
    make_info = _info_maker(lexicon, booster, _first_words(special, booster), _second_words(special, booster), cache,
                            _nltk_map)

    def info(tok):
        if len(tok) <= 1:  # NLTK drops one-character tokens
            cache[tok] = _DROPPED
            return _DROPPED
        return make_info(tok)

    def idioms(valence, i, infos, n):
        # _idioms_check (case-sensitive words), gated like the vader rules' check
        w0, w1, w2, w3 = infos[i][0], infos[i - 1][0], infos[i - 2][0], infos[i - 3][0]
        a, b, c, d = follow(w1), follow(w2), follow(w3), follow(w0)
        if (a and w0 in a) or (b and w1 in b) or (c and w2 in c) or (d and n - 1 > i and infos[i + 1][0] in d):
            for seq in (f"{w1} {w0}", f"{w2} {w1} {w0}", f"{w2} {w1}", f"{w3} {w2} {w1}", f"{w3} {w2}"):
                if seq in special:
                    valence = special[seq]
                    break
            if n - 1 > i:
                seq = f"{w0} {infos[i + 1][0]}"
                if seq in special:
                    valence = special[seq]
            if n - 1 > i + 1:
                seq = f"{w0} {infos[i + 1][0]} {infos[i + 2][0]}"
                if seq in special:
                    valence = special[seq]
        c, b = bfollow(w3), bfollow(w2)
        if ((c and w2 in c) or (b and w1 in b)) and (f"{w3} {w2}" in booster or f"{w2} {w1}" in booster):
            valence = valence + B_DECR
        return valence

    def valence_at(i, infos, lowers, n, cap_diff):
        inf = infos[i]
        if inf[8] and (i < 1 or infos[i - 1][7]) and (i < 2 or infos[i - 2][7]) and (i < 3 or infos[i - 3][7]):
            # fast path, as in the vader rules
            valence = inf[3]
            if inf[2] and cap_diff:
                if valence > 0:
                    valence += C_INCR
                else:
                    valence -= C_INCR
            if i > 2:
                p1, p2, p3 = infos[i - 1], infos[i - 2], infos[i - 3]
                if p3[3] is None and ((p1[9] and inf[10]) or (p2[9] and p1[10]) or (p3[9] and p2[10])
                                      or (inf[9] and i < n - 1 and infos[i + 1][10])):
                    valence = idioms(valence, i, infos, n)
            return valence
        low = inf[1]
        if i < n - 1 and low == "kind" and lowers[i + 1] == "of":
            return 0
        valence = inf[3]
        if inf[2] and cap_diff:
            if valence > 0:
                valence += C_INCR
            else:
                valence -= C_INCR
        # start_i = 0
        if i > 0:
            p = infos[i - 1]
            if p[3] is None:
                s = 0.0
                b = p[4]
                if b is not None:
                    s = b
                    if valence < 0:
                        s *= -1
                    if p[2] and cap_diff:
                        if valence > 0:
                            s += C_INCR
                        else:
                            s -= C_INCR
                valence = valence + s
                if p[5]:
                    valence = valence * N_SCALAR
        # start_i = 1 (case-sensitive "never so/this", factor 1.5)
        if i > 1:
            p = infos[i - 2]
            if p[3] is None:
                s = 0.0
                b = p[4]
                if b is not None:
                    s = b
                    if valence < 0:
                        s *= -1
                    if p[2] and cap_diff:
                        if valence > 0:
                            s += C_INCR
                        else:
                            s -= C_INCR
                    if s != 0:
                        s = s * 0.95
                valence = valence + s
                w1 = infos[i - 1][0]
                if p[0] == "never" and (w1 == "so" or w1 == "this"):
                    valence = valence * 1.5
                elif p[5]:
                    valence = valence * N_SCALAR
        # start_i = 2
        if i > 2:
            p = infos[i - 3]
            if p[3] is None:
                s = 0.0
                b = p[4]
                if b is not None:
                    s = b
                    if valence < 0:
                        s *= -1
                    if p[2] and cap_diff:
                        if valence > 0:
                            s += C_INCR
                        else:
                            s -= C_INCR
                    if s != 0:
                        s = s * 0.9
                valence = valence + s
                w3 = p[0]
                w2 = infos[i - 2][0]
                w1 = infos[i - 1][0]
                if w3 == "never" and (w2 == "so" or w2 == "this") or (w1 == "so" or w1 == "this"):
                    valence = valence * 1.25
                elif p[5]:
                    valence = valence * N_SCALAR
                p1, p2 = infos[i - 1], infos[i - 2]
                if (p1[9] and inf[10]) or (p2[9] and p1[10]) or (p[9] and p2[10]) \
                        or (inf[9] and i < n - 1 and infos[i + 1][10]):
                    valence = idioms(valence, i, infos, n)
        # _least_check
        if i > 1 and infos[i - 1][3] is None and lowers[i - 1] == "least":
            if lowers[i - 2] != "at" and lowers[i - 2] != "very":
                valence = valence * N_SCALAR
        elif i > 0 and infos[i - 1][3] is None and lowers[i - 1] == "least":
            valence = valence * N_SCALAR
        return valence

    def score(text):
        infos = list(map(get, text.split()))
        if None in infos:
            infos = [x or info(t) for x, t in zip(infos, text.split())]
        if _DROPPED in infos:
            infos = [x for x in infos if x is not _DROPPED]
        n = len(infos)
        if not n:
            return _RAW_EMPTY
        cands = list(compress(range(n), map(_cand_of, infos)))
        if not cands:
            return (0.0, 0.0, 0.0, n, 0, 0)
        n_up = sum(map(_upper_of, infos))
        cap_diff = 0 < n - n_up < n
        lowers = list(map(_lower_of, infos))
        sent = [0] * n
        # a repeated token is scored in the context of its first occurrence (NLTK's first_index)
        first: dict = {}
        for j in cands:
            inf = infos[j]
            norm = inf[0]
            if norm in first:
                sent[j] = first[norm]
            elif inf[8] and (j < 1 or infos[j - 1][7]) and (j < 2 or infos[j - 2][7]) and (j < 3 or infos[j - 3][7]):
                # valence_at's fast path, inlined
                valence = inf[3]
                if inf[2] and cap_diff:
                    if valence > 0:
                        valence += C_INCR
                    else:
                        valence -= C_INCR
                if j > 2:
                    p1, p2, p3 = infos[j - 1], infos[j - 2], infos[j - 3]
                    if p3[3] is None and ((p1[9] and inf[10]) or (p2[9] and p1[10]) or (p3[9] and p2[10])
                                          or (inf[9] and j < n - 1 and infos[j + 1][10])):
                        valence = idioms(valence, j, infos, n)
                sent[j] = first[norm] = valence
            else:
                sent[j] = first[norm] = valence_at(j, infos, lowers, n, cap_diff)
        if "but" in lowers:
            bi = lowers.index("but")
            for k in cands:
                if k < bi:
                    sent[k] = sent[k] * 0.5
                elif k > bi:
                    sent[k] = sent[k] * 1.5
        return _sift(sent, cands, n, text)

    return score
