// The browser side of journeylab's SpanCodingSession (an anywidget module).
//
// It draws the turns of one document with this coder's spans highlighted, keeps the current
// text selection, and tells the kernel what to do: {kind: "apply", code, anchor, focus} where
// anchor/focus are [segment_id, offset] with the offset in UTF-16 code units (a JavaScript
// string's length) into the turn's text; {kind: "remove", key}; {kind: "prev"} / {kind: "next"}.
// The kernel converts offsets to code points (journeylab.coding.span_widget.utf16_to_index),
// writes the decision to the coding store and sends the new turns back.

function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

// The UTF-16 length of the text of `textEl` before the point (node, offset).
function prefixLength(textEl, node, offset) {
  const r = document.createRange();
  r.setStart(textEl, 0);
  r.setEnd(node, offset);
  return r.toString().length;
}

// A selection end as [segment_id, offset]: inside a turn's text as is; outside every turn's
// text (a speaker label, the gap between turns) moved to the nearest turn text inwards.
function locate(docEl, node, offset, isStart) {
  const texts = Array.from(docEl.querySelectorAll(".jl-span-text"));
  const order = isStart ? texts : texts.slice().reverse();
  for (const t of order) {
    const r = document.createRange();
    r.selectNodeContents(t);
    let c;
    try {
      c = r.comparePoint(node, offset);
    } catch (e) {
      return null;
    }
    if (c === 0) return [t.dataset.segmentId, prefixLength(t, node, offset)];
    if (isStart && c < 0) return [t.dataset.segmentId, 0];
    if (!isStart && c > 0) return [t.dataset.segmentId, t.textContent.length];
  }
  return null;
}

// A code's colour made light enough to read black text on (a codebook's colours may be strong).
function tint(colour) {
  return /^#[0-9a-f]{6}$/i.test(colour) ? colour + "99" : colour;
}

