"""Write ``codings_v1.sqlite``: a coding store as journeylab 0.1 (schema version 1) left it.

Raw SQL only — not journeylab's code — so the file stays what an old version wrote even after
the store module changes. Re-run it only if this script changes:

    python tests/data/stores/make_v1_store.py

Contents (checked by tests/test_store_concurrency.py::test_old_store_opens_and_migrates):
coders Ana María (typed two ways) and bob; 8 decisions (one apply later removed, one with a
rule and confidence); 4 memo edits of which 2 current memos remain (one cleared); 2 "no code
applies" marks (one withdrawn); positions of both coders.
"""
from __future__ import annotations

import sqlite3
from pathlib import Path

OUT = Path(__file__).with_name("codings_v1.sqlite")

SCHEMA_V1 = """
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

# (segment_id, code, coder as typed, value, origin, memo, rule, confidence)
DECISIONS = [
    ("P01-t002", "forced_account", "Ana María", 1, "manual", "wanted guest checkout", None, None),
    ("P01-t004", "shipping_form_tedious", "Ana María", 1, "manual", None, None, None),
    ("P01-t004", "checkout_friction", "ana maría", 1, "manual", None, None, None),
    ("P02-t006", "delivery_late", "bob", 1, "rule", None, "keyword:late", 0.75),
    ("P01-t004", "checkout_friction", "ANA MARÍA", 0, "manual", "too broad: the child code says it", None, None),
    ("P02-t006", "delivery_late", "Ana María", 1, "manual", None, None, None),
    ("P03-t010", "refund_slow", "bob", 1, "manual", None, None, None),
    ("P02-t008", "price_surprise", "bob", 1, "manual", None, None, None),
]
MEMOS = [  # (segment_id, coder as typed, memo or None)
    ("P01-t002", "Ana María", "first thought"),
    ("P01-t002", "Ana María", "re-read: about the account wall, not the form"),
    ("P03-t010", "bob", "refund took three weeks"),
    ("P02-t008", "bob", None),  # a memo cleared
]
REVIEWED = [("P04-t001", "Ana María", 1), ("P04-t003", "bob", 1), ("P04-t003", "bob", 0)]
POSITIONS = [("Ana María", "P02-t006"), ("bob", "P03-t010")]


def key(name: str) -> str:
    return " ".join(name.split()).casefold()


def main() -> Path:
    for suffix in ("", "-wal", "-shm"):
        Path(str(OUT) + suffix).unlink(missing_ok=True)
    con = sqlite3.connect(OUT, isolation_level=None)
    con.execute("PRAGMA journal_mode=WAL")
    con.executescript(SCHEMA_V1)
    con.execute("BEGIN")
    con.execute("INSERT INTO schema_version (version) VALUES (1)")
    con.execute("INSERT INTO meta VALUES ('created_by', 'journeylab 0.1.0')")
    con.execute("INSERT INTO meta VALUES ('created_at', '2024-05-02T09:00:00.000000+00:00')")
    tick = iter(range(1, 1000))

    def ts() -> str:
        return f"2024-05-02T09:{next(tick):02d}:00.000000+00:00"

    for seg, code, coder, value, origin, memo, rule, conf in DECISIONS:
        t = ts()
        con.execute("INSERT OR IGNORE INTO coders VALUES (?, ?, ?)", (key(coder), " ".join(coder.split()), t))
        cur = con.execute("INSERT INTO decisions (segment_id, code, coder, coder_key, value, origin, memo, rule,"
                          " confidence, decided_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                          (seg, code, coder, key(coder), value, origin, memo, rule, conf, t))
        con.execute("INSERT INTO state VALUES (?, ?, ?, ?, ?) ON CONFLICT (segment_id, code, coder_key)"
                    " DO UPDATE SET decision_id = excluded.decision_id, value = excluded.value",
                    (seg, code, key(coder), cur.lastrowid, value))
    for seg, coder, memo in MEMOS:
        t = ts()
        con.execute("INSERT INTO memo_log (segment_id, coder_key, coder, memo, updated_at) VALUES (?, ?, ?, ?, ?)",
                    (seg, key(coder), coder, memo, t))
        con.execute("INSERT INTO memos VALUES (?, ?, ?, ?, ?) ON CONFLICT (segment_id, coder_key) DO UPDATE SET"
                    " memo = excluded.memo, coder = excluded.coder, updated_at = excluded.updated_at",
                    (seg, key(coder), coder, memo, t))
    for seg, coder, value in REVIEWED:
        con.execute("INSERT INTO reviewed VALUES (?, ?, ?, ?, ?) ON CONFLICT (segment_id, coder_key) DO UPDATE SET"
                    " value = excluded.value, updated_at = excluded.updated_at", (seg, key(coder), coder, value, ts()))
    for coder, seg in POSITIONS:
        con.execute("INSERT INTO positions VALUES (?, ?, ?, ?)", (key(coder), coder, seg, ts()))
    con.execute("COMMIT")
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.execute("VACUUM")
    con.close()
    return OUT


if __name__ == "__main__":
    print(main())
