"""Span coding in Jupyter: select text with the mouse, click a code: :class:`SpanCodingSession`.

Two layers, as for :class:`~journeylab.CodingSession`:

* :class:`SpanState` — the logic in plain Python: which turns are shown, the mapping from a
  browser selection to a span of the document, applying and removing codes on spans, the
  highlighted pieces of each turn. Every decision goes to the
  :class:`~journeylab.CodingStore` at once (:meth:`~journeylab.CodingStore.decide_span`).
  Testable without a browser.
* :class:`SpanCodingSession` — the view, an `anywidget <https://anywidget.dev>`_ widget
  (``span_widget.js``): ipywidgets cannot read a text selection, a widget with its own front-end
  code can. The browser only reports where the selection starts and ends (a turn and an offset
  in UTF-16 code units, which is what JavaScript strings count); Python turns that into code
  points (:func:`utf16_to_index`), so characters outside the Basic Multilingual Plane (emoji,
  some CJK) do not shift the span.
"""
from __future__ import annotations

__all__ = ["SpanCodingSession", "SpanState", "utf16_to_index", "index_to_utf16"]

import html
from collections.abc import Iterable
from pathlib import Path

import pandas as pd

from ..errors import JourneylabError
from ..study.anchor import Placement, fingerprint, parse_fingerprint, reanchor
from ..study.codebook import Codebook
from ..utils.checks import check_frame
from .store import CodingStore

# Okabe-Ito colours (colour-blind safe), light enough to read black text on; code i gets PALETTE[i % n]
PALETTE = ["#f5c97a", "#9fd3f2", "#8fd6bd", "#f7ef99", "#9ec3e6", "#f0b27a", "#e5b3cf", "#c8c8c8"]


def utf16_to_index(text: str, offset: int) -> int:
    """The code-point index in ``text`` of a UTF-16 offset (what a JavaScript string counts).

    A character outside the Basic Multilingual Plane (an emoji, U+1F600) is one code point in
    Python and two UTF-16 code units in JavaScript. An offset inside such a pair (which a browser
    selection does not produce) counts as after the character. Offsets beyond the text are
    clipped to its length.

    Examples
    --------
    >>> text = "ok 😀 fine"
    >>> utf16_to_index(text, 6)  # after "ok 😀 " in JavaScript's count
    5
    >>> text[utf16_to_index(text, 6):]
    'fine'
    """
    offset = int(offset)
    if offset <= 0:
        return 0
    units = 0
    for i, ch in enumerate(text):
        if units >= offset:
            return i
        units += 2 if ord(ch) > 0xFFFF else 1
    return len(text)


def index_to_utf16(text: str, index: int) -> int:
    """The UTF-16 offset (JavaScript's count) of a code-point index in ``text``.

    Examples
    --------
    >>> index_to_utf16("ok 😀 fine", 5)
    6
    """
    return sum(2 if ord(ch) > 0xFFFF else 1 for ch in text[: max(int(index), 0)])


