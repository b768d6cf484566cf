"""Codings anchored to their text: an edit of a transcript never moves a coding silently (issue 15, item 2)."""
from __future__ import annotations

import re
import shutil
from collections import Counter
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import journeylab as jl
from journeylab.datasets import sample_study_path
from journeylab.study.anchor import fingerprint, parse_fingerprint, reanchor

OTHER = Path(__file__).parent / "data" / "other_study"
TURN = re.compile(r"^\[(\d\d:\d\d:\d\d)\] ([^:]+): (.*)$")


def _fingerprinted_copy(src: Path, dst: Path) -> Path:
    """A copy of a study whose codings files carry fingerprints (as journeylab writes them)."""
    shutil.copytree(src, dst)
    study = jl.load_study(dst, redact=False)
    for f in sorted((dst / "codings").glob("*.csv")):
        raw = pd.read_csv(f, dtype=str, keep_default_na=False)
        jl.fingerprint_codings(raw, documents=study.documents, segments=study.segments).to_csv(f, index=False)
    return dst


def _with_text(study) -> pd.DataFrame:
    """The codings with the text each covers: its span's, else its turn's."""
    cod = study.codings
    turn = study.segments.set_index("segment_id")["text"]
    own = cod["text"] if "text" in cod.columns else pd.Series(pd.NA, index=cod.index, dtype=object)
    return cod.assign(text=own.astype(object).where(own.notna(), cod["segment_id"].map(turn)))


def _add_span_coder(root: Path, study) -> None:
    """A third coder whose codings are sub-turn spans of G1 (with text and fingerprint)."""
    g1 = study.documents.set_index("doc_id").loc["G1", "text"]
    seg = study.segments[(study.segments["doc_id"] == "G1") & (study.segments["speaker_role"] == "participant")]
    rows = []
    for i, r in enumerate(seg.itertuples()):
        words = [m.start() for m in re.finditer(r"\b\w", r.text)]
        if len(words) < 6:
            continue
        a = r.start + words[1 + i % 3]
        b = r.start + words[4 + i % 2] - 1
        rows.append({"doc_id": "G1", "start": a, "end": b, "text": g1[a:b], "fingerprint": fingerprint(g1, a, b),
                     "code": study.codebook.names[i % len(study.codebook.names)]})
    pd.DataFrame(rows).to_csv(root / "codings" / "kim.csv", index=False)


def test_fingerprint_round_trip_escapes_context():
    text = "A: 100% | yes\n\tB: the throw is lovely|ok"
    a = text.index("the")
    fp = parse_fingerprint(fingerprint(text, a, a + 19))
    assert fp.before == text[max(0, a - 24):a] and fp.after == text[a + 19:a + 43]
    assert fp.matches(text, a, a + 19) and not fp.matches(text, a + 1, a + 20)
    with pytest.raises(jl.JourneylabError, match="expected a fingerprint"):
        parse_fingerprint("not a fingerprint")


def test_inserted_interviewer_line_sample_study(tmp_path):
    """The issue's case: one interviewer line after P01's first answer shifts all of P01's turn ids."""
    root = _fingerprinted_copy(sample_study_path(), tmp_path / "s")
    before = jl.load_study(root, redact=False)
    assert before.anchoring.empty
    path = next((root / "transcripts").glob("P01.*"))
    text = path.read_text(encoding="utf-8")
    first = before.segments[(before.segments["doc_id"] == "P01") & (before.segments["speaker_role"] == "participant")]
    end = int(first["end"].iloc[0])
    path.write_text(text[:end] + "\n\n[00:00:30] Interviewer: Lovely." + text[end:], encoding="utf-8")
    after = jl.load_study(root, redact=False)
    p01 = before.codings["segment_id"].str.startswith("P01-").sum()
    assert p01 > 0
    moved = after.anchoring[after.anchoring["status"] == "moved"]
    assert len(moved) == p01 and set(after.anchoring["status"]) == {"moved"}
    # every coding sits on the same text as before the edit
    key = ["coder", "code", "text"]
    assert Counter(map(tuple, _with_text(before)[key].values)) == Counter(map(tuple, _with_text(after)[key].values))
    msgs = [p.message for p in after.problems if p.file.startswith("codings/") and "re-anchored" in p.message]
    assert msgs and any("P01-t008 → P01-t009" in m for m in msgs)
    problems = jl.validate_study(root)
    assert any("re-anchored" in p.message for p in problems)


