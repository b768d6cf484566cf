"""Reconciliation: step through the coders' disagreements and record the agreed decision.

:class:`ReconcileSession` is a state machine over the rows of :func:`journeylab.disagreements`
plus an ipywidgets view of it. Each decision (accept one coder's decision, or set the code present
or absent, with a memo) is written to the coding store at once, as a new coder (``gold`` by
default), so the reconciled coding survives a crash and the session resumes where it stopped.
"""
from __future__ import annotations

__all__ = ["ReconcileSession", "ReconcileView"]

import html
import sqlite3
from collections.abc import Callable, Sequence
from os import PathLike
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import JourneylabError
from ..utils.checks import check_frame
from ..utils.clock import now_iso
from .reliability import decision_array, disagreements, present_codings, units_for
from .store import CodingStore

_FIXED = ("segment_id", "doc_id", "participant_id", "code", "text")


# ----------------------------------------------------------------------------- storage back-ends


def _now() -> str:
    return now_iso()  # SOURCE_DATE_EPOCH, when set, makes exported decided_at reproducible


class _SqliteLog:
    """Fallback decision log, used only if :mod:`journeylab.store` cannot be imported.

    One append-only table, WAL journal, ``synchronous=FULL``, one transaction per decision:
    a decision acknowledged by :meth:`record` is on disk.
    """

    def __init__(self, path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._con = sqlite3.connect(self.path, isolation_level=None, timeout=30)
        self._con.execute("PRAGMA journal_mode=WAL")
        self._con.execute("PRAGMA synchronous=FULL")
        self._con.execute(
            "CREATE TABLE IF NOT EXISTS reconcile_decisions (id INTEGER PRIMARY KEY AUTOINCREMENT, "
            "coder TEXT NOT NULL, segment_id TEXT NOT NULL, code TEXT NOT NULL, present INTEGER NOT NULL, "
            "memo TEXT, origin TEXT NOT NULL, decided_at TEXT NOT NULL)"
        )

    def record(self, *, coder: str, segment_id: str, code: str, present: bool, memo: str = "",
               origin: str = "manual") -> None:
        with self._con:  # BEGIN ... COMMIT: one transaction per decision
            self._con.execute(
                "INSERT INTO reconcile_decisions (coder, segment_id, code, present, memo, origin, decided_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (coder, segment_id, code, int(bool(present)), memo or "", origin, _now()),
            )

    def decisions(self, coder: str) -> pd.DataFrame:
        """Latest decision per segment × code of ``coder``: segment_id, code, present, memo, decided_at."""
        rows = self._con.execute(
            "SELECT segment_id, code, present, memo, decided_at FROM reconcile_decisions d WHERE coder = ? "
            "AND id = (SELECT MAX(id) FROM reconcile_decisions e WHERE e.coder = d.coder "
            "AND e.segment_id = d.segment_id AND e.code = d.code) ORDER BY id", (coder,)).fetchall()
        out = pd.DataFrame(rows, columns=["segment_id", "code", "present", "memo", "decided_at"])
        out["present"] = out["present"].astype(bool)
        return out

    def close(self) -> None:
        self._con.close()


class _MemoryLog:
    """In-memory decision log with the same interface (for previews and tests)."""

    def __init__(self) -> None:
        self.rows: list[dict] = []

    def record(self, *, coder, segment_id, code, present, memo="", origin="manual") -> None:
        self.rows.append({"coder": coder, "segment_id": segment_id, "code": code, "present": bool(present),
                          "memo": memo or "", "origin": origin, "decided_at": _now()})

    def decisions(self, coder: str) -> pd.DataFrame:
        df = pd.DataFrame(self.rows, columns=["coder", "segment_id", "code", "present", "memo", "origin", "decided_at"])
        df = df[df["coder"] == coder].drop_duplicates(["segment_id", "code"], keep="last")
        return df[["segment_id", "code", "present", "memo", "decided_at"]].reset_index(drop=True)

    def close(self) -> None:
        pass


class _CodingStoreLog:
    """Adapter: the session's decision log on a :class:`journeylab.store.CodingStore`.

    Each decision is ``CodingStore.decide`` (one committed transaction); reading takes the
    latest decision per segment × code from the store's append-only log.
    """

    def __init__(self, store, *, owned: bool) -> None:
        self.store = store
        self.owned = owned
        self.path = getattr(store, "path", None)

    def record(self, *, coder, segment_id, code, present, memo="", origin="manual") -> None:
        self.store.decide(str(segment_id), str(code), coder, bool(present), origin=origin, memo=memo or None)

    def decisions(self, coder: str) -> pd.DataFrame:
        log = self.store.decisions(coder)
        log = log.drop_duplicates(["segment_id", "code"], keep="last")
        memo = log["memo"].astype(object).where(log["memo"].notna(), "")
        return pd.DataFrame({"segment_id": log["segment_id"].astype(str).to_numpy(),
                             "code": log["code"].astype(str).to_numpy(),
                             "present": log["value"].astype(bool).to_numpy(),
                             "memo": memo.to_numpy(), "decided_at": log["decided_at"].to_numpy()})

    def close(self) -> None:
        if self.owned:
            self.store.close()


def _coding_store_class():
    return CodingStore


def _open_store(store):
    """The decision back-end for ``store``: a path, a CodingStore, or an object with the log API."""
    if store is None:
        return _MemoryLog()
    cls = _coding_store_class()
    if cls is not None and isinstance(store, cls):
        return _CodingStoreLog(store, owned=False)
    if hasattr(store, "record") and hasattr(store, "decisions"):
        return store
    if isinstance(store, (str, PathLike)):
        if cls is not None:
            return _CodingStoreLog(cls(store), owned=True)
        return _SqliteLog(store)  # pragma: no cover - fallback without journeylab.store
    raise JourneylabError(
        "ReconcileSession(): `store` must be a coding-store path (e.g. 'outputs/coding.sqlite'), a "
        f"CodingStore, or None for an in-memory preview; got {type(store).__name__}."
    )


# ----------------------------------------------------------------------------- the session


class ReconcileSession:
    """Step through disagreements and record the agreed decision as a new coder.

    Parameters
    ----------
    data : DataFrame
        Either a codings frame holding the compared coders (``segment_id``, ``code``,
        ``coder``, ...; then ``segments`` is required and the disagreements are computed with
        :func:`journeylab.disagreements`), or a frame returned by
        :func:`journeylab.disagreements`.
    store : path, CodingStore or None
        The coding store (:class:`journeylab.store.CodingStore`, or the path of its SQLite
        file) where decisions go: each is ``CodingStore.decide`` under ``coder``, one committed
        transaction, exactly like a decision in the coding widget. ``None``: in memory (a
        preview that is not saved).
    segments : DataFrame, optional
        Segments frame: the units (see :func:`journeylab.agreement`) and the context turns.
    coder : str, default "gold"
        The coder name the reconciled decisions are recorded under.
    coders, codes, documents
        Passed to :func:`journeylab.disagreements` (only with a codings frame).
    codebook : Codebook, optional
        Shows each code's definition next to the decision.
    copy_agreements : bool, default True
        With a codings frame: also record, once, every segment × code that *all* coders applied
        (agreed presences), so ``coder`` ends up a complete coding of the compared units, not
        only of the disagreements.
    context : int, default 1
        Turns shown before and after the segment.

    Attributes
    ----------
    items : DataFrame
        The disagreements being reconciled (one row per segment × code).
    coders : list of str
        The compared coders.
    position : int
        Index of the current item.

    Notes
    -----
    The state is the store: a decision already recorded for ``coder`` on an item marks it as
    decided, so reopening a session on the same store resumes at the first undecided item.
    Recording an "absent" decision is a real, stored decision (``present=False``), not the
    absence of a row, so it is never confused with "not yet reconciled".

    Examples
    --------
    >>> import journeylab as jl
    >>> study = jl.load_study(jl.datasets.sample_study_path())
    >>> session = jl.ReconcileSession(study.codings, store=None, segments=study.segments)
    >>> session.accept(session.coders[0], memo="agreed in the team meeting")
    >>> session.progress["decided"]
    1
    """

    def __init__(
        self,
        data: pd.DataFrame,
        *,
        store=None,
        segments: pd.DataFrame | None = None,
        coder: str = "gold",
        coders: Sequence[str] | None = None,
        codes: Sequence[str] | None = None,
        documents: Sequence[str] | None = None,
        codebook=None,
        copy_agreements: bool = True,
        context: int = 1,
    ):
        func = "ReconcileSession"
        data = check_frame(data, arg="data", func=func, required=("segment_id", "code"), allow_empty=True)
        if "coder" in data.columns:
            if segments is None:
                raise JourneylabError(
                    f"{func}(): with a codings frame, pass `segments=` (the segments the codings were made "
                    "on) so the session knows the units and can show the text."
                )
            check_frame(segments, arg="segments", func=func, required=("segment_id",))
            if len(data) == 0:
                raise JourneylabError(f"{func}(): argument `data` is empty (0 codings); expected the decisions of at "
                                      "least two coders.")
            if str(coder) in set(data["coder"].astype(str)):
                raise JourneylabError(
                    f"{func}(): coder {coder!r} already appears in the codings being compared; choose another "
                    "name for the reconciled coding, or leave it out with coders=[...]."
                )
            items = disagreements(data, segments=segments, coders=coders, codes=codes, documents=documents)
            compared = [c for c in items.columns if c not in _FIXED and not c.startswith("memo_")]
            self._agreed = self._agreed_presences(data, compared, items, segments, codes, documents) \
                if copy_agreements else pd.DataFrame(columns=["segment_id", "code"])
        else:
            missing = [c for c in _FIXED if c not in data.columns]
            if missing:
                raise JourneylabError(
                    f"{func}(): `data` has no `coder` column, so it should be a frame from "
                    f"journeylab.disagreements(); missing column(s) {', '.join(map(repr, missing))}."
                )
            items = data.copy()
            compared = [c for c in items.columns if c not in _FIXED and not c.startswith("memo_")]
            self._agreed = pd.DataFrame(columns=["segment_id", "code"])
        if len(compared) < 2:
            raise JourneylabError(f"{func}(): need at least two coders' decisions; found {compared}.")
        self.items = items.reset_index(drop=True)
        self.coders = compared
        self.coder = str(coder)
        self.codebook = codebook
        self.context = int(context)
        self.segments = segments
        self._store = _open_store(store)
        self._decided: dict[tuple[str, str], dict] = {}
        self._load()
        self._copy_agreements()
        self.position = self._first_undecided(0)
        self.memo = ""
        self._view = None
        self._listeners: list[Callable[[], None]] = []

    # ------------------------------------------------------------------ setup

    @staticmethod
    def _agreed_presences(codings, coders, items, segments, codes, documents) -> pd.DataFrame:
        sub = codings[codings["coder"].astype(str).isin(coders)]
        code_list = (list(dict.fromkeys(present_codings(sub)["code"].astype(str))) if codes is None
                     else [str(c) for c in codes])
        units = units_for(sub, coders, segments=segments, documents=documents, units=None, func="ReconcileSession")
        x = decision_array(sub, coders, code_list, units)
        u, k = np.nonzero(x.all(axis=1)) if x.size else (np.array([], int), np.array([], int))
        return pd.DataFrame({"segment_id": [units[i] for i in u], "code": [code_list[j] for j in k]})

    def _load(self) -> None:
        done = self._store.decisions(self.coder)
        self._decided = {
            (str(r.segment_id), str(r.code)): {"present": bool(r.present), "memo": r.memo or ""}
            for r in done.itertuples(index=False)
        }

    def _copy_agreements(self) -> None:
        members = ", ".join(self.coders)
        for seg, code in self._agreed[["segment_id", "code"]].itertuples(index=False):
            if (seg, code) not in self._decided:
                memo = f"agreed by {members}"
                self._store.record(coder=self.coder, segment_id=seg, code=code, present=True, memo=memo,
                                   origin="manual")
                self._decided[(seg, code)] = {"present": True, "memo": memo}

    # ------------------------------------------------------------------ state

    def __len__(self) -> int:
        return len(self.items)

    def _key(self, i: int) -> tuple[str, str]:
        row = self.items.iloc[i]
        return str(row["segment_id"]), str(row["code"])

    def is_decided(self, i: int | None = None) -> bool:
        """Whether item ``i`` (default: the current one) has a recorded decision."""
        i = self.position if i is None else i
        return 0 <= i < len(self) and self._key(i) in self._decided

    def _first_undecided(self, start: int) -> int:
        n = len(self)
        for step in range(n):
            i = (start + step) % n
            if not self.is_decided(i):
                return i
        return min(start, max(n - 1, 0))

    @property
    def current(self) -> pd.Series | None:
        """The current disagreement (a row of :attr:`items`), or ``None`` when there is none."""
        if len(self) == 0:
            return None
        return self.items.iloc[self.position]

    @property
    def decision(self) -> bool | None:
        """The recorded decision on the current item (``True``/``False``), ``None`` if undecided."""
        if len(self) == 0:
            return None
        d = self._decided.get(self._key(self.position))
        return None if d is None else d["present"]

    @property
    def progress(self) -> dict:
        """``{"decided": n, "total": N, "remaining": N - n}`` over the disagreements."""
        decided = sum(self.is_decided(i) for i in range(len(self)))
        return {"decided": decided, "total": len(self), "remaining": len(self) - decided}

    @property
    def done(self) -> bool:
        """Every disagreement has a recorded decision."""
        return self.progress["remaining"] == 0

    def _changed(self) -> None:
        for fn in list(self._listeners):
            fn()

    # ------------------------------------------------------------------ navigation

    def go_to(self, i: int) -> None:
        """Move to item ``i`` (0-based)."""
        if not (isinstance(i, (int, np.integer)) and 0 <= i < max(len(self), 1)):
            raise JourneylabError(f"ReconcileSession.go_to(): item must be 0..{len(self) - 1}; got {i!r}.")
        self.position = int(i)
        d = self._decided.get(self._key(self.position)) if len(self) else None
        self.memo = d["memo"] if d else ""
        self._changed()

    def find(self, segment_id: str, code: str) -> int:
        """Index of the disagreement on ``segment_id`` × ``code`` (error if there is none)."""
        hit = (self.items["segment_id"].astype(str) == str(segment_id)) & (self.items["code"].astype(str) == str(code))
        if not hit.any():
            raise JourneylabError(
                f"ReconcileSession.find(): no disagreement on segment {segment_id!r} × code {code!r}; "
                "see session.items for the list."
            )
        return int(np.flatnonzero(hit.to_numpy())[0])

    def next(self) -> None:
        """Move to the next item (stays on the last one)."""
        if len(self):
            self.go_to(min(self.position + 1, len(self) - 1))

    def previous(self) -> None:
        """Move to the previous item (stays on the first one)."""
        if len(self):
            self.go_to(max(self.position - 1, 0))

    def next_undecided(self) -> None:
        """Move to the next item without a decision (wrapping round), if any."""
        if len(self):
            self.go_to(self._first_undecided(self.position + 1 if self.is_decided() else self.position))

    # ------------------------------------------------------------------ decisions

    def decide(self, present: bool, *, memo: str | None = None, advance: bool = True) -> None:
        """Record the agreed decision on the current item, in the store, now.

        Parameters
        ----------
        present : bool
            Whether the code applies to the segment.
        memo : str, optional
            Why (default: the session's current :attr:`memo`).
        advance : bool, default True
            Then move to the next undecided item.
        """
        if len(self) == 0:
            raise JourneylabError("ReconcileSession.decide(): there are no disagreements to reconcile.")
        seg, code = self._key(self.position)
        note = self.memo if memo is None else memo
        self._store.record(coder=self.coder, segment_id=seg, code=code, present=bool(present), memo=note or "",
                           origin="manual")
        self._decided[(seg, code)] = {"present": bool(present), "memo": note or ""}
        self.memo = ""
        if advance and not self.done:
            self.go_to(self._first_undecided(self.position + 1))
        else:
            self._changed()

    def accept(self, coder: str, *, memo: str | None = None, advance: bool = True) -> None:
        """Take ``coder``'s decision on the current item as the agreed one."""
        if coder not in self.coders:
            raise JourneylabError(
                f"ReconcileSession.accept(): coder {coder!r} is not compared here; choose one of "
                f"{', '.join(map(repr, self.coders))}."
            )
        self.decide(bool(self.current[coder]), memo=memo, advance=advance)

    def resolve_remaining(self, by, *, memo: str | None = None) -> int:
        """Decide every undecided item by a rule (for demos and bulk decisions; see Notes).

        Parameters
        ----------
        by : str or callable
            A coder name (take that coder's decision), ``"any"`` (present if any coder applied
            the code), ``"all"`` (present only if every coder did), or a function of an item row
            returning ``True``/``False``.
        memo : str, optional
            Memo stored with each decision (default: names the rule).

        Returns
        -------
        int
            Number of items decided.

        Notes
        -----
        Real reconciliation is a conversation between the coders about each item; a rule stands
        in for it only where the team has agreed one (e.g. "the senior coder's decision stands
        for emotion codes"), and the memo records which rule decided.
        """
        if isinstance(by, str):
            if by in self.coders:
                rule = lambda row: bool(row[by])  # noqa: E731
            elif by == "any":
                rule = lambda row: any(bool(row[c]) for c in self.coders)  # noqa: E731
            elif by == "all":
                rule = lambda row: all(bool(row[c]) for c in self.coders)  # noqa: E731
            else:
                raise JourneylabError(
                    "ReconcileSession.resolve_remaining(): `by` must be a coder "
                    f"({', '.join(map(repr, self.coders))}), "
                    f"'any', 'all' or a function; got {by!r}."
                )
            label = f"resolved by rule: {by}"
        elif callable(by):
            rule, label = by, f"resolved by rule: {getattr(by, '__name__', 'function')}"
        else:
            raise JourneylabError("ReconcileSession.resolve_remaining(): `by` must be a string or a function.")
        n = 0
        for i in range(len(self)):
            if not self.is_decided(i):
                self.position = i
                self.decide(bool(rule(self.items.iloc[i])), memo=memo or label, advance=False)
                n += 1
        self.go_to(self._first_undecided(0) if len(self) else 0)
        return n

    # ------------------------------------------------------------------ results

    @property
    def decisions(self) -> pd.DataFrame:
        """Every recorded decision of the reconciled coder: ``segment_id``, ``code``, ``present``, ``memo``,
        ``decided_at``."""
        return self._store.decisions(self.coder)

    @property
    def codings(self) -> pd.DataFrame:
        """The reconciled coder's codings frame (positive decisions): ``segment_id``, ``code``,
        ``coder``, ``origin``, ``memo``, ``decided_at``."""
        d = self.decisions
        d = d[d["present"].astype(bool)]
        out = pd.DataFrame({"segment_id": d["segment_id"].to_numpy(), "code": d["code"].to_numpy(),
                            "coder": self.coder, "origin": "manual",
                            "memo": d["memo"].replace({"": pd.NA}).to_numpy(),
                            "decided_at": d["decided_at"].to_numpy()})
        return out.reset_index(drop=True)

    def close(self) -> None:
        """Close the store if the session opened it from a path (decisions are already on disk)."""
        self._store.close()

    def __repr__(self) -> str:
        p = self.progress
        return (f"ReconcileSession({p['decided']} of {p['total']} disagreements decided, coders "
                f"{', '.join(self.coders)} -> {self.coder!r})")

    # ------------------------------------------------------------------ view

    def _context_html(self, row) -> str:
        esc = html.escape
        seg = self.segments
        if seg is None or "turn" not in seg.columns:
            return f"<blockquote style='margin:4px 0'><b>{esc(str(row['text']))}</b></blockquote>"
        doc = seg[seg["doc_id"].astype(str) == str(row["doc_id"])].sort_values("turn")
        ids = doc["segment_id"].astype(str).tolist()
        if str(row["segment_id"]) not in ids:
            return f"<blockquote><b>{esc(str(row['text']))}</b></blockquote>"
        i = ids.index(str(row["segment_id"]))
        lines = []
        for j in range(max(0, i - self.context), min(len(ids), i + self.context + 1)):
            r = doc.iloc[j]
            who = esc(str(r.get("speaker", r.get("participant_id", ""))))
            text = esc(str(r["text"]))
            if j == i:
                lines.append(f"<p style='margin:2px 0'><b>{who}: {text}</b></p>")
            else:
                lines.append(f"<p style='margin:2px 0;color:#666'>{who}: {text}</p>")
        return "<div style='border-left:3px solid #ccc;padding-left:8px'>" + "".join(lines) + "</div>"

    def _render_html(self) -> str:
        esc = html.escape
        if len(self) == 0:
            return "<p>No disagreements: the coders agree on every compared segment × code.</p>"
        row = self.current
        p = self.progress
        code = str(row["code"])
        head = (f"<p><b>{self.position + 1} of {len(self)}</b> · {p['decided']} decided · "
                f"segment <code>{esc(str(row['segment_id']))}</code> · code <b>{esc(code)}</b></p>")
        definition = ""
        if self.codebook is not None and code in self.codebook:
            definition = f"<p style='color:#444'><i>{esc(str(self.codebook[code].definition or ''))}</i></p>"
        rows = []
        for c in self.coders:
            memo = str(row.get(f"memo_{c}", "") or "")
            rows.append(f"<tr><td>{esc(c)}</td><td>{'✓ applied' if bool(row[c]) else '· not applied'}</td>"
                        f"<td>{esc(memo)}</td></tr>")
        table = ("<table style='border-collapse:collapse' cellpadding='4'><thead><tr><th align='left'>coder</th>"
                 "<th align='left'>decision</th><th align='left'>memo</th></tr></thead><tbody>"
                 + "".join(rows) + "</tbody></table>")
        d = self.decision
        state = ("<p>Not decided yet.</p>" if d is None else
                 f"<p>Recorded for <b>{esc(self.coder)}</b>: {'present' if d else 'absent'}</p>")
        return head + definition + self._context_html(row) + table + state

    @property
    def widget(self):
        """The ipywidgets view (built on first use): buttons write to the store at once."""
        if self._view is None:
            self._view = ReconcileView(self)
        return self._view.box

    @property
    def view(self) -> "ReconcileView":
        """The view object holding the individual widgets (buttons, memo box) for scripted use."""
        self.widget  # noqa: B018 - build it
        return self._view

    def _repr_mimebundle_(self, **kwargs):
        return self.widget._repr_mimebundle_(**kwargs)


class ReconcileView:
    """ipywidgets for a :class:`ReconcileSession` (buttons, memo, navigation)."""

    def __init__(self, session: ReconcileSession) -> None:
        # lazy: ipywidgets adds ~0.3 s to `import journeylab` (measured; docs/architecture.md)
        import ipywidgets as w

        self.session = session
        self.html = w.HTML()
        self.accept_buttons = {}
        for c in session.coders:
            b = w.Button(description=f"Accept {c}", tooltip=f"take {c}'s decision", layout=w.Layout(width="auto"))
            b.on_click(lambda _, c=c: self._act(lambda: session.accept(c, memo=self.memo.value)))
            self.accept_buttons[c] = b
        self.present_button = w.Button(description="Present", button_style="success", tooltip="the code applies")
        self.absent_button = w.Button(description="Absent", button_style="warning", tooltip="the code does not apply")
        self.present_button.on_click(lambda _: self._act(lambda: session.decide(True, memo=self.memo.value)))
        self.absent_button.on_click(lambda _: self._act(lambda: session.decide(False, memo=self.memo.value)))
        self.memo = w.Textarea(placeholder="Why? (stored with the decision)", layout=w.Layout(width="60%"))
        self.prev_button = w.Button(description="◀ Previous")
        self.next_button = w.Button(description="Next ▶")
        self.undecided_button = w.Button(description="Next undecided ▶▶", layout=w.Layout(width="auto"))
        self.prev_button.on_click(lambda _: self._act(session.previous))
        self.next_button.on_click(lambda _: self._act(session.next))
        self.undecided_button.on_click(lambda _: self._act(session.next_undecided))
        self.progress = w.IntProgress(min=0, max=max(len(session), 1), description="decided")
        self.status = w.HTML()
        self.box = w.VBox([
            self.progress, self.html,
            w.HBox(list(self.accept_buttons.values()) + [self.present_button, self.absent_button]),
            self.memo,
            w.HBox([self.prev_button, self.next_button, self.undecided_button]),
            self.status,
        ])
        session._listeners.append(self.refresh)
        self.refresh()

    def _act(self, fn) -> None:
        try:
            fn()
        except JourneylabError as exc:
            self.status.value = f"<span style='color:#b00'>{html.escape(str(exc))}</span>"
        else:
            self.status.value = ""

    def refresh(self) -> None:
        s = self.session
        self.html.value = s._render_html()
        p = s.progress
        self.progress.value = p["decided"]
        self.progress.description = f"{p['decided']}/{p['total']}"
        empty = len(s) == 0
        for b in [*self.accept_buttons.values(), self.present_button, self.absent_button]:
            b.disabled = empty
        row = s.current
        for c, b in self.accept_buttons.items():
            b.description = f"Accept {c}" if row is None else f"Accept {c}: {'present' if bool(row[c]) else 'absent'}"
        if not empty:
            d = s._decided.get(s._key(s.position))
            self.memo.value = d["memo"] if d else s.memo
