"""PII redaction: personal details → typed placeholders, with offsets kept consistent.

Emails, phone numbers, payment-card numbers (Luhn-checked), street addresses and UK postcodes,
order numbers (a configurable pattern) and the real names listed in ``participants.csv`` are
replaced by ``[EMAIL]``, ``[PHONE]``, ``[CARD]``, ``[ADDRESS]``, ``[ORDER]`` and
``[NAME:P07]``. The segments' ``start``/``end`` are recomputed so that they still point into the
redacted document text, and a mapping frame records where each replacement happened — never
what was replaced. See ``docs/transcripts.md`` (section "PII redaction").
"""
from __future__ import annotations

__all__ = ["redact", "redact_text", "redact_texts", "make_detector", "Redaction", "KINDS", "DEFAULT_ORDER_PATTERN",
           "DEFAULT_REGION", "MAPPING_COLUMNS", "FLAG_COLUMNS"]

import re
import unicodedata
from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pandas as pd
import phonenumbers

from ..errors import JourneylabError
from ..utils.checks import check_frame
from . import pii

KINDS = ("email", "url", "phone", "card", "iban", "bank", "ip", "handle", "dob", "nino", "order", "address",
         "name", "person")
#: Order/customer numbers written as 2-4 capital letters, a hyphen and 5-10 digits (``AB-123456``).
DEFAULT_ORDER_PATTERN = r"\b[A-Z]{2,4}-\d{5,10}\b"
DEFAULT_REGION = "GB"
DEFAULT_EXTRA_REGIONS = ("US",)
MAPPING_COLUMNS = ["doc_id", "segment_id", "kind", "placeholder", "original_start", "original_end", "start", "end"]
FLAG_COLUMNS = ["doc_id", "segment_id", "kind", "text", "reason", "start", "end"]

# ----------------------------------------------------------------------------- helpers

def _fold_table(text: str) -> dict:
    """str.translate table that strips accents one character for one (offsets unchanged)."""
    table = {}
    for ch in set(text):
        if ord(ch) < 128:
            continue
        dec = unicodedata.normalize("NFKD", ch)
        if len(dec) > 1 and all(unicodedata.combining(c) for c in dec[1:]) and len(dec[0]) == 1:
            table[ord(ch)] = dec[0]
    return table


def _fold(s: str) -> str:
    if s.isascii():  # nothing to fold (isascii is O(1)); translating costs ~0.2 ms per transcript
        return s
    table = _fold_table(s)
    return s.translate(table) if table else s


def _key(s: str) -> str:
    return " ".join(_fold(s).split()).casefold()


# first names / surnames that are also everyday English words: matched only as a name (capitalised,
# and not followed by a word it forms a phrase with: "Grace period", "Hope so", "Mark my words")
_COMMON_WORDS = frozenset("""
will may mark rose grace hope joy faith dawn summer april june august jack bill pat sue rob ray max guy frank
sandy holly ivy iris lily daisy heather ruby amber pearl crystal violet olive hazel robin jay drew chase hunter
mason cook baker brown green white black gray grey king young hill wood woods wells hall long little rich bell
stone rice page lane fox wolf bird park field fields marsh ward sharp short best good love hart read reading
bush church banks bond booth burns cross day dean fisher ford forest foster gates glass gold hardy holmes
house hunt lamb law lord major miles mills noble north parker pike price reed rivers rush sage stock street
swift temple wall walker wade waters west wise bliss carol chance cliff clay dale earl edge storm sky sunny
honey candy penny rocky star brook brooks river glen ash bay march early eve gem hale nick art don bob win
mo sol lee son sun autumn destiny charity august norman victor earnest gene
""".split()) | frozenset(w.casefold() for w in pii._name_list("name_words.txt"))
_NAME_PARTICLES = frozenset("de la le du da di del della der den van von dos das do bin ibn al el mc st".split())
_TITLES = frozenset("mr mrs ms miss dr prof sir".split())
_DETERMINERS = frozenset("a an the this that no any every each some what".split())
_NEXT_WORD = re.compile(r"[ \t]+([\w'’-]+)")
_WORD_RUN = re.compile(r"(?<!\w)\w+")
_LEAD = re.compile(r"\w+")


