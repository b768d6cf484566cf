"""The coding store: every coding decision, durably, in one SQLite file.

A :class:`CodingStore` is a SQLite database (stdlib ``sqlite3``) in WAL mode with
``synchronous=FULL``: each decision is one transaction, committed (and fsynced) before the call
returns, so a decision that was acknowledged survives a killed kernel, a crash or a power cut,
and several coders (processes) can write to the same file at once: writers take turns (each
waits up to ``timeout`` seconds for the write lock, then raises :class:`StoreBusyError`), and
readers never wait and see one committed state per read (:meth:`CodingStore.snapshot` for
several reads).

Tables (schema version 2)::

    schema_version(version)                       one row; migrations key off it
    meta(key, value)                              free key/values (journeylab version, ...)
    coders(coder_key, name, created_at)           coder_key = casefolded name, whitespace collapsed
    decisions(id, segment_id, code, coder, coder_key, value, origin, memo, rule, confidence,
              decided_at)                         append-only log: every apply (1) and remove (0)
    state(segment_id, code, coder_key, decision_id, value)
                                                  current value per (segment, code, coder)
    memos(segment_id, coder_key, coder, memo, updated_at)        current memo per segment and coder
    memo_log(id, segment_id, coder_key, coder, memo, updated_at)  every memo edit
    reviewed(segment_id, coder_key, coder, value, updated_at)     "no (more) codes apply" marks
    reviewed_log(id, segment_id, coder_key, coder, value, updated_at)  every such mark (version 2)
    positions(coder_key, coder, segment_id, updated_at)          where each coder stopped

Schema history (``_MIGRATIONS`` brings a file from one version to the next when it is opened,
in the opening transaction, after a backup copy ``<store>.v<old>.bak``):

1. The store as first released (journeylab 0.1.0): the tables above without ``reviewed_log``.
2. ``reviewed_log`` (the history of "no code applies" marks, seeded from ``reviewed`` on
   migration) and the index ``decisions_coder (coder_key, id)`` that per-coder reads use.
"""
from __future__ import annotations

__all__ = ["CodingStore", "read_codings", "normalise_coder", "SCHEMA_VERSION", "StoreBusyError"]

import random
import sqlite3
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import pandas as pd

from ..utils.checks import check_frame
from ..errors import JourneylabError, StoreBusyError

SCHEMA_VERSION = 2
ORIGINS = ("manual", "rule", "model")
CODING_COLUMNS = ["segment_id", "code", "coder", "origin", "memo", "rule", "confidence", "decided_at"]

# Version 1 exactly as journeylab 0.1 wrote it. Never edit: new stores are made by running this
# and then every migration, so a new store and a migrated old one have the same schema.
_SCHEMA_V1 = """
CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE IF NOT EXISTS coders (
    coder_key TEXT PRIMARY KEY, name TEXT NOT NULL, created_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS decisions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    segment_id TEXT NOT NULL, code TEXT NOT NULL, coder TEXT NOT NULL, coder_key TEXT NOT NULL,
    value INTEGER NOT NULL CHECK (value IN (0, 1)),
    origin TEXT NOT NULL CHECK (origin IN ('manual', 'rule', 'model')),
    memo TEXT, rule TEXT, confidence REAL, decided_at TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS decisions_key ON decisions (segment_id, code, coder_key, id);
CREATE TABLE IF NOT EXISTS state (
    segment_id TEXT NOT NULL, code TEXT NOT NULL, coder_key TEXT NOT NULL,
    decision_id INTEGER NOT NULL REFERENCES decisions (id), value INTEGER NOT NULL,
    PRIMARY KEY (segment_id, code, coder_key));
CREATE INDEX IF NOT EXISTS state_coder ON state (coder_key, value);
CREATE TABLE IF NOT EXISTS memos (
    segment_id TEXT NOT NULL, coder_key TEXT NOT NULL, coder TEXT NOT NULL, memo TEXT,
    updated_at TEXT NOT NULL, PRIMARY KEY (segment_id, coder_key));
CREATE TABLE IF NOT EXISTS memo_log (
    id INTEGER PRIMARY KEY AUTOINCREMENT, segment_id TEXT NOT NULL, coder_key TEXT NOT NULL,
    coder TEXT NOT NULL, memo TEXT, updated_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS reviewed (
    segment_id TEXT NOT NULL, coder_key TEXT NOT NULL, coder TEXT NOT NULL, value INTEGER NOT NULL,
    updated_at TEXT NOT NULL, PRIMARY KEY (segment_id, coder_key));
CREATE TABLE IF NOT EXISTS positions (
    coder_key TEXT PRIMARY KEY, coder TEXT NOT NULL, segment_id TEXT NOT NULL, updated_at TEXT NOT NULL);
CREATE VIEW IF NOT EXISTS current_codings AS
    SELECT d.* FROM state s JOIN decisions d ON d.id = s.decision_id WHERE s.value = 1;
"""



