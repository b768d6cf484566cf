"""The coding store: every coding decision, durably, in one SQLite file.

A :class:`CodingStore` is a SQLite database (stdlib ``sqlite3``) in WAL mode with
``synchronous=FULL``: each decision is one transaction, committed (and fsynced) before the call
returns, so a decision that was acknowledged survives a killed kernel, a crash or a power cut,
and several coders (processes) can write to the same file at once: writers take turns (each
waits up to ``timeout`` seconds for the write lock, then raises :class:`StoreBusyError`), and
readers never wait and see one committed state per read (:meth:`CodingStore.snapshot` for
several reads).

Tables (schema version 3)::

    schema_version(version)                       one row; migrations key off it
    meta(key, value)                              free key/values (journeylab version, ...)
    coders(coder_key, name, created_at)           coder_key = casefolded name, whitespace collapsed
    decisions(id, segment_id, code, coder, coder_key, value, origin, memo, rule, confidence,
              decided_at, doc_id, span_start, span_end, span_text, fingerprint)
                                                  append-only log: every apply (1) and remove (0), of
                                                  whole turns (doc_id NULL) and of spans (version 3)
    state(segment_id, code, coder_key, decision_id, value)
                                                  current value per (turn, code, coder)
    span_state(doc_id, span_start, span_end, code, coder_key, segment_id, decision_id, value)
                                                  current value per (span, code, coder) (version 3)
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
3. Span decisions (:meth:`CodingStore.decide_span`): the log's new columns ``doc_id``,
   ``span_start``, ``span_end`` (code points into the document's text, end exclusive),
   ``span_text`` (the covered text) and ``fingerprint`` (:func:`journeylab.study.anchor.fingerprint`,
   to find the span again after a transcript is edited) are NULL for the whole-turn decisions of
   versions 1-2, which read exactly as before; ``span_state`` holds the current value per span.
"""
from __future__ import annotations

__all__ = ["CodingStore", "read_codings", "checkpoint_store", "normalize_coder", "normalise_coder", "SCHEMA_VERSION",
           "StoreBusyError", "StoreMigratedWarning"]

import os
import random
import re
import sqlite3
import threading
import time
import unicodedata
import uuid
import warnings
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import JourneylabError, StoreBusyError
from ..study.anchor import fingerprint_codings, parse_fingerprint, text_hash
from ..study.load import load_study
from ..study.redact import offset_mapper
from ..utils.checks import check_frame, check_path
from ..utils.clock import now_iso
from ..utils.provenance import JOURNEYLAB_VERSION
from ..utils.sqlite import file_uri
from ..utils.tables import write_csv

SCHEMA_VERSION = 3
ORIGINS = ("manual", "rule", "model")
CODING_COLUMNS = ["segment_id", "code", "coder", "origin", "memo", "rule", "confidence", "decided_at"]
SPAN_COLUMNS = ["doc_id", "start", "end", "text"]  # lead the codings frame when the store holds span codings

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


def _migrate_2_to_3(c: sqlite3.Connection) -> None:
    """Version 3: span decisions in the same log (new NULL-able columns) and their current state."""
    for column in ("doc_id TEXT", "span_start INTEGER", "span_end INTEGER", "span_text TEXT", "fingerprint TEXT"):
        c.execute(f"ALTER TABLE decisions ADD COLUMN {column}")
    c.execute("CREATE TABLE span_state (doc_id TEXT NOT NULL, span_start INTEGER NOT NULL, span_end INTEGER NOT NULL,"
              " code TEXT NOT NULL, coder_key TEXT NOT NULL, segment_id TEXT NOT NULL,"
              " decision_id INTEGER NOT NULL REFERENCES decisions (id), value INTEGER NOT NULL,"
              " PRIMARY KEY (doc_id, span_start, span_end, code, coder_key))")
    c.execute("CREATE INDEX span_state_coder ON span_state (coder_key, value)")


# version -> function(conn) bringing a file from that version to the next (run in one transaction)
_MIGRATIONS: dict = {1: _migrate_1_to_2, 2: _migrate_2_to_3}


class StoreMigratedWarning(UserWarning):
    """An older coding store was migrated when opened; the message names the backup copy of the old file."""

_JITTER = random.Random()  # lock-polling jitter only; never touches results
QUICK_CHECK_MAX_BYTES = 8 * 2**20  # stores up to this size are integrity-checked when opened
_CREATING = ".creating"  # suffix of the temporary file a new store is built in
_TEMPORARY = re.compile(r"^\..+\.(\d+)\.[0-9a-f]{8}\.creating(?:-journal)?$")  # .<store>.<pid>.<random>.creating


def _writable(path: Path) -> bool:
    """True when this process may write the store file and create its journal files beside it."""
    return os.access(path, os.W_OK) and os.access(path.parent, os.W_OK | os.X_OK)