class SpanState:
    """The logic behind :class:`SpanCodingSession` (no widgets).

    Parameters
    ----------
    segments : DataFrame
        The segments frame (``segment_id``, ``doc_id``, ``start``, ``end``; ``speaker``,
        ``speaker_role`` used when present).
    documents : DataFrame
        ``doc_id``, ``text``: the texts the segments' ``start``/``end`` point into (a study's
        ``documents``). Spans are code points into these texts.
    codebook : Codebook
    store : CodingStore or path
    coder : str
    segment_ids : iterable of str, optional
        Show only these turns (e.g. a filtered segments frame's ids), grouped by document in the
        order of first appearance. Default: every turn of every document.
    roles : iterable of str or None, default ("participant",)
        Speaker roles whose turns can be coded (the others are shown, greyed, as context; a span
        may run across them). None: every turn can be coded. Without a ``speaker_role`` column
        every turn can be coded.

    Notes
    -----
    A span is ``doc_id, start, end``: code points into the document's text, end exclusive, so
    ``text[start:end]`` is the coded text, as in a study's codings frame. It may run across turns
    (then it covers the text between them too). Its ``segment_id`` is the turn it starts in.
    Blind coding: only this coder's spans are shown.
    """

    def __init__(self, segments: pd.DataFrame, documents: pd.DataFrame, codebook: Codebook, store, coder: str, *,
                 segment_ids: Iterable[str] | None = None, roles: Iterable[str] | None = ("participant",)):
        func = "SpanCodingSession"
        check_frame(segments, arg="segments", func=func, required=["segment_id", "doc_id", "start", "end"])
        check_frame(documents, arg="documents", func=func, required=["doc_id", "text"])
        if not isinstance(codebook, Codebook):
            raise JourneylabError(f"{func}(): `codebook` must be a journeylab Codebook; got {type(codebook).__name__}")
        if not isinstance(coder, str) or not coder.strip():
            raise JourneylabError(f"{func}(): `coder` must be your name or initials (non-empty text); got {coder!r}")
        if segments["segment_id"].duplicated().any():
            dup = segments.loc[segments["segment_id"].duplicated(), "segment_id"].iloc[0]
            raise JourneylabError(f"{func}(): `segments` has duplicate segment_id {dup!r}")
        self.store = store if isinstance(store, CodingStore) else CodingStore(Path(store))
        self.codebook, self.coder = codebook, coder
        self.texts = {str(d): str(t) for d, t in zip(documents["doc_id"], documents["text"])}
        seg = segments.assign(doc_id=segments["doc_id"].astype(str), segment_id=segments["segment_id"].astype(str))
        missing = sorted(set(seg["doc_id"]) - set(self.texts))
        if missing:
            raise JourneylabError(f"{func}(): `documents` has no text for doc_id {missing[0]!r} of `segments`; pass "
                                  "the study's documents frame")
        for rec in seg.itertuples(index=False):
            if not 0 <= int(rec.start) <= int(rec.end) <= len(self.texts[rec.doc_id]):
                raise JourneylabError(f"{func}(): segment {rec.segment_id!r} spans [{rec.start}, {rec.end}), outside "
                                      f"document {rec.doc_id!r} ({len(self.texts[rec.doc_id])} characters); pass "
                                      "the documents the segments were cut from")
        self.segments = seg.sort_values(["doc_id", "start"], kind="stable").reset_index(drop=True)
        self._seg = self.segments.set_index("segment_id")
        self.roles = None if roles is None else set(roles)
        if segment_ids is None:
            shown = self.segments["segment_id"].tolist()
            order = list(dict.fromkeys(segments["doc_id"].astype(str)))
        else:
            ids = [str(s) for s in segment_ids]
            unknown = [s for s in ids if s not in self._seg.index]
            if unknown:
                raise JourneylabError(f"{func}(): `segment_ids` has {unknown[0]!r}, which is not in `segments`")
            shown = ids
            order = list(dict.fromkeys(self._seg.loc[ids, "doc_id"]))
        if not shown:
            raise JourneylabError(f"{func}(): no turns to show; check `segments` and `segment_ids`")
        wanted = set(shown)
        self._shown = {d: [s for s in g["segment_id"] if s in wanted]
                       for d, g in self.segments.groupby("doc_id", sort=False)}
        self.doc_ids = [d for d in order if self._shown.get(d)]
        self.index = 0
        codable = [n for n in codebook.walk() if codebook[n].codable]
        # the codebook's colour when it has one, else the palette's
        self.colours = {n: codebook[n].colour or PALETTE[i % len(PALETTE)] for i, n in enumerate(codable)}

    # -- what is shown -------------------------------------------------------------------
    @property
    def doc_id(self) -> str:
        """The document on screen."""
        return self.doc_ids[self.index]

    def codable(self, segment_id: str) -> bool:
        """Whether a turn can be coded (its speaker role is one of ``roles``)."""
        if self.roles is None or "speaker_role" not in self._seg.columns:
            return True
        return self._seg.at[segment_id, "speaker_role"] in self.roles

    def spans(self) -> pd.DataFrame:
        """This coder's current spans in the document on screen, placed in its text.

        Returns
        -------
        DataFrame
            :meth:`CodingStore.spans`'s columns (``start``/``end`` as stored), plus ``key``
            (:meth:`span_key` of the stored span), ``status`` and ``shown_start``/``shown_end``:
            where the span is highlighted. ``same`` when the document's text at the stored
            position is the stored text; otherwise the transcript changed since coding (or the
            span was coded on a redacted or unredacted version of it) and the span is looked for
            with its fingerprint (:func:`journeylab.study.anchor.reanchor`): ``moved`` (same text
            elsewhere), ``changed`` (similar text) or ``lost`` (not shown).
        """
        spans = self.store.spans(self.coder, doc_id=self.doc_id)
        text = self.texts[self.doc_id]
        status, shown_a, shown_b = [], [], []
        for r in spans.itertuples():
            a, b = int(r.start), int(r.end)
            if text[a:b] == r.text:
                place = Placement("same", a, b, 100.0)
            else:
                try:
                    fp = parse_fingerprint(r.fingerprint) or parse_fingerprint(fingerprint(r.text, 0, len(r.text)))
                except JourneylabError:
                    fp = parse_fingerprint(fingerprint(r.text, 0, len(r.text)))
                place = reanchor(text, a, b, fp, old_text=r.text)
            status.append(place.status)
            shown_a.append(place.start if place.start is not None else -1)
            shown_b.append(place.end if place.end is not None else -1)
        keys = [self.span_key(c, a, b) for c, a, b in zip(spans["code"], spans["start"], spans["end"])]
        return spans.assign(key=keys, status=status, shown_start=pd.Series(shown_a, index=spans.index, dtype="int64"),
                            shown_end=pd.Series(shown_b, index=spans.index, dtype="int64"))

    def turns(self) -> list[dict]:
        """The turns on screen with their highlighted pieces.

        Returns
        -------
        list of dict
            One per turn: ``segment_id``, ``speaker``, ``codable``, ``start``, ``end``, ``text``
            (the document's text of the turn) and ``pieces``: consecutive pieces of that text,
            each ``text``, ``start``, ``end`` (document code points) and ``spans``, the keys
            (:meth:`span_key`) of this coder's spans covering the piece, innermost (shortest)
            first.
        """
        doc = self.doc_id
        text = self.texts[doc]
        spans = self.spans()
        spans = spans[spans["status"] != "lost"]
        first, last = spans["shown_start"], spans["shown_end"]
        out = []
        for sid in self._shown[doc]:
            s = self._seg.loc[sid]
            a, b = int(s["start"]), int(s["end"])
            inside = spans[(first < b) & (last > a)]
            cuts = sorted({a, b, *[min(max(int(x), a), b) for x in inside["shown_start"]],
                           *[min(max(int(x), a), b) for x in inside["shown_end"]]})
            pieces = []
            for p, q in zip(cuts, cuts[1:]):
                if q <= p:
                    continue
                cover = inside[(inside["shown_start"] <= p) & (inside["shown_end"] >= q)]
                cover = cover.assign(_n=cover["shown_end"] - cover["shown_start"]).sort_values(
                    ["_n", "decision_id"], ascending=[True, False])
                pieces.append({"text": text[p:q], "start": p, "end": q, "spans": cover["key"].tolist()})
            out.append({"segment_id": sid, "speaker": str(s.get("speaker", "") if pd.notna(s.get("speaker", ""))
                                                          else ""),
                        "codable": self.codable(sid), "start": a, "end": b, "text": text[a:b], "pieces": pieces})
        return out

    def span_list(self) -> list[dict]:
        """This coder's spans in the document on screen: ``key``, ``code``, ``start``, ``end`` (as stored),
        ``text``, ``status``, ``shown_start``, ``shown_end`` (see :meth:`spans`), ``colour``."""
        return [{"key": r.key, "code": r.code, "start": int(r.start), "end": int(r.end), "text": r.text,
                 "status": r.status, "shown_start": int(r.shown_start), "shown_end": int(r.shown_end),
                 "colour": self.colours.get(r.code, PALETTE[-1])}
                for r in self.spans().itertuples()]

    @staticmethod
    def span_key(code: str, start: int, end: int) -> str:
        """The key of one span coding on screen: ``"<start>:<end>:<code>"``."""
        return f"{int(start)}:{int(end)}:{code}"

    def progress(self) -> tuple[int, int]:
        """(codable turns shown with at least one of this coder's spans starting in them, codable turns shown)."""
        shown = {s for ids in self._shown.values() for s in ids if self.codable(s)}
        spans = self.store.spans(self.coder)
        return len(shown & set(spans["segment_id"])), len(shown)

    # -- selection -> span ----------------------------------------------------------------
    def selection_to_span(self, anchor: tuple[str, int], focus: tuple[str, int]) -> tuple[str, int, int]:
        """The span ``(doc_id, start, end)`` of a browser selection.

        Parameters
        ----------
        anchor, focus : (segment_id, int)
            The two ends of the selection as the browser reports them: a turn and an offset into
            the turn's text in UTF-16 code units (JavaScript's string length). Either may come
            first (a selection made backwards).

        Returns
        -------
        (str, int, int)
            The document and the span in code points, ``start < end``.
        """
        points = []
        for name, point in (("anchor", anchor), ("focus", focus)):
            try:
                sid, off = str(point[0]), int(point[1])
            except (TypeError, ValueError, IndexError):
                raise JourneylabError(f"SpanCodingSession: the selection's {name} must be (segment_id, offset); "
                                      f"got {point!r}") from None
            if sid not in self._seg.index:
                raise JourneylabError(f"SpanCodingSession: the selection's {name} is in {sid!r}, not a turn of "
                                      "the segments")
            s = self._seg.loc[sid]
            a, b = int(s["start"]), int(s["end"])
            turn = self.texts[s["doc_id"]][a:b]
            points.append((s["doc_id"], a + utf16_to_index(turn, off)))
        (d1, p1), (d2, p2) = points
        if d1 != d2:
            raise JourneylabError(f"SpanCodingSession: a span cannot run across documents ({d1!r} and {d2!r})")
        start, end = min(p1, p2), max(p1, p2)
        # a selection ending at the very start of a turn (a triple click, a drag just past a turn's
        # end) ends where the turn shown before it ends; one starting at the very end of a turn
        # starts where the next shown turn starts: the gap between them (a line break, the next
        # speaker's label) is not what was meant
        bounds = [(int(self._seg.at[x, "start"]), int(self._seg.at[x, "end"])) for x in self._shown.get(d1, [])]
        ends_before = [b for a, b in bounds if b <= end and a < end]
        if any(a == end for a, _ in bounds) and ends_before and max(ends_before) > start:
            end = max(ends_before)
        starts_after = [a for a, b in bounds if a >= start and b > start]
        if any(b == start for _, b in bounds) and starts_after and min(starts_after) < end:
            start = min(starts_after)
        if start == end:
            raise JourneylabError("SpanCodingSession: nothing is selected; select some text in a turn first")
        return d1, start, end

    def turn_of(self, doc_id: str, start: int, end: int) -> str:
        """The turn a span starts in: the first turn of the document whose text ends after ``start`` and
        begins before ``end`` (as :func:`journeylab.load_study` assigns a span's ``segment_id``)."""
        g = self.segments[self.segments["doc_id"] == doc_id]
        hit = g[(g["end"] > start) & (g["start"] < end)]
        if not len(hit):
            raise JourneylabError(f"SpanCodingSession: the span [{start}, {end}) of {doc_id!r} covers no turn's text "
                                  "(only a speaker label or blank lines); select text inside a turn")
        return str(hit["segment_id"].iloc[0])

    # -- decisions ------------------------------------------------------------------------
    def _decide(self, code: str, doc_id: str, start: int, end: int, value: bool, memo: str | None = None) -> int:
        if code not in self.codebook.names:
            raise JourneylabError(f"SpanCodingSession: no code {code!r} in the codebook")
        if value and not self.codebook[code].codable:
            raise JourneylabError(f"SpanCodingSession: {code!r} is a grouping code; apply one of its children "
                                  f"({', '.join(self.codebook.children(code))})")
        text = self.texts[doc_id]
        if not 0 <= start < end <= len(text):
            raise JourneylabError(f"SpanCodingSession: span [{start}, {end}) does not fit document {doc_id!r} "
                                  f"({len(text)} characters)")
        sid = self.turn_of(doc_id, start, end)
        if value and not self.codable(sid):
            raise JourneylabError(f"SpanCodingSession: turn {sid!r} is context (speaker role "
                                  f"{self._seg.at[sid, 'speaker_role']!r}); only {sorted(self.roles or [])} turns "
                                  "are coded in this session")
        return self.store.decide_span(doc_id, start, end, code, self.coder, value, segment_id=sid,
                                      text=text[start:end], fingerprint=fingerprint(text, start, end), memo=memo)

    def apply(self, code: str, start: int, end: int, *, doc_id: str | None = None, memo: str | None = None) -> int:
        """Apply ``code`` to ``[start, end)`` (code points) of the document on screen (or ``doc_id``)."""
        return self._decide(code, doc_id or self.doc_id, int(start), int(end), True, memo)

    def apply_selection(self, code: str, anchor: tuple[str, int], focus: tuple[str, int]) -> tuple[str, int, int]:
        """Apply ``code`` to a browser selection (see :meth:`selection_to_span`); returns the span."""
        doc, start, end = self.selection_to_span(anchor, focus)
        self._decide(code, doc, start, end, True)
        return doc, start, end

    def remove(self, key: str) -> int:
        """Remove one of this coder's spans on screen, given its :meth:`span_key`; logged as a removal."""
        try:
            a, b, code = str(key).split(":", 2)
            start, end = int(a), int(b)
        except ValueError:
            raise JourneylabError(f"SpanCodingSession: {key!r} is not a span key '<start>:<end>:<code>'") from None
        current = self.store.spans(self.coder, doc_id=self.doc_id)
        hit = current[(current["start"] == start) & (current["end"] == end) & (current["code"] == code)]
        if not len(hit):
            raise JourneylabError(f"SpanCodingSession: {self.coder!r} has no {code!r} span [{start}, {end}) in "
                                  f"{self.doc_id!r} to remove")
        # the removal names the span as it was stored (its text may have moved since: see spans())
        rec = hit.iloc[0]
        return self.store.remove_span(self.doc_id, start, end, code, self.coder, segment_id=rec["segment_id"],
                                      text=rec["text"], fingerprint=rec["fingerprint"] if isinstance(
                                          rec["fingerprint"], str) else None)

    # -- navigation -----------------------------------------------------------------------
    def next(self) -> None:
        self.index = min(self.index + 1, len(self.doc_ids) - 1)

    def prev(self) -> None:
        self.index = max(self.index - 1, 0)

    def goto(self, doc_id: str) -> None:
        """Show document ``doc_id``."""
        if doc_id not in self.doc_ids:
            raise JourneylabError(f"SpanCodingSession: document {doc_id!r} is not shown in this session "
                                  f"({', '.join(self.doc_ids[:8])}{'...' if len(self.doc_ids) > 8 else ''})")
        self.index = self.doc_ids.index(doc_id)


