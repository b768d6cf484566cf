"""Span coding (issue 15 item 3): the selection → span mapping (UTF-16 vs code points), applying and
removing codes on spans through SpanState, the highlighted pieces, and the anywidget view's messages.

The browser itself is exercised by tests/test_span_browser.py.
"""
from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

import journeylab as jl
from journeylab.coding.span_widget import SpanState, index_to_utf16, utf16_to_index
from journeylab.errors import JourneylabError
from journeylab.study.anchor import parse_fingerprint

# two turns with astral characters (emoji: two UTF-16 code units each, one code point)
LINES = [("Interviewer", "interviewer", "How was the delivery?"),
         ("Anna", "participant", "Loved it 😀 but the fee was a shock."),
         ("Interviewer", "interviewer", "Why?"),
         ("Anna", "participant", "Nobody told me 🙈 about the fee 💸 until the end.")]


def tiny_frames():
    """A one-document study as frames: the document text and its turns (text after "Speaker: ")."""
    text, rows = "", []
    for k, (speaker, role, said) in enumerate(LINES, start=1):
        text += f"{speaker}: "
        rows.append({"segment_id": f"d1-t{k:03d}", "doc_id": "d1", "speaker": speaker, "speaker_role": role,
                     "turn": k, "start": len(text), "end": len(text) + len(said), "text": said})
        text += said + "\n"
    return pd.DataFrame(rows), pd.DataFrame({"doc_id": ["d1"], "text": [text]})


CB = jl.Codebook([jl.Code("pricing", codable=False), jl.Code("fee_shock", parent="pricing"),
                  jl.Code("delight", colour="#ff00ff")])


@pytest.fixture
def state(tmp_path):
    seg, docs = tiny_frames()
    return SpanState(seg, docs, CB, tmp_path / "codings.sqlite", "ana")


def _u16(s: str) -> int:
    return len(s.encode("utf-16-le")) // 2


# ---------------------------------------------------------------- offsets


def test_utf16_offsets_map_to_code_points():
    text = "a😀b𝄞c"  # U+1F600 and U+1D11E are astral: two UTF-16 units each
    assert [utf16_to_index(text, u) for u in range(8)] == [0, 1, 2, 2, 3, 4, 4, 5]  # 2 and 5: inside a pair
    assert [index_to_utf16(text, i) for i in range(6)] == [0, 1, 3, 4, 6, 7]
    assert utf16_to_index(text, 99) == 5 and utf16_to_index(text, -1) == 0


@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=40), st.data())
def test_offsets_round_trip(text, data):
    i = data.draw(st.integers(0, len(text)))
    u = index_to_utf16(text, i)
    assert u == _u16(text[:i])  # what JavaScript's String.length counts
    assert utf16_to_index(text, u) == i


def test_selection_with_astral_characters_gives_code_points(state):
    doc = state.texts["d1"]
    turn = state.turns()[3]
    phrase = "about the fee"
    k = turn["text"].index(phrase)  # after 🙈: the code-point offset is one less than JavaScript's
    anchor = (turn["segment_id"], _u16(turn["text"][:k]))
    focus = (turn["segment_id"], _u16(turn["text"][:k + len(phrase)]))
    assert anchor[1] == k + 1
    d, a, b = state.selection_to_span(anchor, focus)
    assert (d, doc[a:b]) == ("d1", phrase) and a == turn["start"] + k
    # made backwards (focus before anchor): the same span
    assert state.selection_to_span(focus, anchor) == (d, a, b)


def test_selection_across_turns_covers_the_text_between(state):
    t = state.turns()
    anchor = (t[1]["segment_id"], _u16(t[1]["text"][: t[1]["text"].index("the fee")]))
    focus = (t[3]["segment_id"], _u16("Nobody told me"))
    d, a, b = state.selection_to_span(anchor, focus)
    assert state.texts[d][a:b] == "the fee was a shock.\nInterviewer: Why?\nAnna: Nobody told me"
    assert state.turn_of(d, a, b) == t[1]["segment_id"]


def test_empty_or_foreign_selection_is_refused(state):
    sid = state.turns()[1]["segment_id"]
    with pytest.raises(JourneylabError, match="nothing is selected"):
        state.selection_to_span((sid, 3), (sid, 3))
    with pytest.raises(JourneylabError, match="'nope', not a turn"):
        state.selection_to_span(("nope", 0), (sid, 3))
    with pytest.raises(JourneylabError, match=r"must be \(segment_id, offset\)"):
        state.selection_to_span((sid,), (sid, 3))


# ---------------------------------------------------------------- decisions