def _fsync_folder(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:  # not possible on every platform (Windows)
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _remove_stale_temporaries(folder: Path) -> None:
    """Remove the temporary files of store creations in ``folder`` whose process is gone (killed)."""
    for tmp in folder.glob(f".*{_CREATING}*"):
        match = _TEMPORARY.match(tmp.name)
        if match is None or int(match.group(1)) == os.getpid():
            continue
        try:
            os.kill(int(match.group(1)), 0)
        except ProcessLookupError:
            tmp.unlink(missing_ok=True)
        except (OSError, OverflowError):  # alive (or not ours to signal): leave it
            pass


def normalize_coder(name) -> str:
    """The identity of a coder name: Unicode NFKC, trimmed, inner whitespace collapsed, casefolded.

    The one key under which a coder's decisions are stored and merged, here and in
    :mod:`journeylab.coding.reliability`: ``"Amara"``, ``"amara "``, ``"AMARA"`` and
    ``"Ａｍａｒａ"`` (full-width) are one coder.

    Examples
    --------
    >>> normalize_coder("  Ana   María ") == normalize_coder("ana maría")
    True
    >>> normalize_coder("Ａｍａｒａ")
    'amara'
    """
    text = unicodedata.normalize("NFKC", str(name))
    return " ".join(text.split()).casefold()


normalise_coder = normalize_coder   # the British spelling this module used first; one function


def _now() -> str:
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
    read_only_ : bool
        True when the file or its folder is read-only: the store is opened for reading
        (``mode=ro``) and every write raises a :class:`~journeylab.errors.JourneylabError`.

    Notes
    -----
    WAL journal, ``synchronous=FULL``, one ``BEGIN IMMEDIATE`` transaction per decision: when
    :meth:`apply` returns, the decision is on disk. Several processes may write at once: each
    write waits for the lock (polling every few milliseconds until ``timeout``), so no
    decision is lost or recorded twice. Readers do not wait for writers;
    each read method sees one committed state, and :meth:`snapshot` holds one state across
    several reads. Opening a file written by an older journeylab migrates it to
    :data:`SCHEMA_VERSION` (after a backup copy ``<store>.v<old>.bak``); a file from a newer
    journeylab is refused.

    A new store is created atomically (built in a temporary file beside it, then linked into
    place), so a kill at any moment leaves either no file or a complete store. A file that is
    empty (0 bytes), not SQLite, damaged (``PRAGMA quick_check``) or without a valid
    ``schema_version`` is refused with a :class:`~journeylab.errors.JourneylabError` and never
    written to. The decision log is append-only (nothing is
    ever updated or deleted in it); ``state`` holds the latest value per (segment, code, coder)
    and is updated in the same transaction. Coders are matched by :func:`normalize_coder`, so
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
        self.path = Path(check_path(path, arg="path", func="CodingStore"))
        self.timeout = float(timeout)
        self._lock = threading.RLock()
        self.backup_path_: Path | None = None
        self.read_only_ = False
        try:
            if not self.path.exists():
                self._create_atomically()
            self._check_file()
            if _writable(self.path):
                self._conn = sqlite3.connect(str(self.path), timeout=self.timeout, isolation_level=None,
                                             check_same_thread=False)
                self._conn.execute(f"PRAGMA busy_timeout={int(self.timeout * 1000)}")
                self._check_integrity()
                self._retry(self._check_before_writing, "open")
                self._retry(lambda: self._conn.execute("PRAGMA journal_mode=WAL").fetchone(), "open")
                self._conn.execute("PRAGMA synchronous=FULL")
                self._write(self._check_and_migrate)
                if self.backup_path_ is not None:  # committed: say so, naming the copy of the old file
                    warnings.warn(f"{self.path}: the coding store was migrated from schema version "
                                  f"{self._migrated_from} to {SCHEMA_VERSION}; the file as it was is kept at "
                                  f"{self.backup_path_}. Its decisions read as before; an older journeylab cannot "
                                  "open the migrated file (give it the backup)", StoreMigratedWarning, stacklevel=2)
            else:
                self._open_read_only()
        except sqlite3.DatabaseError as exc:
            raise JourneylabError(f"{self.path}: not a journeylab coding store, or a damaged one ({exc}); "
                                  "expected a SQLite file made by CodingStore; the file was not changed "
                                  "(restore it from a backup)") from None
        except OSError as exc:
            raise JourneylabError(f"{self.path}: cannot open the coding store: {exc.strerror or exc}") from None

    # -- set-up -------------------------------------------------------------------------
    def _create_atomically(self) -> None:
        """Create a new store so that a kill at any moment leaves no file or a complete store.

        The schema is built and committed in a temporary file in the same folder, fsynced, and
        then hard-linked to ``path`` (which fails if another process created the store first:
        that store is then opened, and nothing is overwritten).
        """
        folder = self.path.parent
        folder.mkdir(parents=True, exist_ok=True)
        _remove_stale_temporaries(folder)
        tmp = folder / f".{self.path.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}{_CREATING}"
        if not os.access(folder, os.W_OK | os.X_OK):
            raise JourneylabError(f"{self.path}: cannot create a coding store there: the folder {folder} is "
                                  "read-only; pass a path in a writable folder")
        try:
            con = sqlite3.connect(str(tmp), isolation_level=None)
            try:
                con.execute("PRAGMA journal_mode=DELETE")
                con.execute("PRAGMA synchronous=FULL")
                con.execute("BEGIN IMMEDIATE")
                self._initialise(con)
                con.execute("COMMIT")
            finally:
                con.close()
            fd = os.open(tmp, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
            try:
                os.link(tmp, self.path)
            except FileExistsError:
                pass  # another process made the store meanwhile: open that one
            except OSError:  # a file system without hard links
                if not self.path.exists():
                    os.replace(tmp, self.path)
            _fsync_folder(folder)
        finally:
            for suffix in ("", "-journal"):
                Path(f"{tmp}{suffix}").unlink(missing_ok=True)

    def _check_file(self) -> None:
        """Refuse (without touching it) a file that cannot be a store: empty, or not SQLite."""
        if not self.path.is_file():
            raise JourneylabError(f"{self.path}: not a file; expected a coding store (.sqlite) made by CodingStore")
        size = self.path.stat().st_size
        with open(self.path, "rb") as fh:
            head = fh.read(16)
        if size == 0:
            raise JourneylabError(f"{self.path}: the file is empty (0 bytes), so it holds no codings; expected a "
                                  "coding store made by CodingStore. It was not changed: delete it (or pass "
                                  "another path) to start a new store, or restore the store from a backup")
        if head != b"SQLite format 3\x00":
            raise JourneylabError(f"{self.path}: not a journeylab coding store (the file does not start like a "
                                  f"SQLite database: {head[:16]!r}); expected a SQLite file made by CodingStore. "
                                  "It was not changed")

    def _check_integrity(self) -> None:
        """Refuse a damaged file (``PRAGMA quick_check``) before anything is written to it.

        The check reads the whole file (about 1 s per 20 MB), so it runs on files up to
        :data:`QUICK_CHECK_MAX_BYTES`; in a larger file a damaged page is reported by the read
        or write that meets it (a JourneylabError; SQLite never writes over a damaged page).
        """
        if self.path.stat().st_size > QUICK_CHECK_MAX_BYTES:
            return
        try:
            rows = self._retry(lambda: self._conn.execute("PRAGMA quick_check(5)").fetchall(), "check the file")
        except sqlite3.DatabaseError as exc:
            rows = [(str(exc),)]
        if rows != [("ok",)]:
            detail = "; ".join(str(r[0]) for r in rows[:5])
            self._conn.close()
            raise JourneylabError(f"{self.path}: the coding store is damaged (SQLite integrity check: {detail}); "
                                  "it was not changed. Restore it from a backup (a copy of the file, or a "
                                  "<store>.v<N>.bak beside it), or recover what is readable with the sqlite3 "
                                  "command-line tool's .recover")

    def _check_before_writing(self) -> None:
        """Refuse a file that is not a store before anything (even the journal mode) is written."""
        if self._conn.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()[0]:
            try:
                self._check_schema(self._conn)
            except JourneylabError:
                self._conn.close()
                raise

    def _open_read_only(self) -> None:
        """Open a store in a read-only file or folder for reading (``mode=ro``; writes are refused)."""
        self.read_only_ = True
        try:
            self._conn = sqlite3.connect(file_uri(self.path, mode="ro"), uri=True, timeout=self.timeout,
                                         isolation_level=None, check_same_thread=False)
            self._conn.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()
        except sqlite3.OperationalError:
            # a WAL-mode store whose -shm index cannot be created in a read-only folder: nothing can
            # write there either, so the file is read as it is (its committed, checkpointed state),
            # unless decisions wait in its -wal file, which cannot be read without the index
            wal = Path(f"{self.path}-wal")
            if wal.is_file() and wal.stat().st_size > 0:
                raise JourneylabError(f"{self.path}: the store is in a read-only folder and its latest decisions "
                                      f"are in {wal.name}, which SQLite cannot read there; copy both files to a "
                                      "writable folder and open the copy") from None
            self._conn = sqlite3.connect(file_uri(self.path, immutable="1"), uri=True, timeout=self.timeout,
                                         isolation_level=None, check_same_thread=False)
        self._check_integrity()
        version = self._check_schema(self._conn)
        if version < SCHEMA_VERSION:
            raise JourneylabError(f"{self.path}: store schema version {version} must be migrated to version "
                                  f"{SCHEMA_VERSION} before this journeylab can read it, but the file (or its "
                                  "folder) is read-only; copy it to a writable folder and open the copy")

    def _check_schema(self, c: sqlite3.Connection) -> int:
        """The schema version of an existing store, after checking the file is one."""
        tables = {r[0] for r in c.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if "schema_version" not in tables:
            raise JourneylabError(f"{self.path}: a SQLite file without journeylab's schema_version table; "
                                  "expected a coding store made by CodingStore")
        rows = c.execute("SELECT version FROM schema_version LIMIT 3").fetchall()
        version = rows[0][0] if len(rows) == 1 else None
        if not isinstance(version, int) or isinstance(version, bool) or version < 1:
            found = "no row" if not rows else ("several rows" if len(rows) > 1 else f"{str(version)[:40]!r}")
            raise JourneylabError(f"{self.path}: the store's schema_version table is damaged: expected one row "
                                  f"holding a whole number from 1 to {SCHEMA_VERSION}, found {found}. The file "
                                  "was not changed; restore it from a backup")
        if version > SCHEMA_VERSION:
            raise JourneylabError(f"{self.path}: store schema version {version} is newer than this journeylab "
                                  f"({JOURNEYLAB_VERSION}) supports (schema version {SCHEMA_VERSION}); "
                                  "upgrade journeylab to open it")
        return version

    def _initialise(self, c: sqlite3.Connection) -> None:
        """Build the current schema in an empty database (version 1, then every migration)."""
        for statement in _SCHEMA_V1.split(";"):
            if statement.strip():
                c.execute(statement)
        c.execute("INSERT INTO schema_version (version) VALUES (1)")
        c.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('created_by', ?)",
                  (f"journeylab {JOURNEYLAB_VERSION}",))
        c.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('created_at', ?)", (_now(),))
        self._migrate(c, 1)

    def _check_and_migrate(self, c: sqlite3.Connection) -> None:
        """Check an existing store and migrate it; runs in the opening write transaction.

        A SQLite file with no tables at all (left by an interrupted creation in journeylab
        before 0.2, or made empty by another tool) holds nothing and becomes a new store.
        """
        if c.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()[0] == 0:
            self._initialise(c)
            return
        version = self._check_schema(c)
        if version < SCHEMA_VERSION:
            self.backup_path_ = self._backup(version)
        self._migrated_from = version
        self._migrate(c, version)

    def _migrate(self, c: sqlite3.Connection, version: int) -> None:
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
        if self.read_only_:
            raise JourneylabError(f"{self.path}: the store (or its folder) is read-only, so it was opened for "
                                  "reading only; nothing was written. Copy it to a writable folder to add decisions")
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
            except BaseException as exc:
                if c.in_transaction:
                    c.execute("ROLLBACK")
                if isinstance(exc, sqlite3.DatabaseError) and _is_corrupt(exc):
                    raise self._damaged(exc) from None
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
        key = normalize_coder(coder)
        c.execute("INSERT OR IGNORE INTO coders (coder_key, name, created_at) VALUES (?, ?, ?)",
                  (key, " ".join(coder.split()), _now()))
        return key

    @property
    def schema_version(self) -> int:
        """Schema version of the file."""
        return int(self._conn.execute("SELECT version FROM schema_version").fetchone()[0])

    def _damaged(self, exc: Exception) -> JourneylabError:
        return JourneylabError(f"{self.path}: the coding store is damaged (SQLite: {str(exc)[:200]}); nothing was "
                               "written. Restore it from a backup (a copy of the file, or a <store>.v<N>.bak "
                               "beside it), or recover what is readable with the sqlite3 command-line tool's .recover")

    def _execute(self, sql: str, params: tuple = ()) -> "_Rows":
        """Run a read and fetch every row; a damaged file becomes a JourneylabError naming the store."""
        try:
            return _Rows(self._conn.execute(sql, params).fetchall())
        except sqlite3.DatabaseError as exc:
            if isinstance(exc, sqlite3.OperationalError) and _is_busy(exc):
                raise
            raise self._damaged(exc) from None

    def _frame(self, sql: str, params: tuple = ()) -> pd.DataFrame:
        try:
            return pd.read_sql_query(sql, self._conn, params=params)
        except (sqlite3.DatabaseError, pd.errors.DatabaseError) as exc:
            cause = exc.__cause__ or exc.__context__ or exc  # pandas wraps SQLite's error with the query
            if isinstance(cause, sqlite3.OperationalError) and _is_busy(cause):
                raise
            raise self._damaged(cause) from None

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

    def decide_span(self, doc_id: str, start: int, end: int, code: str, coder: str, value: bool, *,
                    segment_id: str, text: str, fingerprint: str | None = None, origin: str = "manual",
                    memo: str | None = None, rule: str | None = None, confidence: float | None = None) -> int:
        """Record that ``coder`` applied (``value=True``) or removed a code on a span of a document.

        Parameters
        ----------
        doc_id : str
            The document (transcript) the span is in.
        start, end : int
            The span: code points into the document's text, ``start`` included, ``end`` not
            (Python's ``text[start:end]``).
        code, coder : str
        value : bool
            True to apply the code to the span, False to remove it from that exact span.
        segment_id : str
            The turn the span starts in (the codings frame's ``segment_id``).
        text : str
            The covered text, ``document_text[start:end]``; kept so that the coding can be checked
            and found again after the transcript is edited.
        fingerprint : str, optional
            :func:`journeylab.study.anchor.fingerprint` of the span (hash, length and context).
        origin, memo, rule, confidence
            As for :meth:`decide`.

        Returns
        -------
        int
            The decision's id in the log (one sequence with the whole-turn decisions). The
            decision is committed when this returns.

        Examples
        --------
        >>> import tempfile, pathlib, journeylab as jl
        >>> store = jl.CodingStore(pathlib.Path(tempfile.mkdtemp()) / "codings.sqlite")
        >>> _ = store.decide_span("P01", 120, 131, "forced_account", "ana", True, segment_id="P01-t002",
        ...                       text="the account")
        >>> store.codings()[["doc_id", "start", "end", "text", "segment_id", "code"]]
          doc_id  start  end         text segment_id            code
        0    P01    120  131  the account   P01-t002  forced_account
        """
        func = "decide_span"
        for name, v in (("doc_id", doc_id), ("code", code), ("coder", coder), ("segment_id", segment_id)):
            _check_text(v, name, func)
        if origin not in ORIGINS:
            raise JourneylabError(f"CodingStore.{func}(): `origin` must be one of {', '.join(ORIGINS)}; got {origin!r}")
        for name, v in (("start", start), ("end", end)):
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)):
                raise JourneylabError(f"CodingStore.{func}(): `{name}` must be a whole number (a code-point offset "
                                      f"into the document's text); got {v!r}")
        start, end = int(start), int(end)
        if not 0 <= start < end:
            raise JourneylabError(f"CodingStore.{func}(): expected 0 <= start < end; got start={start}, end={end}")
        if not isinstance(text, str) or len(text) != end - start:
            found = f"{len(text)} characters" if isinstance(text, str) else type(text).__name__
            raise JourneylabError(f"CodingStore.{func}(): `text` must be the covered text, {end - start} characters "
                                  f"(end - start); found {found}")
        if fingerprint is not None:
            fp = parse_fingerprint(fingerprint)
            if fp is not None and not (fp.length == end - start and fp.hash == text_hash(text)):
                raise JourneylabError(f"CodingStore.{func}(): `fingerprint` {fingerprint[:30]!r}... is not the "
                                      f"fingerprint of `text` {text[:30]!r}")
        ts = _now()

        def tx(c):
            key = self._coder(c, coder)
            cur = c.execute(
                "INSERT INTO decisions (segment_id, code, coder, coder_key, value, origin, memo, rule, confidence,"
                " decided_at, doc_id, span_start, span_end, span_text, fingerprint)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (segment_id, code, coder, key, int(bool(value)), origin, memo, rule,
                 None if confidence is None else float(confidence), ts, doc_id, start, end, text, fingerprint))
            c.execute("INSERT INTO span_state (doc_id, span_start, span_end, code, coder_key, segment_id, decision_id,"
                      " value) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (doc_id, span_start, span_end, code,"
                      " coder_key) DO UPDATE SET decision_id = excluded.decision_id, value = excluded.value,"
                      " segment_id = excluded.segment_id",
                      (doc_id, start, end, code, key, segment_id, cur.lastrowid, int(bool(value))))
            return cur.lastrowid

        return self._write(tx)

    def apply_span(self, doc_id: str, start: int, end: int, code: str, coder: str, **kw) -> int:
        """Apply ``code`` to a span for ``coder`` (see :meth:`decide_span` for the arguments)."""
        return self.decide_span(doc_id, start, end, code, coder, True, **kw)

    def remove_span(self, doc_id: str, start: int, end: int, code: str, coder: str, **kw) -> int:
        """Remove ``code`` from a span for ``coder`` (the earlier decision stays in the log)."""
        return self.decide_span(doc_id, start, end, code, coder, False, **kw)

    def record_codings(self, codings: pd.DataFrame) -> int:
        """Record a whole codings frame (e.g. the output of :func:`journeylab.autocode`) in one transaction.

        Every row is an *apply* decision with the row's ``coder``, ``origin``, ``memo`` and,
        when present, ``rule`` and ``confidence``. A row with a span (``doc_id``, ``start``,
        ``end`` filled, as in a study's codings frame) is a span decision and needs its covered
        ``text`` (``fingerprint`` is kept when present); the other rows are whole-turn decisions.
        Returns the number of decisions written.
        """
        func = "CodingStore.record_codings"
        check_frame(codings, arg="codings", func=func, required=["segment_id", "code", "coder"], allow_empty=True)
        ts = _now()
        df = codings.astype(object).where(codings.notna(), None)
        none = [None] * len(df)
        rows = list(zip(df["segment_id"], df["code"], df["coder"],
                        df["origin"] if "origin" in df else ["manual"] * len(df),
                        df["memo"] if "memo" in df else none,
                        df["rule"] if "rule" in df else none,
                        df["confidence"] if "confidence" in df else none))
        has_span = {"doc_id", "start", "end"} <= set(df.columns)
        spans = list(zip(*(df[c] if c in df else none for c in ("doc_id", "start", "end", "text", "fingerprint")))) \
            if has_span else [(None,) * 5] * len(df)
        for i, ((seg, code, coder, origin, *_rest), (doc, a, b, text, fp)) in enumerate(zip(rows, spans)):
            if origin not in ORIGINS:
                raise JourneylabError(f"{func}(): row {i}: origin must be one of {', '.join(ORIGINS)}; "
                                      f"found {origin!r}")
            for name, v in (("segment_id", seg), ("code", code), ("coder", coder)):
                if not isinstance(v, str) or not v.strip():
                    raise JourneylabError(f"{func}(): row {i}: `{name}` must be non-empty text; found {v!r}")
            if a is not None or b is not None:
                ok = (isinstance(doc, str) and doc.strip() and a is not None and b is not None
                      and float(a).is_integer() and float(b).is_integer() and 0 <= int(a) < int(b)
                      and isinstance(text, str) and len(text) == int(b) - int(a))
                if not ok:
                    raise JourneylabError(f"{func}(): row {i}: a span needs doc_id, whole-number start < end and its "
                                          f"covered text (end - start characters) in `text`; found doc_id={doc!r}, "
                                          f"start={a!r}, end={b!r}, text={str(text)[:40]!r}")

        def tx(c):
            for (seg, code, coder, origin, memo, rule, conf), (doc, a, b, text, fp) in zip(rows, spans):
                key = self._coder(c, coder)
                if a is not None:
                    cur = c.execute(
                        "INSERT INTO decisions (segment_id, code, coder, coder_key, value, origin, memo, rule,"
                        " confidence, decided_at, doc_id, span_start, span_end, span_text, fingerprint)"
                        " VALUES (?, ?, ?, ?, 1, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        (seg, code, coder, key, origin, memo, rule, None if conf is None else float(conf), ts,
                         doc, int(a), int(b), text, fp))
                    c.execute("INSERT INTO span_state (doc_id, span_start, span_end, code, coder_key, segment_id,"
                              " decision_id, value) VALUES (?, ?, ?, ?, ?, ?, ?, 1) ON CONFLICT (doc_id, span_start,"
                              " span_end, code, coder_key) DO UPDATE SET decision_id = excluded.decision_id,"
                              " value = 1, segment_id = excluded.segment_id",
                              (doc, int(a), int(b), code, key, seg, cur.lastrowid))
                    continue
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
        row = self._execute("SELECT memo FROM memos WHERE segment_id = ? AND coder_key = ?",
                                 (segment_id, normalize_coder(coder))).fetchone()
        return row[0] if row else None

    def memos(self, coder: str | None = None) -> pd.DataFrame:
        """Current memos: ``segment_id``, ``coder``, ``memo``, ``updated_at`` (non-empty memos only)."""
        sql = ("SELECT m.segment_id, k.name AS coder, m.memo, m.updated_at FROM memos m "
               "JOIN coders k ON k.coder_key = m.coder_key WHERE m.memo IS NOT NULL")
        args: tuple = ()
        if coder is not None:
            sql += " AND m.coder_key = ?"
            args = (normalize_coder(coder),)
        return self._frame(sql + " ORDER BY m.segment_id, coder", args)

    def set_reviewed(self, segment_id: str, coder: str, value: bool = True) -> None:
        """Mark a segment as reviewed by ``coder`` (e.g. "no code applies"): it counts as done."""
        _check_text(segment_id, "segment_id", "set_reviewed")
        _check_text(coder, "coder", "set_reviewed")

        def tx(c):
            key = self._coder(c, coder)
            ts = _now()
            c.execute("INSERT INTO reviewed_log (segment_id, coder_key, coder, value, updated_at) "
                      "VALUES (?, ?, ?, ?, ?)",
                      (segment_id, key, coder, int(bool(value)), ts))
            c.execute("INSERT INTO reviewed (segment_id, coder_key, coder, value, updated_at) VALUES (?, ?, ?, ?, ?)"
                      " ON CONFLICT (segment_id, coder_key) DO UPDATE SET value = excluded.value,"
                      " updated_at = excluded.updated_at", (segment_id, key, coder, int(bool(value)), ts))

        self._write(tx)

    def done_segments(self, coder: str) -> set[str]:
        """Segments ``coder`` has finished: a code applied to it (or to a span starting in it), or marked reviewed."""
        key = normalize_coder(coder)
        rows = self._execute(
            "SELECT segment_id FROM state WHERE coder_key = ? AND value = 1 "
            "UNION SELECT segment_id FROM span_state WHERE coder_key = ? AND value = 1 "
            "UNION SELECT segment_id FROM reviewed WHERE coder_key = ? AND value = 1", (key, key, key))
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
        row = self._execute("SELECT segment_id FROM positions WHERE coder_key = ?",
                                 (normalize_coder(coder),)).fetchone()
        return row[0] if row else None

    # -- reading ----------------------------------------------------------------------------
    def codes_of(self, segment_id: str, coder: str) -> dict[str, str]:
        """Codes ``coder`` currently has on a segment → the origin of the deciding decision."""
        rows = self._execute(
            "SELECT d.code, d.origin FROM state s JOIN decisions d ON d.id = s.decision_id "
            "WHERE s.segment_id = ? AND s.coder_key = ? AND s.value = 1", (segment_id, normalize_coder(coder)))
        return dict(rows.fetchall())

    def decisions_of(self, segment_id: str, coder: str) -> dict[str, bool]:
        """``coder``'s current decision per code on a segment: True applied, False removed/rejected."""
        rows = self._execute("SELECT code, value FROM state WHERE segment_id = ? AND coder_key = ?",
                                  (segment_id, normalize_coder(coder)))
        return {code: bool(v) for code, v in rows.fetchall()}

    def codings(self, coder: str | None = None) -> pd.DataFrame:
        """The current codings (latest decision per turn or span, code and coder is *apply*).

        Parameters
        ----------
        coder : str, optional
            Only this coder (matched case- and space-insensitively).

        Returns
        -------
        DataFrame
            The codings frame: ``segment_id``, ``code``, ``coder`` (display name), ``origin``,
            ``memo`` (a whole-turn coding: the segment memo of that coder, else the decision's
            memo; a span: the decision's memo), ``rule``, ``confidence``, ``decided_at`` (UTC ISO
            timestamp of the deciding decision), sorted by coder, segment and code (spans by
            position). When the store holds span decisions (any coder), the frame starts with
            ``doc_id``, ``start``, ``end`` (Int64 code points, end exclusive) and ``text`` (the
            covered text) as a study's codings frame does: missing for whole-turn codings, whose
            span is their turn's.
        """
        where, args = "", ()
        if coder is not None:
            where, args = " AND s.coder_key = ?", (normalize_coder(coder),)
        turns = ("SELECT d.segment_id, d.code, k.name AS coder, d.origin, COALESCE(m.memo, d.memo) AS memo, d.rule,"
                 " d.confidence, d.decided_at, NULL AS doc_id, NULL AS start, NULL AS \"end\", NULL AS text"
                 " FROM state s JOIN decisions d ON d.id = s.decision_id"
                 " JOIN coders k ON k.coder_key = s.coder_key"
                 " LEFT JOIN memos m ON m.segment_id = s.segment_id AND m.coder_key = s.coder_key"
                 " WHERE s.value = 1" + where)
        spans = ("SELECT d.segment_id, d.code, k.name AS coder, d.origin, d.memo, d.rule, d.confidence, d.decided_at,"
                 " s.doc_id, s.span_start AS start, s.span_end AS \"end\", d.span_text AS text"
                 " FROM span_state s JOIN decisions d ON d.id = s.decision_id"
                 " JOIN coders k ON k.coder_key = s.coder_key WHERE s.value = 1" + where)
        with_spans = self._has_spans()
        sql = "SELECT * FROM (" + turns + (" UNION ALL " + spans if with_spans else "") + ")"
        df = self._frame(sql + " ORDER BY coder, segment_id, code, start", args + (args if with_spans else ()))
        return _typed(df, spans=with_spans)

    def _has_spans(self) -> bool:
        """Whether the log holds any span decision (then the codings frame has span columns)."""
        return self._execute("SELECT EXISTS (SELECT 1 FROM span_state)").fetchone()[0] == 1

    def spans(self, coder: str | None = None, *, doc_id: str | None = None) -> pd.DataFrame:
        """The current span codings only: ``doc_id``, ``start``, ``end``, ``text``, ``segment_id``, ``code``,
        ``coder``, ``origin``, ``memo``, ``fingerprint``, ``decision_id``, ``decided_at``, sorted by
        document and position.

        Parameters
        ----------
        coder : str, optional
            Only this coder.
        doc_id : str, optional
            Only this document.
        """
        sql = ("SELECT s.doc_id, s.span_start AS start, s.span_end AS \"end\", d.span_text AS text, s.segment_id,"
               " d.code, k.name AS coder, d.origin, d.memo, d.fingerprint, d.id AS decision_id, d.decided_at"
               " FROM span_state s JOIN decisions d ON d.id = s.decision_id JOIN coders k ON k.coder_key = s.coder_key"
               " WHERE s.value = 1")
        args: tuple = ()
        if coder is not None:
            sql += " AND s.coder_key = ?"
            args += (normalize_coder(coder),)
        if doc_id is not None:
            sql += " AND s.doc_id = ?"
            args += (str(doc_id),)
        df = self._frame(sql + " ORDER BY s.doc_id, s.span_start, s.span_end, d.code, coder", args)
        for c in ("start", "end", "decision_id"):
            df[c] = df[c].astype("int64")
        return df

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
               " decided_at FROM decisions WHERE doc_id IS NULL")
        args: tuple = ()
        if coder is not None:
            sql += " AND coder_key = ?"
            args = (normalize_coder(coder),)
        df = self._frame(sql + " ORDER BY id", args)
        df["value"] = df["value"].astype(bool)
        return df

    def span_decisions(self, coder: str | None = None) -> pd.DataFrame:
        """The span decisions of the log, oldest first (:meth:`decisions` holds the whole-turn ones).

        Returns
        -------
        DataFrame
            ``decision_id`` (one sequence with the whole-turn decisions), ``doc_id``, ``start``,
            ``end``, ``text``, ``fingerprint``, ``segment_id`` (the turn the span starts in),
            ``code``, ``coder`` (as typed), ``coder_key``, ``value`` (True applied, False removed),
            ``origin``, ``memo``, ``rule``, ``confidence``, ``decided_at``.
        """
        sql = ("SELECT id AS decision_id, doc_id, span_start AS start, span_end AS \"end\", span_text AS text,"
               " fingerprint, segment_id, code, coder, coder_key, value, origin, memo, rule, confidence, decided_at"
               " FROM decisions WHERE doc_id IS NOT NULL")
        args: tuple = ()
        if coder is not None:
            sql += " AND coder_key = ?"
            args = (normalize_coder(coder),)
        df = self._frame(sql + " ORDER BY id", args)
        df["value"] = df["value"].astype(bool)
        for c in ("start", "end"):
            df[c] = df[c].astype("int64")
        return df

    def coders(self) -> pd.DataFrame:
        """One row per coder: ``coder``, ``coder_key``, ``n_decisions``, ``n_codings``, ``first``, ``last``."""
        sql = ("SELECT k.name AS coder, k.coder_key,"
               " (SELECT COUNT(*) FROM decisions d WHERE d.coder_key = k.coder_key) AS n_decisions,"
               " (SELECT COUNT(*) FROM state s WHERE s.coder_key = k.coder_key AND s.value = 1)"
               " + (SELECT COUNT(*) FROM span_state s WHERE s.coder_key = k.coder_key AND s.value = 1) AS n_codings,"
               " (SELECT MIN(decided_at) FROM decisions d WHERE d.coder_key = k.coder_key) AS first,"
               " (SELECT MAX(decided_at) FROM decisions d WHERE d.coder_key = k.coder_key) AS last"
               " FROM coders k ORDER BY k.created_at")
        return self._frame(sql)

    def export_csv(self, path, coder: str, *, study=None) -> Path:
        """Write ``coder``'s current codings as CSV (a study's ``codings/<coder>.csv``).

        Columns: ``segment_id``, ``code``, ``coder``, ``origin``, ``memo``, ``rule``,
        ``confidence``, ``decided_at``, and with ``study`` (a loaded Study or a study folder)
        ``fingerprint``: the hash and context of each coded turn's text in the study's transcript
        files, which load_study checks so that a later edit of a transcript cannot move a coding
        silently (see :mod:`journeylab.study.anchor`). Returns the path.

        When the store holds span codings the file starts with ``doc_id``, ``start``, ``end``,
        ``text``. With ``study``, spans coded on the study's redacted text (a study loaded with the
        default ``redact=True``: placeholders such as ``[NAME:P01]`` change the positions) are
        moved to the positions in the transcript files, which load_study reads, and the ``text``
        column is left out (it would hold the unredacted words; the fingerprint checks the span).
        """
        df = self.codings(coder)
        if study is not None:
            src = study if getattr(study, "redacted", True) is False else load_study(getattr(study, "path", study),
                                                                                     redact=False)
            df = _spans_in_files(df, study, src)
            df = fingerprint_codings(df, documents=src.documents, segments=src.segments)
        if df.empty and normalize_coder(coder) not in set(self.coders()["coder_key"]):
            raise JourneylabError(f"CodingStore.export_csv(): no coder {coder!r} in {self.path}; coders: "
                                  f"{', '.join(self.coders()['coder']) or 'none'}")

        path = Path(path)
        write_csv(df, path=path)  # formula-like memos neutralised (journeylab/_csv.py)
        return path