def _migrate_1_to_2(c: sqlite3.Connection) -> None:
    """Version 2: log every "no code applies" mark; index the log by coder."""
    c.execute("CREATE TABLE reviewed_log (id INTEGER PRIMARY KEY AUTOINCREMENT, segment_id TEXT NOT NULL,"
              " coder_key TEXT NOT NULL, coder TEXT NOT NULL, value INTEGER NOT NULL, updated_at TEXT NOT NULL)")
    # a version-1 file kept only the current mark: it becomes the first entry of each history
    c.execute("INSERT INTO reviewed_log (segment_id, coder_key, coder, value, updated_at)"
              " SELECT segment_id, coder_key, coder, value, updated_at FROM reviewed ORDER BY updated_at, rowid")
    c.execute("CREATE INDEX decisions_coder ON decisions (coder_key, id)")


# version -> function(conn) bringing a file from that version to the next (run in one transaction)
_MIGRATIONS: dict = {1: _migrate_1_to_2}
_JITTER = random.Random()  # lock-polling jitter only; never touches results


def normalise_coder(name: str) -> str:
    """The key under which a coder's decisions are merged: casefolded, whitespace collapsed.

    Examples
    --------
    >>> normalise_coder("  Ana   María ") == normalise_coder("ana maría")
    True
    """
    return " ".join(str(name).split()).casefold()


def _now() -> str:
    from ..utils.clock import now_iso

    return now_iso()  # SOURCE_DATE_EPOCH, when set, makes exported decided_at reproducible


