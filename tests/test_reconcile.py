"""Reconciliation driven end to end from pytest: widgets clicked, decisions read back from the
SQLite store, agreement recomputed against the reconciled coder; a killed process loses nothing."""
from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pandas as pd
import pytest

from journeylab.coding.reconcile import ReconcileSession
from journeylab.coding.reliability import OVERALL, agreement, disagreements
from journeylab.errors import JourneylabError

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def tiny():
    """Two documents, participant turns t002/t004/t006; coders A and B, four disagreements."""
    seg = []
    for doc in ("D1", "D2"):
        for turn in range(1, 7):
            participant = turn % 2 == 0
            seg.append({"segment_id": f"{doc}-t{turn:03d}", "doc_id": doc,
                        "participant_id": doc.replace("D", "P") if participant else pd.NA,
                        "speaker": doc.replace("D", "P") if participant else "Interviewer",
                        "speaker_role": "participant" if participant else "interviewer", "turn": turn,
                        "text": f"{doc} turn {turn} <i>text</i>"})
    segments = pd.DataFrame(seg)
    rows = [
        ("D1-t002", "price", "A", ""), ("D1-t002", "price", "B", ""),          # agreed
        ("D1-t004", "price", "A", "mentions cost"),                              # disagreement 1
        ("D1-t006", "late", "B", "late <again>"),                                # disagreement 2
        ("D2-t002", "late", "A", ""), ("D2-t002", "late", "B", ""),            # agreed
        ("D2-t004", "price", "B", ""),                                           # disagreement 3
        ("D2-t006", "late", "A", ""),                                            # disagreement 4
    ]
    codings = pd.DataFrame(rows, columns=["segment_id", "code", "coder", "memo"]).assign(origin="manual")
    return segments, codings


def stored(path: Path, coder: str = "gold") -> list[tuple]:
    """Latest stored decision per segment × code, read straight from the coding store's SQLite file
    (the append-only ``decisions`` log of journeylab.coding.store.CodingStore)."""
    con = sqlite3.connect(path)
    try:
        rows = con.execute(
            "SELECT segment_id, code, value, COALESCE(memo, '') FROM decisions d WHERE coder_key = ? AND id = "
            "(SELECT MAX(id) FROM decisions e WHERE e.coder_key = d.coder_key AND e.segment_id = d.segment_id "
            "AND e.code = d.code) ORDER BY segment_id, code", (coder,)).fetchall()
    finally:
        con.close()
    return rows


def n_decisions(path: Path) -> int:
    con = sqlite3.connect(path)
    try:
        return con.execute("SELECT COUNT(*) FROM decisions").fetchone()[0]
    finally:
        con.close()


def test_items_are_the_disagreements_and_agreements_are_copied(tiny, tmp_path):
    segments, codings = tiny
    path = tmp_path / "coding.sqlite"
    s = ReconcileSession(codings, store=path, segments=segments)
    assert s.coders == ["A", "B"] and len(s) == 4
    assert s.items[["segment_id", "code"]].values.tolist() == [
        ["D1-t004", "price"], ["D1-t006", "late"], ["D2-t004", "price"], ["D2-t006", "late"]]
    # the two agreed presences are already gold
    assert stored(path) == [("D1-t002", "price", 1, "agreed by A, B"), ("D2-t002", "late", 1, "agreed by A, B")]
    assert s.progress == {"decided": 0, "total": 4, "remaining": 4}
    s.close()


def test_widget_clicks_write_each_decision_immediately(tiny, tmp_path):
    segments, codings = tiny
    path = tmp_path / "coding.sqlite"
    s = ReconcileSession(codings, store=path, segments=segments)
    v = s.view
    page = v.html.value
    assert "<i>text</i>" not in page and "&lt;i&gt;text&lt;/i&gt;" in page  # escaped
    assert "mentions cost" in page and "D1 turn 3" in page and "D1 turn 5" in page  # memo and context
    assert v.accept_buttons["A"].description == "Accept A: present"
    assert v.accept_buttons["B"].description == "Accept B: absent"
    # 1: accept A's decision (present) with a memo
    v.memo.value = "cost is the topic"
    v.accept_buttons["A"].click()
    assert ("D1-t004", "price", 1, "cost is the topic") in stored(path)
    assert s.position == 1 and v.memo.value == ""
    # 2: B applied "late"; the team says absent
    v.absent_button.click()
    assert ("D1-t006", "late", 0, "") in stored(path)
    # 3: accept A (absent)
    v.accept_buttons["A"].click()
    assert ("D2-t004", "price", 0, "") in stored(path)
    assert s.progress["decided"] == 3 and not s.done
    # 4: present
    v.present_button.click()
    assert ("D2-t006", "late", 1, "") in stored(path)
    assert s.done and v.progress.value == 4
    # navigation back shows the recorded decision and memo
    for _ in range(3):
        v.prev_button.click()
    assert s.position == 0 and s.decision is True and v.memo.value == "cost is the topic"
    assert "Recorded for <b>gold</b>: present" in v.html.value
    # change of mind: the latest decision wins (the memo shown in the box is kept)
    v.absent_button.click()
    assert ("D1-t004", "price", 1, "cost is the topic") not in stored(path)
    assert ("D1-t004", "price", 0, "cost is the topic") in stored(path)
    s.close()


