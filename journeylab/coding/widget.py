"""Manual coding in Jupyter: :class:`CodingSession`.

Two layers:

* :class:`SessionState` — the coding logic in plain Python (which segment is shown, filters,
  navigation, progress, this coder's decisions, pending suggestions). Every decision goes to the
  :class:`~journeylab.store.CodingStore` at once. Testable without a browser or widgets.
* :class:`CodingSession` — the ipywidgets view: it only renders a ``SessionState`` and forwards
  clicks and edits to it.

Blind coding: a session shows only its own coder's decisions plus rule/model suggestions, never
another human coder's codes.
"""
from __future__ import annotations

__all__ = ["CodingSession", "SessionState"]

import html
from collections.abc import Iterable, Mapping
from pathlib import Path

import pandas as pd

from ..errors import JourneylabError
from ..study.codebook import Codebook
from ..utils.checks import check_frame
from .store import CodingStore


class SessionState:
    """The state machine behind :class:`CodingSession` (no widgets).

    Parameters
    ----------
    segments : DataFrame
        The segments frame (``segment_id``, ``text``; ``doc_id``, ``participant_id``,
        ``speaker``, ``speaker_role`` used when present). All turns are used as context; the
        turns whose ``speaker_role`` is in ``roles`` are the ones to code.
    codebook : Codebook
    store : CodingStore or path
    coder : str
    participants : DataFrame, optional
        ``participant_id`` and attributes shown beside the segment.
    suggestions : DataFrame, optional
        Codings from rules or a model (``segment_id``, ``code``; ``origin``, ``rule``,
        ``confidence`` when present). Shown until the coder accepts or rejects them.
    context : int, default 2
        Turns shown before and after the segment.
    roles : iterable of str, default ("participant",)
        Speaker roles to code.
    segment_ids : iterable of str, optional
        Code only these segments, in this order (e.g. the disagreements to reconcile).
    notes : mapping of segment_id to str, optional
        Extra text shown with a segment (e.g. other coders' decisions in a reconciliation).
    """

    def __init__(self, segments: pd.DataFrame, codebook: Codebook, store, coder: str, *,
                 participants: pd.DataFrame | None = None, suggestions: pd.DataFrame | None = None,
                 context: int = 2, roles: Iterable[str] = ("participant",),
                 segment_ids: Iterable[str] | None = None, notes: Mapping[str, str] | None = None):
        func = "CodingSession"
        check_frame(segments, arg="segments", func=func, required=["segment_id", "text"])
        if not isinstance(codebook, Codebook):
            raise JourneylabError(f"{func}(): `codebook` must be a journeylab Codebook; got {type(codebook).__name__}")
        if not isinstance(coder, str) or not coder.strip():
            raise JourneylabError(f"{func}(): `coder` must be your name or initials (non-empty text); got {coder!r}")
        if segments["segment_id"].duplicated().any():
            dup = segments.loc[segments["segment_id"].duplicated(), "segment_id"].iloc[0]
            raise JourneylabError(f"{func}(): `segments` has duplicate segment_id {dup!r}")
        self.store = store if isinstance(store, CodingStore) else CodingStore(Path(store))
        self.codebook, self.coder = codebook, coder
        self.context = int(context)
        self.segments = segments.reset_index(drop=True)
        self._row = {sid: i for i, sid in enumerate(self.segments["segment_id"])}
        self._doc_rows: dict = {}
        if "doc_id" in self.segments.columns:
            for doc, rows in self.segments.groupby("doc_id", sort=False).indices.items():
                self._doc_rows[doc] = list(rows)
        roles = set(roles)
        if segment_ids is not None:
            ids = list(segment_ids)
            missing = [s for s in ids if s not in self._row]
            if missing:
                raise JourneylabError(f"{func}(): `segment_ids` has {missing[0]!r}, which is not in `segments`")
            self.codable = ids
        elif "speaker_role" in self.segments.columns:
            self.codable = self.segments.loc[self.segments["speaker_role"].isin(roles), "segment_id"].tolist()
        else:
            self.codable = self.segments["segment_id"].tolist()
        self.notes = dict(notes or {})
        self.participants = None
        if participants is not None:
            check_frame(participants, arg="participants", func=func, required=["participant_id"], allow_empty=True)
            self.participants = participants.set_index("participant_id")
        self._suggestions: dict[str, list[dict]] = {}
        if suggestions is not None and len(suggestions):
            check_frame(suggestions, arg="suggestions", func=func, required=["segment_id", "code"])
            sug = suggestions[suggestions["code"].isin(codebook.names)]
            for rec in sug.to_dict("records"):
                origin = rec.get("origin") if rec.get("origin") in ("rule", "model") else "rule"
                label = rec.get("rule") if isinstance(rec.get("rule"), str) else None
                conf = rec.get("confidence")
                conf = None if conf is None or pd.isna(conf) else float(conf)
                lst = self._suggestions.setdefault(rec["segment_id"], [])
                if all(s["code"] != rec["code"] for s in lst):
                    lst.append({"code": rec["code"], "origin": origin, "rule": label, "confidence": conf})
        # filters
        self.filter_participants: set | None = None
        self.filter_stage: str | None = None
        self.filter_suggested = False
        self.filter_uncoded = False
        self.query = ""
        self._visible = list(self.codable)
        self.index = 0
        if not self.codable:
            raise JourneylabError(f"{func}(): no segments to code (roles {sorted(roles)}); check `segments`")
        # resume where this coder stopped, else at the first segment they have not done
        pos = self.store.position(coder)
        if pos in self._row and pos in self.codable:
            self.index = self.codable.index(pos)
        else:
            done = self.store.done_segments(coder)
            self.index = next((i for i, s in enumerate(self.codable) if s not in done), 0)

    # -- what is shown -------------------------------------------------------------------
    @property
    def visible(self) -> list[str]:
        """Segment ids that pass the filters, in coding order."""
        return self._visible

    @property
    def segment_id(self) -> str | None:
        """The segment on screen (None when the filters leave nothing)."""
        return self._visible[self.index] if self._visible else None

    @property
    def segment(self) -> dict:
        """The current segment's row as a dict."""
        return self.segments.iloc[self._row[self.segment_id]].to_dict()

    def context_turns(self) -> list[dict]:
        """The turns around the segment: dicts with ``segment_id``, ``speaker``, ``text``, ``current``."""
        sid = self.segment_id
        if sid is None:
            return []
        row = self._row[sid]
        seg = self.segments.iloc[row]
        rows = self._doc_rows.get(seg["doc_id"], [row]) if "doc_id" in self.segments.columns else [row]
        k = rows.index(row)
        out = []
        for r in rows[max(k - self.context, 0): k + self.context + 1]:
            s = self.segments.iloc[r]
            out.append({"segment_id": s["segment_id"], "speaker": s.get("speaker", ""), "text": s["text"],
                        "current": r == row})
        return out

    def attributes(self) -> dict:
        """The current participant's attributes (empty without a participants frame)."""
        sid = self.segment_id
        if sid is None or self.participants is None or "participant_id" not in self.segments.columns:
            return {}
        pid = self.segments.iloc[self._row[sid]]["participant_id"]
        if pid is None or pd.isna(pid) or pid not in self.participants.index:
            return {}
        attrs = self.participants.loc[pid].to_dict()
        return {"participant_id": pid, **{k: v for k, v in attrs.items() if not pd.isna(v)}}

    def codes(self) -> dict[str, str]:
        """This coder's codes on the current segment → origin of the decision."""
        return self.store.codes_of(self.segment_id, self.coder) if self.segment_id else {}

    def pending_suggestions(self) -> list[dict]:
        """Suggestions for the current segment that this coder has not accepted or rejected yet."""
        sid = self.segment_id
        if sid is None:
            return []
        decided = self.store.decisions_of(sid, self.coder)
        return [s for s in self._suggestions.get(sid, []) if s["code"] not in decided]

    def memo(self) -> str:
        return (self.store.memo(self.segment_id, self.coder) or "") if self.segment_id else ""

    def note(self) -> str:
        return self.notes.get(self.segment_id, "") if self.segment_id else ""

    def matching_codes(self) -> list[str]:
        """Codes shown for the search box: name, definition or path contains the query (case-insensitive).

        A code's ancestors are kept so the hierarchy stays readable.
        """
        q = self.query.strip().casefold()
        names = self.codebook.walk()
        if not q:
            return names
        hit = {n for n in names if q in n.casefold() or q in self.codebook[n].definition.casefold()
               or q in self.codebook.path(n).casefold()}
        keep = set(hit)
        for n in hit:
            keep.update(self.codebook.ancestors(n))
        return [n for n in names if n in keep]

    def progress(self) -> tuple[int, int]:
        """(segments done by this coder, segments to code) over all codable segments."""
        done = self.store.done_segments(self.coder)
        return sum(s in done for s in self.codable), len(self.codable)

    # -- decisions ------------------------------------------------------------------------
    def _need_segment(self) -> str:
        if self.segment_id is None:
            raise JourneylabError("CodingSession: no segment is shown (the filters leave none); relax the filters")
        return self.segment_id

    def set_code(self, code: str, value: bool) -> None:
        """Apply (True) or remove (False) ``code`` on the current segment; written at once."""
        sid = self._need_segment()
        self.codebook[code]
        if not self.codebook[code].codable and value:
            raise JourneylabError(f"CodingSession: {code!r} is a grouping code; apply one of its children "
                                  f"({', '.join(self.codebook.children(code))})")
        sug = next((s for s in self._suggestions.get(sid, []) if s["code"] == code), None)
        rule = sug["rule"] if (sug and value) else None
        if value:
            self.store.apply(sid, code, self.coder, rule=rule)
        else:
            self.store.remove(sid, code, self.coder)

    def accept(self, code: str) -> None:
        """Accept a suggestion: it becomes this coder's (manual) decision, keeping the rule that suggested it."""
        sid = self._need_segment()
        sug = next((s for s in self._suggestions.get(sid, []) if s["code"] == code), None)
        if sug is None:
            raise JourneylabError(f"CodingSession: no suggestion of {code!r} on segment {sid!r}")
        self.store.apply(sid, code, self.coder, rule=sug["rule"] or f"accepted {sug['origin']} suggestion",
                         confidence=sug["confidence"])

    def reject(self, code: str) -> None:
        """Reject a suggestion: recorded as this coder's decision that the code does not apply."""
        sid = self._need_segment()
        sug = next((s for s in self._suggestions.get(sid, []) if s["code"] == code), None)
        if sug is None:
            raise JourneylabError(f"CodingSession: no suggestion of {code!r} on segment {sid!r}")
        self.store.remove(sid, code, self.coder, rule=sug["rule"] or f"rejected {sug['origin']} suggestion")

    def accept_all(self) -> None:
        for s in self.pending_suggestions():
            self.accept(s["code"])

    def set_memo(self, text: str) -> None:
        self.store.set_memo(self._need_segment(), self.coder, text)

    def mark_done(self, value: bool = True) -> None:
        """Mark the segment as done with no (further) codes ("no code applies")."""
        self.store.set_reviewed(self._need_segment(), self.coder, value)

    # -- navigation -----------------------------------------------------------------------
    def _moved(self) -> None:
        if self.segment_id is not None:
            self.store.set_position(self.coder, self.segment_id)

    def next(self) -> None:
        if self.index < len(self._visible) - 1:
            self.index += 1
            self._moved()

    def prev(self) -> None:
        if self.index > 0:
            self.index -= 1
            self._moved()

    def next_uncoded(self) -> bool:
        """Go to the next segment (after the current one, wrapping) this coder has not done; False if none."""
        done = self.store.done_segments(self.coder)
        n = len(self._visible)
        for step in range(1, n + 1):
            i = (self.index + step) % n
            if self._visible[i] not in done:
                self.index = i
                self._moved()
                return True
        return False

    def goto(self, segment_id: str) -> None:
        """Show ``segment_id`` (clears filters that hide it)."""
        if segment_id not in self.codable:
            raise JourneylabError(f"CodingSession: segment {segment_id!r} is not one of the segments to code")
        if segment_id not in self._visible:
            self.set_filters(participants=None, stage=None, suggested=False, uncoded=False)
        self.index = self._visible.index(segment_id)
        self._moved()

    def set_filters(self, *, participants=..., stage=..., suggested=..., uncoded=...) -> None:
        """Change filters (arguments left out keep their value); stays on the segment if still visible.

        ``participants``: ids to show (None: all); ``stage``: only segments where this coder's
        codes or a pending suggestion belong to the stage; ``suggested``: only segments with
        pending suggestions; ``uncoded``: only segments this coder has not done.
        """
        if participants is not ...:
            self.filter_participants = None if not participants else set(
                [participants] if isinstance(participants, str) else participants)
        if stage is not ...:
            if stage is not None and stage not in {c.stage for c in self.codebook}:
                raise JourneylabError(f"CodingSession: no code has stage {stage!r}")
            self.filter_stage = stage
        if suggested is not ...:
            self.filter_suggested = bool(suggested)
        if uncoded is not ...:
            self.filter_uncoded = bool(uncoded)
        current = self.segment_id
        self._visible = self._apply_filters()
        self.index = self._visible.index(current) if current in self._visible else 0

    def _apply_filters(self) -> list[str]:
        ids = self.codable
        if self.filter_participants is not None and "participant_id" in self.segments.columns:
            pid = dict(zip(self.segments["segment_id"], self.segments["participant_id"]))
            ids = [s for s in ids if pid.get(s) in self.filter_participants]
        if self.filter_uncoded:
            done = self.store.done_segments(self.coder)
            ids = [s for s in ids if s not in done]
        if self.filter_suggested or self.filter_stage is not None:
            mine = self.store.codings(self.coder)
            decided = {}
            for rec in self.store.decisions(self.coder)[["segment_id", "code"]].itertuples(index=False):
                decided.setdefault(rec.segment_id, set()).add(rec.code)
            pending = {s: {x["code"] for x in lst if x["code"] not in decided.get(s, set())}
                       for s, lst in self._suggestions.items()}
            if self.filter_suggested:
                ids = [s for s in ids if pending.get(s)]
            if self.filter_stage is not None:
                stage_codes = {c.name for c in self.codebook if c.stage == self.filter_stage}
                own = mine.groupby("segment_id")["code"].agg(set).to_dict() if len(mine) else {}
                ids = [s for s in ids if (own.get(s, set()) | pending.get(s, set())) & stage_codes]
        return list(ids)