def _spans_in_files(df: pd.DataFrame, study, raw) -> pd.DataFrame:
    """Span codings moved from a redacted study's text to the transcript files' text (``raw``).

    A span whose stored text is the redacted text's at its position is moved with the study's
    redactions (a position inside a placeholder goes to the start or end of the words it
    replaced; before the first placeholder nothing moves); others are left as they are. Then
    ``text`` is dropped: it would be the unredacted words.
    """
    if "start" not in df.columns or not df["start"].notna().any():
        return df
    span = df["start"].notna().to_numpy()
    if getattr(study, "redacted", None) is True:
        red = study
    else:  # a folder (or an unredacted study): were the spans coded on the redacted text (the default)?
        raw_texts = dict(zip(raw.documents["doc_id"].astype(str), raw.documents["text"]))
        if all(raw_texts.get(str(d), "")[int(a):int(b)] == t
               for d, a, b, t in zip(df["doc_id"][span], df["start"][span], df["end"][span], df["text"][span])):
            return df
        red = load_study(getattr(study, "path", study))
    red_texts = dict(zip(red.documents["doc_id"].astype(str), red.documents["text"]))
    reds = red.redactions[red.redactions["source"] == "transcripts"]
    out = df.copy()
    moved = False
    for i in np.flatnonzero(span):
        d, a, b, t = str(df["doc_id"].iloc[i]), int(df["start"].iloc[i]), int(df["end"].iloc[i]), df["text"].iloc[i]
        if red_texts.get(d, "")[a:b] != t:
            continue  # the files' positions already, or not this study's text (load_study reports it)
        rows = reds[reds["doc_id"].astype(str) == d].sort_values("start")
        # redacted → original: offset_mapper with the two sides of each redaction swapped
        to_start, to_end = offset_mapper(list(zip(rows["start"], rows["end"], rows["kind"], rows["placeholder"],
                                                  rows["original_start"], rows["original_end"])))
        out.iloc[i, out.columns.get_loc("start")] = int(to_start([a])[0])
        out.iloc[i, out.columns.get_loc("end")] = int(to_end([b])[0])
        moved = True
    return out.drop(columns="text") if moved else out