def test_apply_and_remove_a_span_are_logged(state):
    doc = state.texts["d1"]
    turn = state.turns()[1]
    a = turn["start"] + turn["text"].index("the fee")
    b = a + len("the fee was a shock")
    state.apply("fee_shock", a, b)
    spans = state.spans()
    assert spans[["doc_id", "start", "end", "text", "segment_id", "code", "coder"]].values.tolist() == [
        ["d1", a, b, "the fee was a shock", turn["segment_id"], "fee_shock", "ana"]]
    assert parse_fingerprint(spans["fingerprint"].iloc[0]).matches(doc, a, b)
    cod = state.store.codings("ana")
    assert cod[["doc_id", "start", "end", "text", "segment_id", "code"]].values.tolist() == [
        ["d1", a, b, "the fee was a shock", turn["segment_id"], "fee_shock"]]
    assert state.progress() == (1, 2)  # of the two participant turns
    state.remove(state.span_key("fee_shock", a, b))
    assert state.spans().empty and state.store.codings("ana").empty
    log = state.store.span_decisions()
    assert log[["start", "end", "code", "value"]].values.tolist() == [[a, b, "fee_shock", True],
                                                                     [a, b, "fee_shock", False]]
    assert state.store.decisions().empty  # the whole-turn log is untouched


def test_bad_decisions_are_refused(state):
    turn = state.turns()[1]
    a = turn["start"]
    with pytest.raises(JourneylabError, match="'pricing' is a grouping code"):
        state.apply("pricing", a, a + 4)
    with pytest.raises(JourneylabError, match="no code 'nope'"):
        state.apply("nope", a, a + 4)
    with pytest.raises(JourneylabError, match="has no 'delight' span"):
        state.remove(state.span_key("delight", a, a + 4))
    with pytest.raises(JourneylabError, match="does not fit document 'd1'"):
        state.apply("delight", a, 10_000)
    with pytest.raises(JourneylabError, match="covers no turn's text"):
        state.apply("delight", 0, len("Interviewer: "))  # the speaker label only
    assert state.store.span_decisions().empty


def test_roles_make_other_turns_context(tmp_path):
    seg, docs = tiny_frames()
    st_ = SpanState(seg, docs, CB, tmp_path / "c.sqlite", "ana")  # default: participants' turns
    t = st_.turns()
    assert [x["codable"] for x in t] == [False, True, False, True]
    every = SpanState(seg, docs, CB, tmp_path / "c.sqlite", "ana", roles=None)
    assert all(x["codable"] for x in every.turns())
    with pytest.raises(JourneylabError, match="is context"):
        st_.apply("delight", t[0]["start"], t[0]["start"] + 3)


def test_pieces_show_overlapping_spans_innermost_first(state):
    turn = state.turns()[1]
    base = turn["start"]
    state.apply("delight", base, base + len("Loved it 😀"))
    state.apply("fee_shock", base + turn["text"].index("the fee"), turn["end"])
    state.apply("delight", base + turn["text"].index("fee"), base + turn["text"].index(" was"))
    pieces = state.turns()[1]["pieces"]
    assert "".join(p["text"] for p in pieces) == turn["text"]
    got = [(p["text"], [k.split(":", 2)[2] for k in p["spans"]]) for p in pieces]
    assert got == [("Loved it 😀", ["delight"]), (" but ", []), ("the ", ["fee_shock"]),
                   ("fee", ["delight", "fee_shock"]), (" was a shock.", ["fee_shock"])]
    # the untouched turns are one plain piece
    assert [len(t["pieces"]) for t in state.turns()] == [1, len(pieces), 1, 1]


def test_segment_ids_and_documents_navigation(tmp_path):
    seg, docs = tiny_frames()
    seg2 = seg.assign(doc_id="d2", segment_id=seg["segment_id"].str.replace("d1", "d2"))
    both = pd.concat([seg, seg2], ignore_index=True)
    docs2 = pd.concat([docs, docs.assign(doc_id="d2")], ignore_index=True)
    st_ = SpanState(both, docs2, CB, tmp_path / "c.sqlite", "ana", segment_ids=["d2-t002", "d1-t004"])
    assert st_.doc_ids == ["d2", "d1"] and [t["segment_id"] for t in st_.turns()] == ["d2-t002"]
    st_.next()
    assert st_.doc_id == "d1" and [t["segment_id"] for t in st_.turns()] == ["d1-t004"]
    st_.next()
    assert st_.doc_id == "d1"
    st_.goto("d2")
    assert st_.index == 0
    with pytest.raises(JourneylabError, match="document 'd9' is not shown"):
        st_.goto("d9")
    with pytest.raises(JourneylabError, match="no text for doc_id 'd2'"):
        SpanState(both, docs, CB, tmp_path / "c.sqlite", "ana")


