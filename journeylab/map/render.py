"""Draw a journey map with matplotlib: stage columns, lane rows, the emotion curve, evidence grades.

The layout is the classic journey canvas, sized for A3 landscape: a persona card and a legend
on top, then one column per stage and one row per lane (goals, actions, touchpoints, thoughts,
emotion, pain points, delights, opportunities, metrics). Every text is wrapped to its cell by
measuring it with the figure's renderer, shrunk down to a minimum size if needed and, as a last
resort, shortened with "…" / "+N more", so no two texts ever overlap. Colours are the
Okabe–Ito palette (safe for the common forms of colour blindness); the evidence grade is shown
by marker shape and fill, so it never rests on colour alone.
"""
from __future__ import annotations

__all__ = ["plot_map", "save_map", "plot_evidence", "OKABE_ITO", "GRADE_STYLE", "A3_LANDSCAPE", "LANES"]

from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import JourneylabError
from ..utils.checks import check_path
from ..utils.docstrings import shared_docs
from .journey_map import JourneyMap, order_claims, register_view

#: Okabe & Ito (2008) colour-blind-safe palette.
OKABE_ITO = {"orange": "#E69F00", "sky_blue": "#56B4E9", "bluish_green": "#009E73", "yellow": "#F0E442",
             "blue": "#0072B2", "vermillion": "#D55E00", "reddish_purple": "#CC79A7", "black": "#000000"}
GREY = "#8c8c8c"
A3_LANDSCAPE = (16.54, 11.69)  # inches

#: Marker of each triangulation grade (shape and fill carry the grade; colour the kind of claim).
GRADE_STYLE = {
    "strong": {"marker": "o", "filled": True, "label": "strong: interviews and numbers agree"},
    "mixed": {"marker": "D", "filled": False, "label": "mixed: sources disagree in part"},
    "quantitative_only": {"marker": "s", "filled": True, "label": "numbers only"},
    "qualitative_only": {"marker": "o", "filled": False, "label": "interviews only"},
    "weak": {"marker": "o", "filled": False, "label": "weak: little support", "grey": True},
    "contradicted": {"marker": "X", "filled": True, "label": "contradicted: numbers disagree", "grey": True},
}
SIGNAL_COLOUR = {"problem": OKABE_ITO["vermillion"], "healthy": OKABE_ITO["bluish_green"],
                 "strength": OKABE_ITO["bluish_green"], "inconclusive": GREY, "no benchmark": GREY}
KIND_COLOUR = {"pain_point": OKABE_ITO["vermillion"], "delight": OKABE_ITO["bluish_green"]}

#: Lanes in drawing order: (key, label, relative height).
LANES = [("goals", "Customer goals", 0.9), ("actions", "Actions", 0.9), ("touchpoints", "Touchpoints", 0.7),
         ("thoughts", "Thoughts (real quotes)", 1.5), ("emotion", "Emotion", 1.7),
         ("pain_points", "Pain points", 1.5), ("delights", "Delights", 1.0),
         ("opportunities", "Opportunities", 1.2), ("metrics", "Metrics", 1.3)]


# ----------------------------------------------------------------------------- text fitting


#: Text widths measured by earlier layouts, shared across figures: a map is laid out again for each
#: export (PNG, SVG, PDF, the report) and per persona, and measuring words with FreeType was the
#: largest cost of a layout. A width depends only on the font file, size, dpi and hinting settings,
#: all in the key, so a cached width is exactly the one a new measurement would give.
_WIDTHS: dict = {}
_WIDTHS_MAX = 200_000


#: The persona card lists the participants' ids up to this many; a longer list shows the first half and a count.
MAX_LISTED = 20


def _font_key(fp, dpi) -> tuple:
    # lazy: matplotlib adds ~0.15 s to `import journeylab` (measured; docs/architecture.md)
    import matplotlib
    from matplotlib.font_manager import findfont

    rc = matplotlib.rcParams
    return (findfont(fp), fp.get_size_in_points(), fp.get_weight(), fp.get_style(), float(dpi),
            rc["text.hinting"], rc["text.hinting_factor"], rc["text.kerning_factor"], rc["text.antialiased"])


class _Fitter:
    """Wraps and fits text into boxes (in pixels) using the figure's renderer."""

    def __init__(self, fig, ax):
        # lazy: matplotlib adds ~0.15 s to `import journeylab` (measured; docs/architecture.md)
        from matplotlib.font_manager import FontProperties

        self.fig, self.ax = fig, ax
        self.renderer = _renderer(fig)
        self.dpi = fig.dpi
        self._fp = {}
        self._w = {}
        self._adv = {}
        self.FontProperties = FontProperties

    def fp(self, size, weight="normal", style="normal"):
        key = (size, weight, style)
        if key not in self._fp:
            self._fp[key] = self.FontProperties(size=size, weight=weight, style=style)
        return self._fp[key]

    def width(self, s, size, weight="normal", style="normal") -> float:
        key = (s, size, weight, style)
        if key not in self._w:
            fp = self.fp(size, weight, style)
            shared = (_font_key(fp, self.dpi), s)  # the same text measures the same in every figure
            w = _WIDTHS.get(shared)
            if w is None:
                w, _, _ = self.renderer.get_text_width_height_descent(s, fp, ismath=False)
                if len(_WIDTHS) >= _WIDTHS_MAX:
                    _WIDTHS.clear()
                _WIDTHS[shared] = w
            self._w[key] = w
        return self._w[key]

    def advance(self, size) -> float:
        """Pixel advance of one line of text at ``size`` with line spacing 1.2 (measured)."""
        if size not in self._adv:
            t1 = self.ax.text(0, 0, "Ålp", fontsize=size, linespacing=1.2, parse_math=False)
            t2 = self.ax.text(0, 0, "Ålp\nÅlp", fontsize=size, linespacing=1.2, parse_math=False)
            h1 = t1.get_window_extent(self.renderer).height
            h2 = t2.get_window_extent(self.renderer).height
            t1.remove()
            t2.remove()
            self._adv[size] = (h2 - h1, h1)
        return self._adv[size]

    def wrap(self, text: str, width: float, size, weight="normal", style="normal") -> list[str]:
        """Greedy word wrap to ``width`` pixels (words longer than a line are broken).

        A line's width is taken as the sum of its words' widths and the spaces between them (each
        word measured once); kerning across a space is negligible, and :func:`_fit_items` checks
        the drawn extents afterwards.
        """
        space = self.width(" ", size, weight, style)
        out = []
        for para in str(text).split("\n"):
            line, line_w = "", 0.0
            for w in para.split():
                ww = self.width(w, size, weight, style)
                if line and line_w + space + ww <= width:
                    line, line_w = line + " " + w, line_w + space + ww
                    continue
                if line:
                    out.append(line)
                    line, line_w = "", 0.0
                while ww > width and len(w) > 1:  # break a long word: largest prefix that fits
                    lo, hi = 1, len(w) - 1
                    while lo < hi:
                        mid = (lo + hi + 1) // 2
                        if self.width(w[:mid] + "-", size, weight, style) <= width:
                            lo = mid
                        else:
                            hi = mid - 1
                    out.append(w[:lo] + "-")
                    w = w[lo:]
                    ww = self.width(w, size, weight, style)
                line, line_w = w, ww
            out.append(line)
        return out

    def ellipsize(self, line: str, width: float, size, weight="normal", style="normal") -> str:
        s = line.rstrip(" -")
        lo, hi = 0, len(s)
        while lo < hi:  # longest prefix that fits with the ellipsis
            mid = (lo + hi + 1) // 2
            if self.width(s[:mid].rstrip() + "…", size, weight, style) <= width:
                lo = mid
            else:
                hi = mid - 1
        return s[:lo].rstrip() + "…"