class _Rows(list):
    """Fetched rows with the two cursor methods the readers use."""

    def fetchone(self):
        return self[0] if self else None

    def fetchall(self):
        return list(self)


def _is_corrupt(exc: sqlite3.DatabaseError) -> bool:
    code = getattr(exc, "sqlite_errorcode", None)
    if code is not None:
        return code & 0xFF in (11, 26)  # SQLITE_CORRUPT, SQLITE_NOTADB
    return "malformed" in str(exc) or "not a database" in str(exc)


def _is_busy(exc: sqlite3.OperationalError) -> bool:
    code = getattr(exc, "sqlite_errorcode", None)
    if code is not None:
        return code & 0xFF in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)
    return "locked" in str(exc) or "busy" in str(exc)


def _typed(df: pd.DataFrame, *, spans: bool = False) -> pd.DataFrame:
    df = df.copy()
    df["confidence"] = pd.to_numeric(df["confidence"], errors="coerce").astype(float)
    for col in ("segment_id", "code", "coder", "origin", "memo", "rule", "decided_at"):
        df[col] = df[col].astype(object).astype("str")  # missing values stay missing
    if not spans:
        return df[CODING_COLUMNS]
    for col in ("start", "end"):
        df[col] = pd.array([None if pd.isna(v) else int(v) for v in df[col]], dtype="Int64")
    for col in ("doc_id", "text"):
        df[col] = df[col].astype(object).where(df[col].notna(), pd.NA)
    return df[SPAN_COLUMNS + CODING_COLUMNS]