class _Names:
    """Participants' names (full name, then each part, then listed aliases) as whole words.

    Built once per study; matching looks each word of the text up among the forms it can start
    (:meth:`matches`), so its cost is linear in the text whatever the number of participants.
    """

    def __init__(self, entries, aliases=()):
        self.owners: dict[str, set] = {}
        self.common: set = set()
        for name, pid in entries:
            if not isinstance(name, str) or not name.strip():
                continue
            full = " ".join(name.split())
            forms = {full}
            for tok in full.split():
                tok = tok.strip(".,;:()\"'")
                parts = [tok] + (tok.split("-") if "-" in tok else [])
                for p in parts:
                    k = p.casefold()
                    if len(p) >= 2 and k not in _NAME_PARTICLES and k not in _TITLES:
                        forms.add(p)
            for f in forms:
                k = _key(f)
                self.owners.setdefault(k, set()).add(pid)
                if " " not in k and k in _COMMON_WORDS:
                    self.common.add(k)
        for alias, pid in aliases:  # listed aliases are names whatever their case
            if isinstance(alias, str) and alias.strip():
                self.owners.setdefault(_key(alias), set()).add(pid)
        # every form, longest first: at a place where several match, the longest wins
        self.alts = sorted(self.owners, key=len, reverse=True)
        self._pattern = None
        self._one: dict = {}
        self._lead_rx: dict = {}
        self._index = None
        self.parts = frozenset(w for k in self.owners for w in k.split())

    @staticmethod
    def _body(key: str) -> str:
        return r"\s+".join(re.escape(w) for w in key.split())

    @property
    def pattern(self):
        r"""One alternation of every form (``(?<!\w)(?:longest|...|shortest)(?!\w)``, case-insensitive)."""
        if self._pattern is None and self.alts:
            body = "|".join(self._body(k) for k in self.alts)
            self._pattern = re.compile(rf"(?<!\w)(?:{body})(?!\w)", re.IGNORECASE)
        return self._pattern

    def _form(self, order: int):
        rx = self._one.get(order)
        if rx is None:
            rx = self._one[order] = re.compile(rf"(?:{self._body(self.alts[order])})(?!\w)", re.IGNORECASE)
        return rx

    def _build_index(self) -> None:
        """Forms by their first word (ASCII, lower case); forms led by other characters kept apart."""
        index, rest, whole = {}, [], False
        for order, k in enumerate(self.alts):
            lead = _LEAD.match(k)
            if lead is None:  # a form that starts with punctuation: search with the alternation
                whole = True
                break
            if lead.group(0).isascii():
                index.setdefault(lead.group(0).lower(), []).append(order)
            else:
                rest.append(order)
        self._index, self._rest, self._whole = index, rest, whole

    def matches(self, folded: str, pos: int, endpos: int):
        r"""The matches ``pattern.finditer(folded, pos, endpos)`` gives, found word by word.

        The alternation tries every form at every word, so its cost grows with the number of
        participants times the length of the text; this looks each word up among the forms that
        start with it (ASCII words; any other word is tried against the alternation), so it costs
        the same for 10 names or 10,000. A form matches only at the start of a word (``(?<!\w)``)
        and its first word is a whole run of word characters, so trying, at each word, the forms
        led by that word, longest first, gives the same matches in the same order.
        """
        if self._index is None:
            self._build_index()
        if self._whole:
            yield from self.pattern.finditer(folded, pos, endpos)
            return
        piece = folded[pos:endpos]
        if not self._rest and piece.isascii():
            present = self._index.keys() & set(_WORD_RUN.findall(piece.lower()))
            if not present:
                return  # no word of the text starts a form (most texts: at C speed)
            # only the words that start a form, found by one pattern of them (the loop below visits every word)
            last = pos
            for w in self._leads(frozenset(present)).finditer(folded, pos, endpos):
                i = w.start()
                if i < last:
                    continue
                for order in self._index[w.group(0).lower()]:
                    m = self._form(order).match(folded, i, endpos)
                    if m:
                        yield m
                        last = m.end()
                        break
            return
        last = pos
        for w in _WORD_RUN.finditer(folded, pos, endpos):
            i = w.start()
            if i < last:
                continue
            tok = w.group(0)
            m = None
            if tok.isascii():
                cands = self._index.get(tok.lower(), ())
                if self._rest:
                    cands = sorted((*cands, *self._rest))
                for order in cands:
                    m = self._form(order).match(folded, i, endpos)
                    if m:
                        break
            else:
                m = self.pattern.match(folded, i, endpos)
            if m:
                yield m
                last = m.end()

    def _leads(self, words: frozenset):
        """Where a whole ASCII word is one of ``words`` (ASCII letters in either case)."""
        rx = self._lead_rx.get(words)
        if rx is None:
            alts = ["".join(f"[{c}{c.upper()}]" if c.isalpha() else re.escape(c) for c in w)
                    for w in sorted(words, key=len, reverse=True)]
            rx = self._lead_rx[words] = re.compile(rf"(?<!\w)(?:{'|'.join(alts)})(?!\w)")
        return rx

    def placeholder(self, key: str, context) -> str:
        pids = self.owners.get(key, set())
        if context is not None and context in pids:
            pid = context
        elif len(pids) == 1:
            pid = next(iter(pids))
        else:
            pid = None
        return "[NAME]" if pid is None or pid is pd.NA else f"[NAME:{pid}]"

    def find(self, text: str, folded: str, pos: int, endpos: int, context, out: list, flags=None) -> None:
        """Append ``(start, end, "name", placeholder)`` of every participant's name in ``text[pos:endpos]``."""
        out += [(s, e, "name", self.placeholder(key, context)) for s, e, key in self.scan(text, folded, pos, endpos,
                                                                                          flags)]

    def scan(self, text: str, folded: str, pos: int, endpos: int, flags=None) -> list:
        """``(start, end, key)`` of every name in ``text[pos:endpos]``: what :meth:`find` finds, before the
        placeholder (which depends on whose document it is) is chosen."""
        out: list = []
        if not self.alts:
            return out
        for m in self.matches(folded, pos, endpos):
            key = " ".join(m.group(0).split()).casefold()
            if key in self.common:
                if not text[m.start()].isupper():
                    continue
                nxt = _NEXT_WORD.match(text, m.end(), endpos)
                follower = nxt.group(1).lower() if nxt else ""
                prev = text[max(pos, m.start() - 12):m.start()].split()
                if follower in pii._PHRASE_FOLLOWERS or (prev and prev[-1].lower() in _DETERMINERS):
                    if flags is not None:
                        why = f"'{follower}' follows" if follower in pii._PHRASE_FOLLOWERS else f"after '{prev[-1]}'"
                        flags.append((m.start(), m.end(), "name", "a participant's name that is also a word, "
                                      f"read as the word ({why}); kept"))
                    continue
            out.append((m.start(), m.end(), key))
        return out


