"""Rule-based auto-coding: one token index for the whole codebook.

:func:`autocode` applies every code's rules (keywords, phrases, near-pairs, regexes, exclusions,
negation, speaker roles; see :class:`journeylab.codebook.Rules`) to a segments frame and returns
a codings frame with ``origin="rule"``.

How it is fast: segments are processed in chunks. A chunk's text is lower-cased and tokenised in
one pass (``str.translate`` + a pyarrow split), tokens are dictionary-encoded and each distinct
token is stemmed once (cached). Every rule term (keyword, phrase, near-term, exclusion term) is a
sequence of stem ids; one index maps a term's first stem to its terms, so term occurrences for
*all* codes are found together with array operations over the chunk's tokens. The cost grows with
the amount of text, not with text × codes.
"""
from __future__ import annotations

__all__ = ["autocode", "tokenize", "stem", "NEGATORS", "NEGATION_WINDOW", "CLAUSE_WORDS"]

import re
import unicodedata
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from tqdm.auto import tqdm

from ..errors import JourneylabError
from ..study.codebook import Codebook
from ..utils.checks import check_frame
from ..utils.dask import is_dask, map_rows

# ----------------------------------------------------------------------------- tokens

_SEP = "\x00"          # joins the segments of a chunk; becomes its own token
_CLAUSE_MARK = "\x01"  # stands for a clause break
_CLAUSE_PUNCT = ".,;:!?…()[]\"“”—–"


def _build_tables():
    """Translation tables: every character that is not a letter, digit, mark or apostrophe → space.

    In ``clause`` the clause punctuation maps to the one-character marker instead (kept single
    character so ``str.translate`` stays on its fast ASCII path).
    """
    fast, clause = {}, {}
    for i in range(0x10000):
        ch = chr(i)
        if ch.isalnum() or ch in ("'", _SEP) or unicodedata.category(ch).startswith("M"):
            continue
        fast[i] = " "
        clause[i] = _CLAUSE_MARK if ch in _CLAUSE_PUNCT else " "
    for ch in "’‘`":
        fast[ord(ch)] = clause[ord(ch)] = "'"
    return fast, clause


_FAST, _CLAUSE = _build_tables()
_ASTRAL_RE = re.compile("[\U00010000-\U0010FFFF]")  # emoji and other astral characters separate words

NEGATORS = frozenset({
    "not", "no", "never", "without", "hardly", "barely", "nor", "cannot", "neither",
    # apostrophe-less spellings common in chat and survey text
    "dont", "didnt", "doesnt", "isnt", "wasnt", "werent", "arent", "wont", "cant", "couldnt",
    "wouldnt", "shouldnt", "havent", "hasnt", "hadnt",
})
"""Negators; any token ending in ``n't`` is a negator too."""
NEGATION_WINDOW = 3
"""How many tokens before a match are searched for a negator."""
CLAUSE_WORDS = frozenset({"but", "although", "though", "however", "yet", "whereas"})
"""Words that start a new clause (negation does not reach across them)."""

_STEMMER = None
_STEM_CACHE: dict[str, str] = {}


def _stemmer():
    global _STEMMER
    if _STEMMER is None:
        # lazy: nltk adds ~2.3 s to `import journeylab` (measured; docs/architecture.md)
        from nltk.stem import SnowballStemmer

        _STEMMER = SnowballStemmer("english")
    return _STEMMER


def _clean(lowered: str, table=_FAST) -> str:
    if not lowered.isascii():
        lowered = _ASTRAL_RE.sub(" ", lowered)
    out = lowered.translate(table)
    if table is _CLAUSE:
        out = out.replace(_CLAUSE_MARK, f" {_CLAUSE_MARK} ")
    return out


