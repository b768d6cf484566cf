"""CodingSession driven from pytest: set widget values, click buttons, assert the stored rows."""
from __future__ import annotations

import pandas as pd
import pytest

import journeylab as jl
from journeylab.coding.store import CodingStore
from journeylab.coding.widget import CodingSession, SessionState
from journeylab.errors import JourneylabError
from journeylab.study.codebook import Code, Codebook, Rules


@pytest.fixture
def segments():
    rows = [
        ("P01-t001", "P01", None, "Interviewer", "interviewer", "How was checkout?"),
        ("P01-t002", "P01", "P01", "P01", "participant", "It made me create an account, so annoying."),
        ("P01-t003", "P01", None, "Interviewer", "interviewer", "And delivery?"),
        ("P01-t004", "P01", "P01", "P01", "participant", "Delivery was late, a week late."),
        ("P02-t001", "P02", None, "Interviewer", "interviewer", "Tell me about returns."),
        ("P02-t002", "P02", "P02", "P02", "participant", "The refund took ages."),
        ("P02-t003", "P02", "P02", "P02", "participant", "Nothing else to add."),
    ]
    return pd.DataFrame(rows, columns=["segment_id", "doc_id", "participant_id", "speaker", "speaker_role", "text"])


@pytest.fixture
def codebook():
    return Codebook([
        Code("checkout_friction", stage="purchase", codable=False),
        Code("forced_account", parent="checkout_friction", stage="purchase",
             definition="Made to create an account", rules=Rules(phrases=["create an account"])),
        Code("slow_delivery", stage="retention", rules=Rules(keywords=["late"])),
        Code("returns_hassle", stage="retention", rules=Rules(keywords=["refund"])),
        Code("frustration", kind="emotion", rules=Rules(keywords=["annoying"])),
    ])


@pytest.fixture
def participants():
    return pd.DataFrame({"participant_id": ["P01", "P02"], "persona": ["bargain hunter", "gift buyer"]})


@pytest.fixture
def session(tmp_path, segments, codebook, participants):
    sugg = jl.autocode(segments, codebook=codebook)
    return CodingSession(segments, codebook=codebook, store=tmp_path / "c.sqlite", coder="ana", participants=participants,
                         suggestions=sugg)


def stored(session):
    return sorted(zip(session.codings.segment_id, session.codings.code, session.codings.origin))


def test_opens_on_first_participant_turn_with_context(session):
    st = session.state
    assert st.codable == ["P01-t002", "P01-t004", "P02-t002", "P02-t003"]
    assert st.segment_id == "P01-t002"
    assert [t["segment_id"] for t in st.context_turns()] == ["P01-t001", "P01-t002", "P01-t003", "P01-t004"]
    assert "create an account" in session.context_html.value
    assert "bargain hunter" in session.attributes_html.value
    assert "0 of 4 segments coded" in session.header.value
    assert "checkout_friction" not in session.toggles  # grouping code: a label, not a toggle


def test_toggle_writes_immediately(session, tmp_path):
    session.toggles["frustration"].value = True
    assert stored(session) == [("P01-t002", "frustration", "manual")]
    # another connection sees it at once (committed, not buffered)
    assert len(CodingStore(tmp_path / "c.sqlite").codings("ana")) == 1
    session.toggles["frustration"].value = False
    assert stored(session) == []
    assert list(session.state.store.decisions().value) == [True, False]
    assert "0 of 4 segments coded" in session.header.value


def test_suggestions_accept_and_reject(session):
    st = session.state
    assert [s["code"] for s in st.pending_suggestions()] == ["forced_account", "frustration"]
    assert session.toggles["forced_account"].button_style == "warning"  # suggested, not yet mine
    assert session.toggles["forced_account"].value is False
    accept, _ = session.suggestion_buttons()["forced_account"]
    accept.click()
    _, reject = session.suggestion_buttons()["frustration"]
    reject.click()
    assert stored(session) == [("P01-t002", "forced_account", "manual")]
    cod = session.codings
    assert cod.rule.item() == "phrase:create an account"
    log = st.store.decisions()
    assert list(zip(log.code, log.value)) == [("forced_account", True), ("frustration", False)]
    assert st.pending_suggestions() == [] and session.suggestion_buttons() == {}
    assert session.toggles["forced_account"].value is True


def test_accept_all(session):
    session.accept_all_button.click()
    assert stored(session) == [("P01-t002", "forced_account", "manual"), ("P01-t002", "frustration", "manual")]