def test_old_codings_without_fingerprint_are_reported_uncheckable(tmp_path):
    shutil.copytree(OTHER, tmp_path / "o")
    study = jl.load_study(tmp_path / "o", redact=False)
    infos = [p for p in study.problems if "no fingerprint column" in p.message]
    assert {p.file for p in infos} == {"codings/lee.csv", "codings/sam.csv"}


def test_span_codings_reworded_and_deleted(tmp_path):
    root = _fingerprinted_copy(OTHER, tmp_path / "o")
    study = jl.load_study(root, redact=False)
    docs = dict(zip(study.documents["doc_id"], study.documents["text"]))
    g1 = docs["G1"]
    spans = []
    for phrase, code in [("the cooking one I listen to on the bus", "podcast_discovery"),
                         ("The vegetables were really fresh", "fresh_ingredients_delight"),
                         ("I wanted dinner sorted on weeknights", "wants_skip_week")]:
        a = g1.index(phrase)
        spans.append({"doc_id": "G1", "start": a, "end": a + len(phrase), "text": phrase, "code": code,
                      "fingerprint": fingerprint(g1, a, a + len(phrase))})
    pd.DataFrame(spans).to_csv(root / "codings" / "kim.csv", index=False)
    path = root / "transcripts" / "G1.txt"
    new = (g1.replace("the cooking one I listen to", "the cooking one I always listen to")  # reworded
             .replace("I wanted dinner sorted on weeknights without thinking", "it was cheap")  # deleted
             .replace("Thanks for joining, Nadia.", "Thanks for joining, Nadia. Lovely to meet you."))  # shifts all
    path.write_text(new, encoding="utf-8")
    after = jl.load_study(root, redact=False)
    rep = after.anchoring[after.anchoring["file"] == "codings/kim.csv"].set_index("code")
    assert rep.loc["podcast_discovery", "status"] == "changed"
    assert rep.loc["podcast_discovery", "text"] == "the cooking one I always listen to on the bus"
    assert rep.loc["fresh_ingredients_delight", "status"] == "moved"
    assert rep.loc["wants_skip_week", "status"] == "lost"
    kim = after.codings[after.codings["coder"] == "kim"].set_index("code")
    assert "wants_skip_week" not in kim.index
    assert kim.loc["fresh_ingredients_delight", "text"] == "The vegetables were really fresh"
    warned = [p.message for p in after.problems if p.file == "codings/kim.csv"]
    assert any("could not be placed" in m and "wants_skip_week" in m for m in warned)
    assert any("similar but different text" in m for m in warned)


# ---------------------------------------------------------------- property: edits of every kind

def _turns(text: str) -> list[tuple[str, str, str]]:
    return [m.groups() for m in (TURN.match(line) for line in text.split("\n")) if m]


def _write(turns) -> str:
    return "\n\n".join(f"[{t}] {who}: {what}" for t, who, what in turns) + "\n"