def tokenize(text: str) -> list[str]:
    """Lower-case word tokens of ``text``, exactly as :func:`autocode` sees them.

    A token is a maximal run of letters, digits and combining marks, with apostrophes inside
    words kept ("didn't"); typographic apostrophes count as ``'``; every other character
    (punctuation, symbols, emoji) separates tokens.

    Examples
    --------
    >>> tokenize("Didn't get a REFUND, ugh!")
    ["didn't", 'get', 'a', 'refund', 'ugh']
    """
    out = []
    for t in _clean(text.lower()).split():
        t = t.strip("'")
        if t:
            out.append(t)
    return out


def stem(token: str) -> str:
    """Snowball (Porter 2) English stem of one lower-case token, cached.

    Examples
    --------
    >>> [stem(t) for t in ["refund", "refunds", "refunded"]]
    ['refund', 'refund', 'refund']
    """
    s = _STEM_CACHE.get(token)
    if s is None:
        s = _STEM_CACHE[token] = _stemmer().stem(token)
    return s


def is_negator(word: str) -> bool:
    return word in NEGATORS or word.endswith("n't")


SEP_ID, CLAUSE_ID, SKIP_ID = -3, -2, -1


class _Vocab(dict):
    """Raw token → stem id; stem ids are shared with the compiled rules."""

    def __init__(self):
        super().__init__()
        self.stem_id: dict[str, int] = {}
        self.stems: list[str] = []
        self[_SEP] = SEP_ID
        self[_CLAUSE_MARK] = CLAUSE_ID

    def sid(self, stem_: str) -> int:
        i = self.stem_id.get(stem_)
        if i is None:
            i = self.stem_id[stem_] = len(self.stems)
            self.stems.append(stem_)
        return i

    def __missing__(self, tok: str) -> int:
        word = tok.strip("'")
        i = self.sid(stem(word)) if word else SKIP_ID
        self[tok] = i
        return i


# ----------------------------------------------------------------------------- compiled rules

TERM, NEAR, REGEX = 0, 1, 2


@dataclass
class _Rule:
    code: int
    label: str
    kind: int
    terms: tuple = ()          # term ids (TERM: one; NEAR: two)
    window: int = 0
    regex: re.Pattern | None = None


