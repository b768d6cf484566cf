"""Span coding in a real JupyterLab with a real mouse (issue 15 item 3).

One JupyterLab server (set up as in tests/test_lab_browser.py, whose helpers this module uses)
serves a notebook that shows :class:`journeylab.SpanCodingSession` on a tiny one-document study
(tests/test_span_widget.py's frames: turns with emoji, so that JavaScript's UTF-16 offsets and
Python's code points differ). In Debian's chromium the test

* selects part of a turn by dragging the mouse (down, move, up) from the first to the last
  character of a phrase that follows an emoji, and clicks a code: the coding store the kernel
  wrote then holds exactly that span (doc_id, start, end in code points, covered text);
* selects across two turns, applies another code, and checks that span;
* clicks the first highlight: the store logs a removal and the span is no longer current;
* focuses the other highlight and presses Delete: removed too, and JupyterLab's own shortcuts
  did not act on the notebook;
* triple-clicks a turn and codes it: the span is exactly the turn's text.

Skipped without chromium (as the other browser tests). ~15-25 s, most of it JupyterLab's start.
"""
from __future__ import annotations

import json
import re

import nbformat
import pytest
from test_lab_browser import Lab, open_notebook, poll, run_menu, shot_on_failure, wait_executed
from test_span_widget import tiny_frames

from journeylab.coding.span_widget import index_to_utf16
from journeylab.coding.store import CodingStore

pytestmark = pytest.mark.browser

CODER = "you"
NOTEBOOK = "span_coding.ipynb"
CELL = f"""import json
import pandas as pd
import journeylab as jl

data = json.load(open("tiny_study.json", encoding="utf-8"))
codebook = jl.Codebook([jl.Code("fee_shock"), jl.Code("delight")])
session = jl.SpanCodingSession(pd.DataFrame(data["segments"]), documents=pd.DataFrame(data["documents"]),
                               codebook=codebook, store="spans.sqlite", coder={CODER!r}, roles=["participant"])
session"""


@pytest.fixture(scope="module")
def lab(tmp_path_factory, browser):  # browser first: no server is started when the test is skipped
    server = Lab(tmp_path_factory.mktemp("spanlab"))
    seg, docs = tiny_frames()
    (server.root / "tiny_study.json").write_text(json.dumps({"segments": seg.to_dict("records"),
                                                             "documents": docs.to_dict("records")}),
                                                 encoding="utf-8")
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(CELL)]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, server.root / NOTEBOOK)
    try:
        server.wait_ready()
        yield server
    finally:
        server.stop()


_CHAR_BOX_JS = """([sid, at]) => {
    // the box of the UTF-16 unit `at` of a turn's text (the text is one text node before any highlight)
    const el = document.querySelector(`.jl-span-text[data-segment-id="${sid}"]`);
    const node = el.firstChild;
    const r = document.createRange();
    r.setStart(node, at);
    r.setEnd(node, at + 1);
    const b = r.getBoundingClientRect();
    return [b.left, b.right, b.top + b.height / 2];
}"""


def drag_select(page, start: tuple[str, int], end: tuple[str, int]) -> str:
    """Select with the mouse from the character at ``start`` through the one before ``end``.

    ``start``/``end`` are (segment_id, UTF-16 offset into the turn's text). Returns the browser's
    selected text.
    """
    left, _, y0 = page.evaluate(_CHAR_BOX_JS, [start[0], start[1]])
    _, right, y1 = page.evaluate(_CHAR_BOX_JS, [end[0], end[1] - 1])
    page.mouse.move(left + 1, y0)
    page.mouse.down()
    page.mouse.move((left + right) / 2, (y0 + y1) / 2, steps=4)
    page.mouse.move(right - 1, y1, steps=4)
    page.mouse.up()
    return page.evaluate("() => document.getSelection().toString()")