def _names_from(names, participants=None) -> _Names | None:
    entries, aliases = [], []
    if participants is not None and "name" in participants.columns:
        for pid, nm in zip(participants["participant_id"], participants["name"]):
            if isinstance(nm, str):
                entries.append((nm, None if pd.isna(pid) else str(pid)))
    if participants is not None and "aliases" in participants.columns:
        for pid, al in zip(participants["participant_id"], participants["aliases"]):
            if isinstance(al, str):
                aliases += [(a.strip(), None if pd.isna(pid) else str(pid)) for a in re.split(r"[;|]", al)]
    if names is not None:
        if isinstance(names, pd.DataFrame):
            check_frame(names, arg="names", func="redact_text", required=["participant_id", "name"], allow_empty=True)
            return _names_from(None, names)
        if isinstance(names, str):
            names = [names]
        if isinstance(names, dict):
            entries += [(k, None if v is None or v is pd.NA else str(v)) for k, v in names.items()]
        else:
            entries += [(n, None) for n in names if isinstance(n, str)]
    return _names_cached(tuple(entries), tuple(aliases)) if entries or aliases else None


@lru_cache(maxsize=16)
def _names_cached(entries: tuple, aliases: tuple) -> _Names:
    """One matcher per set of names: redact_text called in a loop with the same names reuses it."""
    return _Names(entries, aliases)


class _Detector:
    """Every detector of the chosen kinds, configured once (one per study)."""

    def __init__(self, *, kinds, order_pattern, names: _Names | None, func: str, region=DEFAULT_REGION,
                 extra_regions=DEFAULT_EXTRA_REGIONS):
        if kinds is None:
            kinds = KINDS
        elif isinstance(kinds, str):
            kinds = [kinds]
        kinds = list(kinds)
        bad = [k for k in kinds if k not in KINDS]
        if bad:
            raise JourneylabError(f"{func}(): `kinds` must be a list of {', '.join(map(repr, KINDS))}; "
                                  f"found {', '.join(map(repr, bad))}.")
        if not isinstance(region, str) or region.upper() not in phonenumbers.SUPPORTED_REGIONS:
            raise JourneylabError(f"{func}(): `region` must be a two-letter region code that libphonenumber knows "
                                  f"(e.g. 'GB', 'US', 'DE'); found {region!r}.")
        extra = [extra_regions] if isinstance(extra_regions, str) else list(extra_regions or [])
        bad = [r for r in extra if not isinstance(r, str) or r.upper() not in phonenumbers.SUPPORTED_REGIONS]
        if bad:
            raise JourneylabError(f"{func}(): `extra_regions` must be region codes like 'US'; found {bad[0]!r}.")
        self.kinds = set(kinds)
        self._memo: dict = {}  # (text, pos, endpos) -> what find() found there (see find)
        self.order = None
        if "order" in self.kinds and order_pattern is not None:
            try:
                self.order = order_pattern if isinstance(order_pattern, re.Pattern) else re.compile(order_pattern)
            except (re.error, TypeError) as exc:
                raise JourneylabError(f"{func}(): `order_pattern` must be a regular expression; "
                                      f"{order_pattern!r} does not compile ({exc}).") from None
        self.names = names if "name" in self.kinds else None
        self.phones = pii.PhoneFinder(region.upper(), [r.upper() for r in extra]) if "phone" in self.kinds else None
        self.people = (pii.PersonFinder(skip=names.parts if names is not None else ())
                       if "person" in self.kinds else None)
        self._simple = [(k, f) for k, f in (
            ("email", pii.find_email), ("url", pii.find_url), ("card", pii.find_card), ("iban", pii.find_iban),
            ("bank", pii.find_bank), ("ip", pii.find_ip), ("handle", pii.find_handle), ("dob", pii.find_dob),
            ("nino", pii.find_nino), ("address", pii.find_address)) if k in self.kinds]

    # cheap tests (C-speed substring search on the lower-cased text) before a kind's patterns run
    _GATES = {
        "email": ("@", " at ", "(at)", "[at]", "%40"), "url": ("/", "www."), "handle": ("@",),
        "bank": ("sort", "acc", "a/c", "-"), "dob": ("born", "birth", "dob", "d.o.b"), "ip": (".", ":"),
    }

    #: texts remembered per detector (one detector serves one study): enough for every distinct survey comment
    #: of a large study; past it, texts are searched without being remembered
    MEMO_SIZE = 200_000

    def find(self, text: str, folded: str | None, pos: int, endpos: int, context=None, flags=None) -> list:
        """Every span of the chosen kinds in ``text[pos:endpos]`` (``(start, end, kind, placeholder)``).

        What is found depends on the text and the window only, except the participant a name's
        placeholder names (``context``: whose document it is). So the search is done once per
        distinct (text, window) and remembered: a survey's repeated comments ("Fine.", "N/A") and
        identical transcripts are searched once; a repeat costs a dictionary lookup.
        """
        memo = self._memo
        key = (text, pos, endpos)
        hit = memo.get(key)
        if hit is None:
            fl: list = []
            hit = self._search(text, folded, pos, endpos, fl)
            hit = (*hit, fl)
            if len(memo) < self.MEMO_SIZE:
                memo[key] = hit
        before, names, after, fl = hit
        if flags is not None:
            flags += fl
        if not names:
            return before + after
        return before + [(s, e, "name", self.names.placeholder(k, context)) for s, e, k in names] + after

    def _search(self, text: str, folded: str | None, pos: int, endpos: int, flags: list) -> tuple:
        """(spans of the patterns, name hits ``(start, end, key)``, other people's names)."""
        out: list = []
        low = text[pos:endpos].lower()
        has_digit = any(ch in low for ch in "0123456789")
        for kind, f in self._simple:
            gate = self._GATES.get(kind)
            if gate is not None and not any(g in low for g in gate):
                continue
            if not has_digit and kind in ("card", "iban", "bank", "ip", "dob", "nino"):
                continue
            out += f(text, pos, endpos)
        if self.phones is not None and has_digit:
            out += self.phones.find(text, pos, endpos)
        if "order" in self.kinds:
            if self.order is not None:
                out += [(m.start(), m.end(), "order", "[ORDER]") for m in self.order.finditer(text, pos, endpos)
                        if m.end() > m.start()]
            if has_digit:
                out += pii.find_order_context(text, pos, endpos)
        names = (self.names.scan(text, folded if folded is not None else _fold(text), pos, endpos, flags)
                 if self.names is not None else [])
        people = self.people.find(text, pos, endpos, flags) if self.people is not None else []
        return out, names, people