# ----------------------------------------------------------------------------- the view

_VIEW_CLASS = None


def _view_class():
    """The anywidget class (made on first use: anywidget and ipywidgets add ~0.3 s to ``import journeylab``)."""
    global _VIEW_CLASS
    if _VIEW_CLASS is None:
        # lazy: anywidget imports ipywidgets (~0.3 s; docs/architecture.md)
        import anywidget
        import traitlets

        here = Path(__file__).parent

        class SpanView(anywidget.AnyWidget):
            _esm = here / "span_widget.js"
            _css = here / "span_widget.css"
            turns = traitlets.List().tag(sync=True)
            spans = traitlets.List().tag(sync=True)
            codes = traitlets.List().tag(sync=True)
            header = traitlets.Unicode("").tag(sync=True)
            status = traitlets.Unicode("").tag(sync=True)
            error = traitlets.Bool(False).tag(sync=True)

        _VIEW_CLASS = SpanView
    return _VIEW_CLASS


class SpanCodingSession:
    """Code spans of text by hand in JupyterLab: select text, click a code; saved to the store at once.

    Parameters
    ----------
    segments : DataFrame
        The segments frame (``segment_id``, ``doc_id``, ``start``, ``end``, ``speaker``, ...).
    documents : DataFrame
        The documents frame (``doc_id``, ``text``) the segments point into.
    codebook : Codebook
    store : CodingStore or path
        Where decisions go (created if missing; an older store is migrated after a backup).
    coder : str
        Your name or initials.
    **kwargs
        Passed to :class:`SpanState` (``segment_ids``, ``roles``).

    Attributes
    ----------
    state : SpanState
        The logic; usable without a browser.
    widget : anywidget.AnyWidget
        The user interface (displayed when the session is the last expression of a cell).

    Notes
    -----
    Select text in a turn (or across turns) with the mouse, then click a code: the code is
    applied to exactly the selected characters and written to the store
    (:meth:`CodingStore.decide_span`, one SQLite transaction). Your spans are highlighted in
    the code's colour; hover one for its code, click it to remove the code from that span (a
    removal in the store's log), or Tab to it and press Delete. Where spans overlap, a click
    removes the innermost. ``◀`` and
    ``▶`` move between documents. Stable CSS classes for styling and browser tests:
    ``jl-span-session``, ``jl-span-header``, ``jl-span-turn`` (``data-segment-id``),
    ``jl-span-text``, ``jl-span-mark`` (``data-span``), ``jl-span-code`` (``data-code``),
    ``jl-span-selection``, ``jl-span-status``, ``jl-span-prev``, ``jl-span-next``.

    Examples
    --------
    >>> import journeylab as jl  # doctest: +SKIP
    >>> study = jl.load_study(jl.datasets.sample_study_path())  # doctest: +SKIP
    >>> jl.SpanCodingSession(study.segments, documents=study.documents, codebook=study.codebook,
    ...                      store="outputs/codings.sqlite", coder="ana")  # doctest: +SKIP
    """

    def __init__(self, segments, *, documents, codebook, store, coder, **kwargs):
        self.state = SpanState(segments, documents, codebook, store, coder, **kwargs)
        cb = self.state.codebook
        self.widget = _view_class()(codes=[{"name": n, "colour": self.state.colours[n], "depth": cb.depth(n),
                                            "definition": cb[n].definition or ""}
                                           for n in cb.walk() if cb[n].codable])
        self.widget.add_class("jl-span-session")
        self.widget.on_msg(self._on_msg)
        self.refresh()

    def _on_msg(self, _widget, content, _buffers=None) -> None:
        """A message from the browser: ``apply`` (code, anchor, focus), ``remove`` (key), ``prev``/``next``."""
        st = self.state
        kind = content.get("kind") if isinstance(content, dict) else None
        try:
            if kind == "apply":
                doc, a, b = st.apply_selection(content.get("code"), tuple(content.get("anchor") or ()),
                                               tuple(content.get("focus") or ()))
                self._status(f"{content.get('code')} applied to “{_short(st.texts[doc][a:b])}” [{a}, {b})")
            elif kind == "remove":
                st.remove(content.get("key"))
                self._status(f"removed {content.get('key', '').split(':', 2)[-1]} from [{content.get('key')}]")
            elif kind in ("prev", "next"):
                getattr(st, kind)()
                self._status("")
            else:
                raise JourneylabError(f"SpanCodingSession: unknown message {content!r}")
        except JourneylabError as exc:
            self._status(str(exc), error=True)
        self.refresh()

    def _status(self, text: str, *, error: bool = False) -> None:
        self.widget.error = error
        self.widget.status = text

    def refresh(self) -> None:
        """Redraw from the state (after every action)."""
        st = self.state
        done, total = st.progress()
        spans = st.span_list()
        moved = sum(s["status"] in ("moved", "changed") for s in spans)
        lost = sum(s["status"] == "lost" for s in spans)
        note = ((f" · {moved} span{'s' if moved != 1 else ''} found at a new place (the transcript changed)"
                 if moved else "")
                + (f" · {lost} span{'s' if lost != 1 else ''} not found in this text (not shown)" if lost else ""))
        self.widget.header = (f"<b>{html.escape(st.coder)}</b> · document <code>{html.escape(st.doc_id)}</code> "
                              f"({st.index + 1} of {len(st.doc_ids)}) · {done} of {total} turns with spans{note}")
        self.widget.spans = spans
        self.widget.turns = st.turns()

    def apply(self, code: str, start: int, end: int) -> None:
        """Apply ``code`` to ``[start, end)`` of the document on screen (code points), as a selection would."""
        self.state.apply(code, start, end)
        self.refresh()

    def remove(self, key: str) -> None:
        """Remove a span by its key (``"<start>:<end>:<code>"``), as a click on its highlight would."""
        self.state.remove(key)
        self.refresh()

    def goto(self, doc_id: str) -> None:
        self.state.goto(doc_id)
        self.refresh()

    @property
    def codings(self) -> pd.DataFrame:
        """This coder's current codings, turns and spans (see :meth:`CodingStore.codings`)."""
        return self.state.store.codings(self.state.coder)

    def _repr_mimebundle_(self, **kwargs):
        return self.widget._repr_mimebundle_(**kwargs)

    def __repr__(self) -> str:
        done, total = self.state.progress()
        return (f"SpanCodingSession(coder={self.state.coder!r}, {done} of {total} turns with spans, "
                f"store={str(self.state.store.path)!r})")


def _short(text: str, n: int = 50) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= n else flat[: n - 1] + "…"