# ----------------------------------------------------------------------------- the view


class CodingSession:
    """Code segments by hand in Jupyter; every click is saved to the coding store at once.

    Parameters
    ----------
    segments : DataFrame
        The segments frame (participant turns are coded; other turns are context).
    codebook : Codebook
    store : CodingStore or path
        Where decisions go (created if missing). Several coders may share one file.
    coder : str
        Your name or initials; decisions are stored under it.
    participants : DataFrame, optional
        Participant attributes shown beside each segment.
    suggestions : DataFrame, optional
        Rule or model codings (e.g. ``journeylab.autocode(...)``) shown as suggestions to accept
        or reject; they are not your codes until you accept them.
    **kwargs
        Passed to :class:`SessionState` (``context``, ``roles``, ``segment_ids``, ``notes``).

    Attributes
    ----------
    state : SessionState
        The logic (navigation, decisions); usable without a browser.
    widget : ipywidgets.VBox
        The user interface (displayed when the session is the last expression of a cell).

    Notes
    -----
    Decisions are written to the store the moment a toggle, *Accept*, *Reject*, *No code
    applies* or *Save memo* is clicked, one SQLite transaction each; reopening a session with
    the same store and coder resumes at the segment the coder was on. The session shows only
    this coder's decisions (blind coding) plus the suggestions. Keyboard: Tab moves between
    buttons and Space/Enter presses them (ipywidgets has no custom shortcuts). The parts carry
    stable CSS classes for styling and browser tests: ``jl-coding-session`` (the whole widget),
    ``jl-header``, ``jl-code-toggle``, ``jl-prev``, ``jl-next``, ``jl-next-uncoded``,
    ``jl-no-code``, ``jl-suggestion`` (a suggestion's row), ``jl-accept``, ``jl-reject``,
    ``jl-accept-all``, ``jl-memo``, ``jl-save-memo``, ``jl-code-search``, ``jl-jump``,
    ``jl-status``.

    Examples
    --------
    >>> import journeylab as jl  # doctest: +SKIP
    >>> study = jl.load_study(jl.datasets.sample_study_path())  # doctest: +SKIP
    >>> session = jl.CodingSession(study.segments, codebook=study.codebook, store="outputs/codings.sqlite", coder="ana",
    ...                            participants=study.participants,
    ...                            suggestions=jl.autocode(study.segments, codebook=study.codebook))  # doctest: +SKIP
    >>> session  # doctest: +SKIP
    """

    def __init__(self, segments, *, codebook, store, coder, participants=None, suggestions=None, **kwargs):
        # lazy: ipywidgets adds ~0.3 s to `import journeylab` (measured; docs/architecture.md)
        import ipywidgets as w

        self.state = SessionState(segments, codebook, store, coder, participants=participants,
                                  suggestions=suggestions, **kwargs)
        st = self.state
        self._updating = False
        self.header = w.HTML()
        self.context_html = w.HTML(layout=w.Layout(max_height="320px", overflow="auto"))
        self.attributes_html = w.HTML()
        # navigation
        self.prev_button = w.Button(description="◀ Previous", tooltip="previous segment")
        self.next_button = w.Button(description="Next ▶", tooltip="next segment")
        self.uncoded_button = w.Button(description="Next uncoded ▶▶", tooltip="next segment you have not done")
        self.none_button = w.Button(description="No code applies", tooltip="mark this segment done without codes")
        self.jump = w.Combobox(placeholder="jump to segment id", options=st.codable, ensure_option=True,
                               layout=w.Layout(width="220px"))
        for b, fn, css in ((self.prev_button, st.prev, "jl-prev"), (self.next_button, st.next, "jl-next"),
                           (self.uncoded_button, st.next_uncoded, "jl-next-uncoded"),
                           (self.none_button, st.mark_done, "jl-no-code")):
            b.on_click(self._action(fn))
            b.add_class(css)
        self.jump.observe(self._on_jump, names="value")
        # filters
        pids = []
        if "participant_id" in st.segments.columns:
            pids = sorted({p for p in st.segments.set_index("segment_id").loc[st.codable, "participant_id"]
                           if isinstance(p, str)})
        # "all" is "", not None: a None option shows as an empty box in JupyterLab (the browser
        # reports no selection back to the kernel)
        self.participant_filter = w.Dropdown(options=[("all participants", "")] + [(p, p) for p in pids],
                                             description="Participant")
        stages = [s for s in dict.fromkeys(c.stage for c in codebook) if s]
        self.stage_filter = w.Dropdown(options=[("all stages", "")] + [(s, s) for s in stages], description="Stage")
        self.suggested_filter = w.Checkbox(description="with suggestions", indent=False)
        self.uncoded_filter = w.Checkbox(description="uncoded only", indent=False)
        for f in (self.participant_filter, self.stage_filter, self.suggested_filter, self.uncoded_filter):
            f.observe(self._on_filter, names="value")
        # codes
        self.search = w.Text(placeholder="search codes", continuous_update=True, layout=w.Layout(width="220px"))
        self.search.observe(self._on_search, names="value")
        self.toggles: dict[str, w.ToggleButton] = {}
        self._code_rows: dict[str, w.Widget] = {}
        rows = []
        for name in codebook.walk():
            code = codebook[name]
            indent = f"{18 * codebook.depth(name)}px"
            if code.codable:
                t = w.ToggleButton(description=name, tooltip=code.definition or name,
                                   layout=w.Layout(width="auto", height="28px", flex="0 0 auto",
                                                   margin=f"1px 0 1px {indent}"))
                t.observe(self._on_toggle(name), names="value")
                t.add_class("jl-code-toggle")
                self.toggles[name] = t
                rows.append(t)
            else:
                rows.append(w.HTML(f"<b style='margin-left:{indent}'>{html.escape(name)}</b>",
                                   layout=w.Layout(flex="0 0 auto")))
            self._code_rows[name] = rows[-1]
        self.codes_box = w.VBox(rows, layout=w.Layout(max_height="460px", overflow="auto", width="auto"))
        self.suggestions_box = w.VBox()
        self.accept_all_button = w.Button(description="Accept all suggestions", layout=w.Layout(width="auto"))
        self.accept_all_button.on_click(self._action(st.accept_all))
        # memo
        self.memo = w.Textarea(placeholder="memo for this segment (saved when you leave the box)",
                               continuous_update=False, layout=w.Layout(width="100%", height="60px"))
        self.memo.observe(self._on_memo, names="value")
        self.save_memo_button = w.Button(description="Save memo")
        self.save_memo_button.on_click(self._action(
            lambda: st.set_memo(self.memo.value) if self.memo.value != st.memo() else None))
        self.status = w.HTML()
        # stable CSS classes for browser tests and custom styling (``jl-code-toggle`` etc.)
        for widget, css in ((self.header, "jl-header"), (self.jump, "jl-jump"), (self.search, "jl-code-search"),
                            (self.memo, "jl-memo"), (self.save_memo_button, "jl-save-memo"),
                            (self.status, "jl-status"), (self.accept_all_button, "jl-accept-all")):
            widget.add_class(css)

        left = w.VBox([self.header, self.attributes_html, self.context_html,
                       w.HBox([self.memo, self.save_memo_button]), self.status],
                      layout=w.Layout(width="60%"))
        right = w.VBox([self.search, self.suggestions_box, self.codes_box], layout=w.Layout(width="40%"))
        self.widget = w.VBox([
            w.HBox([self.prev_button, self.next_button, self.uncoded_button, self.none_button, self.jump]),
            w.HBox([self.participant_filter, self.stage_filter, self.suggested_filter, self.uncoded_filter]),
            w.HBox([left, right]),
        ])
        self.widget.add_class("jl-coding-session")
        self.refresh()

    # -- plumbing -------------------------------------------------------------------------
    def _action(self, fn):
        def handler(*_):
            try:
                fn()
                self.status.value = ""
            except JourneylabError as exc:
                self.status.value = f"<span style='color:#b00'>{html.escape(str(exc))}</span>"
            self.refresh()
        return handler

    def _on_toggle(self, name):
        def handler(change):
            if self._updating:
                return
            self._action(lambda: self.state.set_code(name, bool(change["new"])))()
        return handler

    def _on_jump(self, change):
        if change["new"] and not self._updating:
            self._action(lambda: self.state.goto(change["new"]))()

    def _on_filter(self, change):
        if self._updating:
            return
        self._action(lambda: self.state.set_filters(
            participants=self.participant_filter.value or None, stage=self.stage_filter.value or None,
            suggested=self.suggested_filter.value, uncoded=self.uncoded_filter.value))()

    def _on_memo(self, change):
        if not self._updating and self.state.segment_id is not None and change["new"] != self.state.memo():
            self._action(lambda: self.state.set_memo(change["new"]))()

    def _on_search(self, change):
        self.state.query = change["new"]
        self._show_codes()

    def _show_codes(self):
        shown = set(self.state.matching_codes())
        for name, row in self._code_rows.items():
            row.layout.display = None if name in shown else "none"

    # -- rendering -----------------------------------------------------------------------
    def refresh(self) -> None:
        """Redraw everything from the state (called after every action)."""
        # lazy: ipywidgets adds ~0.3 s to `import journeylab` (measured; docs/architecture.md)
        import ipywidgets as w

        st = self.state
        self._updating = True
        try:
            done, total = st.progress()
            sid = st.segment_id
            pos = f"{st.index + 1} of {len(st.visible)} shown" if sid else "no segment matches the filters"
            self.header.value = (f"<b>{html.escape(st.coder)}</b> · {done} of {total} segments coded · {pos}"
                                 + (f" · <code>{html.escape(sid)}</code>" if sid else ""))
            attrs = st.attributes()
            self.attributes_html.value = " · ".join(
                f"<b>{html.escape(str(k))}</b>: {html.escape(str(v))}" for k, v in attrs.items())
            parts = []
            for t in st.context_turns():
                style = ("background:#fff6d5;padding:4px;border-left:3px solid #e69f00" if t["current"]
                         else "color:#666;padding:2px 4px")
                parts.append(f"<div style='{style}'><b>{html.escape(str(t['speaker']))}</b>: "
                             f"{html.escape(str(t['text']))}</div>")
            note = st.note()
            if note:
                parts.append(f"<div style='margin-top:6px;font-size:90%'>{html.escape(note)}</div>")
            self.context_html.value = "".join(parts)
            mine = st.codes()
            pending = st.pending_suggestions()
            pending_codes = {s["code"] for s in pending}
            for name, t in self.toggles.items():
                t.value = name in mine
                t.button_style = "success" if name in mine else ("warning" if name in pending_codes else "")
                t.icon = "check" if name in mine else ("lightbulb-o" if name in pending_codes else "")
            rows = []
            for s in pending:
                label = s["code"] + (f" ({s['rule']})" if s["rule"] else "")
                if s["confidence"] is not None:
                    label += f" p={s['confidence']:.2f}"
                acc = w.Button(description="Accept", button_style="success",
                               layout=w.Layout(width="76px", flex="0 0 auto"))
                rej = w.Button(description="Reject", layout=w.Layout(width="76px", flex="0 0 auto"))
                acc.on_click(self._action(lambda c=s["code"]: st.accept(c)))
                rej.on_click(self._action(lambda c=s["code"]: st.reject(c)))
                acc._journeylab_code = rej._journeylab_code = s["code"]
                acc.add_class("jl-accept")
                rej.add_class("jl-reject")
                text = (f"suggested: <b>{html.escape(s['code'])}</b>{html.escape(label[len(s['code']):])} "
                        f"<i>({s['origin']})</i>")
                rows.append(w.HBox([w.HTML(text, layout=w.Layout(flex="1 1 auto")), acc, rej]))
                rows[-1].add_class("jl-suggestion")
            if len(pending) > 1:
                rows.append(self.accept_all_button)
            self.suggestions_box.children = rows
            self.memo.value = st.memo()
            self.jump.value = ""
            for b in (self.prev_button, self.next_button, self.uncoded_button, self.none_button,
                      self.save_memo_button):
                b.disabled = sid is None
            self._show_codes()
        finally:
            self._updating = False

    def suggestion_buttons(self) -> dict[str, tuple]:
        """Code → (Accept button, Reject button) of the pending suggestions on screen."""
        out = {}
        for row in self.suggestions_box.children:
            if hasattr(row, "children") and len(row.children) == 3:
                out[row.children[1]._journeylab_code] = (row.children[1], row.children[2])
        return out

    def goto(self, segment_id: str) -> None:
        """Show ``segment_id`` (like typing it in the jump box)."""
        self.state.goto(segment_id)
        self.refresh()

    # -- results --------------------------------------------------------------------------
    @property
    def codings(self) -> pd.DataFrame:
        """This coder's current codings (the codings frame; see :meth:`CodingStore.codings`)."""
        return self.state.store.codings(self.state.coder)

    def _repr_mimebundle_(self, **kwargs):
        return self.widget._repr_mimebundle_(**kwargs)

    def __repr__(self) -> str:
        done, total = self.state.progress()
        return (f"CodingSession(coder={self.state.coder!r}, {done} of {total} segments coded, "
                f"store={str(self.state.store.path)!r})")