def _resolve(spans: list) -> list:
    """Keep non-overlapping spans, longest first (then earliest); return them sorted by start."""
    kept_starts: list = []
    kept: list = []
    for sp in sorted(spans, key=lambda x: (-(x[1] - x[0]), x[0])):
        s, e = sp[0], sp[1]
        i = bisect_left(kept_starts, s)
        if i > 0 and kept[i - 1][1] > s:
            continue
        if i < len(kept) and kept[i][0] < e:
            continue
        kept_starts.insert(i, s)
        kept.insert(i, sp)
    return kept


def _find_in_units(det, text: str, folded, units: list, ctx, flags=None) -> list:
    """Search the whole text once, keeping no span that crosses a unit boundary.

    ``units`` are sorted, disjoint (start, end) pieces (speaker turns, the labels between them);
    a unit touched by a crossing match is searched again on its own.
    """
    spans = det.find(text, folded, 0, len(text), ctx, flags)
    starts = [a for a, _ in units]
    keep, redo = [], set()
    for sp in spans:
        i = bisect_right(starts, sp[0]) - 1
        if i >= 0 and sp[1] <= units[i][1]:
            keep.append((i, sp))
        else:
            j = bisect_right(starts, sp[1] - 1) - 1
            redo.update(range(max(i, 0), j + 1))
    out = [sp for i, sp in keep if i not in redo]
    for i in sorted(redo):
        out += det.find(text, folded, units[i][0], units[i][1], ctx, None)
    return out