class _Engine:
    """The compiled codebook: terms, rules and the first-stem index."""

    def __init__(self, codebook: Codebook, codes, vocab: _Vocab):
        self.vocab = vocab
        self.codes: list[str] = []
        self.code_neg: list[bool] = []
        self.code_roles: list[frozenset] = []
        self.rules: list[_Rule] = []
        self.terms: list[tuple] = []
        term_index: dict[tuple, int] = {}
        exclusions: list[tuple[int, int]] = []   # (term id, code)

        def term(text, code, what):
            t = tuple(vocab.sid(stem(w)) for w in tokenize(text))
            if not t:
                raise JourneylabError(f"autocode(): code {code.name!r}: {what} {text!r} has no word characters; "
                                      "fix the rule in the codebook")
            if t not in term_index:
                term_index[t] = len(self.terms)
                self.terms.append(t)
            return term_index[t]

        for code in codebook:
            if (codes is not None and code.name not in codes) or not code.codable or not code.rules:
                continue
            r, ci = code.rules, len(self.codes)
            self.codes.append(code.name)
            self.code_neg.append(bool(r.negation))
            self.code_roles.append(frozenset(r.roles))
            seen_terms = set()
            for kw in r.keywords:
                tid = term(kw, code, "keyword")
                if tid not in seen_terms:  # "recommend" and "recommended" share one stem
                    seen_terms.add(tid)
                    self.rules.append(_Rule(ci, f"keyword:{kw}", TERM, (tid,)))
            for ph in r.phrases:
                tid = term(ph, code, "phrase")
                if tid not in seen_terms:
                    seen_terms.add(tid)
                    self.rules.append(_Rule(ci, f"phrase:{ph}", TERM, (tid,)))
            for a, b, w in r.near:
                self.rules.append(_Rule(ci, f"near:{a}~{b}/{w}", NEAR,
                                        (term(a, code, "near term"), term(b, code, "near term")), int(w)))
            for pattern in r.regex:
                self.rules.append(_Rule(ci, f"regex:{pattern}", REGEX, regex=re.compile(pattern, re.IGNORECASE)))
            for x in r.exclude:
                exclusions.append((term(x, code, "exclusion"), ci))

        n_terms = len(self.terms)
        self.term_len = np.array([len(t) for t in self.terms], dtype=np.int64)
        self.max_len = int(self.term_len.max()) if n_terms else 1
        self.term_mat = np.full((max(n_terms, 1), self.max_len), -9, dtype=np.int64)
        for i, t in enumerate(self.terms):
            self.term_mat[i, :len(t)] = t
        first = np.array([t[0] for t in self.terms], dtype=np.int64)
        order = np.argsort(first, kind="stable")
        self.sorted_first, self.sorted_tid = first[order], order
        self.n_rule_sids = len(vocab.stems)
        self.is_first = np.zeros(self.n_rule_sids + 1, dtype=bool)
        self.is_first[first] = True
        # term -> TERM rules
        tr = sorted((rule.terms[0], i) for i, rule in enumerate(self.rules) if rule.kind == TERM)
        self.tr_term = np.array([t for t, _ in tr], dtype=np.int64)
        self.tr_rule = np.array([i for _, i in tr], dtype=np.int64)
        ex = sorted(exclusions)
        self.ex_term = np.array([t for t, _ in ex], dtype=np.int64)
        self.ex_code = np.array([c for _, c in ex], dtype=np.int64)
        self.rule_code = np.array([r.code for r in self.rules], dtype=np.int64)
        self.rule_neg = np.array([self.code_neg[r.code] for r in self.rules], dtype=bool)
        self.labels = np.array([r.label for r in self.rules] or [""], dtype=object)
        self.near_rules = [(i, r) for i, r in enumerate(self.rules) if r.kind == NEAR]
        self.regex_rules = [(i, r) for i, r in enumerate(self.rules) if r.kind == REGEX]
        self.any_negation = any(self.code_neg)
        self.any_regex = None
        if self.regex_rules:
            try:
                self.any_regex = re.compile("|".join(f"(?:{r.regex.pattern})" for _, r in self.regex_rules),
                                            re.IGNORECASE)
            except re.error:  # e.g. numbered back-references: try every regex on every segment
                self.any_regex = None

    # -- one chunk ---------------------------------------------------------------------
    def run(self, chunk: list[str], seg_role: np.ndarray, role_ok: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(segment index within chunk, rule id) of every rule that fires, after exclusions and roles."""
        joiner = f" {_SEP} "
        big = joiner.join(chunk).lower()
        if big.count(_SEP) != len(chunk) - 1:  # NUL characters inside a text
            chunk = [t.replace(_SEP, " ") for t in chunk]
            big = joiner.join(chunk).lower()
        cleaned = _clean(big, _CLAUSE if self.any_negation else _FAST)
        flat = pc.list_flatten(pc.ascii_split_whitespace(pa.array([cleaned], pa.large_string())))
        enc = flat.dictionary_encode()
        idx = enc.indices.to_numpy(zero_copy_only=False)
        dic = enc.dictionary.to_pylist()
        dic_sid = np.fromiter(map(self.vocab.__getitem__, dic), dtype=np.int64, count=len(dic))
        tok_sid = dic_sid[idx]
        segno = np.cumsum(tok_sid == SEP_ID)
        word = tok_sid >= 0
        ws, wseg = tok_sid[word], segno[word]
        if self.any_negation:
            words = [t.strip("'") for t in dic]
            dic_neg = np.fromiter((is_negator(w) for w in words), dtype=bool, count=len(dic))
            dic_brk = np.fromiter((w in CLAUSE_WORDS for w in words), dtype=bool, count=len(dic))
            clause = np.cumsum((tok_sid == CLAUSE_ID) | dic_brk[idx])
            wcl, wneg = clause[word], dic_neg[idx][word]
        else:
            wcl = wneg = None
        n_w = len(ws)

        # 1. occurrences of every term: candidates from the first-stem index, then verified
        is_first = self.is_first
        if len(is_first) < len(self.vocab.stems):
            is_first = np.zeros(len(self.vocab.stems), dtype=bool)
            is_first[: len(self.is_first)] = self.is_first
            self.is_first = is_first
        pos = np.flatnonzero(is_first[ws]) if n_w else np.zeros(0, dtype=np.int64)
        occ_pos, occ_tid = _expand(pos, ws[pos], self.sorted_first, self.sorted_tid)
        ok = np.ones(len(occ_pos), dtype=bool)
        for k in range(1, self.max_len):
            need = self.term_len[occ_tid] > k
            if not need.any():
                continue
            p2 = occ_pos + k
            inb = p2 < n_w
            p2c = np.where(inb, p2, 0)
            match = inb & (ws[p2c] == self.term_mat[occ_tid, k]) & (wseg[p2c] == wseg[occ_pos])
            ok &= ~need | match
        occ_pos, occ_tid = occ_pos[ok], occ_tid[ok]

        hit_pos, hit_rule = [], []
        # 2. keyword and phrase rules
        p, r = _expand(occ_pos, occ_tid, self.tr_term, self.tr_rule)
        hit_pos.append(p)
        hit_rule.append(r)
        # 3. near rules
        if self.near_rules:
            order = np.argsort(occ_tid, kind="stable")
            s_tid, s_pos = occ_tid[order], occ_pos[order]
            for rule_id, rule in self.near_rules:
                ta, tb = rule.terms
                A = s_pos[np.searchsorted(s_tid, ta, "left"):np.searchsorted(s_tid, ta, "right")]
                B = s_pos[np.searchsorted(s_tid, tb, "left"):np.searchsorted(s_tid, tb, "right")]
                if not len(A) or not len(B):
                    continue
                la, lb, w = int(self.term_len[ta]), int(self.term_len[tb]), rule.window
                lo = np.searchsorted(B, A - lb - w + 1, "left")
                hi = np.searchsorted(B, A + la + w - 1, "right")
                starts = []
                for k in range(int((hi - lo).max())):
                    j = lo + k
                    valid = j < hi
                    b = B[np.where(valid, j, 0)]
                    gap = np.where(b >= A + la, b - (A + la) + 1, np.where(A >= b + lb, A - (b + lb) + 1, 0))
                    valid &= (gap >= 1) & (gap <= w) & (wseg[b] == wseg[A])
                    starts.append(np.minimum(A, b)[valid])
                if starts:
                    s = np.unique(np.concatenate(starts))
                    hit_pos.append(s)
                    hit_rule.append(np.full(len(s), rule_id, dtype=np.int64))
        hp, hr = np.concatenate(hit_pos), np.concatenate(hit_rule)
        # 4. negation: a negator among the 3 tokens before the match, same segment and clause
        if self.any_negation and len(hp):
            check = self.rule_neg[hr]
            negated = np.zeros(len(hp), dtype=bool)
            for j in range(1, NEGATION_WINDOW + 1):
                q = hp - j
                inb = q >= 0
                qc = np.where(inb, q, 0)
                negated |= inb & (wseg[qc] == wseg[hp]) & (wcl[qc] == wcl[hp]) & wneg[qc]
            keep = ~(check & negated)
            hp, hr = hp[keep], hr[keep]
        seg, rule = wseg[hp], hr
        # 5. regex rules (not indexable): per segment, only where the joint alternation matches
        if self.regex_rules:
            rs, rr = self._regex_hits(big.split(joiner))
            seg, rule = np.concatenate([seg, rs]), np.concatenate([rule, rr])
        if not len(seg):
            return seg, rule
        # 6. speaker roles and exclusions
        code = self.rule_code[rule]
        keep = role_ok[seg_role[seg], code]
        if len(self.ex_term) and len(occ_pos):
            ep, ec = _expand(occ_pos, occ_tid, self.ex_term, self.ex_code)
            excluded = np.unique(wseg[ep] * len(self.codes) + ec)
            keep &= ~np.isin(seg * len(self.codes) + code, excluded)
        key = np.unique(seg[keep] * max(len(self.rules), 1) + rule[keep])
        n_rules = max(len(self.rules), 1)
        return key // n_rules, key % n_rules

    def _regex_hits(self, lowered: list[str]) -> tuple[np.ndarray, np.ndarray]:
        segs, rules = [], []
        for k, text in enumerate(lowered):
            if self.any_regex is not None and not self.any_regex.search(text):
                continue
            clauses = None
            for rule_id, rule in self.regex_rules:
                if not self.code_neg[rule.code]:
                    if rule.regex.search(text):
                        segs.append(k)
                        rules.append(rule_id)
                    continue
                if clauses is None:
                    clauses = _Clauses(text)
                starts = [clauses.token_at(m.start()) for m in rule.regex.finditer(text)]
                if any(p is None or not clauses.negated(p) for p in starts):
                    segs.append(k)
                    rules.append(rule_id)
        return np.array(segs, dtype=np.int64), np.array(rules, dtype=np.int64)


def _expand(pos: np.ndarray, keys: np.ndarray, sorted_keys: np.ndarray, values: np.ndarray):
    """For each (pos, key), every value whose sorted key equals key: (repeated pos, value)."""
    if not len(pos) or not len(sorted_keys):
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    lo = np.searchsorted(sorted_keys, keys, "left")
    cnt = np.searchsorted(sorted_keys, keys, "right") - lo
    total = int(cnt.sum())
    rep_pos = np.repeat(pos, cnt)
    within = np.arange(total) - np.repeat(np.cumsum(cnt) - cnt, cnt)
    return rep_pos, values[np.repeat(lo, cnt) + within]


def _is_word_char(ch: str) -> bool:
    return ord(ch) < 0x10000 and ord(ch) not in _FAST


class _Clauses:
    """Tokens of one lower-cased segment with their clause numbers (regex negation path)."""

    def __init__(self, lowered: str):
        self.lowered = lowered
        self.words: list[str] = []
        self.clause: list[int] = []
        clause = 0
        for t in _clean(lowered, _CLAUSE).split():
            if t == _CLAUSE_MARK:
                clause += 1
                continue
            w = t.strip("'")
            if not w:
                continue
            if w in CLAUSE_WORDS:
                clause += 1
            self.words.append(w)
            self.clause.append(clause)

    def negated(self, pos: int) -> bool:
        cl = self.clause[pos]
        for j in range(pos - 1, max(pos - NEGATION_WINDOW, 0) - 1, -1):
            if self.clause[j] != cl:
                return False
            if is_negator(self.words[j]):
                return True
        return False

    def token_at(self, char: int) -> int | None:
        """Index of the token containing or following character ``char``."""
        k = len(tokenize(self.lowered[:char]))
        text = self.lowered
        if 0 < char < len(text) and _is_word_char(text[char - 1]) and _is_word_char(text[char]):
            k -= 1  # the match starts inside a word
        return k if k < len(self.words) else None


# ----------------------------------------------------------------------------- public


def autocode(
    segments: pd.DataFrame,
    *,
    codebook: Codebook,
    codes=None,
    coder: str = "rules",
    text: str = "text",
    progress: bool | None = None,
    chunk_size: int = 50_000,
) -> pd.DataFrame:
    """Code segments with the codebook's matching rules.

    Parameters
    ----------
    segments : DataFrame or dask.dataframe.DataFrame
        The segments frame: ``segment_id`` and ``text``; ``speaker_role`` is used when present
        (without it every segment counts as a participant turn). A Dask DataFrame gives a lazy
        Dask DataFrame of codings, coded partition by partition (segments are independent), with
        the rows pandas gives, in the same order (``docs/scale.md``).
    codebook : Codebook
        Codes with ``rules`` (codes without rules, and non-codable grouping codes, are skipped).
    codes : list of str, optional
        Only these codes.
    coder : str, default "rules"
        Value of the ``coder`` column.
    text : str, default "text"
        Column holding the text.
    progress : bool, optional
        Show a tqdm progress bar (a widget in notebooks); default: only for ≥ 200,000 segments.
    chunk_size : int, default 50000
        Segments processed together (memory grows with it; results do not depend on it).

    Returns
    -------
    DataFrame
        The codings frame, one row per (segment, code) that a rule fired on, in segment then
        codebook order: ``segment_id``, ``code``, ``coder``, ``origin`` (always ``"rule"``),
        ``memo`` (missing: NaN), ``rule`` (the rules that fired, ``; ``-separated, in codebook order,
        e.g. ``keyword:refund; near:shipping~cost/5``).

    Notes
    -----
    Tokens (see :func:`tokenize`) are lower-cased runs of letters and digits and stemmed with
    NLTK's Snowball English stemmer, so ``refund`` matches "refunds" and "refunded". Rules:

    - *keyword*: a token whose stem equals the keyword's stem (a keyword of several words is a
      phrase);
    - *phrase*: consecutive tokens whose stems equal the phrase's stems; punctuation between
      the words is ignored;
    - *near* ``[a, b, w]``: ``a`` and ``b`` at most ``w`` tokens apart, in either order
      (adjacent words are 1 apart; "shipping was going to cost" puts *cost* 4 after *shipping*);
    - *regex*: Python regular expression searched, case-insensitively, in the lower-cased text;
    - *exclude*: if any exclusion term (stemmed, as a phrase) occurs anywhere in the segment,
      the code is not applied;
    - *negation* (codes with ``negation: true``): a match is ignored when one of the
      ``NEGATION_WINDOW`` = 3 tokens before its first word is a negator (not, no, never,
      without, hardly, barely, nor, cannot, neither, any word ending in "n't", and
      apostrophe-less spellings such as "didnt"), unless a clause boundary lies between them —
      one of ``. , ; : ! ? … ( ) [ ] " “ ” — –`` or a word that opens a clause (*but,
      although, though, however, yet, whereas*). "not slow" and "it wasn't really late" are
      not coded; "no, it was late", "never fast, but slow" and "I don't think it was slow"
      (negator 4 tokens away) are. The code applies when at least one match is not negated.
      A near match counts from its earlier word;
    - *speaker roles*: a code applies only to segments whose ``speaker_role`` is in its
      ``speaker_roles`` (default: participants only).

    Method: each chunk of segments is tokenised in one pass, distinct tokens are stemmed once
    (cached), and one index (first stem of a term → terms) finds the occurrences of every
    term of every code with array operations, so the cost grows with the text, not with
    text × codes (``benchmarks/bench_autocode.py`` compares it with a per-code
    ``str.contains`` loop). Regex rules cannot be indexed: all of them are first tried as one
    alternation, and one by one only on the segments where that matched.

    Examples
    --------
    >>> import pandas as pd, journeylab as jl
    >>> rules = jl.study.codebook.Rules(keywords=["slow", "late"], negation=True)
    >>> cb = jl.Codebook([jl.Code("slow_delivery", rules=rules)])
    >>> seg = pd.DataFrame({"segment_id": ["a", "b"], "speaker_role": "participant",
    ...                     "text": ["It arrived late.", "Delivery was not slow at all"]})
    >>> jl.autocode(seg, codebook=cb)[["segment_id", "code", "rule"]]
      segment_id           code          rule
    0          a  slow_delivery  keyword:late
    """
    func = "autocode"
    if is_dask(segments):
        return map_rows(autocode, segments, codebook=codebook, codes=codes, coder=coder, text=text,
                              progress=False if progress is None else progress, chunk_size=chunk_size)
    check_frame(segments, arg="segments", func=func, required=["segment_id", text], allow_empty=True, dask=True)
    if not isinstance(codebook, Codebook):
        raise JourneylabError(f"{func}(): `codebook` must be a journeylab Codebook, got {type(codebook).__name__}; "
                              "read one with Codebook.from_yaml(path).")
    if codes is not None:
        codes = [codes] if isinstance(codes, str) else list(codes)
        unknown = [c for c in codes if c not in codebook]
        if unknown:
            raise JourneylabError(f"{func}(): `codes` has {unknown[0]!r}, which is not in the codebook")
        codes = set(codes)
    if not isinstance(chunk_size, int) or chunk_size < 1:
        raise JourneylabError(f"{func}(): `chunk_size` must be a positive integer; got {chunk_size!r}")
    engine = _Engine(codebook, codes, _Vocab())

    n = len(segments)
    ids = segments["segment_id"].to_numpy()
    texts = segments[text].to_numpy(dtype=object, na_value=None)
    if "speaker_role" in segments.columns:
        role_codes, role_names = pd.factorize(segments["speaker_role"].astype("object").fillna(""))
    else:
        role_codes, role_names = np.zeros(n, dtype=np.int64), pd.Index(["participant"])
    role_ok = np.array([[r in roles for roles in engine.code_roles] for r in role_names], dtype=bool)
    role_ok = role_ok.reshape(len(role_names), len(engine.codes))
    usable = role_ok.any(axis=1)[role_codes] if len(engine.codes) else np.zeros(n, dtype=bool)
    usable &= np.fromiter((isinstance(t, str) and t != "" for t in texts), dtype=bool, count=n)

    show = progress if progress is not None else n >= 200_000
    bar = None
    if show:
        bar = tqdm(total=n, desc="autocode", unit="seg", unit_scale=True)
    out_row, out_rule = [], []
    for lo in range(0, n, chunk_size):
        hi = min(lo + chunk_size, n)
        rows = lo + np.flatnonzero(usable[lo:hi])
        if len(rows):
            seg, rule = engine.run(texts[rows].tolist(), role_codes[rows], role_ok)
            out_row.append(rows[seg])
            out_rule.append(rule)
        if bar is not None:
            bar.update(hi - lo)
    if bar is not None:
        bar.close()

    row = np.concatenate(out_row) if out_row else np.zeros(0, dtype=np.int64)
    rule = np.concatenate(out_rule) if out_rule else np.zeros(0, dtype=np.int64)
    # one row per (segment, code); rules are numbered in codebook order, so groups are contiguous
    code = engine.rule_code[rule] if len(rule) else rule
    new = np.ones(len(row), dtype=bool)
    if len(row):
        new[1:] = (row[1:] != row[:-1]) | (code[1:] != code[:-1])
    starts = np.flatnonzero(new)
    labels = engine.labels[rule[starts]] if len(starts) else np.zeros(0, dtype=object)
    sizes = np.diff(np.append(starts, len(row)))
    if len(sizes) and sizes.max() > 1:
        labels = labels.copy()
        for g in np.flatnonzero(sizes > 1):
            s = starts[g]
            labels[g] = "; ".join(engine.labels[rule[s:s + sizes[g]]])
    names = np.array(engine.codes or [""], dtype=object)
    m = len(starts)
    return pd.DataFrame({
        "segment_id": ids[row[starts]] if m else np.array([], dtype=object),
        "code": pd.array(names[code[starts]] if m else [], dtype="str"),
        "coder": pd.array([coder] * m, dtype="str"),
        "origin": pd.array(["rule"] * m, dtype="str"),
        "memo": pd.array([None] * m, dtype="str"),
        "rule": pd.array(labels, dtype="str"),
    })