def test_navigation_progress_and_resume(tmp_path, segments, codebook, participants):
    s = CodingSession(segments, codebook=codebook, store=tmp_path / "c.sqlite", coder="ana", participants=participants)
    s.toggles["forced_account"].value = True
    s.next_button.click()
    assert s.state.segment_id == "P01-t004"
    s.none_button.click()                      # nothing applies: done anyway
    s.uncoded_button.click()
    assert s.state.segment_id == "P02-t002"
    assert "2 of 4 segments coded" in s.header.value
    s.prev_button.click()
    assert s.state.segment_id == "P01-t004"
    s.jump.value = "P02-t003"
    assert s.state.segment_id == "P02-t003"
    s.memo.value = "participant had nothing to add"   # saved on leaving the box, no click needed
    assert s.state.store.memo("P02-t003", "ana") == "participant had nothing to add"
    s.memo.value = "nothing to add"
    s.save_memo_button.click()                          # the button saves too (no duplicate entry)
    assert s.state.store.memo("P02-t003", "ana") == "nothing to add"
    import sqlite3
    n_log = sqlite3.connect(s.state.store.path).execute("SELECT COUNT(*) FROM memo_log").fetchone()[0]
    assert n_log == 2
    # a new session (a restarted kernel) resumes on the same segment
    again = CodingSession(segments, codebook=codebook, store=tmp_path / "c.sqlite", coder="Ana ", participants=participants)
    assert again.state.segment_id == "P02-t003"
    assert again.memo.value == "nothing to add"
    # a coder without a position starts at their first unfinished segment
    other = CodingSession(segments, codebook=codebook, store=tmp_path / "c.sqlite", coder="bob")
    assert other.state.segment_id == "P01-t002"


def test_blind_coding(tmp_path, segments, codebook):
    path = tmp_path / "c.sqlite"
    CodingStore(path).apply("P01-t002", "frustration", "bob")
    s = CodingSession(segments, codebook=codebook, store=path, coder="ana")
    assert s.toggles["frustration"].value is False and s.state.codes() == {}
    assert s.state.progress() == (0, 4)


def test_filters(session):
    st = session.state
    session.participant_filter.value = "P02"
    assert st.visible == ["P02-t002", "P02-t003"] and st.segment_id == "P02-t002"
    session.participant_filter.value = ""  # "all participants"
    session.stage_filter.value = "retention"   # segments with a retention suggestion or code
    assert st.visible == ["P01-t004", "P02-t002"]
    session.stage_filter.value = ""
    session.suggested_filter.value = True
    assert st.visible == ["P01-t002", "P01-t004", "P02-t002"]
    session.suggested_filter.value = False
    st.goto("P02-t003")
    session.none_button.click()
    session.uncoded_filter.value = True
    assert "P02-t003" not in st.visible
    session.participant_filter.value = "P02"
    session.uncoded_filter.value = True
    assert st.visible == ["P02-t002"]


def test_search_box_hides_codes(session):
    session.search.value = "account"
    shown = {n for n, row in session._code_rows.items() if row.layout.display != "none"}
    assert shown == {"checkout_friction", "forced_account"}  # the parent stays for context
    session.search.value = "LATE"  # matches nothing by name: slow_delivery has no definition here
    assert {n for n, r in session._code_rows.items() if r.layout.display != "none"} == set()
    session.search.value = ""
    assert all(r.layout.display is None for r in session._code_rows.values())


def test_errors_are_shown_not_raised(session):
    st = session.state
    session.participant_filter.value = "P02"
    session.none_button.click()
    session.next_button.click()
    session.none_button.click()
    session.uncoded_filter.value = True          # both P02 turns are done: nothing left to show
    assert st.visible == [] and st.segment_id is None
    assert "no segment matches the filters" in session.header.value
    assert session.none_button.disabled
    session.none_button.click()                  # still clickable from code: the error is shown, not raised
    assert "relax the filters" in session.status.value


def test_state_without_widgets(tmp_path, segments, codebook):
    st = SessionState(segments, codebook, CodingStore(tmp_path / "s.sqlite"), "ana", segment_ids=["P02-t002"],
                      notes={"P02-t002": "bob: returns_hassle · cy: none"})
    assert st.codable == ["P02-t002"] and st.note().startswith("bob")
    st.set_code("returns_hassle", True)
    assert st.progress() == (1, 1)
    with pytest.raises(JourneylabError, match="grouping code"):
        st.set_code("checkout_friction", True)
    with pytest.raises(JourneylabError, match="has no code 'nope'"):
        st.set_code("nope", True)
    with pytest.raises(JourneylabError, match="`coder` must be your name"):
        SessionState(segments, codebook, tmp_path / "s.sqlite", " ")
    with pytest.raises(JourneylabError, match="duplicate segment_id"):
        SessionState(pd.concat([segments, segments]), codebook, tmp_path / "s.sqlite", "ana")
    with pytest.raises(JourneylabError, match="not in `segments`"):
        SessionState(segments, codebook, tmp_path / "s.sqlite", "ana", segment_ids=["zz"])


def test_repr_and_exports(session):
    assert repr(session).startswith("CodingSession(coder='ana', 0 of 4 segments coded")
    assert "application/vnd.jupyter.widget-view+json" in session._repr_mimebundle_()
    assert jl.CodingSession is CodingSession


def test_stable_css_classes(session):
    """The browser test (tests/test_lab_browser.py) finds the parts by these classes."""
    assert "jl-coding-session" in session.widget._dom_classes
    assert all("jl-code-toggle" in t._dom_classes for t in session.toggles.values())
    assert "jl-next" in session.next_button._dom_classes and "jl-header" in session.header._dom_classes
    accept, reject = session.suggestion_buttons()["frustration"]
    assert "jl-accept" in accept._dom_classes and "jl-reject" in reject._dom_classes