def _check_text(value, arg: str, func: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise JourneylabError(f"CodingStore.{func}(): `{arg}` must be non-empty text; got {value!r}")
    return value


class CodingStore:
    """Coding decisions of any number of coders in one SQLite file.

    Parameters
    ----------
    path : str or Path
        The store file (created if missing, with its folder). Conventionally ``codings.sqlite``.
    timeout : float, default 30
        Seconds to wait for another process's write to finish before raising
        :class:`~journeylab.errors.StoreBusyError` (nothing is written then; retrying is safe).

    Attributes
    ----------
    backup_path_ : Path or None
        The backup copy made when opening migrated an older store (None otherwise).

    Notes
    -----
    WAL journal, ``synchronous=FULL``, one ``BEGIN IMMEDIATE`` transaction per decision: when
    :meth:`apply` returns, the decision is on disk. Several processes may write at once: each
    write waits for the lock (polling every few milliseconds until ``timeout``), so no
    decision is lost or recorded twice. Readers do not wait for writers;
    each read method sees one committed state, and :meth:`snapshot` holds one state across
    several reads. Opening a file written by an older journeylab migrates it to
    :data:`SCHEMA_VERSION` (after a backup copy ``<store>.v<old>.bak``); a file from a newer
    journeylab is refused. The decision log is append-only (nothing is
    ever updated or deleted in it); ``state`` holds the latest value per (segment, code, coder)
    and is updated in the same transaction. Coders are matched by :func:`normalise_coder`, so
    "Ana" and " ana " are the same coder; the first spelling used is the display name, and each
    decision keeps the spelling it was made with.

    Examples
    --------
    >>> import tempfile, pathlib, journeylab as jl
    >>> store = jl.CodingStore(pathlib.Path(tempfile.mkdtemp()) / "codings.sqlite")
    >>> _ = store.apply("P01-t002", "forced_account", "ana", memo="wanted guest checkout")
    >>> store.codings()[["segment_id", "code", "coder", "origin", "memo"]]
      segment_id            code coder  origin                   memo
    0   P01-t002  forced_account   ana  manual  wanted guest checkout
    """

    def __init__(self, path, *, timeout: float = 30.0):
        from ..utils.checks import check_path

        self.path = Path(check_path(path, arg="path", func="CodingStore"))
        self.timeout = float(timeout)
        self._lock = threading.RLock()
        self.backup_path_: Path | None = None
        existed = self.path.exists() and self.path.stat().st_size > 0
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._conn = sqlite3.connect(str(self.path), timeout=self.timeout, isolation_level=None,
                                         check_same_thread=False)
            self._conn.execute(f"PRAGMA busy_timeout={int(self.timeout * 1000)}")
            self._retry(lambda: self._conn.execute("PRAGMA journal_mode=WAL").fetchone(), "open")
            self._conn.execute("PRAGMA synchronous=FULL")
            self._write(lambda c: self._create(c, existed))
        except sqlite3.DatabaseError as exc:
            raise JourneylabError(f"{self.path}: not a journeylab coding store ({exc}); "
                                  "expected a SQLite file made by CodingStore") from None

    # -- set-up -------------------------------------------------------------------------
    def _create(self, c: sqlite3.Connection, existed: bool) -> None:
        """Create a new store, or check and migrate an existing one; runs in the opening write transaction."""
        tables = {r[0] for r in c.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if existed and "schema_version" not in tables:
            raise JourneylabError(f"{self.path}: a SQLite file without journeylab's schema_version table; "
                                  "expected a coding store made by CodingStore")
        row = c.execute("SELECT version FROM schema_version").fetchone() if "schema_version" in tables else None
        if row is None:
            for statement in _SCHEMA_V1.split(";"):
                if statement.strip():
                    c.execute(statement)
            c.execute("INSERT INTO schema_version (version) VALUES (1)")
            from .. import __version__

            c.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('created_by', ?)", (f"journeylab {__version__}",))
            c.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('created_at', ?)", (_now(),))
            version = 1
        else:
            version = int(row[0])
            if version > SCHEMA_VERSION:
                from .. import __version__

                raise JourneylabError(f"{self.path}: store schema version {version} is newer than this journeylab "
                                      f"({__version__}) supports (schema version {SCHEMA_VERSION}); "
                                      "upgrade journeylab to open it")
            if version < SCHEMA_VERSION:
                self.backup_path_ = self._backup(version)
        while version < SCHEMA_VERSION:
            try:
                _MIGRATIONS[version](c)
            except sqlite3.DatabaseError as exc:  # rolled back by _write: the file is as it was
                raise JourneylabError(f"{self.path}: migrating the store from schema version {version} to "
                                      f"{version + 1} failed ({exc}); the file is unchanged"
                                      + (f", a copy is at {self.backup_path_}" if self.backup_path_ else "")) from None
            if self.backup_path_ is not None:  # an old file migrated, not a new one brought up to date
                c.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)",
                          (f"migrated_{version}_to_{version + 1}", f"{_now()}; backup {self.backup_path_.name}"))
            version += 1
        c.execute("UPDATE schema_version SET version = ?", (version,))

    def _backup(self, version: int) -> Path:
        """Copy the store as it is (committed state, WAL included) to ``<store>.v<version>.bak``.

        Called while this connection holds the write lock, so the copy is the state migrated.
        An existing backup is never overwritten: ``.v1.bak``, ``.v1.2.bak``, ...
        """
        dest = self.path.with_name(f"{self.path.name}.v{version}.bak")
        n = 2
        while dest.exists():
            dest = self.path.with_name(f"{self.path.name}.v{version}.{n}.bak")
            n += 1
        src = sqlite3.connect(str(self.path), timeout=self.timeout)
        out = sqlite3.connect(str(dest))
        try:
            src.backup(out)
        finally:
            out.close()
            src.close()
        return dest

    def _retry(self, fn, what: str, *, poll: bool = False):
        """``fn()``, retried while SQLite reports the file busy, for up to ``timeout`` s.

        With ``poll=False`` SQLite's busy handler already waits on most locks and this covers
        the cases where SQLite returns SQLITE_BUSY without waiting (e.g. WAL recovery after a
        crash); the back-off doubles up to 50 ms. With ``poll=True`` (the write lock, taken with
        the busy handler off) it tries again after a random 0.2–2 ms (0.2–10 ms after a second
        of waiting): SQLite's own handler sleeps up to 100 ms between tries, so a process
        writing continuously could keep the lock for seconds while another coder waited.
        """
        start = time.monotonic()
        deadline = start + self.timeout
        delay = 0.001
        while True:
            try:
                return fn()
            except sqlite3.OperationalError as exc:
                if not _is_busy(exc):
                    raise
                if time.monotonic() >= deadline:
                    raise StoreBusyError(
                        f"{self.path}: could not {what}: the store stayed locked by another process for more "
                        f"than {self.timeout:g} s (SQLite: {exc}); nothing was written. Retry, or pass a "
                        "larger `timeout` to CodingStore") from None
                if poll:
                    time.sleep(_JITTER.uniform(0.0002, 0.002 if time.monotonic() - start < 1 else 0.01))
                else:
                    time.sleep(delay)
                    delay = min(delay * 2, 0.05)

    def _write(self, fn):
        """Run ``fn(conn)`` in one immediate transaction; committed (fsynced) on return.

        ``BEGIN IMMEDIATE`` takes the write lock before anything is read, so concurrent writers
        queue there (never deadlock on a read-to-write upgrade); only that step is retried, so
        a decision can never be written twice. Waiting writers poll every few milliseconds, so
        none waits long behind a process that writes continuously.
        """
        with self._lock:
            c = self._conn
            if c.in_transaction:
                raise JourneylabError(f"{self.path}: cannot write inside CodingStore.snapshot(); "
                                      "read first, then write after the `with` block")
            c.execute("PRAGMA busy_timeout=0")  # poll for the write lock ourselves (see _retry)
            try:
                self._retry(lambda: c.execute("BEGIN IMMEDIATE"), "start a write", poll=True)
            finally:
                c.execute(f"PRAGMA busy_timeout={int(self.timeout * 1000)}")
            try:
                out = fn(c)
                c.execute("COMMIT")
            except BaseException:
                if c.in_transaction:
                    c.execute("ROLLBACK")
                raise
            return out

    @contextmanager
    def snapshot(self):
        """Read several things from one committed state of the store.

        Inside the ``with`` block every read (:meth:`codings`, :meth:`decisions`, :meth:`memos`,
        ...) sees the same state, even while other processes write: the current codings are
        exactly the replay of the decision log read in the same block. Writes are refused inside.

        Examples
        --------
        >>> import tempfile, pathlib, journeylab as jl
        >>> store = jl.CodingStore(pathlib.Path(tempfile.mkdtemp()) / "codings.sqlite")
        >>> _ = store.apply("P01-t002", "forced_account", "ana")
        >>> with store.snapshot():
        ...     codings, log = store.codings(), store.decisions()
        >>> len(codings), len(log)
        (1, 1)
        """
        with self._lock:
            c = self._conn
            if c.in_transaction:
                raise JourneylabError(f"{self.path}: CodingStore.snapshot() blocks cannot be nested")

            def begin():
                c.execute("BEGIN")
                try:  # a deferred BEGIN starts the read transaction at the first read
                    c.execute("SELECT COUNT(*) FROM schema_version").fetchone()
                except BaseException:
                    c.execute("ROLLBACK")
                    raise

            self._retry(begin, "start a read")
            try:
                yield self
            finally:
                if c.in_transaction:
                    c.execute("ROLLBACK")

    def _coder(self, c: sqlite3.Connection, coder: str) -> str:
        key = normalise_coder(coder)
        c.execute("INSERT OR IGNORE INTO coders (coder_key, name, created_at) VALUES (?, ?, ?)",
                  (key, " ".join(coder.split()), _now()))
        return key

    @property
    def schema_version(self) -> int:
        """Schema version of the file."""
        return int(self._conn.execute("SELECT version FROM schema_version").fetchone()[0])

    def close(self) -> None:
        """Close the connection (decisions are already on disk)."""
        with self._lock:
            self._conn.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __repr__(self) -> str:
        n = self._conn.execute("SELECT COUNT(*) FROM decisions").fetchone()[0]
        coders = [r[0] for r in self._conn.execute("SELECT name FROM coders ORDER BY created_at")]
        return f"CodingStore({str(self.path)!r}, {n} decisions, coders: {', '.join(coders) or 'none'})"

    # -- decisions ------------------------------------------------------------------------
    def decide(self, segment_id: str, code: str, coder: str, value: bool, *, origin: str = "manual",
               memo: str | None = None, rule: str | None = None, confidence: float | None = None) -> int:
        """Record that ``coder`` applied (``value=True``) or removed a code on a segment.

        Returns the decision's id in the log. The decision is committed when this returns.
        """
        _check_text(segment_id, "segment_id", "decide")
        _check_text(code, "code", "decide")
        _check_text(coder, "coder", "decide")
        if origin not in ORIGINS:
            raise JourneylabError(f"CodingStore.decide(): `origin` must be one of {', '.join(ORIGINS)}; got {origin!r}")
        ts = _now()

        def tx(c):
            key = self._coder(c, coder)
            cur = c.execute(
                "INSERT INTO decisions (segment_id, code, coder, coder_key, value, origin, memo, rule, confidence,"
                " decided_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (segment_id, code, coder, key, int(bool(value)), origin, memo, rule,
                 None if confidence is None else float(confidence), ts))
            c.execute("INSERT INTO state (segment_id, code, coder_key, decision_id, value) VALUES (?, ?, ?, ?, ?)"
                      " ON CONFLICT (segment_id, code, coder_key) DO UPDATE SET decision_id = excluded.decision_id,"
                      " value = excluded.value", (segment_id, code, key, cur.lastrowid, int(bool(value))))
            return cur.lastrowid

        return self._write(tx)

    def apply(self, segment_id: str, code: str, coder: str, **kw) -> int:
        """Apply ``code`` to a segment for ``coder`` (see :meth:`decide` for the options)."""
        return self.decide(segment_id, code, coder, True, **kw)

    def remove(self, segment_id: str, code: str, coder: str, **kw) -> int:
        """Remove ``code`` from a segment for ``coder`` (the earlier decision stays in the log)."""
        return self.decide(segment_id, code, coder, False, **kw)

    def record_codings(self, codings: pd.DataFrame) -> int:
        """Record a whole codings frame (e.g. the output of :func:`journeylab.autocode`) in one transaction.

        Every row is an *apply* decision with the row's ``coder``, ``origin``, ``memo`` and,
        when present, ``rule`` and ``confidence``. Returns the number of decisions written.
        """
        check_frame(codings, arg="codings", func="CodingStore.record_codings",
                    required=["segment_id", "code", "coder"], allow_empty=True)
        ts = _now()
        df = codings.astype(object).where(codings.notna(), None)
        rows = list(zip(df["segment_id"], df["code"], df["coder"],
                        df["origin"] if "origin" in df else ["manual"] * len(df),
                        df["memo"] if "memo" in df else [None] * len(df),
                        df["rule"] if "rule" in df else [None] * len(df),
                        df["confidence"] if "confidence" in df else [None] * len(df)))
        for i, (seg, code, coder, origin, *_rest) in enumerate(rows):
            if origin not in ORIGINS:
                raise JourneylabError(f"CodingStore.record_codings(): row {i}: origin must be one of "
                                      f"{', '.join(ORIGINS)}; found {origin!r}")
            for name, v in (("segment_id", seg), ("code", code), ("coder", coder)):
                if not isinstance(v, str) or not v.strip():
                    raise JourneylabError(f"CodingStore.record_codings(): row {i}: `{name}` must be non-empty text; "
                                          f"found {v!r}")

        def tx(c):
            for seg, code, coder, origin, memo, rule, conf in rows:
                key = self._coder(c, coder)
                cur = c.execute(
                    "INSERT INTO decisions (segment_id, code, coder, coder_key, value, origin, memo, rule, confidence,"
                    " decided_at) VALUES (?, ?, ?, ?, 1, ?, ?, ?, ?, ?)",
                    (seg, code, coder, key, origin, memo, rule, None if conf is None else float(conf), ts))
                c.execute("INSERT INTO state (segment_id, code, coder_key, decision_id, value) VALUES (?, ?, ?, ?, 1)"
                          " ON CONFLICT (segment_id, code, coder_key) DO UPDATE SET decision_id = excluded.decision_id,"
                          " value = 1", (seg, code, key, cur.lastrowid))
            return len(rows)

        return self._write(tx)

    # -- memos, reviewed marks, positions ---------------------------------------------------------
    def set_memo(self, segment_id: str, coder: str, memo: str | None) -> None:
        """Set (or clear, with None/"") ``coder``'s memo on a segment; every edit is logged."""
        _check_text(segment_id, "segment_id", "set_memo")
        _check_text(coder, "coder", "set_memo")
        memo = memo if memo else None
        ts = _now()

        def tx(c):
            key = self._coder(c, coder)
            c.execute("INSERT INTO memo_log (segment_id, coder_key, coder, memo, updated_at) VALUES (?, ?, ?, ?, ?)",
                      (segment_id, key, coder, memo, ts))
            c.execute("INSERT INTO memos (segment_id, coder_key, coder, memo, updated_at) VALUES (?, ?, ?, ?, ?)"
                      " ON CONFLICT (segment_id, coder_key) DO UPDATE SET memo = excluded.memo,"
                      " coder = excluded.coder, updated_at = excluded.updated_at", (segment_id, key, coder, memo, ts))

        self._write(tx)

    def memo(self, segment_id: str, coder: str) -> str | None:
        """``coder``'s current memo on a segment (None if none)."""
        row = self._conn.execute("SELECT memo FROM memos WHERE segment_id = ? AND coder_key = ?",
                                 (segment_id, normalise_coder(coder))).fetchone()
        return row[0] if row else None

    def memos(self, coder: str | None = None) -> pd.DataFrame:
        """Current memos: ``segment_id``, ``coder``, ``memo``, ``updated_at`` (non-empty memos only)."""
        sql = ("SELECT m.segment_id, k.name AS coder, m.memo, m.updated_at FROM memos m "
               "JOIN coders k ON k.coder_key = m.coder_key WHERE m.memo IS NOT NULL")
        args: tuple = ()
        if coder is not None:
            sql += " AND m.coder_key = ?"
            args = (normalise_coder(coder),)
        return pd.read_sql_query(sql + " ORDER BY m.segment_id, coder", self._conn, params=args)

    def set_reviewed(self, segment_id: str, coder: str, value: bool = True) -> None:
        """Mark a segment as reviewed by ``coder`` (e.g. "no code applies"): it counts as done."""
        _check_text(segment_id, "segment_id", "set_reviewed")
        _check_text(coder, "coder", "set_reviewed")

        def tx(c):
            key = self._coder(c, coder)
            ts = _now()
            c.execute("INSERT INTO reviewed_log (segment_id, coder_key, coder, value, updated_at) VALUES (?, ?, ?, ?, ?)",
                      (segment_id, key, coder, int(bool(value)), ts))
            c.execute("INSERT INTO reviewed (segment_id, coder_key, coder, value, updated_at) VALUES (?, ?, ?, ?, ?)"
                      " ON CONFLICT (segment_id, coder_key) DO UPDATE SET value = excluded.value,"
                      " updated_at = excluded.updated_at", (segment_id, key, coder, int(bool(value)), ts))

        self._write(tx)

    def done_segments(self, coder: str) -> set[str]:
        """Segments ``coder`` has finished: at least one code applied, or marked reviewed."""
        key = normalise_coder(coder)
        rows = self._conn.execute(
            "SELECT segment_id FROM state WHERE coder_key = ? AND value = 1 "
            "UNION SELECT segment_id FROM reviewed WHERE coder_key = ? AND value = 1", (key, key))
        return {r[0] for r in rows}

    def set_position(self, coder: str, segment_id: str) -> None:
        """Remember the segment ``coder`` is on (to resume there)."""
        _check_text(segment_id, "segment_id", "set_position")
        _check_text(coder, "coder", "set_position")

        def tx(c):
            key = self._coder(c, coder)
            c.execute("INSERT INTO positions (coder_key, coder, segment_id, updated_at) VALUES (?, ?, ?, ?)"
                      " ON CONFLICT (coder_key) DO UPDATE SET segment_id = excluded.segment_id,"
                      " coder = excluded.coder, updated_at = excluded.updated_at", (key, coder, segment_id, _now()))

        self._write(tx)

    def position(self, coder: str) -> str | None:
        """The segment ``coder`` was last on (None for a new coder)."""
        row = self._conn.execute("SELECT segment_id FROM positions WHERE coder_key = ?",
                                 (normalise_coder(coder),)).fetchone()
        return row[0] if row else None

    # -- reading ----------------------------------------------------------------------------
    def codes_of(self, segment_id: str, coder: str) -> dict[str, str]:
        """Codes ``coder`` currently has on a segment → the origin of the deciding decision."""
        rows = self._conn.execute(
            "SELECT d.code, d.origin FROM state s JOIN decisions d ON d.id = s.decision_id "
            "WHERE s.segment_id = ? AND s.coder_key = ? AND s.value = 1", (segment_id, normalise_coder(coder)))
        return dict(rows.fetchall())

    def decisions_of(self, segment_id: str, coder: str) -> dict[str, bool]:
        """``coder``'s current decision per code on a segment: True applied, False removed/rejected."""
        rows = self._conn.execute("SELECT code, value FROM state WHERE segment_id = ? AND coder_key = ?",
                                  (segment_id, normalise_coder(coder)))
        return {code: bool(v) for code, v in rows.fetchall()}

    def codings(self, coder: str | None = None) -> pd.DataFrame:
        """The current codings (latest decision per segment, code and coder is *apply*).

        Parameters
        ----------
        coder : str, optional
            Only this coder (matched case- and space-insensitively).

        Returns
        -------
        DataFrame
            The codings frame: ``segment_id``, ``code``, ``coder`` (display name), ``origin``,
            ``memo`` (the segment memo of that coder, else the decision's memo), ``rule``,
            ``confidence``, ``decided_at`` (UTC ISO timestamp of the deciding decision), sorted
            by coder, segment and code.
        """
        sql = ("SELECT d.segment_id, d.code, k.name AS coder, d.origin, COALESCE(m.memo, d.memo) AS memo, d.rule,"
               " d.confidence, d.decided_at FROM state s JOIN decisions d ON d.id = s.decision_id"
               " JOIN coders k ON k.coder_key = s.coder_key"
               " LEFT JOIN memos m ON m.segment_id = s.segment_id AND m.coder_key = s.coder_key"
               " WHERE s.value = 1")
        args: tuple = ()
        if coder is not None:
            sql += " AND s.coder_key = ?"
            args = (normalise_coder(coder),)
        df = pd.read_sql_query(sql + " ORDER BY coder, d.segment_id, d.code", self._conn, params=args)
        return _typed(df)

    def decisions(self, coder: str | None = None) -> pd.DataFrame:
        """The full decision log, oldest first.

        Returns
        -------
        DataFrame
            ``decision_id``, ``segment_id``, ``code``, ``coder`` (as typed), ``coder_key``,
            ``value`` (True applied, False removed), ``origin``, ``memo``, ``rule``,
            ``confidence``, ``decided_at``.
        """
        sql = ("SELECT id AS decision_id, segment_id, code, coder, coder_key, value, origin, memo, rule, confidence,"
               " decided_at FROM decisions")
        args: tuple = ()
        if coder is not None:
            sql += " WHERE coder_key = ?"
            args = (normalise_coder(coder),)
        df = pd.read_sql_query(sql + " ORDER BY id", self._conn, params=args)
        df["value"] = df["value"].astype(bool)
        return df

    def coders(self) -> pd.DataFrame:
        """One row per coder: ``coder``, ``coder_key``, ``n_decisions``, ``n_codings``, ``first``, ``last``."""
        sql = ("SELECT k.name AS coder, k.coder_key,"
               " (SELECT COUNT(*) FROM decisions d WHERE d.coder_key = k.coder_key) AS n_decisions,"
               " (SELECT COUNT(*) FROM state s WHERE s.coder_key = k.coder_key AND s.value = 1) AS n_codings,"
               " (SELECT MIN(decided_at) FROM decisions d WHERE d.coder_key = k.coder_key) AS first,"
               " (SELECT MAX(decided_at) FROM decisions d WHERE d.coder_key = k.coder_key) AS last"
               " FROM coders k ORDER BY k.created_at")
        return pd.read_sql_query(sql, self._conn)

    def export_csv(self, path, coder: str) -> Path:
        """Write ``coder``'s current codings as CSV (a study's ``codings/<coder>.csv``).

        Columns: ``segment_id``, ``code``, ``coder``, ``origin``, ``memo``, ``rule``,
        ``confidence``, ``decided_at``. Returns the path.
        """
        df = self.codings(coder)
        if df.empty and normalise_coder(coder) not in set(self.coders()["coder_key"]):
            raise JourneylabError(f"CodingStore.export_csv(): no coder {coder!r} in {self.path}; coders: "
                                  f"{', '.join(self.coders()['coder']) or 'none'}")
        from ..utils.tables import write_csv

        path = Path(path)
        write_csv(df, path)  # formula-like memos neutralised (journeylab/_csv.py)
        return path


