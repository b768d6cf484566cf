"""Anchoring codings to the text they cover, so that an edit of a transcript never moves one silently.

A coding points at ``doc_id, start, end`` (code points into the transcript's text) or at a turn
(``segment_id``, whose span the segments frame holds). Positions go stale when a transcript is
corrected after coding: a line inserted above a coded turn shifts every turn id after it. So each
coding written by journeylab also carries a **fingerprint** of its text, and :func:`reanchor_codings`
checks it when a study loads.

Fingerprint format (one text column ``fingerprint``)::

    <sha1 of the covered text, 12 hex digits>|<length>|<up to 24 characters before>|<up to 24 after>

The context parts escape ``%``, ``|``, newlines and tabs as ``%25``, ``%7C``, ``%0A``, ``%0D``,
``%09``. Example: ``9c1f0e22a5b7|57|[00:01:38] P01: |%0A%0A[00:02:00] Interv``.

Re-anchoring a coding whose fingerprint no longer matches the text at its position:

1. **exact**: every place where text of the same length and hash occurs (found from the old text
   when the codings file carries a ``text`` column, else from the places its context occurs and
   from the turns of its transcript); the one whose context matches best, then the nearest, wins.
   Status ``moved``: same text, new position.
2. **fuzzy** (rapidfuzz): with the old text known, the most similar turn of the transcript (for a
   whole-turn coding) or the best-aligned stretch of text near the old position, if its similarity
   is at least ``min_score`` (0-100); without the old text, the stretch between the best fuzzy
   matches of its two context strings. Status ``changed``: new position, *different* text.
3. otherwise status ``lost``: the coding cannot be placed.

Every ``moved``, ``changed`` and ``lost`` coding is reported; none is attached to other text
without a report.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from urllib.parse import unquote

import numpy as np
import pandas as pd
from rapidfuzz import fuzz, process

from ..errors import JourneylabError
from ..utils.checks import check_frame

CONTEXT = 24
MIN_SCORE = 85.0
ANCHOR_REPORT_COLUMNS = ["file", "line", "coder", "code", "status", "segment_id_before", "segment_id",
                         "start_before", "end_before", "start", "end", "text", "score"]
_ESCAPES = {"%": "%25", "|": "%7C", "\n": "%0A", "\r": "%0D", "\t": "%09"}


def text_hash(text: str) -> str:
    """The 12-hex-digit SHA-1 of a text (its UTF-8 bytes), as fingerprints carry it."""
    return hashlib.sha1(str(text).encode("utf-8")).hexdigest()[:12]


def _esc(s: str) -> str:
    return "".join(_ESCAPES.get(ch, ch) for ch in s)


@dataclass(frozen=True)
class Fingerprint:
    """A parsed fingerprint: ``hash`` and ``length`` of the covered text, ``before``/``after`` context."""

    hash: str
    length: int
    before: str
    after: str

    def matches(self, text: str, start: int, end: int) -> bool:
        """Whether ``text[start:end]`` is the fingerprinted text."""
        return (0 <= start < end <= len(text) and end - start == self.length
                and text_hash(text[start:end]) == self.hash)


def fingerprint(text: str, start: int, end: int, *, context: int = CONTEXT) -> str:
    """The fingerprint of ``text[start:end]``: its hash, length and a little context.

    Examples
    --------
    >>> fp = fingerprint("Q: hi\\nA: the throw is lovely\\n", 9, 28)
    >>> fp.split("|")[1:]
    ['19', 'Q: hi%0AA: ', '%0A']
    >>> parse_fingerprint(fp).matches("Q: hi\\nA: the throw is lovely\\n", 9, 28)
    True
    """
    start, end = int(start), int(end)
    return (f"{text_hash(text[start:end])}|{end - start}|{_esc(text[max(0, start - context):start])}|"
            f"{_esc(text[end:end + context])}")


def parse_fingerprint(value) -> Fingerprint | None:
    """Parse a fingerprint string (None for a blank one); raises JourneylabError for a malformed one."""
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
        return None
    s = str(value).strip()
    if not s:
        return None
    parts = s.split("|")
    if len(parts) != 4 or len(parts[0]) != 12 or not parts[1].isdigit():
        raise JourneylabError(f"expected a fingerprint like '9c1f0e22a5b7|57|<before>|<after>' (hash, length, "
                              f"context), found {s[:60]!r}")
    try:
        int(parts[0], 16)
    except ValueError:
        raise JourneylabError(f"expected a 12-hex-digit hash at the start of the fingerprint, found {parts[0]!r}") \
            from None
    return Fingerprint(parts[0].lower(), int(parts[1]), unquote(parts[2]), unquote(parts[3]))


@dataclass(frozen=True)
class Placement:
    """Where a coding sits after re-anchoring: ``status`` same/moved/changed/lost, span and similarity."""

    status: str
    start: int | None
    end: int | None
    score: float


def _occurrences(text: str, needle: str, limit: int = 10_000):
    if not needle:
        return
    i = text.find(needle)
    n = 0
    while i >= 0 and n < limit:
        yield i
        n += 1
        i = text.find(needle, i + 1)


def _context_score(text: str, p: int, n: int, fp: Fingerprint) -> int:
    score = 0
    if fp.before and text[max(0, p - len(fp.before)):p] == fp.before:
        score += 1
    if fp.after and text[p + n:p + n + len(fp.after)] == fp.after:
        score += 1
    return score


def reanchor(text: str, start, end, fp: Fingerprint, *, old_text: str | None = None,
             turns: np.ndarray | None = None, min_score: float = MIN_SCORE) -> Placement:
    """Place one fingerprinted coding in the (possibly edited) ``text`` of its transcript.

    Parameters
    ----------
    text : str
        The transcript's current text.
    start, end : int or None
        The coding's recorded span (None when unknown).
    fp : Fingerprint
        Its fingerprint (:func:`parse_fingerprint`).
    old_text : str, optional
        The covered text as recorded (a codings file's ``text`` column); enables fuzzy matching of
        the text itself. Ignored unless its hash is the fingerprint's.
    turns : array of shape (k, 2), optional
        The ``start, end`` of the transcript's turns: whole-turn codings are looked for there.
    min_score : float, default 85
        Least rapidfuzz similarity (0-100) for a fuzzy placement.

    Returns
    -------
    Placement
        ``status`` is ``same`` (text unchanged at its span), ``moved`` (same text elsewhere),
        ``changed`` (similar text: the span moved and its text differs) or ``lost``.

    Examples
    --------
    >>> old = "A: hi\\nB: the throw is lovely\\n"
    >>> fp = parse_fingerprint(fingerprint(old, 9, 27))
    >>> reanchor("A: hi\\nA: ok\\nB: the throw is lovely\\n", 9, 27, fp)
    Placement(status='moved', start=15, end=33, score=100.0)
    """
    n = fp.length
    if start is not None and end is not None and fp.matches(text, int(start), int(end)):
        return Placement("same", int(start), int(end), 100.0)
    if old_text is not None and (len(old_text) != n or text_hash(old_text) != fp.hash):
        old_text = None
    origin = int(start) if start is not None else 0
    # 1. exact
    cands: set[int] = set()
    if old_text is not None:
        cands.update(_occurrences(text, old_text))
    else:
        cands.update(p + len(fp.before) for p in _occurrences(text, fp.before))
        cands.update(p - n for p in _occurrences(text, fp.after))
        if turns is not None and len(turns):
            cands.update(int(a) for a, b in turns if b - a == n)
        if start is not None:
            cands.add(int(start))
    good = [p for p in cands if fp.matches(text, p, p + n)]
    if good:
        p = min(good, key=lambda q: (-_context_score(text, q, n, fp), abs(q - origin), q))
        return Placement("moved", p, p + n, 100.0)
    # 2. fuzzy
    if old_text is not None:
        best = None
        if turns is not None and len(turns):
            choices = {i: text[int(a):int(b)] for i, (a, b) in enumerate(turns)}
            hit = process.extractOne(old_text, choices, scorer=fuzz.ratio, score_cutoff=min_score)
            if hit is not None:
                a, b = turns[hit[2]]
                best = Placement("changed", int(a), int(b), float(hit[1]))
        if best is None:
            lo = max(0, origin - max(2000, 4 * n))
            window = text[lo:origin + n + max(2000, 4 * n)]
            al = fuzz.partial_ratio_alignment(old_text, window, score_cutoff=min_score * 0.75)
            if al is not None and al.dest_end > al.dest_start:
                best = _refine(text, old_text, lo + al.dest_start, lo + al.dest_end, min_score)
        if best is not None:
            return best
    elif fp.before or fp.after:
        lo = max(0, origin - max(2000, 4 * n))
        hi = origin + n + max(2000, 4 * n)
        window = text[lo:hi]
        b = fuzz.partial_ratio_alignment(fp.before, window, score_cutoff=min_score) if fp.before else None
        a = fuzz.partial_ratio_alignment(fp.after, window, score_cutoff=min_score) if fp.after else None
        if b is not None and a is not None:
            s, e = lo + b.dest_end, lo + a.dest_start
            if n // 2 <= e - s <= 2 * n + 20:
                if turns is not None and len(turns):
                    # a whole-turn coding lands on a whole turn: the one the contexts enclose most of
                    # (a line inserted next to it would otherwise be taken in)
                    ta, tb = np.asarray(turns[:, 0]), np.asarray(turns[:, 1])
                    overlap = np.minimum(tb, e) - np.maximum(ta, s)
                    k = int(np.argmax(overlap))
                    if overlap[k] <= 0:
                        return Placement("lost", None, None, 0.0)
                    s, e = int(ta[k]), int(tb[k])
                return Placement("changed", s, e, float(min(a.score, b.score)))
    return Placement("lost", None, None, 0.0)


def _refine(text: str, old: str, lo: int, hi: int, min_score: float) -> Placement | None:
    """The stretch around ``[lo, hi)`` most similar to ``old`` (ends at word boundaries), if similar enough.

    ``partial_ratio_alignment`` finds a window as long as ``old``; an edit that added or removed
    words changes the length, so both ends are tried within a third of its length either side.
    """
    slack = max(8, len(old) // 3)

    def cuts(x: int, *, start: bool) -> list[int]:
        out = {x}
        for p in range(max(0, x - slack), min(len(text), x + slack) + 1):
            if start and p < len(text) and (p == 0 or (text[p - 1].isspace() and not text[p].isspace())):
                out.add(p)
            if not start and (p == len(text) or (text[p].isspace() or not text[p].isalnum())
                              and p > 0 and text[p - 1].isalnum()):
                out.add(p)
        return sorted(out)

    best = None
    one_line = "\n" not in old   # a span inside one line (turn) is not moved across a line break
    for a in cuts(lo, start=True):
        for b in cuts(hi, start=False):
            if b <= a or (one_line and "\n" in text[a:b]):
                continue
            score = fuzz.ratio(old, text[a:b], score_cutoff=min_score)
            if score and (best is None or score > best.score):
                best = Placement("changed", a, b, float(score))
    return best


def fingerprint_codings(codings: pd.DataFrame, *, documents: pd.DataFrame, segments: pd.DataFrame,
                        context: int = CONTEXT) -> pd.DataFrame:
    """Add a ``fingerprint`` column to a codings frame (its span's, else its turn's text).

    Parameters
    ----------
    codings : DataFrame
        ``segment_id`` and/or ``doc_id``, ``start``, ``end``.
    documents : DataFrame
        ``doc_id``, ``text``: the transcripts' text **as in the study's files** (a study loaded
        with ``redact=False``), since load_study checks fingerprints before redacting.
    segments : DataFrame
        ``segment_id``, ``doc_id``, ``start``, ``end`` of the same texts.
    context : int, default CONTEXT
        Characters of text kept on either side of the span in the fingerprint (to find it again
        after an edit).

    Returns
    -------
    DataFrame
        A copy of ``codings`` with ``fingerprint`` (see the module's Notes for the format); a
        coding whose turn or span is not in the texts gets an empty fingerprint.

    Examples
    --------
    >>> import journeylab as jl
    >>> study = jl.load_study(jl.datasets.sample_study_path(), redact=False)
    >>> out = fingerprint_codings(study.codings, documents=study.documents, segments=study.segments)
    >>> bool(out["fingerprint"].str.len().gt(0).all())
    True
    """
    func = "fingerprint_codings"
    check_frame(codings, arg="codings", func=func, allow_empty=True)
    check_frame(documents, arg="documents", func=func, required=["doc_id", "text"], allow_empty=True)
    check_frame(segments, arg="segments", func=func, required=["segment_id", "doc_id", "start", "end"],
                allow_empty=True)
    if not ({"doc_id", "start", "end"} <= set(codings.columns) or "segment_id" in codings.columns):
        raise JourneylabError(f"{func}(): argument `codings` needs a segment_id column or doc_id, start and end "
                              f"(a span); found: {', '.join(map(str, codings.columns)) or '(no columns)'}.")
    texts = dict(zip(documents["doc_id"].astype(str), documents["text"]))
    seg = segments.set_index(segments["segment_id"].astype(str))
    fps = []
    has_span = {"doc_id", "start", "end"} <= set(codings.columns)
    for i in range(len(codings)):
        row = codings.iloc[i]
        doc = a = b = None
        if has_span and pd.notna(row["start"]) and pd.notna(row["end"]) and pd.notna(row["doc_id"]):
            doc, a, b = str(row["doc_id"]), int(row["start"]), int(row["end"])
        elif "segment_id" in codings.columns and str(row["segment_id"]) in seg.index:
            s = seg.loc[str(row["segment_id"])]
            doc, a, b = str(s["doc_id"]), int(s["start"]), int(s["end"])
        if doc in texts and 0 <= a < b <= len(texts[doc]):
            fps.append(fingerprint(texts[doc], a, b, context=context))
        else:
            fps.append("")
    return codings.assign(fingerprint=fps)