EDIT = st.one_of(
    st.tuples(st.just("insert"), st.integers(0, 30), st.sampled_from(["Lovely.", "Right, and then?", "Mm-hm."])),
    st.tuples(st.just("delete"), st.integers(0, 30), st.just("")),
    st.tuples(st.just("reword"), st.integers(0, 30), st.sampled_from(["really", "honestly", "a bit"])),
    st.tuples(st.just("reorder"), st.integers(0, 30), st.integers(0, 30)),
)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(edits=st.lists(EDIT, min_size=1, max_size=4))
@example(edits=[("delete", 5, "")])   # a search window reaching the end of the text (IndexError once)
@example(edits=[("insert", 17, "Lovely."), ("reword", 17, "really")])   # a fuzzy end past the turn's line once
def test_every_coding_same_text_or_reported(tmp_path_factory, edits):
    root = _fingerprinted_copy(OTHER, tmp_path_factory.mktemp("p") / "o")
    _add_span_coder(root, jl.load_study(root, redact=False))
    before = jl.load_study(root, redact=False)
    assert (before.codings["coder"] == "kim").sum() >= 3
    path = root / "transcripts" / "G1.txt"
    turns = _turns(path.read_text(encoding="utf-8"))
    for kind, i, arg in edits:
        i %= len(turns)
        if kind == "insert":
            turns.insert(i, (turns[i][0], "Moderator", arg))
        elif kind == "delete" and len(turns) > 2:
            del turns[i]
        elif kind == "reword":
            t, who, what = turns[i]
            words = what.split(" ")
            turns[i] = (t, who, " ".join(words[:1] + [arg] + words[1:]))
        elif kind == "reorder":
            j = arg % len(turns)
            turns[i], turns[j] = turns[j], turns[i]
    path.write_text(_write(turns), encoding="utf-8")
    after = jl.load_study(root, redact=False)
    rep = after.anchoring
    assert set(rep["status"]) <= {"moved", "changed", "lost"}
    key = ["coder", "code", "text"]
    old = Counter(map(tuple, _with_text(before)[key].values))
    new = Counter(map(tuple, _with_text(after)[key].values))
    changed = Counter((r.coder if isinstance(r.coder, str) else Path(r.file).stem, r.code, r.text)
                      for r in rep[rep["status"] == "changed"].itertuples())
    # nothing on other text unless reported as changed
    assert not (new - old - changed), (new - old - changed)
    # every coding that is gone or changed is reported
    assert sum((old - new).values()) == (rep["status"] != "moved").sum()
    # a turn whose text is still in the transcript exactly once is found again, not lost
    texts = after.segments.loc[after.segments["doc_id"] == "G1", "text"].tolist()
    g1 = after.documents.set_index("doc_id").loc["G1", "text"]
    for r in rep[rep["status"] == "lost"].itertuples():
        if isinstance(r.segment_id_before, str) and r.coder != "kim":
            seg_text = before.segments.set_index("segment_id").loc[r.segment_id_before, "text"]
            assert texts.count(seg_text) == 0, r
        else:  # a span: its text is nowhere in the transcript any more
            assert r.text not in g1, r


def test_reanchor_prefers_matching_context():
    old = "A: Yes.\n\nB: no\n\nA: Yes.\n\nC: end"
    second = old.rindex("Yes.")
    fp = parse_fingerprint(fingerprint(old, second, second + 4))
    new = "A: Yes.\n\nZ: inserted\n\nB: no\n\nA: Yes.\n\nC: end"
    place = reanchor(new, second, second + 4, fp)
    assert place.status == "moved" and place.start == new.rindex("Yes.")


def test_store_export_writes_fingerprints_load_study_checks(tmp_path):
    root = tmp_path / "o"
    shutil.copytree(OTHER, root)
    study = jl.load_study(root)  # redacted: the export still fingerprints the files' own text
    store = jl.CodingStore(tmp_path / "c.db")
    store.apply("G1-t002", "podcast_discovery", "kim")
    store.apply("G1-t006", "fresh_ingredients_delight", "kim")
    out = store.export_csv(root / "codings" / "kim.csv", "kim", study=study)
    store.close()
    written = pd.read_csv(out, dtype=str, keep_default_na=False)
    assert written["fingerprint"].str.match(r"^[0-9a-f]{12}\|\d+\|").all()
    path = root / "transcripts" / "G1.txt"
    text = path.read_text(encoding="utf-8")
    path.write_text("[00:00:01] Moderator: Recording now.\n\n" + text, encoding="utf-8")
    after = jl.load_study(root, redact=False)
    kim = after.anchoring[after.anchoring["file"] == "codings/kim.csv"]
    assert sorted(zip(kim["segment_id_before"], kim["segment_id"])) == [("G1-t002", "G1-t003"), ("G1-t006", "G1-t007")]