def test_agreement_with_gold_after_reconciliation(tiny, tmp_path):
    segments, codings = tiny
    s = ReconcileSession(codings, store=tmp_path / "coding.sqlite", segments=segments)
    s.accept("A")      # D1-t004 price: present
    s.decide(False)    # D1-t006 late: absent
    s.accept("A")      # D2-t004 price: absent
    s.decide(True)     # D2-t006 late: present
    gold = s.codings
    assert sorted(map(tuple, gold[["segment_id", "code"]].values.tolist())) == [
        ("D1-t002", "price"), ("D1-t004", "price"), ("D2-t002", "late"), ("D2-t006", "late")]
    assert set(gold["coder"]) == {"gold"} and set(gold["origin"]) == {"manual"}
    both = pd.concat([codings, gold], ignore_index=True)
    # gold equals A's coding exactly -> kappa 1 for A
    a = agreement(both, coders=["A", "gold"], segments=segments, n_boot=0).set_index("code")
    assert a.loc[OVERALL, "percent_agreement"] == 1.0 and a.loc[OVERALL, "cohen_kappa"] == pytest.approx(1.0)
    # B vs gold, 6 units: price: B = [1,0,0,0,1,0], gold = [1,1,0,0,0,0] -> Po 4/6, p_B = p_g = 1/3,
    # Pe = 1/9 + 4/9 = 5/9, kappa = (2/3 - 5/9)/(4/9) = 0.25; late: B = [0,0,1,1,0,0], gold = [0,0,0,1,0,1]
    # -> the same counts, kappa 0.25.
    b = agreement(both, coders=["B", "gold"], segments=segments, n_boot=0).set_index("code")
    assert b.loc["price", "cohen_kappa"] == pytest.approx(0.25)
    assert b.loc["late", "cohen_kappa"] == pytest.approx(0.25)
    # no disagreement left between A and gold
    assert len(disagreements(both, segments=segments, coders=["A", "gold"])) == 0
    s.close()


def test_reopening_resumes_without_duplicating(tiny, tmp_path):
    segments, codings = tiny
    path = tmp_path / "coding.sqlite"
    s = ReconcileSession(codings, store=path, segments=segments)
    s.accept("B", memo="first")
    s.close()
    again = ReconcileSession(codings, store=path, segments=segments)
    assert again.progress["decided"] == 1 and again.position == 1
    n = n_decisions(path)
    assert n == 3  # two agreed copies + one decision: reopening copied nothing twice
    again.close()


def test_resolve_remaining_rules(tiny):
    segments, codings = tiny
    s = ReconcileSession(codings, store=None, segments=segments)
    s.decide(True, memo="talked it through")
    assert s.resolve_remaining("any") == 3
    d = s.decisions.set_index(["segment_id", "code"])
    assert d.loc[("D1-t006", "late"), "present"] and d.loc[("D2-t004", "price"), "present"]
    assert d.loc[("D1-t006", "late"), "memo"] == "resolved by rule: any"
    assert d.loc[("D1-t004", "price"), "memo"] == "talked it through"  # not overwritten
    s2 = ReconcileSession(codings, store=None, segments=segments)
    s2.resolve_remaining("B")
    assert s2.codings.sort_values("segment_id")["segment_id"].tolist() == ["D1-t002", "D1-t006", "D2-t002", "D2-t004"]
    s3 = ReconcileSession(codings, store=None, segments=segments)
    s3.resolve_remaining(lambda row: row["code"] == "late")
    assert set(s3.codings["code"]) == {"price", "late"} and s3.done
    with pytest.raises(JourneylabError, match="`by` must be a coder"):
        s3.resolve_remaining("majority")


