"""Write ``codings_v2.sqlite`` and ``codings_v2_reads.json``: a store as schema version 2 left it, and what
journeylab at schema version 2 read from it.

Made with journeylab's own code at schema version 2 (commit 0b1e985, the last before span
decisions), so run it with that version on the path, never with a newer one:

    git worktree add /tmp/jl-v2 0b1e985
    PYTHONPATH=/tmp/jl-v2 python tests/data/stores/make_v2_store.py

Contents: ``codings_v1.sqlite`` opened (migrated to version 2) plus one apply, one removal, a memo,
a "no code applies" mark and a position by a third coder. ``codings_v2_reads.json`` holds the
frames that version read (``codings()``, ``decisions()``, ``memos()``, ``coders()``) and each
coder's ``done_segments``/``position``: tests/test_span_store.py checks a version-3 journeylab
reads the same from the migrated file.
"""
from __future__ import annotations

import json
import os
import shutil
import sqlite3
from pathlib import Path

HERE = Path(__file__).parent
OUT = HERE / "codings_v2.sqlite"
READS = HERE / "codings_v2_reads.json"


def main() -> Path:
    os.environ.setdefault("SOURCE_DATE_EPOCH", "1717228800")  # 2024-06-01: reproducible timestamps
    from journeylab.coding.store import SCHEMA_VERSION, CodingStore, checkpoint_store

    if SCHEMA_VERSION != 2:
        raise SystemExit(f"run this with journeylab at schema version 2 (found {SCHEMA_VERSION}); see the docstring")
    for p in HERE.glob("codings_v2.sqlite*"):
        p.unlink()
    shutil.copy(HERE / "codings_v1.sqlite", OUT)
    with CodingStore(OUT) as store:
        store.apply("P05-t002", "price_surprise", "Carla", memo="the fee at the end")
        store.apply("P05-t004", "delivery_late", "Carla")
        store.remove("P05-t004", "delivery_late", "carla")
        store.set_memo("P05-t002", "Carla", "hidden fee")
        store.set_reviewed("P05-t006", "Carla")
        store.set_position("Carla", "P05-t006")
        reads = {"codings": store.codings().to_dict("split"), "decisions": store.decisions().to_dict("split"),
                 "memos": store.memos().to_dict("split"), "coders": store.coders().to_dict("split"),
                 "done": {c: sorted(store.done_segments(c)) for c in ("ana maría", "bob", "carla")},
                 "position": {c: store.position(c) for c in ("ana maría", "bob", "carla")}}
    checkpoint_store(OUT)
    for p in HERE.glob("codings_v2.sqlite.v1*.bak"):
        p.unlink()
    con = sqlite3.connect(OUT)
    con.execute("VACUUM")
    con.close()
    READS.write_text(json.dumps(reads, indent=1, default=str) + "\n", encoding="utf-8")
    return OUT


if __name__ == "__main__":
    print(main())