def test_select_with_the_mouse_code_and_remove(page, lab, tmp_path):
    seg, docs = tiny_frames()
    doc = docs["text"].iloc[0]
    turns = seg.set_index("segment_id")
    store_path = lab.root / "spans.sqlite"

    def span_of(sid: str, phrase: str) -> tuple[int, int, int, int]:
        """(start, end) of a phrase of a turn in document code points, and in the turn's UTF-16 units."""
        text = turns.at[sid, "text"]
        k = text.index(phrase)
        return (int(turns.at[sid, "start"]) + k, int(turns.at[sid, "start"]) + k + len(phrase),
                index_to_utf16(text, k), index_to_utf16(text, k + len(phrase)))

    def current_spans(n: int):
        def read():
            with CodingStore(store_path) as store:
                spans = store.spans(CODER)
            return spans if len(spans) == n else None
        return poll(read, f"{n} current spans of {CODER!r} in {store_path}")

    with shot_on_failure(page, lab, tmp_path / "span_failure.png"):
        open_notebook(page, lab, NOTEBOOK)
        run_menu(page, "Run All Cells")
        wait_executed(page, 1)
        widget = page.locator(".jl-span-session")
        widget.wait_for(state="visible")
        widget.locator(".jl-span-turn").nth(3).wait_for()

        # 1. a phrase after an emoji ("Nobody told me 🙈 about the fee 💸 ..."): UTF-16 offsets are one more
        a, b, ua, ub = span_of("d1-t004", "about the fee")
        assert ua == a - int(turns.at["d1-t004", "start"]) + 1  # the emoji before it
        selected = drag_select(page, ("d1-t004", ua), ("d1-t004", ub))
        assert selected == "about the fee", f"the mouse selected {selected!r}"
        widget.locator(".jl-span-selection", has_text="about the fee").wait_for()
        widget.locator('.jl-span-code[data-code="fee_shock"]').click()
        spans = current_spans(1)
        assert spans[["doc_id", "start", "end", "text", "segment_id", "code", "coder"]].values.tolist() == [
            ["d1", a, b, "about the fee", "d1-t004", "fee_shock", CODER]]
        assert doc[a:b] == "about the fee"
        mark = widget.locator('.jl-span-mark[data-code="fee_shock"]')
        mark.wait_for()
        assert mark.inner_text() == "about the fee" and "fee_shock" in mark.get_attribute("title")

        # 2. across turns: from "shock." in turn 2 to "Nobody" in turn 4 (the text between is covered)
        c, _, uc, _ = span_of("d1-t002", "shock.")
        _, d, _, ud = span_of("d1-t004", "Nobody")
        selected = drag_select(page, ("d1-t002", uc), ("d1-t004", ud))
        assert selected.startswith("shock.") and selected.endswith("Nobody"), f"the mouse selected {selected!r}"
        widget.locator('.jl-span-code[data-code="delight"]').click()
        spans = current_spans(2)
        across = spans[spans["code"] == "delight"]
        assert across[["start", "end", "text", "segment_id"]].values.tolist() == [
            [c, d, "shock.\nInterviewer: Why?\nAnna: Nobody", "d1-t002"]]
        widget.locator('.jl-span-mark[data-code="delight"]').first.wait_for()
        page.screenshot(path=str(tmp_path / "span_widget.png"))

        # 3. a click on the first highlight removes that code from that span (a removal in the log)
        mark.click()
        spans = current_spans(1)
        assert spans["code"].tolist() == ["delight"]
        with CodingStore(store_path) as store:
            log = store.span_decisions(CODER)
        assert log[["start", "end", "code", "value"]].values.tolist() == [
            [a, b, "fee_shock", True], [c, d, "delight", True], [a, b, "fee_shock", False]]
        mark.wait_for(state="detached")
        assert widget.locator(".jl-span-status").inner_text().startswith("removed fee_shock")

        # 4. from the keyboard: a highlight takes the focus, Delete removes it (and not the notebook's cell)
        widget.locator('.jl-span-mark[data-code="delight"]').first.focus()
        page.keyboard.press("Delete")
        current_spans(0)
        widget.locator(".jl-span-mark").first.wait_for(state="detached")
        assert page.locator(".jp-Notebook .jp-Cell").count() == 1

        # 5. a triple click selects a whole turn (the browser's selection ends at the next turn's start):
        # the span is exactly the turn's text
        widget.locator('.jl-span-text[data-segment-id="d1-t002"]').click(click_count=3)
        widget.locator('.jl-span-code[data-code="delight"]').click()
        spans = current_spans(1)
        assert spans[["start", "end", "segment_id"]].values.tolist() == [
            [int(turns.at["d1-t002", "start"]), int(turns.at["d1-t002", "end"]), "d1-t002"]]
        assert not re.search(r"Traceback|Error", widget.inner_text())
        assert page.journeylab_errors == [], page.journeylab_errors