def _turn_units(turns: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> list:
    """(first start, last end) of each turn's segments, sorted: one unit per speaker turn.

    The same as a groupby on ``turn`` with min/max, without a pandas groupby per document.
    """
    codes, uniques = pd.factorize(turns)  # a missing turn gets -1 and no unit, as in groupby
    ok = codes >= 0
    lo = np.full(len(uniques), np.iinfo(np.int64).max, dtype=np.int64)
    hi = np.full(len(uniques), np.iinfo(np.int64).min, dtype=np.int64)
    np.minimum.at(lo, codes[ok], np.asarray(starts, dtype=np.int64)[ok])
    np.maximum.at(hi, codes[ok], np.asarray(ends, dtype=np.int64)[ok])
    return sorted(zip(lo.tolist(), hi.tolist()))


def _apply(text: str, spans: list) -> tuple[str, list]:
    """Replace the (sorted, disjoint) spans; return the new text and (s, e, kind, ph, new_s, new_e)."""
    parts, rows, prev, shift = [], [], 0, 0
    for s, e, kind, ph in spans:
        parts.append(text[prev:s])
        parts.append(ph)
        ns = s + shift
        rows.append((s, e, kind, ph, ns, ns + len(ph)))
        shift += len(ph) - (e - s)
        prev = e
    parts.append(text[prev:])
    return "".join(parts), rows


def offset_mapper(rows):
    """Vectorised maps of original positions → redacted positions (start-like and end-like)."""
    if not rows:
        return (lambda p: np.asarray(p, dtype=np.int64)), (lambda p: np.asarray(p, dtype=np.int64))
    os_ = np.array([r[0] for r in rows], dtype=np.int64)
    oe = np.array([r[1] for r in rows], dtype=np.int64)
    ns = np.array([r[4] for r in rows], dtype=np.int64)
    ne = np.array([r[5] for r in rows], dtype=np.int64)
    shift_after = ne - oe  # shift of positions at or after the end of span i

    def _map(p, end_like):
        p = np.asarray(p, dtype=np.int64)
        k = np.searchsorted(oe, p, side="right")  # spans ending at or before p
        out = p + np.where(k > 0, shift_after[np.maximum(k - 1, 0)], 0)
        kc = np.minimum(k, len(oe) - 1)
        inside = (k < len(oe)) & (os_[kc] < p)
        return np.where(inside, ne[kc] if end_like else ns[kc], out)

    return (lambda p: _map(p, False)), (lambda p: _map(p, True))


def _mapping_frame(records: list) -> pd.DataFrame:
    cols = list(zip(*records)) if records else [[] for _ in MAPPING_COLUMNS]
    data = {}
    for name, col in zip(MAPPING_COLUMNS, cols):
        if name in ("doc_id", "segment_id", "kind", "placeholder"):
            data[name] = pd.array([None if v is None or v is pd.NA else str(v) for v in col], dtype="string")
        else:
            data[name] = np.asarray(col, dtype=np.int64)
    return pd.DataFrame(data, columns=MAPPING_COLUMNS)


def _flags_frame(records: list) -> pd.DataFrame:
    cols = list(zip(*records)) if records else [[] for _ in FLAG_COLUMNS]
    data = {}
    for name, col in zip(FLAG_COLUMNS, cols):
        if name in ("start", "end"):
            data[name] = np.asarray(col, dtype=np.int64)
        else:
            data[name] = pd.array([None if v is None or v is pd.NA else str(v) for v in col], dtype="string")
    return pd.DataFrame(data, columns=FLAG_COLUMNS)


def _dedupe_flags(flags: list, spans: list) -> list:
    """Flags once per position, and none inside a span that was replaced after all."""
    seen, out = set(), []
    starts = [sp[0] for sp in spans]
    for f in sorted(flags):
        if (f[0], f[1]) in seen:
            continue
        i = bisect_right(starts, f[0]) - 1
        if i >= 0 and spans[i][1] > f[0]:
            continue
        seen.add((f[0], f[1]))
        out.append(f)
    return out


# ----------------------------------------------------------------------------- public API


@dataclass(frozen=True, eq=False)
class Redaction:
    """The result of :func:`redact`.

    Attributes
    ----------
    segments : DataFrame
        The segments with PII replaced and ``start``/``end`` recomputed into the redacted text.
    documents : DataFrame or None
        The redacted documents (same columns as given) when ``documents`` was passed.
    mapping : DataFrame
        One row per replacement: ``doc_id``, ``segment_id`` (``<NA>`` for a replacement outside
        any segment, e.g. a name in a speaker label), ``kind``, ``placeholder``,
        ``original_start``, ``original_end`` (in the original document text), ``start``, ``end``
        (in the redacted text). It never holds the replaced text.
    flags : DataFrame
        What looked like personal data but was kept, for a researcher to confirm:
        ``doc_id``, ``segment_id``, ``kind``, ``text`` (the word kept, which is still in the
        redacted text), ``reason``, ``start``, ``end`` (in the redacted text).
    """

    segments: pd.DataFrame
    documents: pd.DataFrame | None
    mapping: pd.DataFrame
    flags: pd.DataFrame = None

    def __post_init__(self):
        if self.flags is None:
            object.__setattr__(self, "flags", _flags_frame([]))

    def counts(self) -> pd.DataFrame:
        """Number of replacements per kind: ``kind``, ``n``."""
        return (self.mapping.groupby("kind").size().rename("n").reset_index()
                if len(self.mapping)
                else pd.DataFrame({"kind": pd.Series(dtype="string"), "n": pd.Series(dtype="int64")}))

    def __repr__(self) -> str:
        per = ", ".join(f"{k}={n}" for k, n in self.counts().itertuples(index=False)) or "nothing replaced"
        return f"Redaction({len(self.segments)} segments, {len(self.mapping)} replacements: {per})"


def make_detector(participants=None, *, order_pattern=DEFAULT_ORDER_PATTERN, kinds=None, region=DEFAULT_REGION,
                  extra_regions=DEFAULT_EXTRA_REGIONS, func: str = "make_detector"):
    """Build every detector once for a study, for :func:`redact` and :func:`redact_texts`.

    The participants' name matcher (one regular-expression alternation over every name, part
    and alias) is compiled here, once, so redacting a study is linear in its text.

    Parameters
    ----------
    participants : DataFrame, optional
        ``participant_id`` and optional ``name`` and ``aliases`` columns.
    order_pattern, kinds, region, extra_regions
        See :func:`redact_texts`.

    Returns
    -------
    detector
        An opaque object to pass as ``detector=``.

    Examples
    --------
    >>> people = pd.DataFrame({"participant_id": ["P01"], "name": ["Grace Whitfield"]})
    >>> det = make_detector(people, region="GB")
    >>> redact_texts(["Grace said so.", "A grace period of Grace Whitfield's."], detector=det).segments["text"].tolist()
    ['[NAME:P01] said so.', "A grace period of [NAME:P01]'s."]
    """
    if participants is not None:
        check_frame(participants, arg="participants", func=func, required=["participant_id"], allow_empty=True)
    return _Detector(kinds=kinds, order_pattern=order_pattern, names=_names_from(None, participants), func=func,
                     region=region, extra_regions=extra_regions)


def redact_text(text: str, *, names=None, order_pattern=DEFAULT_ORDER_PATTERN, kinds=None, region=DEFAULT_REGION,
                extra_regions=DEFAULT_EXTRA_REGIONS):
    """Replace PII in one text (e.g. a survey comment) with typed placeholders.

    Parameters
    ----------
    text : str
        The text.
    names : list of str, dict or DataFrame, optional
        Real names to replace. A list gives ``[NAME]``; a dict ``{name: participant_id}`` or a
        participants frame (``participant_id``, ``name``, optional ``aliases``) gives ``[NAME:P07]``.
    order_pattern, kinds, region, extra_regions
        See :func:`redact_texts`.

    Returns
    -------
    redacted : str
        The text with placeholders.
    mapping : DataFrame
        The columns of :attr:`Redaction.mapping`; ``doc_id`` and ``segment_id`` are ``<NA>``.

    Notes
    -----
    To redact many texts, :func:`redact_texts` builds the detectors once for all of them.

    Examples
    --------
    >>> red, where = redact_text("Mail maya@example.com or call 07700 900123, Maya.", names={"Maya Okafor": "P01"})
    >>> red
    'Mail [EMAIL] or call [PHONE], [NAME:P01].'
    >>> where[["kind", "original_start", "original_end", "start", "end"]].values.tolist()
    [['email', 5, 21, 5, 12], ['phone', 30, 42, 21, 28], ['name', 44, 48, 30, 40]]
    """
    if not isinstance(text, str):
        raise JourneylabError(f"redact_text(): `text` must be a str, got {type(text).__name__}.")
    det = _Detector(kinds=kinds, order_pattern=order_pattern, names=_names_from(names), func="redact_text",
                    region=region, extra_regions=extra_regions)
    spans = _resolve(det.find(text, None, 0, len(text)))
    new, rows = _apply(text, spans)
    return new, _mapping_frame([(None, None, k, ph, s, e, ns, ne) for s, e, k, ph, ns, ne in rows])


def redact_texts(texts, *, keys=None, names=None, order_pattern=DEFAULT_ORDER_PATTERN, kinds=None,
                 region=DEFAULT_REGION, extra_regions=DEFAULT_EXTRA_REGIONS, detector=None):
    """Replace PII in many short texts (survey comments, memos, notes) with one set of detectors.

    The detectors (and the participants' name matcher, one regular-expression alternation) are
    built once, so the time is linear in the total length of the texts.

    Parameters
    ----------
    texts : sequence of str
        The texts; a value that is not a str (``None``, ``<NA>``) is returned unchanged.
    keys : sequence, optional
        One label per text for the ``doc_id`` column of the mapping (default: the position).
    names : list of str, dict or DataFrame, optional
        As in :func:`redact_text`.
    order_pattern : str or compiled regex, default ``r"\\b[A-Z]{2,4}-\\d{5,10}\\b"``
        Order or customer numbers of the study's own shape, replaced by ``[ORDER]`` (numbers
        named as such — "order no. 88231", "customer ID C9912" — are found whatever their shape).
    kinds : list of str, optional
        Which kinds to replace (default all): ``email``, ``url``, ``phone``, ``card``, ``iban``,
        ``bank``, ``ip``, ``handle``, ``dob``, ``nino``, ``order``, ``address``, ``name``,
        ``person``.
    region : str, default ``"GB"``
        The study's region (ISO 3166 two-letter code) for national phone numbers
        (``redaction: {region: DE}`` in study.yml).
    extra_regions : list of str, default ``["US"]``
        Further regions whose valid national numbers are phone numbers too.
    detector : optional
        A detector from :func:`make_detector`, to use one for a whole study (then ``names``,
        ``order_pattern``, ``kinds`` and the regions are the detector's).

    Returns
    -------
    Redaction
        ``segments``: a frame with ``doc_id`` (the key) and ``text`` (redacted); ``documents``:
        None; ``mapping`` and ``flags`` as for :func:`redact`, positions within each text.

    Examples
    --------
    >>> res = redact_texts(["ring me on 020 7946 0018", None, "my sister Chiara loved it"], keys=["R1", "R2", "R3"])
    >>> res.segments["text"].tolist()
    ['ring me on [PHONE]', None, 'my sister [PERSON] loved it']
    >>> res.mapping[["doc_id", "kind", "placeholder"]].values.tolist()
    [['R1', 'phone', '[PHONE]'], ['R3', 'person', '[PERSON]']]
    """
    texts = list(texts)
    keys = list(range(len(texts))) if keys is None else list(keys)
    if len(keys) != len(texts):
        raise JourneylabError(f"redact_texts(): `keys` has {len(keys)} values for {len(texts)} texts; "
                              "expected one per text.")
    det = detector or _Detector(kinds=kinds, order_pattern=order_pattern, names=_names_from(names),
                                func="redact_texts", region=region, extra_regions=extra_regions)
    out, records, flag_rows = [], [], []
    for key, text in zip(keys, texts):
        if not isinstance(text, str) or not text:
            out.append(text)
            continue
        fl: list = []
        spans = _resolve(det.find(text, None, 0, len(text), None, fl))
        new, rows = _apply(text, spans)
        out.append(new)
        records += [(key, None, k, ph, s, e, ns, ne) for s, e, k, ph, ns, ne in rows]
        if fl:
            map_s, map_e = offset_mapper(rows)
            for fs, fe, k, why in _dedupe_flags(fl, spans):
                flag_rows.append((key, None, k, text[fs:fe], why, int(map_s([fs])[0]), int(map_e([fe])[0])))
    seg = pd.DataFrame({"doc_id": pd.array([None if k is None else str(k) for k in keys], dtype="string"),
                        "text": pd.Series(out, dtype=object)})
    return Redaction(segments=seg, documents=None, mapping=_mapping_frame(records), flags=_flags_frame(flag_rows))


def redact(segments, *, participants=None, documents=None, order_pattern=DEFAULT_ORDER_PATTERN, kinds=None,
           region=DEFAULT_REGION, extra_regions=DEFAULT_EXTRA_REGIONS, detector=None) -> Redaction:
    """Replace PII in transcript segments (and their documents) with typed placeholders.

    Parameters
    ----------
    segments : DataFrame
        The segments frame (``segment_id``, ``doc_id``, ``start``, ``end``, ``text``, and
        usually ``turn``, ``speaker``, ``participant_id``); see :func:`journeylab.read_transcript`.
    participants : DataFrame, optional
        ``participant_id`` and optional ``name`` and ``aliases`` (separated by ``;``) columns:
        each real name (full name, first name and surname separately; case-insensitive, whole
        words, accents optional) and each alias becomes ``[NAME:<participant_id>]``.
    documents : DataFrame, optional
        ``doc_id`` and ``text`` (the documents frame of ``Study.documents``). When given, the
        whole document text is redacted — speaker labels included — and every segment must
        match its document (``text[start:end] == segment text``). Without it each segment is
        redacted on its own and offsets shift consistently within each document.
    order_pattern : str or compiled regex, default ``r"\\b[A-Z]{2,4}-\\d{5,10}\\b"``
        Order or customer numbers of the study's own shape, replaced by ``[ORDER]`` (numbers
        named as such — "order no. 88231", "customer ID C9912" — are found whatever their shape).
    kinds : list of str, optional
        Which kinds to replace (default all): ``email``, ``url``, ``phone``, ``card``, ``iban``,
        ``bank``, ``ip``, ``handle``, ``dob``, ``nino``, ``order``, ``address``, ``name``,
        ``person``.
    region : str, default ``"GB"``
        The study's region (ISO 3166 two-letter code) for national phone numbers
        (``redaction: {region: DE}`` in study.yml).
    extra_regions : list of str, default ``["US"]``
        Further regions whose valid national numbers are phone numbers too.
    detector : optional
        A detector from :func:`make_detector` (one per study: the name matcher is built once).

    Returns
    -------
    Redaction
        ``segments``: a new frame, same columns, ``text`` (and ``speaker``) redacted, ``start``
        and ``end`` pointing into the redacted document text; ``documents``: the redacted
        documents (None when not given); ``mapping``: ``doc_id``, ``segment_id``, ``kind``,
        ``placeholder``, ``original_start``, ``original_end``, ``start``, ``end`` — where each
        replacement happened, never the replaced text; ``flags``: what looked personal but was
        kept (see :class:`Redaction`).

    Notes
    -----
    What each kind detects is in ``docs/transcripts.md`` ("PII redaction") and
    :mod:`journeylab.study.pii`: phone numbers through libphonenumber; card numbers with the Luhn
    check (Luhn, US patent 2,950,048); IBANs with the ISO 13616 mod-97 check; the other kinds by
    patterns tested on a labelled corpus (``tests/data/pii_corpus.yml``); participants' names
    (word sense respected: "Grace period" stays) and other people's names (a first-name list and
    context such as "my sister ..."). Dates, times, prices, years and quantities are left alone.
    Overlapping matches are
    resolved by keeping the longest (then the earliest). Search runs per speaker turn and over
    the text between turns (labels), so no replacement straddles two turns. A segment boundary
    that falls inside a replaced span moves to the placeholder's edge.

    Examples
    --------
    >>> import journeylab as jl
    >>> doc = jl.study.transcripts.parse_transcript("Interviewer: Hi Maya.\\nP01: Hi! I'm at maya@example.com.\\n",
    ...                                             doc_id="P01")
    >>> docs = pd.DataFrame({"doc_id": ["P01"], "text": [doc.text]})
    >>> people = pd.DataFrame({"participant_id": ["P01"], "name": ["Maya Okafor"]})
    >>> res = redact(doc.segments, participants=people, documents=docs)
    >>> res.segments["text"].tolist()
    ['Hi [NAME:P01].', "Hi! I'm at [EMAIL]."]
    >>> res.documents["text"][0]
    "Interviewer: Hi [NAME:P01].\\nP01: Hi! I'm at [EMAIL].\\n"
    """
    func = "redact"
    check_frame(segments, arg="segments", func=func, required=["segment_id", "doc_id", "start", "end", "text"],
                allow_empty=True)
    if participants is not None:
        check_frame(participants, arg="participants", func=func, required=["participant_id"], allow_empty=True)
    det = detector or make_detector(participants, order_pattern=order_pattern, kinds=kinds, region=region,
                                    extra_regions=extra_regions, func=func)
    flag_rows: list = []
    seg = segments.copy()
    text_dtype = segments["text"].dtype
    starts = seg["start"].to_numpy(dtype=np.int64)
    ends = seg["end"].to_numpy(dtype=np.int64)
    new_starts, new_ends = starts.copy(), ends.copy()
    new_texts = list(seg["text"].astype(object))
    records: list = []
    redacted_docs = None

    def _context(doc_id, idx):
        if documents is not None and "participant_id" in documents.columns:
            v = doc_pid.get(doc_id)
            if isinstance(v, str) and ";" not in v:
                return v
        if "participant_id" in seg.columns:
            pids = seg["participant_id"].iloc[idx].dropna().unique()
            if len(pids) == 1:
                return str(pids[0])
        return None

    groups = seg.groupby("doc_id", sort=False, dropna=False).indices
    turns = seg["turn"].to_numpy() if "turn" in seg.columns else None
    seg_ids = seg["segment_id"].to_numpy(dtype=object)
    if documents is not None:
        check_frame(documents, arg="documents", func=func, required=["doc_id", "text"], allow_empty=True)
        doc_text = dict(zip(documents["doc_id"], documents["text"]))
        doc_pid = dict(zip(documents["doc_id"], documents["participant_id"])) if "participant_id" in documents else {}
        missing = [d for d in groups if d not in doc_text]
        if missing:
            raise JourneylabError(f"redact(): `segments` has doc_id {missing[0]!r} that `documents` lacks; "
                                  "expected one row per document (doc_ids found: "
                                  f"{', '.join(map(str, list(doc_text)[:10]))}).")
        new_doc_text = {}
        for doc_id, text in doc_text.items():
            idx = groups.get(doc_id, np.array([], dtype=np.int64))
            if not isinstance(text, str):
                if len(idx):
                    raise JourneylabError(f"redact(): `documents` row {doc_id!r} has no text.")
                new_doc_text[doc_id] = text
                continue
            s_, e_ = starts[idx], ends[idx]
            for j, i in enumerate(idx):
                if text[s_[j]:e_[j]] != new_texts[i]:
                    raise JourneylabError(
                        f"redact(): segment {seg['segment_id'].iloc[i]!r} does not match its document: "
                        f"documents text[{s_[j]}:{e_[j]}] differs from the segment text; expected the segments and "
                        "documents read together (e.g. by read_document or load_study).")
            # units: speaker turns (merged sentence spans) and the text between them
            if "turn" in seg.columns and len(idx):
                units = _turn_units(turns[idx], s_, e_)
            else:
                units = sorted(zip(s_.tolist(), e_.tolist()))
            folded = _fold(text) if det.names is not None else None
            ctx = _context(doc_id, idx)
            cover, prev = [], 0  # the turns and the text between them (labels), in order
            for a, b in units:
                if a > prev:
                    cover.append((prev, a))
                a = max(a, prev)
                if b > a:
                    cover.append((a, b))
                prev = max(prev, b)
            if prev < len(text):
                cover.append((prev, len(text)))
            fl: list = []
            spans = _find_in_units(det, text, folded, cover, ctx, fl)
            if det.people is not None:  # other people's names only inside turns: labels are the team's
                ustarts = [a for a, _ in units]

                def _in_turn(a, b):
                    i = bisect_right(ustarts, a) - 1
                    return i >= 0 and b <= units[i][1]
                spans = [sp for sp in spans if sp[2] != "person" or _in_turn(sp[0], sp[1])]
                fl = [f for f in fl if _in_turn(f[0], f[1])]
            spans = _resolve(spans)
            new_text, rows = _apply(text, spans)
            new_doc_text[doc_id] = new_text
            map_s, map_e = offset_mapper(rows)
            fl = _dedupe_flags(fl, spans)
            if fl:
                fs_ = map_s(np.array([f[0] for f in fl], dtype=np.int64))
                fe_ = map_e(np.array([f[1] for f in fl], dtype=np.int64))
                o_s = np.sort(s_)
                o_idx = idx[np.argsort(s_, kind="stable")]
                o_e = e_[np.argsort(s_, kind="stable")]
                for (a, b, k, why), na, nb in zip(fl, fs_, fe_):
                    p = int(np.searchsorted(o_s, a, side="right")) - 1
                    sid = seg_ids[o_idx[p]] if p >= 0 and a < o_e[p] else None
                    flag_rows.append((doc_id, sid, k, text[a:b], why, int(na), int(nb)))
            if not len(idx):
                records += [(doc_id, None, k, ph, s, e, ns, ne) for s, e, k, ph, ns, ne in rows]
                continue
            ns_, ne_ = map_s(s_), map_e(e_)
            new_starts[idx], new_ends[idx] = ns_, ne_
            for j, i in enumerate(idx):
                new_texts[i] = new_text[ns_[j]:ne_[j]]
            order = np.argsort(s_, kind="stable")
            ss, se = s_[order], e_[order]
            for s, e, k, ph, ns, ne in rows:
                p = int(np.searchsorted(ss, s, side="right")) - 1
                sid = seg_ids[idx[order[p]]] if p >= 0 and s < se[p] else None
                records.append((doc_id, sid, k, ph, s, e, ns, ne))
        redacted_docs = documents.copy()
        redacted_docs["text"] = pd.array([new_doc_text[d] for d in documents["doc_id"]],
                                         dtype=documents["text"].dtype)
    else:
        doc_pid = {}
        for doc_id, idx in groups.items():
            ctx = _context(doc_id, idx)
            # search all segments of the document in one pass over their texts joined
            pieces, cover, pos = [], [], 0
            for i in idx:
                t = new_texts[i] if isinstance(new_texts[i], str) else ""
                pieces.append(t)
                cover.append((pos, pos + len(t)))
                pos += len(t) + 2
            joined = "\n\n".join(pieces)
            folded = _fold(joined) if det.names is not None else None
            found = _resolve(_find_in_units(det, joined, folded, cover, ctx))
            per_unit: dict = {}
            cstarts = [a for a, _ in cover]
            for sp in found:
                per_unit.setdefault(bisect_right(cstarts, sp[0]) - 1, []).append(sp)
            all_rows = []
            for u, spans in per_unit.items():
                i, base = idx[u], cover[u][0]
                new_t, rows = _apply(pieces[u], [(a - base, b - base, k, ph) for a, b, k, ph in spans])
                new_texts[i] = new_t
                off = starts[i]
                for a, b, k, ph, _, _ in rows:
                    all_rows.append((off + a, off + b, k, ph, seg_ids[i]))
            all_rows.sort(key=lambda r: r[0])
            shift, rows2 = 0, []
            for s, e, k, ph, sid in all_rows:
                rows2.append((s, e, k, ph, s + shift, s + shift + len(ph)))
                shift += len(ph) - (e - s)
            map_s, map_e = offset_mapper(rows2)
            new_starts[idx], new_ends[idx] = map_s(starts[idx]), map_e(ends[idx])
            records += [(doc_id, r[4], r[2], r[3], r[0], r[1], r2[4], r2[5]) for r, r2 in zip(all_rows, rows2)]
    seg["text"] = pd.array(new_texts, dtype=text_dtype)
    seg["start"] = new_starts.astype(segments["start"].dtype)
    seg["end"] = new_ends.astype(segments["end"].dtype)
    if "speaker" in seg.columns and det.names is not None:
        cache = {}
        for v in seg["speaker"].dropna().unique():
            v = str(v)
            found: list = []
            det.names.find(v, _fold(v), 0, len(v), None, found)
            cache[v] = _apply(v, _resolve(found))[0] if found else v
        seg["speaker"] = pd.array([cache.get(v, v) if isinstance(v, str) else v for v in seg["speaker"]],
                                  dtype=segments["speaker"].dtype)
    mapping = _mapping_frame(records)
    if len(mapping):
        mapping = mapping.sort_values(["doc_id", "original_start"], kind="stable").reset_index(drop=True)
    return Redaction(segments=seg, documents=redacted_docs, mapping=mapping, flags=_flags_frame(flag_rows))