def _is_busy(exc: sqlite3.OperationalError) -> bool:
    code = getattr(exc, "sqlite_errorcode", None)
    if code is not None:
        return code & 0xFF in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)
    return "locked" in str(exc) or "busy" in str(exc)


def _typed(df: pd.DataFrame) -> pd.DataFrame:
    df = df.copy()
    df["confidence"] = pd.to_numeric(df["confidence"], errors="coerce").astype(float)
    for col in ("segment_id", "code", "coder", "origin", "memo", "rule", "decided_at"):
        df[col] = df[col].astype(object).astype("str")  # missing values stay missing
    return df[CODING_COLUMNS]


def read_codings(path, *, coder: str | None = None) -> pd.DataFrame:
    """The current codings frame of a coding store file.

    Parameters
    ----------
    path : str or Path
        A store made by :class:`CodingStore`.
    coder : str, optional
        Only this coder.

    Returns
    -------
    DataFrame
        See :meth:`CodingStore.codings`.
    """
    from ..utils.checks import check_path

    check_path(path, arg="path", func="read_codings")
    path = Path(path)
    if not path.is_file():
        raise JourneylabError(f"read_codings(): {path} does not exist; expected a coding store (.sqlite) "
                              "written by CodingStore")
    try:
        with CodingStore(path) as store:
            return store.codings(coder)
    except JourneylabError:
        raise
    except (sqlite3.DatabaseError, pd.errors.DatabaseError, UnicodeDecodeError, TypeError, ValueError) as exc:
        # a damaged file: sqlite reports a malformed schema (sometimes in undecodable bytes)
        raise JourneylabError(f"read_codings(): {path} is not a readable coding store "
                              f"({type(exc).__name__}: {str(exc)[:200]}); expected a SQLite file written by "
                              "CodingStore (restore it from its backup)") from None