#: Share of a cell's width that text may fill: hinting makes text a little wider or narrower at
#: other resolutions, and this margin keeps it inside its cell whatever the export dpi.
_SAFETY = 0.96


def _renderer(fig):
    try:
        return fig.canvas.get_renderer()
    except AttributeError:  # pragma: no cover - non-Agg canvases
        # lazy: matplotlib adds ~0.15 s to `import journeylab` (measured; docs/architecture.md)
        from matplotlib.backends.backend_agg import FigureCanvasAgg

        return FigureCanvasAgg(fig).get_renderer()


def _measure(F: _Fitter, width: float, items, fs: float, *, weight="normal", style="normal", indent=0.0,
             gap=0.3) -> float:
    """Height in pixels that ``items`` need at font size ``fs`` in a column ``width`` wide."""
    items = [it for it in items if str(it.get("text", "")).strip()]
    if not items:
        return 0.0
    adv, h1 = F.advance(fs)
    w = max(4.0, (width - indent) * _SAFETY)
    lines = [len(F.wrap(it["text"], w, fs, it.get("weight", weight), it.get("style", style))) for it in items]
    return sum(h1 + (n - 1) * adv for n in lines) + gap * adv * (len(items) - 1)


def _fit_items(F: _Fitter, box, items, *, size=9.0, min_size=6.0, weight="normal", style="normal",
               colour="#222222", indent=0.0, gap=0.3, more_colour=GREY):
    """Place ``items`` (dicts with ``text`` and optional ``marker``) top-down inside ``box``.

    ``box`` is (x0, y0, x1, y1) in pixels. Returns the artists drawn. Shrinks the font down to
    ``min_size``; then drops items from the end (adding "+N more"); then shortens the first
    item with "…". Every text's window extent is checked against the box afterwards.
    """
    x0, y0, x1, y1 = box
    width = max(4.0, (x1 - x0 - indent) * _SAFETY)
    height = y1 - y0
    items = [it for it in items if str(it.get("text", "")).strip()]
    if not items or height <= 2 or width <= 8:
        return []
    sizes = list(np.arange(size, min_size - 1e-9, -0.5)) or [min_size]
    plan = None
    for fs in sizes:
        fs = float(fs)
        adv, h1 = F.advance(fs)
        wrapped = [F.wrap(it["text"], width, fs, it.get("weight", weight), it.get("style", style)) for it in items]
        total = sum(h1 + (len(w) - 1) * adv for w in wrapped) + gap * adv * (len(items) - 1)
        if total <= height:
            plan = (fs, wrapped, items)
            break
    if plan is None:  # shorten at the smallest size
        fs = float(min_size)
        adv, h1 = F.advance(fs)
        wrapped_all = [F.wrap(it["text"], width, fs, it.get("weight", weight), it.get("style", style)) for it in items]
        keep, used = [], 0.0
        for k, w in enumerate(wrapped_all):
            need = h1 + (len(w) - 1) * adv + (gap * adv if keep else 0)
            rest = len(items) - k - 1
            reserve = (h1 + gap * adv) if rest else 0
            if used + need + reserve <= height:
                keep.append(w)
                used += need
            else:
                break
        if not keep:  # not even the first item: cut its lines
            w = wrapped_all[0]
            reserve = (h1 + gap * adv) if len(items) > 1 else 0
            n = max(1, int((height - reserve - h1) // adv) + 1) if height - reserve >= h1 else 0
            if n == 0:
                n, reserve = 1, 0
                if h1 > height:
                    return []
            it0 = items[0]
            w = w[:n]
            w[-1] = F.ellipsize(w[-1], width, fs, it0.get("weight", weight), it0.get("style", style))
            keep = [w]
        n_more = len(items) - len(keep)
        kept_items = items[:len(keep)]
        if n_more:
            kept_items = kept_items + [{"text": f"+{n_more} more (see the report)", "colour": more_colour,
                                        "style": "italic"}]
            keep = keep + [[f"+{n_more} more (see the report)"]]
        plan = (fs, keep, kept_items)
    fs, wrapped, items = plan
    adv, h1 = F.advance(fs)
    artists = []
    y = y1
    inv = F.ax.transData.inverted()
    for w, it in zip(wrapped, items):
        px, py = inv.transform((x0 + indent, y))
        t = F.ax.text(px, py, "\n".join(w), fontsize=fs, va="top", ha="left", linespacing=1.2,
                      color=it.get("colour", colour), weight=it.get("weight", weight),
                      style=it.get("style", style), parse_math=False, zorder=3)
        artists.append(t)
        if it.get("marker"):
            m = it["marker"]
            mx, my = inv.transform((x0 + indent / 2, y - h1 / 2))
            artists.append(_marker(F.ax, mx, my, m))
        y -= h1 + (len(w) - 1) * adv + gap * adv
    # verify against the real extents; shrink once more if matplotlib laid out taller
    bottom = min(a.get_window_extent(F.renderer).y0 for a in artists if hasattr(a, "get_text"))
    right = max(a.get_window_extent(F.renderer).x1 for a in artists if hasattr(a, "get_text"))
    if (bottom < y0 - 0.5 or right > x1 + 0.5) and fs > min_size - 1e-9 and len(sizes) > 0:
        for a in artists:
            a.remove()
        if fs - 0.5 >= min_size:
            return _fit_items(F, box, items if not str(items[-1]["text"]).startswith("+") else items[:-1],
                              size=fs - 0.5, min_size=min_size, weight=weight, style=style, colour=colour,
                              indent=indent, gap=gap)
        # last resort: drop the last item
        if len(items) > 1:
            return _fit_items(F, box, items[:-1], size=min_size, min_size=min_size, weight=weight, style=style,
                              colour=colour, indent=indent, gap=gap)
        return []
    return artists


def _marker(ax, x, y, m: dict):
    size = m.get("size", 60)
    face = m.get("face", "none")
    return ax.scatter([x], [y], s=size, marker=m.get("marker", "o"), facecolors=face,
                      edgecolors=m.get("edge", "#222222"), linewidths=m.get("lw", 1.2), zorder=4, clip_on=False)


def _claim_marker(kind: str, grade, share) -> dict:
    st = GRADE_STYLE.get(grade, GRADE_STYLE["weak"])
    colour = GREY if st.get("grey") else KIND_COLOUR.get(kind, OKABE_ITO["blue"])
    share = 0.0 if share is None or pd.isna(share) else float(share)
    size = 25 + 110 * min(1.0, share) if share > 0 else 45
    if grade == "contradicted":
        return {"marker": "X", "face": GREY, "edge": "#444444", "size": max(size, 45), "lw": 0.8}
    face = colour if st["filled"] else "white"
    return {"marker": st["marker"], "face": face, "edge": colour if not st["filled"] else "#222222", "size": size,
            "lw": 1.6 if not st["filled"] else 0.8}


# ----------------------------------------------------------------------------- content of cells


def _label(name) -> str:
    s = str(name).replace("_", " ")
    return s[:1].upper() + s[1:]


def _pct(x) -> str:
    return "–" if x is None or pd.isna(x) else f"{100 * x:.0f}%"


def _claim_items(jmap, kind: str, stage: str) -> list[dict]:
    c = order_claims(jmap.claims(kind, stage))
    items = []
    # only the columns drawn: to_dict over every column of the evidence table costs ~50 ms a cell
    used = [k for k in ("code", "claim", "n_participants", "n_participants_total", "n_participants_rule_only",
                        "grade", "share_participants") if k in c.columns]
    for r in c[used].to_dict("records"):
        name = _label(r["code"]) if r["code"] else str(r["claim"]).split(" (")[0]
        if r["code"]:
            text = f"{name} — {r['n_participants']}/{r['n_participants_total']} people"
            n_rule = r.get("n_participants_rule_only")
            if n_rule is not None and not pd.isna(n_rule) and int(n_rule) > 0:
                text += f" ({int(n_rule)} by rules only)"
        else:
            text = f"{name} — from the numbers"
        if r["grade"] == "contradicted":
            text += "; numbers disagree"
            colour = "#555555"
        elif r["grade"] == "weak":
            colour = "#555555"
        else:
            colour = "#222222"
        items.append({"text": text, "colour": colour,
                      "marker": _claim_marker(kind, r["grade"], r["share_participants"])})
    return items


def _metric_items(jmap, stage: str) -> list[dict]:
    m = jmap.metrics
    m = m[m["stage"] == stage]
    sig = m["step_signal"].where(m["step_signal"].notna(), m["csat_signal"])
    if "task_signal" in m.columns:  # usability tasks (an evidence table of an older journeylab has none)
        sig = sig.where(sig.notna(), m["task_signal"])
    rank = sig.map({"problem": 0, "inconclusive": 1, "healthy": 2}).fillna(3)
    m = m.assign(_r=rank).sort_values("_r", kind="stable")
    items = []
    for r in m.to_dict("records"):
        if str(r["metric"]).startswith("step:"):
            sig = r["step_signal"]
            base = "" if pd.isna(r.get("step_users_from")) else f" of {int(r['step_users_from']):,}"
            text = (f"{_label(r['step_from'])} → {_label(r['step']).lower()}: {_pct(r['step_conversion'])}{base} "
                    f"({_pct(r['step_ci_low'])}–{_pct(r['step_ci_high'])})")
        elif str(r["metric"]).startswith("task:"):
            sig = r.get("task_signal")
            text = (f"Task {r['task']}: {int(r['task_successes'])}/{int(r['task_n'])} succeeded, "
                    f"{_pct(r['task_success_rate'])} ({_pct(r['task_ci_low'])}–{_pct(r['task_ci_high'])})")
            if not pd.isna(r.get("task_time_geomean_s")):
                text += f"; time {r['task_time_geomean_s']:.0f} s"
                if not pd.isna(r.get("task_time_ci_low_s")):
                    text += f" ({r['task_time_ci_low_s']:.0f}–{r['task_time_ci_high_s']:.0f} s)"
        elif not str(r["metric"]).startswith("csat:"):  # a questionnaire score: its own sentence
            sig, text = None, str(r["claim"])
        else:
            sig = r["csat_signal"]
            text = (f"CSAT {_label(r['touchpoint']).lower()}: {_pct(r['csat_top2'])} top-2 "
                    f"({_pct(r['csat_top2_ci_low'])}–{_pct(r['csat_top2_ci_high'])}) of "
                    f"{int(r['csat_n']):,} answers, mean {r['csat_mean']:.1f}")
        colour = SIGNAL_COLOUR.get(sig, GREY)
        items.append({"text": text, "marker": {"marker": "s", "face": colour, "edge": colour, "size": 22}})
    return items


# ----------------------------------------------------------------------------- the map


@register_view("plot")
def plot_map(jmap, *, figsize=A3_LANDSCAPE, dpi: int = 100, title: str | None = None, base_size: float = 9.0,
             min_size: float = 5.5, lanes=None):
    """Draw a journey map in the classic canvas layout.

    Parameters
    ----------
    jmap : JourneyMap
        The map (:meth:`journeylab.JourneyMap.build`).
    figsize : (float, float), default A3 landscape (16.54 × 11.69 in)
    dpi : int, default 100
        Figure resolution (the layout is computed for it; export at any dpi with :func:`save_map`).
    title : str, optional
        Default: the map's title.
    base_size, min_size : float
        Largest and smallest font size (points) of the cell texts; texts shrink towards
        ``min_size`` to fit, then are shortened ("…", "+N more") rather than overlap.
    lanes : list of str, optional
        Lane keys to draw, in order (default: every lane of :data:`LANES`).

    Returns
    -------
    matplotlib.figure.Figure

    Notes
    -----
    Pain points and delights are markers sized by the share of participants who raised them,
    shaped and filled by triangulation grade (:data:`GRADE_STYLE`): filled circle strong,
    filled square numbers only, hollow circle interviews only, grey X contradicted, grey hollow
    weak. Metrics carry a square coloured by their signal (vermillion problem, green healthy,
    grey inconclusive). The emotion curve is the mean sentiment per stage with its CI band;
    stages with too little data are hollow, grey and not joined.
    """
    # lazy: matplotlib.pyplot adds ~0.8 s to `import journeylab` (measured; docs/architecture.md)
    import matplotlib.pyplot as plt
    from matplotlib.patches import FancyBboxPatch, Polygon, Rectangle

    if not isinstance(jmap, JourneyMap):
        raise JourneylabError(f"plot_map(): `jmap` must be a JourneyMap; got {type(jmap).__name__}.")
    keys = [k for k, _, _ in LANES]
    lanes = list(lanes) if lanes is not None else keys
    bad = [k for k in lanes if k not in keys]
    if bad:
        raise JourneylabError(f"plot_map(): unknown lane {bad[0]!r}; lanes: {', '.join(keys)}.")
    stages = jmap.stage_names
    if not stages:
        raise JourneylabError("plot_map(): the map has no stages.")
    fig = plt.figure(figsize=figsize, dpi=dpi)
    fig.patch.set_facecolor("white")
    ax = fig.add_axes([0, 0, 1, 1])
    W, H = fig.bbox.width, fig.bbox.height
    ax.set_xlim(0, W)
    ax.set_ylim(0, H)
    ax.axis("off")
    F = _Fitter(fig, ax)
    pad = 0.006 * W
    scale = min(W / (A3_LANDSCAPE[0] * dpi), H / (A3_LANDSCAPE[1] * dpi))
    bs = max(min_size, base_size * max(0.6, scale))

    # --- title and warnings
    left, right = 0.015 * W, 0.985 * W
    top = 0.985 * H
    title_h = 0.045 * H
    _fit_items(F, (left, top - title_h, right, top), [{"text": title or jmap.title}], size=20 * max(0.6, scale),
               min_size=9, weight="bold")
    y = top - title_h
    if jmap.warnings:
        wh = 0.028 * H * min(2, len(jmap.warnings))
        ax.add_patch(FancyBboxPatch((left, y - wh), right - left, wh - 0.004 * H, boxstyle="round,pad=2",
                                    fc="#fff4e0", ec=OKABE_ITO["orange"], lw=1.0, zorder=1))
        _fit_items(F, (left + pad, y - wh + 0.002 * H, right - pad, y - 0.006 * H),
                   [{"text": "⚠ " + w} for w in jmap.warnings], size=bs + 0.5, min_size=min_size,
                   colour="#6b3a00", gap=0.1)
        y -= wh + 0.004 * H

    # --- persona card and legend
    card_h = 0.115 * H
    card_w = 0.52 * (right - left)
    ax.add_patch(FancyBboxPatch((left, y - card_h), card_w, card_h - 0.006 * H, boxstyle="round,pad=2",
                                fc="#f3f6fa", ec="#9fb3c8", lw=1.0, zorder=1))
    pc = jmap.persona_card
    _fit_items(F, (left + pad, y - 0.032 * H, left + card_w - pad, y - 0.008 * H),
               [{"text": f"Persona: {pc.get('name', jmap.persona)}"}], size=bs + 3, min_size=min_size, weight="bold")
    parts = pc.get("participants", [])
    body = []
    if pc.get("description"):
        body.append({"text": pc["description"]})
    shown = ", ".join(parts) if len(parts) <= MAX_LISTED else (
        ", ".join(parts[:MAX_LISTED // 2]) + f" and {len(parts) - MAX_LISTED // 2:,} more")
    body.append({"text": f"Rests on {pc.get('n_participants', len(parts)):,} interviewed participant(s): "
                         f"{shown if parts else 'none'}"})
    if pc.get("goals"):
        body.append({"text": "Goals: " + "; ".join(pc["goals"])})
    if pc.get("needs"):
        body.append({"text": "Needs: " + "; ".join(pc["needs"][:4])})
    attrs = pc.get("attributes", {})
    if attrs:
        body.append({"text": " · ".join(f"{k}: " + ", ".join(f"{v} {a}" for a, v in d.items())
                                        for k, d in attrs.items()), "colour": "#555555"})
    _fit_items(F, (left + pad, y - card_h + 0.004 * H, left + card_w - pad, y - 0.034 * H), body, size=bs,
               min_size=min_size, gap=0.15)
    _legend(F, (left + card_w + 0.01 * W, y - card_h, right, y - 0.006 * H), bs, min_size,
            coded="emotion" in lanes and _has_coded(jmap.emotion))
    y -= card_h + 0.006 * H

    # --- grid
    footer_h = 0.035 * H
    label_w = 0.095 * W
    gx0 = left + label_w
    col_w = (right - gx0) / len(stages)
    head_h = 0.045 * H
    # stage header: chevrons
    for i, s in enumerate(stages):
        x0 = gx0 + i * col_w
        tip = min(0.012 * W, col_w * 0.08)
        pts = [(x0 + 2, y - head_h), (x0 + col_w - tip, y - head_h), (x0 + col_w, y - head_h / 2),
               (x0 + col_w - tip, y), (x0 + 2, y), (x0 + 2 + (tip if i else 0), y - head_h / 2)]
        ax.add_patch(Polygon(pts, closed=True, fc=OKABE_ITO["blue"] if i % 2 == 0 else "#2f8ac4", ec="white",
                             lw=1.5, zorder=1))
        owner = jmap.stages[i].get("owner")
        items = [{"text": _label(s), "weight": "bold", "colour": "white"}]
        if owner:
            items.append({"text": f"owner: {owner}", "colour": "white", "style": "italic"})
        _fit_items(F, (x0 + tip + pad, y - head_h + 2, x0 + col_w - 1.5 * tip, y - 2), items, size=bs + 3,
                   min_size=min_size, gap=0.0)
    _fit_items(F, (left, y - head_h, gx0 - pad, y), [{"text": "Stage", "weight": "bold"}], size=bs + 1,
               min_size=min_size)
    y -= head_h + 0.003 * H
    lane_defs = [(k, lab, h) for k, lab, h in LANES if k in lanes]
    lane_defs.sort(key=lambda t: lanes.index(t[0]))
    avail = y - (0.01 * H + footer_h)
    cell_w = col_w - 2 * pad
    content = {k: [lane_cell(jmap, k, s) for s in stages] for k, _, _ in lane_defs if k != "emotion"}
    floor = max(min_size, min(bs, 6.5))
    # height each lane needs at the base size (its fullest cell), and a fair share otherwise
    need = {}
    for k, _, rel in lane_defs:
        if k == "emotion":  # with the coded balance beside the words, the lane holds two curves and more numbers
            need[k] = 0.16 * avail * rel / 1.7 * (1.5 if _has_coded(jmap.emotion) else 1.0)
        else:
            need[k] = max(max(_measure(F, cell_w, it, bs, **{kk: v for kk, v in op.items()}) for it, op in content[k])
                          + pad, 0.035 * H)
    total_need = sum(need.values())
    if total_need <= avail:  # share the slack in proportion to the lanes' nominal heights
        slack = avail - total_need
        rel_sum = sum(rel for _, _, rel in lane_defs)
        heights = {k: need[k] + slack * rel / rel_sum for k, _, rel in lane_defs}
    else:  # squeeze, but never below a lane's nominal share
        rel_sum = sum(rel for _, _, rel in lane_defs)
        nominal = {k: avail * rel / rel_sum for k, _, rel in lane_defs}
        base = {k: min(need[k], nominal[k]) for k in need}
        extra = avail - sum(base.values())
        want = {k: need[k] - base[k] for k in need}
        wsum = sum(want.values()) or 1.0
        heights = {k: base[k] + extra * want[k] / wsum for k in need}
    for j, (key, lab, rel) in enumerate(lane_defs):
        lh = heights[key]
        yb = y - lh
        if j % 2 == 0:
            ax.add_patch(Rectangle((left, yb), right - left, lh, fc="#f5f5f5", ec="none", zorder=0))
        ax.plot([left, right], [yb, yb], color="#dddddd", lw=0.6, zorder=0)
        label_box = (left + pad / 2, yb + 2, gx0 - pad - (0.03 * W if key == "emotion" else 0), y - 2)
        _fit_items(F, label_box, [{"text": lab}], size=bs + 1, min_size=min_size, weight="bold", colour="#333333")
        for i in range(len(stages)):
            ax.plot([gx0 + i * col_w] * 2, [yb, y], color="#dddddd", lw=0.6, zorder=0)
        if key == "emotion":
            _emotion(F, jmap, (gx0, yb, right, y), col_w, bs, min_size, legend_at=(left, y - 2.6 * (bs + 1)))
        else:
            boxes = [(gx0 + i * col_w + pad, yb + pad / 2, gx0 + (i + 1) * col_w - pad, y - pad / 2)
                     for i in range(len(stages))]
            # one font size for the whole lane: the largest at which every cell fits, not below `floor`
            fs = floor
            for cand in np.arange(bs, floor - 1e-9, -0.5):
                if all(_measure(F, b[2] - b[0], it, float(cand), **op) <= b[3] - b[1]
                       for b, (it, op) in zip(boxes, content[key])):
                    fs = float(cand)
                    break
            for b, (it, op) in zip(boxes, content[key]):
                _fit_items(F, b, it, size=fs, min_size=min(fs, max(min_size, floor)), **op)
        y = yb
    # --- footer
    meth = jmap.methods or {}
    smp = meth.get("sample", {})
    foot = (f"Evidence: {_num(smp.get('participants'))} interviews, {_num(smp.get('survey_responses'))} survey "
            f"responses, {_num(smp.get('events'))} events. Emotion: mean sentiment of coded turns per stage "
            f"(VADER compound, −1 to +1) with 95% CI (bootstrap over participants)"
            + ("; codes: share of the stage's participants with a delight coding minus the share with a pain point "
               "(adjusted-Wald 95% CI)" if _has_coded(jmap.emotion) else "") + ". Grades: interviews "
            f"(≥ {meth.get('rules', {}).get('min_participants', 3)} people) vs funnel, CSAT and NPS of "
            f"commenters{_task_rule(jmap, meth)}. Every claim's quotes and numbers are in the HTML report. "
            "Made with journeylab.")
    _fit_items(F, (left, 0.006 * H, right, 0.006 * H + footer_h), [{"text": foot, "colour": "#555555"}],
               size=bs - 0.5, min_size=min_size)
    return fig


def _task_rule(jmap, meth) -> str:
    """The footer's words on usability tasks, when the map has any."""
    if not jmap.metrics["metric"].astype(str).str.startswith("task:").any():
        return ""
    share = meth.get("rules", {}).get("task_failure_share", 0.5)
    return f", and usability tasks (a problem when ≥ {share:.0%} did not succeed unaided)"


def _legend(F: _Fitter, box, bs, min_size, coded: bool = False):
    """Legend drawn as fitted items (markers + text) in two columns."""
    x0, y0, x1, y1 = box
    mid = (x0 + x1) / 2
    grade_items = [{"text": "Pain points / delights (size = share of participants):", "weight": "bold"}]
    for g in ("strong", "mixed", "quantitative_only", "qualitative_only", "contradicted", "weak"):
        grade_items.append({"text": GRADE_STYLE[g]["label"], "marker": _claim_marker("pain_point", g, 0.5)})
    grade_items.append({"text": "delight (same shapes)", "marker": _claim_marker("delight", "strong", 0.5)})
    other = [{"text": "Metrics (square):", "weight": "bold"},
             {"text": "problem", "marker": {"marker": "s", "face": SIGNAL_COLOUR["problem"],
                                            "edge": SIGNAL_COLOUR["problem"], "size": 22}},
             {"text": "healthy", "marker": {"marker": "s", "face": SIGNAL_COLOUR["healthy"],
                                            "edge": SIGNAL_COLOUR["healthy"], "size": 22}},
             {"text": "inconclusive (CI spans the target) or no target",
              "marker": {"marker": "s", "face": GREY, "edge": GREY, "size": 22}},
             {"text": "Emotion: blue line = words (lexicon mean, band = 95% CI, point size = turns; hollow grey = "
                      "too little data)" + ("; dashed diamonds = codes (share with a delight − share with a pain "
                                            "point, 95% CI); orange column = the two disagree" if coded else ""),
              "weight": "normal"}]
    indent = 0.018 * (x1 - x0) + 14
    # headers carry no marker: draw them without indent by giving them an empty marker slot
    _fit_items(F, (x0, y0, mid - 6, y1), grade_items, size=bs, min_size=min_size, indent=indent, gap=0.12)
    _fit_items(F, (mid + 6, y0, x1, y1), other, size=bs, min_size=min_size, indent=indent, gap=0.12)


def lane_cell(jmap, key: str, stage: str) -> tuple[list, dict]:
    """Items of one cell of a lane and the options to draw them with."""
    none = lambda text: [{"text": text, "colour": GREY, "style": "italic"}]  # noqa: E731
    if key == "goals":
        items = [{"text": "• " + g} for g in jmap.goals.get(stage, [])]
        return items or none("(no goal noted)"), {"gap": 0.15}
    if key == "actions":
        items = [{"text": f"• {a['label']} ({_action_base(a)})"} for a in jmap.actions.get(stage, [])]
        return items or none("(no events)"), {"gap": 0.1}
    if key == "touchpoints":
        tps = next((s["touchpoints"] for s in jmap.stages if s["name"] == stage), [])
        return [{"text": " · ".join(_label(t) for t in tps) or "–"}], {}
    if key == "thoughts":
        items = []
        for t in jmap.thoughts.get(stage, []):
            q = " ".join(str(t["text"]).split())
            if len(q) > 150:
                q = q[:148].rsplit(" ", 1)[0] + " …"
            items.append({"text": f"“{q}” — {t.get('participant_id') or '?'}", "style": "italic",
                          "colour": "#333333"})
        return items or none("(no quote)"), {"gap": 0.35}
    if key in ("pain_points", "delights"):
        items = _claim_items(jmap, "pain_point" if key == "pain_points" else "delight", stage)
        return items or none("(none found)"), {"indent": 16, "gap": 0.25}
    if key == "opportunities":
        o = jmap.opportunities
        o = o[o["stage"] == stage]
        items = []
        for r in o.to_dict("records"):
            owner = f" [{r['owner']}]" if r.get("owner") else ""
            if r.get("source") == "analyst":
                items.append({"text": f"→ {r['text']}{owner}", "weight": "bold"})
            else:
                what = _label(r["code"]).lower() if r.get("code") else str(r["text"]).split(":")[0]
                items.append({"text": f"→ Fix {what}{owner}" if r.get("code") else f"→ {what}{owner}"})
        return items or none("(none yet)"), {"gap": 0.25}
    if key == "metrics":
        items = _metric_items(jmap, stage)
        return items or none("(no linked metric)"), {"indent": 12, "gap": 0.2}
    return [], {}


def _num(x) -> str:
    return "?" if x is None else f"{int(x):,}"


def _action_base(a: dict) -> str:
    """An action's share with its base, every user of the event log: "12% of all 8,123 users"."""
    total = a.get("users_total")
    if total is None or pd.isna(total):  # a map saved before the base was recorded
        return f"{_share(a['share'])} of all users in the event log"
    return f"{_share(a['share'])} of all {int(total):,} users"


def _share(x) -> str:
    if x is None or pd.isna(x):
        return "–"
    return "<1%" if 0 < x < 0.005 else f"{100 * x:.0f}%"


#: Colour of the coded balance on the emotion lane (the lexicon's curve is blue).
CODED_COLOUR = OKABE_ITO["reddish_purple"]


def _has_coded(e: pd.DataFrame) -> bool:
    return "coded_balance" in e.columns and e["coded_balance"].notna().any()


def emotion_cell_text(r) -> list[str]:
    """The numbers under the emotion lane at one stage: the lexicon's, the codes', and a disagreement."""
    lines = []
    if pd.isna(r["mean"]):
        lines.append("words: no data")
    else:
        ci = "" if pd.isna(r["ci_low"]) or not r["enough_data"] else f" ({r['ci_low']:+.2f} to {r['ci_high']:+.2f})"
        lines.append(f"words {r['mean']:+.2f}{ci}, {int(r['n_participants'])} people"
                     + ("" if r["enough_data"] else " — too little data"))
    if not pd.isna(r.get("coded_balance", np.nan)):
        lines.append(f"codes {r['coded_balance']:+.2f} ({r['coded_ci_low']:+.2f} to {r['coded_ci_high']:+.2f}): "
                     f"{int(r['coded_n_delight'])} delight, {int(r['coded_n_pain'])} pain of {int(r['coded_n'])}")
    if bool(r.get("disagree", False)):
        lines.append(disagreement_text(r))
    return lines


def disagreement_text(r) -> str:
    """One sentence saying that the words and the codes put a stage on opposite sides of zero."""
    words, codes = ("positive", "negative") if r["mean"] > 0 else ("negative", "positive")
    return (f"⚠ They disagree: the words read {words}, the codes are mostly "
            f"{'pain points' if codes == 'negative' else 'delights'} (both intervals exclude 0).")


def _emotion(F: _Fitter, jmap, box, col_w, bs, min_size, legend_at=None):
    x0, y0, x1, y1 = box
    fig = F.fig
    W, H = fig.bbox.width, fig.bbox.height
    e = jmap.emotion
    coded = _has_coded(e)
    text_h = (0.37 if coded else 0.28) * (y1 - y0)
    ea = fig.add_axes([x0 / W, (y0 + text_h) / H, (x1 - x0) / W, (y1 - y0 - text_h - 4) / H])
    ea.set_facecolor("none")
    n = len(jmap.stage_names)
    e = e.set_index("stage").reindex(jmap.stage_names)
    mean = e["mean"].to_numpy(float)
    lo = e["ci_low"].to_numpy(float)
    hi = e["ci_high"].to_numpy(float)
    ok = e["enough_data"].fillna(False).to_numpy(bool) & ~np.isnan(mean)
    cb = (e["coded_balance"].to_numpy(float) if coded else np.full(n, np.nan))
    clo = (e["coded_ci_low"].to_numpy(float) if coded else np.full(n, np.nan))
    chi = (e["coded_ci_high"].to_numpy(float) if coded else np.full(n, np.nan))
    vals = np.concatenate([a[~np.isnan(a)] for a in (mean, lo, hi, cb, clo, chi)] + [np.zeros(1)])
    lim = max(0.25, float(np.max(np.abs(vals))) * 1.15) if len(vals) else 1.0
    lim = min(1.05, lim)
    ea.set_xlim(-0.5, n - 0.5)
    ea.set_ylim(-lim, lim)
    ea.axhline(0, color="#999999", lw=0.8, ls="--", zorder=1)
    blue = OKABE_ITO["blue"]
    disagree = (e["disagree"].fillna(False).to_numpy(bool) if "disagree" in e.columns else np.zeros(n, bool))
    for i in np.flatnonzero(disagree):  # the stage's column is shaded where the two measures disagree
        ea.axvspan(i - 0.5, i + 0.5, color=OKABE_ITO["orange"], alpha=0.15, lw=0, zorder=0)
    # band and line over runs of consecutive stages with enough data
    run = []
    for i in list(range(n)) + [n]:
        if i < n and ok[i]:
            run.append(i)
            continue
        if run:
            r = np.array(run)
            band = ~np.isnan(lo[r]) & ~np.isnan(hi[r])
            if band.any():
                ea.fill_between(r[band], lo[r][band], hi[r][band], color=OKABE_ITO["sky_blue"], alpha=0.35, lw=0,
                                zorder=2)
            ea.plot(r, mean[r], color=blue, lw=2.2, zorder=3)
        run = []
    nseg = e["n_segments"].fillna(0).to_numpy(float)
    sizes = 20 + 160 * (nseg / nseg.max() if nseg.max() > 0 else 0)
    for i in range(n):
        if np.isnan(mean[i]):
            continue
        if ok[i]:
            ea.scatter([i], [mean[i]], s=sizes[i], color=blue, edgecolor="white", zorder=4)
            if not np.isnan(lo[i]):
                ea.plot([i, i], [lo[i], hi[i]], color=blue, lw=1, alpha=0.6, zorder=3)
        else:
            # below the minimum n: the point and its count, no interval
            ea.scatter([i], [mean[i]], s=sizes[i], facecolor="white", edgecolor=GREY, lw=1.5, zorder=4)
    if coded:  # the codes' balance: dashed line, diamonds and interval bars, set a little to the right
        xs = np.arange(n) + 0.14
        has = ~np.isnan(cb)
        ea.plot(xs[has], cb[has], color=CODED_COLOUR, lw=1.6, ls="--", zorder=3)
        for i in np.flatnonzero(has):
            ea.plot([xs[i]] * 2, [clo[i], chi[i]], color=CODED_COLOUR, lw=1.4, zorder=3, solid_capstyle="butt")
        ea.scatter(xs[has], cb[has], s=46, marker="D", color=CODED_COLOUR, edgecolor="white", zorder=5)
        # lazy: matplotlib adds ~0.8 s to `import journeylab` (docs/architecture.md)
        from matplotlib.lines import Line2D
        handles = [Line2D([], [], color=blue, lw=2.2, marker="o", markersize=5, label="words\n(lexicon)"),
                   Line2D([], [], color=CODED_COLOUR, lw=1.6, ls="--", marker="D", markersize=5,
                          label="codes\n(delights −\npain points)")]
        lx, ly = legend_at if legend_at is not None else (x0, y1)
        fig.legend(handles=handles, loc="upper left", bbox_to_anchor=(lx / W, ly / H), fontsize=max(min_size, bs - 1),
                   frameon=False, ncol=1, handlelength=2.0, borderaxespad=0.0, labelspacing=0.5)
    ea.set_xticks([])
    ticks = [-0.5, 0, 0.5] if lim >= 0.5 else [round(-lim / 2, 2), 0, round(lim / 2, 2)]
    ea.set_yticks(ticks, [f"{t:+.1f}" if t else "0" for t in ticks], fontsize=max(min_size, bs - 1.5))
    for side in ("top", "right", "bottom"):
        ea.spines[side].set_visible(False)
    ea.spines["left"].set_color("#999999")
    ea.tick_params(axis="y", length=2, pad=1, colors="#555555")
    # numbers under the curve, per stage, in one font size for the lane
    cells = []
    for i, s in enumerate(jmap.stage_names):
        r = e.loc[s]
        lines = emotion_cell_text(r) if coded else [emotion_cell_text(r)[0].removeprefix("words ")]
        items = [{"text": t, "colour": "#333333"} for t in lines]
        if len(items) > 2:
            items[2].update(colour="#6b3a00", weight="bold")
        cells.append(((x0 + i * col_w + 6, y0 + 2, x0 + (i + 1) * col_w - 6, y0 + text_h - 2), items))
    top = max(min_size, bs - 0.5)
    fs = min_size
    for cand in np.arange(top, min_size - 1e-9, -0.5):
        if all(_measure(F, b[2] - b[0], it, float(cand), gap=0.05) <= b[3] - b[1] for b, it in cells):
            fs = float(cand)
            break
    for b, it in cells:
        _fit_items(F, b, it, size=fs, min_size=min_size, gap=0.05)
    return ea


@shared_docs
def plot_evidence(evidence, *, kind: str = "pain_point", persona: str = "all", ax=None, title: str | None = None):
    """Claims of one kind as a dot plot: share of participants with its CI, styled by grade.

    Parameters
    ----------
    evidence : DataFrame or JourneyMap
        An evidence table (:func:`journeylab.evidence_table`) or a map.
    kind : str, default "pain_point"
        Which claims (``pain_point``, ``delight``, ``need``, ``behaviour``).
    persona : str, default "all"
        Which persona's rows.
    {ax}
    title : str, optional
        The plot's title (default: the kind and persona).

    Returns
    -------
    matplotlib Axes

    Notes
    -----
    Claims are sorted by share of participants, as a map drawn from quotes alone would rank
    them; the marker (shape and fill, :data:`GRADE_STYLE`) and the grade written at the right
    show which of them the numbers back.
    """
    # lazy: matplotlib.pyplot adds ~0.8 s to `import journeylab` (measured; docs/architecture.md)
    import matplotlib.pyplot as plt

    ev = evidence.evidence if isinstance(evidence, JourneyMap) else evidence
    if not isinstance(ev, pd.DataFrame) or "kind" not in ev.columns:
        found = type(ev).__name__ if not isinstance(ev, pd.DataFrame) else "a frame without a 'kind' column"
        raise JourneylabError(f"plot_evidence(): `evidence` must be an evidence table (jl.evidence_table) or a "
                              f"JourneyMap; got {found}.")
    d = ev[(ev["kind"] == kind) & (ev["persona"].astype(str) == persona)].copy()
    if d.empty:
        raise JourneylabError(f"plot_evidence(): `evidence` has no {kind!r} rows for persona {persona!r}.")
    d["label"] = [(_label(c) if isinstance(c, str) else _label(str(m).split(":")[-1]) + " (metric)")
                  for c, m in zip(d["code"], d["metric"])]
    d = d.sort_values(["share_participants", "label"], ascending=[True, False])
    if ax is None:
        _, ax = plt.subplots(figsize=(8, 0.38 * len(d) + 1.4))
    y = np.arange(len(d))
    for yi, r in zip(y, d.to_dict("records")):
        share = 0.0 if pd.isna(r["share_participants"]) else r["share_participants"]
        lo, hi = r.get("share_ci_low"), r.get("share_ci_high")
        if not (lo is None or pd.isna(lo)):
            ax.plot([lo, hi], [yi, yi], color="#999999", lw=1.5, zorder=1)
        m = _claim_marker(kind, r["grade"], 0.6)
        ax.scatter([share], [yi], s=70, marker=m["marker"], facecolors=m["face"], edgecolors=m["edge"],
                   linewidths=m["lw"], zorder=3)
        grade = GRADE_STYLE.get(r["grade"], {}).get("label", str(r["grade"])).split(":")[0]
        ax.annotate(grade, (1.02, yi), xycoords=("axes fraction", "data"), va="center", fontsize=8,
                    color="#555555" if r["grade"] in ("contradicted", "weak") else "#222222",
                    annotation_clip=False)
    ax.set_yticks(y, d["label"].tolist(), fontsize=9)
    ax.set_xlim(0, 1)
    ax.xaxis.set_major_formatter(plt.FuncFormatter(lambda v, _: f"{v:.0%}"))
    ax.set_xlabel("share of participants who raised it (95% Wilson CI)")
    ax.grid(axis="x", color="#eeeeee")
    ax.set_axisbelow(True)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ax.set_title(title or f"{_label(kind)}s: how many said it, and do the numbers agree?", fontsize=11, loc="left")
    ax.figure.subplots_adjust(right=0.78)
    return ax


def save_map(jmap_or_fig, *, path, dpi: int | None = None, **kwargs) -> Path:
    """Save a map (or a figure from :func:`plot_map`) as PNG, SVG or PDF, by file suffix.

    Parameters
    ----------
    jmap_or_fig : JourneyMap or Figure
    path : str or Path
        ``.png``, ``.svg`` or ``.pdf``.
    dpi : int, optional
        Resolution of PNG output. A map is laid out at this resolution (default 150); a figure
        is saved at its own resolution unless given (the layout was measured at it).
    **kwargs
        Passed to :func:`plot_map` when a map is given.

    Returns
    -------
    Path
    """
    # lazy: matplotlib.pyplot adds ~0.8 s to `import journeylab` (measured; docs/architecture.md)
    import matplotlib
    import matplotlib.pyplot as plt
    from matplotlib.figure import Figure

    if not isinstance(jmap_or_fig, (JourneyMap, Figure)):
        raise JourneylabError(f"save_map(): `jmap_or_fig` must be a JourneyMap or a matplotlib Figure from "
                              f"plot_map(); got {type(jmap_or_fig).__name__}.")
    path = Path(check_path(path, arg="path", func="save_map"))
    fmt = path.suffix.lower().lstrip(".")
    if fmt not in ("png", "svg", "pdf"):
        raise JourneylabError(f"save_map(): {path.name}: expected a .png, .svg or .pdf file name; found "
                              f"'.{fmt}'.")
    if isinstance(jmap_or_fig, Figure):
        fig = jmap_or_fig
    else:
        layout_dpi = (dpi or 150) if fmt == "png" else 100  # vector output: any layout resolution
        fig = plot_map(jmap_or_fig, dpi=layout_dpi, **kwargs)
    path.parent.mkdir(parents=True, exist_ok=True)
    meta = {"png": {"Software": "journeylab"}, "svg": {"Date": None}, "pdf": {"CreationDate": None,
                                                                                "ModDate": None}}[fmt]
    with matplotlib.rc_context({"svg.hashsalt": "journeylab"}):  # stable SVG ids: same map, same bytes
        fig.savefig(path, dpi=(dpi or fig.dpi) if fmt == "png" else fig.dpi, format=fmt, metadata=meta,
                    facecolor="white")
    if not isinstance(jmap_or_fig, Figure):
        plt.close(fig)
    return path