def checkpoint_store(path) -> Path:
    """Fold a store's write-ahead log into its main file, so that one ``.sqlite`` file holds everything.

    A store in use keeps recent decisions in ``<store>-wal`` beside it (WAL mode); a copy of the
    ``.sqlite`` file alone would miss them. This checkpoints the log into the file
    (``PRAGMA wal_checkpoint(TRUNCATE)``) and switches the file to the rollback journal
    (``journal_mode=DELETE``), which removes ``-wal`` and ``-shm``: the file can then be copied,
    archived or e-mailed on its own. The next :class:`CodingStore` to open it switches it back to
    WAL. Run outputs are checkpointed by ``journeylab run``.

    Parameters
    ----------
    path : str or Path
        A store made by :class:`CodingStore`, not open in another process.

    Returns
    -------
    Path
        ``path``.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "codings.sqlite"
    >>> with CodingStore(path) as store:
    ...     _ = store.apply("P01-t002", "forced_account", "ana")
    >>> _ = checkpoint_store(path)
    >>> sorted(p.name for p in path.parent.iterdir())
    ['codings.sqlite']
    """
    path = Path(check_path(path, arg="path", func="checkpoint_store"))
    with CodingStore(path) as store:
        if store.read_only_:
            return path
        c = store._conn
        try:
            with store._lock:
                busy, _, _ = store._retry(lambda: c.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone(),
                                          "checkpoint the store")
                mode = c.execute("PRAGMA journal_mode=DELETE").fetchone()[0]
        except sqlite3.OperationalError as exc:
            raise JourneylabError(f"checkpoint_store(): {path} is in use by another process ({exc}); close the "
                                  "other notebooks or coding sessions that have it open, then retry") from None
        if busy or mode != "delete":
            raise JourneylabError(f"checkpoint_store(): {path} is in use by another process (its log could not "
                                  "be folded into the file); close the other notebooks or coding sessions that "
                                  "have it open, then retry")
    return path


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