# ---------------------------------------------------------------- the view (no browser)


def test_session_handles_the_browser_messages(tmp_path):
    seg, docs = tiny_frames()
    s = jl.SpanCodingSession(seg, documents=docs, codebook=CB, store=tmp_path / "c.sqlite", coder="ana",
                             roles=["participant"])
    w = s.widget
    assert [(c["name"], c["colour"]) for c in w.codes] == [("fee_shock", "#f5c97a"), ("delight", "#ff00ff")]
    turn = w.turns[3]
    k = turn["text"].index("about the fee")
    s._on_msg(w, {"kind": "apply", "code": "fee_shock", "anchor": [turn["segment_id"], _u16(turn["text"][:k])],
                  "focus": [turn["segment_id"], _u16(turn["text"][:k]) + len("about the fee")]})
    assert not w.error and "fee_shock applied to “about the fee”" in w.status
    assert "1 of 2 turns with spans" in w.header
    [span] = w.spans
    assert s.state.texts["d1"][span["start"]:span["end"]] == "about the fee"
    assert any(p["spans"] == [span["key"]] for p in w.turns[3]["pieces"])
    assert s.codings[["start", "end", "code"]].values.tolist() == [[span["start"], span["end"], "fee_shock"]]
    s._on_msg(w, {"kind": "apply", "code": "delight", "anchor": [turn["segment_id"], 2],
                  "focus": [turn["segment_id"], 2]})
    assert w.error and "nothing is selected" in w.status
    s._on_msg(w, {"kind": "remove", "key": span["key"]})
    assert w.spans == [] and not w.error
    assert "0 of 2 turns with spans" in w.header and "SpanCodingSession(coder='ana'" in repr(s)
    assert "application/vnd.jupyter.widget-view+json" in s._repr_mimebundle_()[0]


def test_spans_are_found_again_after_the_transcript_changed(tmp_path):
    seg, docs = tiny_frames()
    path = tmp_path / "c.sqlite"
    first = SpanState(seg, docs, CB, path, "ana")
    turn = first.turns()[3]
    a = turn["start"] + turn["text"].index("about the fee")
    first.apply("fee_shock", a, a + len("about the fee"))
    first.apply("delight", turn["start"], turn["start"] + len("Nobody"))
    # a line inserted at the top moves every turn; "Nobody" becomes "No one"
    shift = len("Note: a corrected transcript\n")
    text = "Note: a corrected transcript\n" + docs["text"].iloc[0].replace("Nobody", "No one")
    seg2 = seg.assign(start=seg["start"] + shift, end=seg["end"] + shift)
    seg2.loc[3, "end"] = seg2.loc[3, "end"] + len("No one") - len("Nobody")
    later = SpanState(seg2, docs.assign(text=[text]), CB, path, "ana")
    spans = later.spans().set_index("code")
    assert spans.loc["fee_shock", ["status", "shown_start", "shown_end"]].tolist() == ["moved", a + shift,
                                                                                         a + shift + 13]
    assert spans.loc["delight", "status"] == "lost"  # six characters, too different to place
    pieces = later.turns()[3]["pieces"]
    assert [(p["text"], len(p["spans"])) for p in pieces if p["spans"]] == [("about the fee", 1)]
    # removing the moved span removes the stored one
    later.remove(spans.loc["fee_shock", "key"])
    assert later.store.spans("ana")["code"].tolist() == ["delight"]


def test_a_selection_ending_at_the_start_of_a_turn_stops_at_the_turn_before(state):
    t = state.turns()
    # a triple click on turn 2 selects up to offset 0 of the next turn: the span is turn 2's text
    assert state.selection_to_span((t[1]["segment_id"], 0), (t[2]["segment_id"], 0)) == ("d1", t[1]["start"],
                                                                                        t[1]["end"])
    # from the very end of turn 1 into turn 2: starts at turn 2
    d, a, b = state.selection_to_span((t[0]["segment_id"], _u16(t[0]["text"])), (t[1]["segment_id"], 5))
    assert (a, b) == (t[1]["start"], t[1]["start"] + 5)
    # across turns the gap stays covered when the selection really runs into the next turn's words
    d, a, b = state.selection_to_span((t[1]["segment_id"], 0), (t[2]["segment_id"], 2))
    assert (a, b) == (t[1]["start"], t[2]["start"] + 2)