function render({ model, el: root }) {
  root.classList.add("jl-span-session");
  const bar = el("div", "jl-span-bar");
  const prev = el("button", "jl-span-prev", "◀");
  const next = el("button", "jl-span-next", "▶");
  prev.title = "previous document";
  next.title = "next document";
  const header = el("span", "jl-span-header");
  bar.append(prev, next, header);
  const body = el("div", "jl-span-body");
  const docEl = el("div", "jl-span-doc");
  const side = el("div", "jl-span-side");
  const selectionEl = el("div", "jl-span-selection", "Select text in a turn, then click a code.");
  const codesEl = el("div", "jl-span-codes");
  side.append(selectionEl, codesEl);
  body.append(docEl, side);
  const status = el("div", "jl-span-status");
  root.append(bar, body, status);

  let pending = null; // {anchor, focus, text} of the current selection inside the document

  function showPending() {
    if (pending) {
      const t = pending.text.length > 80 ? pending.text.slice(0, 79) + "…" : pending.text;
      selectionEl.textContent = "Selected: “" + t + "” — click a code to apply it.";
      selectionEl.classList.add("jl-span-has-selection");
    } else {
      selectionEl.textContent = "Select text in a turn, then click a code.";
      selectionEl.classList.remove("jl-span-has-selection");
    }
  }

  function onSelectionChange() {
    const sel = document.getSelection();
    if (!sel || sel.rangeCount === 0) return;
    if (sel.isCollapsed) {
      // a click in the text drops the selection; elsewhere (a code button) it is kept
      if (pending && docEl.contains(sel.anchorNode)) {
        pending = null;
        showPending();
      }
      return;
    }
    const range = sel.getRangeAt(0);
    if (!docEl.contains(range.commonAncestorContainer)) return;
    const a = locate(docEl, range.startContainer, range.startOffset, true);
    const b = locate(docEl, range.endContainer, range.endOffset, false);
    if (!a || !b) return;
    pending = { anchor: a, focus: b, text: range.toString() };
    showPending();
  }
  document.addEventListener("selectionchange", onSelectionChange);

  function drawCodes() {
    codesEl.replaceChildren();
    for (const c of model.get("codes")) {
      const b = el("button", "jl-span-code", c.name);
      b.dataset.code = c.name;
      b.title = c.definition || c.name;
      b.style.borderLeft = "6px solid " + c.colour;
      b.style.marginLeft = 12 * (c.depth || 0) + "px";
      b.addEventListener("mousedown", (e) => e.preventDefault()); // keep the text selection
      b.addEventListener("click", () => {
        if (!pending) {
          status.textContent = "Select some text in a turn first.";
          status.classList.add("jl-span-error");
          return;
        }
        model.send({ kind: "apply", code: c.name, anchor: pending.anchor, focus: pending.focus });
        pending = null;
        showPending();
        const sel = document.getSelection();
        if (sel) sel.removeAllRanges();
      });
      codesEl.append(b);
    }
  }

  function drawTurns() {
    const scroll = docEl.scrollTop;
    const colours = {};
    for (const c of model.get("codes")) colours[c.name] = c.colour;
    const spans = {};
    for (const s of model.get("spans")) spans[s.key] = s;
    docEl.replaceChildren();
    for (const t of model.get("turns")) {
      const turn = el("div", "jl-span-turn" + (t.codable ? "" : " jl-span-context"));
      turn.dataset.segmentId = t.segment_id;
      if (t.speaker) turn.append(el("span", "jl-span-speaker", t.speaker + ": "));
      const text = el("span", "jl-span-text");
      text.dataset.segmentId = t.segment_id;
      for (const p of t.pieces) {
        if (!p.spans.length) {
          text.append(document.createTextNode(p.text));
          continue;
        }
        const m = el("mark", "jl-span-mark" + (p.spans.length > 1 ? " jl-span-overlap" : ""), p.text);
        const key = p.spans[0];
        const code = spans[key] ? spans[key].code : key.split(":").slice(2).join(":");
        m.dataset.span = key;
        m.dataset.code = code;
        m.style.backgroundColor = tint(colours[code] || "#dddddd");
        const codes = p.spans.map((k) => (spans[k] ? spans[k].code : k));
        m.title = codes.join(", ") + " — click (or Delete) to remove " + code;
        m.tabIndex = 0; // reachable with Tab; Delete, Backspace or Enter removes it
        m.setAttribute("role", "button");
        m.dataset.lmSuppressShortcuts = "true"; // JupyterLab's shortcuts (Enter: edit the cell) skip it
        m.setAttribute("aria-label", code + ": " + p.text + " (press Delete to remove)");
        m.addEventListener("click", () => {
          const sel = document.getSelection();
          if (sel && !sel.isCollapsed) return; // the end of a selection, not a click on the highlight
          model.send({ kind: "remove", key: key });
        });
        m.addEventListener("keydown", (e) => {
          if (e.key === "Delete" || e.key === "Backspace" || e.key === "Enter") {
            e.preventDefault();
            e.stopPropagation();
            model.send({ kind: "remove", key: key });
          }
        });
        text.append(m);
      }
      turn.append(text);
      docEl.append(turn);
    }
    docEl.scrollTop = scroll;
  }

  function drawHeader() {
    header.innerHTML = model.get("header"); // built and escaped by the kernel
  }
  function drawStatus() {
    status.textContent = model.get("status");
    status.classList.toggle("jl-span-error", !!model.get("error"));
  }

  prev.addEventListener("click", () => model.send({ kind: "prev" }));
  next.addEventListener("click", () => model.send({ kind: "next" }));
  model.on("change:turns", drawTurns);
  model.on("change:spans", drawTurns);
  model.on("change:codes", drawCodes);
  model.on("change:header", drawHeader);
  model.on("change:status", drawStatus);
  model.on("change:error", drawStatus);
  drawCodes();
  drawTurns();
  drawHeader();
  drawStatus();
  return () => document.removeEventListener("selectionchange", onSelectionChange);
}

export default { render };