def test_from_disagreements_frame(tiny):
    segments, codings = tiny
    diff = disagreements(codings, segments=segments)
    s = ReconcileSession(diff, store=None)
    assert len(s) == 4 and s.coders == ["A", "B"]
    assert len(s.decisions) == 0  # no codings given: nothing to copy
    assert "D1 turn 4" in s.view.html.value


def test_no_disagreements(tiny):
    segments, codings = tiny
    same = pd.concat([codings[codings["coder"] == "A"], codings[codings["coder"] == "A"].assign(coder="B")])
    s = ReconcileSession(same, store=None, segments=segments)
    assert len(s) == 0 and s.done and "No disagreements" in s.view.html.value
    assert s.view.present_button.disabled
    with pytest.raises(JourneylabError, match="no disagreements"):
        s.decide(True)


def test_errors(tiny):
    segments, codings = tiny
    with pytest.raises(JourneylabError, match="pass `segments=`"):
        ReconcileSession(codings, store=None)
    with pytest.raises(JourneylabError, match="coder 'A' already appears"):
        ReconcileSession(codings, store=None, segments=segments, coder="A")
    s = ReconcileSession(codings, store=None, segments=segments)
    with pytest.raises(JourneylabError, match="coder 'C' is not compared.*'A', 'B'"):
        s.accept("C")
    with pytest.raises(JourneylabError, match="`store` must be"):
        ReconcileSession(codings, store=42, segments=segments)


def test_killed_process_keeps_every_acknowledged_decision(tiny, tmp_path):
    segments, codings = tiny
    segments.to_pickle(tmp_path / "segments.pkl")
    codings.to_pickle(tmp_path / "codings.pkl")
    path = tmp_path / "coding.sqlite"
    script = textwrap.dedent(f"""
        import os, signal, sys
        import pandas as pd
        from journeylab.coding.reconcile import ReconcileSession
        seg = pd.read_pickle({str(tmp_path / 'segments.pkl')!r})
        cod = pd.read_pickle({str(tmp_path / 'codings.pkl')!r})
        s = ReconcileSession(cod, store={str(path)!r}, segments=seg)
        s.view.accept_buttons["A"].click()
        print("ack", flush=True)
        s.view.absent_button.click()
        print("ack", flush=True)
        os.kill(os.getpid(), signal.SIGKILL)
    """)
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    assert proc.stdout.split() == ["ack", "ack"]
    rows = stored(path)
    assert ("D1-t004", "price", 1, "") in rows and ("D1-t006", "late", 0, "") in rows
    resumed = ReconcileSession(codings, store=path, segments=segments)
    assert resumed.progress["decided"] == 2 and resumed.position == 2
    resumed.close()


def test_find_and_go_to(tiny):
    segments, codings = tiny
    s = ReconcileSession(codings, store=None, segments=segments)
    i = s.find("D2-t004", "price")
    assert i == 2
    s.go_to(i)
    assert s.current["segment_id"] == "D2-t004"
    with pytest.raises(JourneylabError, match="no disagreement on segment 'D1-t002'"):
        s.find("D1-t002", "price")
    with pytest.raises(JourneylabError, match="item must be 0..3"):
        s.go_to(7)


def test_gold_lives_in_the_coding_store_beside_the_coders(tiny, tmp_path):
    """The reconciled coder is an ordinary coder of the CodingStore: read_codings and
    merge_codings see it next to the coders' own work."""
    from journeylab.coding.reliability import merge_codings
    from journeylab.coding.store import CodingStore, read_codings

    segments, codings = tiny
    path = tmp_path / "codings.sqlite"
    store = CodingStore(path)
    store.record_codings(codings)  # the two coders' work, as the coding widget would have stored it
    s = ReconcileSession(read_codings(path), store=store, segments=segments)
    s.accept("A")
    s.resolve_remaining("B")
    s.close()  # does not close a store it did not open
    assert set(store.codings()["coder"]) == {"A", "B", "gold"}
    gold = read_codings(path, coder="gold")
    assert sorted(gold["segment_id"]) == ["D1-t002", "D1-t004", "D1-t006", "D2-t002", "D2-t004"]
    assert (gold["origin"] == "manual").all()
    log = store.decisions("gold")
    assert (~log["value"]).sum() == 1  # D2-t006 late: B did not apply it -> an explicit "absent" decision
    merged = merge_codings(path)
    assert len(merged) == len(codings) + len(gold)
    table = agreement(merged, coders=["A", "gold"], segments=segments, n_boot=0)
    assert table["n_units"].iloc[0] == 6
    store.close()
