"""The standalone HTML report of a journey map: one file a team can e-mail.

:func:`to_html` writes priorities first, then the map (a PNG inlined as base64), what changed
since an earlier map, per stage every claim with its evidence (redacted quotes linked to their
source context, numbers with CIs, the grade and why), the source context of every quote, a
methods section generated from what was run, and the run manifest. The file has no external
resource at all (CSS inline, no script, no font or image URL), and every text that came from data
is HTML-escaped.
"""
from __future__ import annotations

__all__ = ["to_html", "render_html", "replace_manifest", "to_pdf"]

import base64
import datetime as _dt
import html
import io
import json
import math
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import pandas as pd

from ..errors import JourneylabError
from ..evidence.claims import GradingRules
from ..study.load import PERIOD_DAYS
from . import decision as _d
from .journey_map import ALL_PERSONAS_WARNING as _ALL_WARNING
from .journey_map import (
    JourneyMap,
    compare_maps,
    compare_personas,
    order_claims,
    prioritise,
    register_view,
    vocabulary_of,
)
from .render import LANES, disagreement_text, lane_cell, plot_map

_CSS = """
:root { --ink:#1d1d1d; --muted:#555555; --line:#d9d9d9; --blue:#0072B2; --verm:#D55E00; --green:#009E73;
        --orange:#E69F00; --grey:#8c8c8c; --bg:#fafafa; }
* { box-sizing: border-box; }
body { font-family: "DejaVu Sans", "Helvetica Neue", Arial, sans-serif; color: var(--ink); margin: 0;
       background: white; line-height: 1.45; font-size: 15px; }
main { max-width: 1180px; margin: 0 auto; padding: 24px 28px 80px; }
h1 { font-size: 1.8em; margin: 0.2em 0 0.1em; } h2 { border-bottom: 2px solid var(--blue); padding-bottom: 4px;
     margin-top: 2.2em; } h3 { margin: 1.4em 0 0.4em; }
nav { font-size: 0.92em; margin: 0.6em 0 1em; } nav a { margin-right: 1em; }
a { color: #005a8c; } .muted { color: var(--muted); } .small { font-size: 0.86em; }
.warning { background: #fff4e0; border: 1px solid var(--orange); border-radius: 6px; padding: 8px 12px; margin: 8px 0; }
table { border-collapse: collapse; width: 100%; margin: 0.6em 0 1em; font-size: 0.92em; }
th, td { border-bottom: 1px solid var(--line); padding: 5px 7px; text-align: left; vertical-align: top; }
th { background: #f0f4f8; font-weight: 600; } td.num { text-align: right; white-space: nowrap; }
.grade { text-decoration: none; display: inline-block; padding: 1px 8px; border-radius: 10px; \
font-size: 0.82em; font-weight: 600;
         white-space: nowrap; border: 1.5px solid; }
.grade-strong { background: #b34700; border-color: #b34700; color: white; }
.grade-quantitative_only { background: #005a8c; border-color: #005a8c; color: white; }
.grade-qualitative_only { background: white; border-color: var(--orange); color: #8a5a00; }
.grade-weak { background: white; border-color: var(--grey); color: var(--muted); }
.grade-contradicted { background: #ececec; border-color: #555; color: #333; text-decoration: line-through; }
.delight .grade-strong { background: #00704f; border-color: #00704f; }
.claim { border: 1px solid var(--line); border-left: 5px solid var(--verm); border-radius: 6px; padding: 10px 14px;
         margin: 10px 0; background: white; }
.claim.delight { border-left-color: var(--green); } .claim.need, .claim.behaviour { border-left-color: var(--blue); }
.claim.contradicted { border-left-color: #777; background: #fbfbfb; }
.claim h4 { margin: 0 0 4px; font-size: 1.05em; }
.reason { font-size: 0.9em; color: #333; background: var(--bg); padding: 6px 9px; border-radius: 4px; }
blockquote { margin: 8px 0; padding: 4px 12px; border-left: 3px solid var(--line); font-style: italic; }
blockquote .who { font-style: normal; font-size: 0.85em; color: var(--muted); }
.context { border: 1px solid var(--line); border-radius: 6px; padding: 8px 12px; margin: 10px 0; }
.context:target { outline: 3px solid var(--orange); }
.turn { margin: 4px 0; } .turn .spk { font-weight: 600; margin-right: 6px; }
.turn.quote { background: #fff7d6; border-radius: 4px; padding: 2px 4px; }
.turn.interviewer { color: var(--muted); }
figure { margin: 0; } figure img { width: 100%; height: auto; border: 1px solid var(--line); }
figcaption { font-size: 0.86em; color: var(--muted); }
.beyond { font-weight: 600; color: #a33f00; }
pre { background: var(--bg); padding: 8px; overflow-x: auto; font-size: 0.82em; }
a:focus-visible, button:focus-visible, select:focus-visible, [tabindex]:focus-visible {
  outline: 3px solid #1d1d1d; outline-offset: 2px; box-shadow: 0 0 0 5px #ffd166; }
.skip { position: absolute; left: -9999px; } \
.skip:focus { left: 8px; top: 8px; background: white; padding: 6px; z-index: 9; }
.sr-only { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
.first-page { border: 2px solid var(--blue); border-radius: 8px; padding: 4px 20px 12px; margin: 12px 0 20px; }
.first-page h2 { margin-top: 0.6em; } .lead { font-size: 1.08em; }
.decisions li { margin: 0 0 8px; } .headline td, .headline th { padding: 3px 7px; }
.filters { background: #f0f4f8; border-radius: 6px; padding: 8px 12px; margin: 10px 0; display: flex; gap: 10px;
           flex-wrap: wrap; align-items: center; position: sticky; top: 0; z-index: 5; }
.filters select, .filters button { font-size: 0.95em; padding: 2px 6px; }
.table-scroll { overflow-x: auto; } td.assumed { font-weight: 700; }
.methods dt { font-weight: 600; margin-top: 6px; } .methods dd { margin: 0 0 4px 16px; }
.methods dt:target, .methods dt:target + dd { background: #fff4e0; }
[hidden] { display: none !important; }
@media print { nav, .noprint, .filters, .skip, .appendix, #map-table, .table-scroll, blockquote, .reason,
  .claim table { display: none !important; }
  main { max-width: none; padding: 0; } body { font-size: 11px; }
  .first-page { break-after: page; border: none; padding: 0; }
  .claim { break-inside: avoid; padding: 4px 8px; margin: 4px 0; } h2 { break-after: avoid; }
  figure { break-inside: avoid; } }
"""


def _e(x) -> str:
    """Escape any value for HTML text or a quoted attribute."""
    if x is None:
        return ""
    try:
        if pd.isna(x):
            return ""
    except (TypeError, ValueError):
        pass
    return html.escape(str(x), quote=True)


def _anchor(prefix: str, key) -> str:
    """A safe, unique-enough element id."""
    safe = re.sub(r"[^A-Za-z0-9_-]", "_", str(key))
    return f"{prefix}-{safe}"


def _pct(x, digits=0) -> str:
    if x is None or pd.isna(x):
        return "–"
    return f"{100 * x:.{digits}f}%"


def _ci_pct(lo, hi) -> str:
    if lo is None or hi is None or pd.isna(lo) or pd.isna(hi):
        return ""
    return f" (95% CI {100 * lo:.0f}–{100 * hi:.0f}%)"


def _signed(v, fmt="+.2f") -> str:
    """Format a number, writing a value that rounds to zero as 0 (never "-0")."""
    s = format(v, fmt)
    return s.lstrip("+-") if float(s) == 0 else s


def _ci_num(lo, hi, fmt="+.2f") -> str:
    if lo is None or hi is None or pd.isna(lo) or pd.isna(hi):
        return ""
    return f" (95% CI {_signed(lo, fmt)} to {_signed(hi, fmt)})"


def _num2(x) -> str:
    return "–" if x is None or pd.isna(x) else f"{x:.2f}"


def _label(name) -> str:
    """A display name (kept for callers of the old helper): see :func:`journeylab.map.decision.display_name`."""
    return _d.display_name(name)


def _grade(g) -> str:
    if g is None or (not isinstance(g, str) and pd.isna(g)):
        return ""
    text = _d.GRADE_NAMES.get(str(g), _d.display_name(g)).lower()
    return (f"<a class='grade grade-{_e(g)}' href='#method-grades' title='how grades are given'>"
            f"{_e(text)}</a>")


def _map_png(jmap, dpi: int) -> str:
    # lazy: matplotlib.pyplot adds ~0.8 s to `import journeylab` (measured; docs/architecture.md)
    import matplotlib.pyplot as plt

    fig = plot_map(jmap, dpi=dpi)  # laid out at the resolution it is saved at
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, metadata={"Software": "journeylab"}, facecolor="white")
    plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def _names(jmap, study=None) -> dict:
    return _d.names_of(jmap, study)


def _h(text, names) -> str:
    """A generated sentence with internal identifiers replaced by display names, escaped."""
    return _e(_d.humanise(text, names))


def _dn(x, names) -> str:
    return _d.display_name(x, names)


def _clock(seconds) -> str:
    """Seconds into a recording as ``m:ss`` or ``h:mm:ss``."""
    s = int(round(float(seconds)))
    h, rest = divmod(s, 3600)
    m, sec = divmod(rest, 60)
    return f"{h}:{m:02d}:{sec:02d}" if h else f"{m}:{sec:02d}"


def _where_said(info: dict) -> str:
    """Who said a quote and when: ``P07, 12:41`` (the time when the transcript has times)."""
    who = info.get("participant_id") or info.get("speaker") or "participant"
    t = info.get("time_start")
    if t is not None and not (isinstance(t, float) and math.isnan(t)):
        return f"{who}, {_clock(t)}"
    return str(who)


def _claim_key(r: dict) -> tuple:
    """What makes two maps' claims the same claim (their ids carry the persona)."""
    return tuple("" if pd.isna(r.get(k)) else str(r.get(k)) for k in ("stage", "touchpoint", "kind", "code", "metric"))


def _persona_index(jmap, personas) -> dict:
    """claim id (of ``jmap``) → personas whose own map holds the claim, raised by at least one of them."""
    ids = {_claim_key(r): r["claim_id"] for r in jmap.claims().to_dict("records")}
    out: dict = {}
    for m in personas or []:
        c = m.claims()
        for r in c[c["n_participants"].fillna(0).astype(int) > 0].to_dict("records"):
            cid = ids.get(_claim_key(r))
            if cid is not None:
                out.setdefault(cid, []).append(m.persona)
    return out


def _data_attrs(stage, grade, personas_of: list | None) -> str:
    pers = "" if personas_of is None else f" data-personas='{_e('|' + '|'.join(personas_of) + '|')}'"
    return f" data-stage='{_e(stage)}' data-grade='{_e(grade)}'{pers}"


# ----------------------------------------------------------------------------- first page


def _metric_anchor(metric: str) -> str:
    """An id-safe anchor for a headline metric (``task:T 4`` → ``task-T-4``)."""
    return re.sub(r"[^A-Za-z0-9_-]+", "-", str(metric)).strip("-")


def _metric_cell(r: dict, anchor: str) -> str:
    if pd.isna(r["ci_low"]) or pd.isna(r["ci_high"]):
        ci = "no interval (too few answers)"
    elif r["unit"] == "points":
        ci = f"95% CI {_signed(r['ci_low'], '+.1f')} to {_signed(r['ci_high'], '+.1f')}"
    elif r["unit"] == "score":
        ci = f"95% CI {r['ci_low']:.1f} to {r['ci_high']:.1f}"
    else:
        d = 1 if r["metric"] == "conversion" else 0
        ci = f"95% CI {100 * r['ci_low']:.{d}f}–{100 * r['ci_high']:.{d}f}%"
    return (f"<tr data-metric='{_e(r['metric'])}'><th scope='row'>{_e(r['label'])}</th>"
            f"<td class='num headline-value'><a href='#{anchor}'>{_e(r['text'])}</a></td>"
            f"<td class='small'>{_e(ci)}</td><td class='num small'>{int(r['n']):,}</td></tr>")


def _first_page(jmap, study, names, personas_link: bool) -> str:
    out = ["<section id='first-page' class='first-page' aria-labelledby='first-page-h'>"
           "<h2 id='first-page-h'>Summary for decision makers</h2>",
           f"<p class='lead' id='study-sentence'>{_e(_d.study_sentence(jmap, study))}</p>"]
    eff = None
    if study is not None:
        h = _d.headline_metrics(study)
        if len(h):
            main = h[h["metric"].isin(["nps", "conversion"]) | h["metric"].str.startswith("questionnaire:")]
            cs = h[h["metric"].str.startswith(("csat:", "task:"))]
            out.append("<h3>Headline numbers</h3><table id='headline' class='headline'><thead><tr><th scope='col'>"
                       "metric</th><th scope='col'>value</th><th scope='col'>uncertainty</th><th scope='col'>"
                       "base of the value (answers / users)</th></tr></thead><tbody>")
            for r in main.to_dict("records"):
                out.append(_metric_cell(r, f"method-{_metric_anchor(r['metric'])}"))
            for r in cs.to_dict("records"):
                out.append(_metric_cell(r, "method-csat" if r["metric"].startswith("csat:")
                                        else f"method-{_metric_anchor(r['metric'])}"))
            out.append("</tbody></table>")
        eff = _d.change_effect(study)
        out.append("<h3>What changed during the study</h3>")
        if eff is None:
            out.append("<p>The study records no change made while it ran.</p>")
        elif "difference" not in eff:
            out.append(f"<p id='change-effect'>{_e(_plain_sentence(eff.get('name')))} "
                       f"({_e(pd.Timestamp(eff['date']).strftime('%d %B %Y'))}): no before/after measure — "
                       f"{_h(eff['reason'], names)}.</p>")
        else:
            step = f"{_dn(eff['steps'][0], names).lower()} → {_dn(eff['steps'][1], names).lower()}"
            verdict = ("a rise beyond the noise" if eff["ci_low"] > 0 else "a fall beyond the noise"
                       if eff["ci_high"] < 0 else "not distinguishable from no change with these numbers")
            out.append(
                f"<p id='change-effect'><b>{_e(_plain_sentence(eff['name']))}</b> on "
                f"{_e(pd.Timestamp(eff['date']).strftime('%d %B %Y'))}. The step {_e(step)} converted "
                f"<a href='#method-change'><span class='change-before'>{100 * eff['rate_before']:.1f}%</span> before → "
                f"<span class='change-after'>{100 * eff['rate_after']:.1f}%</span> after</a>: "
                f"<b class='change-diff'>{100 * eff['difference']:+.1f} points</b> (95% CI "
                f"{100 * eff['ci_low']:+.1f} to {100 * eff['ci_high']:+.1f}; {eff['n_before']:,} users before, "
                f"{eff['n_after']:,} after) — {_e(verdict)}. A before/after comparison is not an experiment: "
                "<a href='#method-change'>what else could explain it</a>.</p>")
    else:
        out.append("<p class='muted'>Headline metrics need the study: pass <code>study=</code> to the report.</p>")
    d = _d.decisions(jmap)
    out.append("<h3>What to do next</h3>")
    if len(d) == 0:
        out.append("<p>No pain point has enough evidence to act on yet.</p>")
    else:
        out.append("<ol id='decisions' class='decisions'>")
        for r in d.to_dict("records"):
            extra = ""
            if eff and "difference" in eff and r["touchpoint"] and r["touchpoint"] == eff.get("touchpoint"):
                extra = (f" <span class='small'>The change made during the study is at this touchpoint: "
                         f"{100 * eff['difference']:+.1f} points on its funnel step so far.</span>")
            owner = f" <span class='muted'>— {_e(r['owner'])}</span>" if isinstance(r["owner"], str) else ""
            out.append(f"<li{_data_attrs(r['stage'], r['grade'], None)}><b>{_e(r['decision'])}</b>{owner}<br>"
                       f"<span class='small'>{_e(r['title'])}. Confidence <b>{_e(r['confidence'])}</b>. "
                       f"<a href='#{_e(_anchor('claim', r['claim_id']))}'>Evidence</a>.</span>{extra}</li>")
        out.append("</ol>")
    ns = _d.not_supported(jmap, effect=eff)
    out.append("<h3>What the evidence does not support</h3>")
    if ns:
        out.append("<ul id='not-supported'>" + "".join(
            f"<li>{_e(x['text'])}" + (f" <a href='#{_e(_anchor('claim', x['claim_id']))}'>Evidence</a>."
                                       if x["claim_id"] else "") + "</li>" for x in ns) + "</ul>")
    else:
        out.append("<p>Every claim is backed by interviews, numbers or both.</p>")
    caveats = [w for w in jmap.warnings if w != _ALL_WARNING]
    if caveats:
        out.append("<p class='small'><b>Caveats:</b> " + " ".join(_h(w, names) for w in caveats) + "</p>")
    if jmap.persona == "all" and any(w == _ALL_WARNING for w in jmap.warnings):
        out.append("<p class='small'>This summary pools every persona. "
                   + ("<a href='#personas'>Compare the personas</a> before acting on it." if personas_link else
                      "No per-persona map was included in this report.") + "</p>")
    out.append("</section>")
    return "".join(out)


def _plain_sentence(x) -> str:
    s = str(x or "the change")
    return s[:1].upper() + s[1:]


def _priorities(jmap, names, sizing, personas_of) -> str:
    lo, hi = sizing.get("recovery_range", (sizing["recovery"],) * 2)
    p = prioritise(jmap, recovery=(lo, hi) if hi > lo else lo)
    period = vocabulary_of(jmap)["period"]
    per = PERIOD_DAYS[period] / 7
    if len(p) == 0:
        return "<p class='muted'>No pain points were found.</p>"
    rows = []
    for r in p.to_dict("records"):
        where = (f"{_dn(r['stage'], names)} · {_dn(r['touchpoint'], names)}" if r["touchpoint"]
                 else _dn(r["stage"], names))
        name = _dn(r["code"], names) if r["code"] else _d.humanise(r["claim"], names)
        size = []
        if not pd.isna(r["step_lost_per_week"]):
            size.append(f"{r['step_lost_per_week'] * per:,.0f} users/{period} lost at {_dn(r['step'], names).lower()}")
        if not pd.isna(r["nps_gap"]):
            size.append(f"recommendation score gap {r['nps_gap']:+.0f}"
                        f"{_ci_num(r['nps_gap_ci_low'], r['nps_gap_ci_high'], '+.0f')}")
        sent = "" if pd.isna(r["sentiment_mean"]) else (
            f"{r['sentiment_mean']:+.2f}{_ci_num(r['sentiment_ci_low'], r['sentiment_ci_high'])}")
        link = (f"<a href='#{_e(_anchor('claim', r['claim_id']))}'>evidence"
                f"<span class='sr-only'> for {_e(name)}</span></a>")
        todo = ""
        if isinstance(r.get("opportunity"), str):
            todo = f"<br><span class='small'>→ {_h(r['opportunity'], names)}" + (
                f" <span class='muted'>({_e(r['owner'])})</span>" if isinstance(r.get("owner"), str) else ""
            ) + "</span>"
        attrs = _data_attrs(r["stage"], r["grade"],
                            personas_of.get(r["claim_id"], []) if personas_of is not None else None)
        rows.append(
            f"<tr class='filterable'{attrs}><td class='num'>{int(r['rank'])}</td><td><b>{_e(name)}</b><br>"
            f"<span class='small muted'>{_e(where)}</span>{todo}</td><td>{_grade(r['grade'])}</td>"
            f"<td>{_e(r['n_participants'])} of {_e(r['n_participants_total'])} participants, "
            f"{_e(_pct(r['share_participants']))}"
            f"<span class='small'>{_e(_ci_pct(r['share_ci_low'], r['share_ci_high']))}</span></td>"
            f"<td class='small'>{_e(sent)}</td><td class='small'>{_e('; '.join(size))}</td>"
            f"<td class='small'>{_h(r['upside'], names)}</td><td class='num small'><a href='#method-score'>"
            f"{r['score']:.2f}</a></td><td>{link}</td></tr>")
    return ("<table id='priorities'><caption class='sr-only'>Pain points ranked by priority score</caption><thead><tr>"
            "<th scope='col'>#</th><th scope='col'>pain point → opportunity (owner)</th><th scope='col'>grade</th>"
            "<th scope='col'>how many</th><th scope='col'>sentiment</th><th scope='col'>size</th>"
            "<th scope='col'>upside if fixed</th><th scope='col'>score</th><th scope='col'>link</th></tr></thead>"
            "<tbody>"
            + "".join(rows) + "</tbody></table>"
            f"<p class='small muted' id='score-footnote'>{_e(_d.score_footnote())} "
            "<a href='#method-score'>More on the score</a>.</p>")


def _share_text(lo: float, hi: float) -> str:
    return f"{100 * lo:.0f}%" if hi <= lo else f"{100 * lo:.0f}–{100 * hi:.0f}% (middle {50 * (lo + hi):.0f}%)"


def _sizing_section(jmap, names, sizing) -> str:
    vocab = vocabulary_of(jmap)
    conv, period = vocab["conversion"], vocab["period"]
    cur = sizing["currency"]
    value = sizing["value_per_conversion"]
    lo, hi = sizing.get("recovery_range", (sizing["recovery"],) * 2)
    rk = (jmap.methods or {}).get("ranking") or {}
    ranked = ""
    if rk.get("steps"):
        ranked = (f"Ranked and sized on the events after the last recorded change, {rk['change']} of {rk['date']} "
                  f"({rk['events']:,} events to {str(rk['events_to'])[:10]}): before it the funnel described another "
                  "product. The evidence and grades below use the whole period.")
    elif rk.get("note"):
        ranked = f"The last recorded change, {rk['change']} of {rk['date']}: {rk['note']}."
    out = ["<h3 id='sizing'>Sizing: assumptions you can change</h3><ul class='small'>",
           f"<li>Recovery share: a fix recovers <b>{_share_text(lo, hi)}</b> of its funnel step's drop-off "
           "(" + ("from study.yml" if sizing.get("recovery_source", sizing["source"]) == "study.yml" else
                  "default; set sizing: recovery: in study.yml, a share or a range [low, high]") + ").</li>",
           *([f"<li>{_e(ranked)}</li>"] if ranked else []),
           "<li>Value per " + _e(conv.rstrip('s') if conv.endswith('s') else conv) + ": "
           + (f"<b>{_e(f'{value:,.2f}'.rstrip('0').rstrip('.'))} {_e(cur)}</b> (study.yml)" if value is not None else
              "not given (set <code>sizing: value_per_conversion:</code> in study.yml to see the upside as money)")
           + "</li>",
           "<li>Effort per opportunity: " + (", ".join(f"{_e(_dn(k, names))} {_e(v)} {_e(sizing['effort_unit'])}"
                                                     for k, v in sizing["effort"].items()) if sizing["effort"]
                                           else "not given (<code>sizing: effort:</code> in study.yml)") + "</li>",
           ("<li>The upside's interval covers the sampling uncertainty of the loss and of onward conversion and the "
            "recovery share, drawn uniformly from its range; the table below shows single shares.</li></ul>"
            if hi > lo else
            "<li>The upside's interval covers the sampling uncertainty of the loss and of onward conversion, not the "
            "recovery share (one value): read the table below for that, or give a range in study.yml.</li></ul>")]
    sens = _d.sensitivity(jmap, sizing=sizing)
    sens = sens[sens["upside_per_period"].notna()]
    if len(sens) == 0:
        out.append("<p class='small muted'>None of the top decisions is linked to a funnel step, so there is no "
                   "upside in " + _e(conv) + " to size.</p>")
        return "".join(out)
    shares = sorted(sens["recovery"].unique())
    has_value = value is not None
    out.append("<table id='sensitivity' class='small'><caption>Extra " + _e(conv) + " a " + _e(period)
               + (f" (and their value, {_e(cur)})" if has_value else "") + " if a fix recovers this share of the "
               "step's drop-off</caption><thead><tr><th scope='col'>decision</th>"
               + "".join(f"<th scope='col' class='num'>{100 * s:.0f}%</th>" for s in shares) + "</tr></thead><tbody>")
    for cid, g in sens.groupby("claim_id", sort=False):
        cells = []
        for s in shares:
            row = g[g["recovery"] == s].iloc[0]
            up = row["upside_per_period"]
            txt = f"{up:,.1f}" if abs(up) >= 1 or up == 0 else f"{up:.2g}"  # 0.066 a month is not "0.1"
            if has_value:
                txt += f" ({row['value_per_period']:,.0f})"
            cls = "num" + (" assumed" if lo - 1e-9 <= s <= hi + 1e-9 else "")
            cells.append(f"<td class='{cls}'>{_e(txt)}</td>")
        eff = g["effort"].iloc[0]
        title = g["title"].iloc[0] + (f" — effort {float(eff):g} {sizing['effort_unit']}"
                                      if eff is not None and not pd.isna(eff) else "")
        out.append(f"<tr><th scope='row'>{_e(title)}</th>{''.join(cells)}</tr>")
    out.append("</tbody></table><p class='small muted'>The bold columns are the shares assumed above. Pain points "
               "linked to the same step share one drop-off: do not add their rows.</p>")
    return "".join(out)


def _metric_rows(r: dict, names, sources: dict) -> list:
    def src(text):
        if not isinstance(text, str) or not text:
            return ""
        k = sources.setdefault(text, f"method-src-{len(sources) + 1}")
        return f"<a href='#{k}'>how measured</a>"

    mrows = []
    if not pd.isna(r["step_conversion"]):
        mrows.append(("Funnel step", f"{_dn(r['step_from'], names)} → {_dn(r['step'], names).lower()}: "
                      f"{_pct(r['step_conversion'], 1)}{_ci_pct(r['step_ci_low'], r['step_ci_high'])} of "
                      f"{int(r['step_users_from']):,} users; {int(r['step_lost']):,} lost", r["step_signal"],
                      src(r["step_source"])))
    if not pd.isna(r["csat_top2"]):
        mrows.append(("Satisfaction", f"{_dn(r['touchpoint'], names)}: top-2 box {_pct(r['csat_top2'], 1)}"
                      f"{_ci_pct(r['csat_top2_ci_low'], r['csat_top2_ci_high'])}, mean {r['csat_mean']:.2f}"
                      f"{_ci_num(r['csat_mean_ci_low'], r['csat_mean_ci_high'])}, n = {int(r['csat_n']):,}",
                      r["csat_signal"], src(r["csat_source"])))
    if not pd.isna(r.get("task_success_rate", float("nan"))):
        mrows.append(("Usability task", f"{_dn(r['task'], names)}: {int(r['task_successes'])} of {int(r['task_n'])} "
                      f"succeeded unaided, {_pct(r['task_success_rate'], 1)}"
                      f"{_ci_pct(r['task_ci_low'], r['task_ci_high'])}", r["task_signal"], src(r["task_source"])))
    if not pd.isna(r["nps_gap"]) and pd.isna(r["nps_gap_ci_low"]):  # a group below the minimum n: counts only
        n_t, n_o = int(r["nps_n_theme"]), int(r["nps_n_others"])
        mrows.append(("Recommendation score (NPS) of people raising it",
                      f"{n_t:,} survey commenter{' raises' if n_t == 1 else 's raise'} it, {n_o:,} others: too few to "
                      "compare their NPS (no interval)", r["nps_signal"], src(r["nps_source"])))
    elif not pd.isna(r["nps_gap"]):
        mrows.append(("Recommendation score (NPS) of people raising it",
                      f"{r['nps_theme']:+.0f} (n = {int(r['nps_n_theme'])}) vs other commenters "
                      f"{r['nps_others']:+.0f} (n = {int(r['nps_n_others'])}): gap {r['nps_gap']:+.0f}"
                      f"{_ci_num(r['nps_gap_ci_low'], r['nps_gap_ci_high'], '+.0f')}", r["nps_signal"],
                      src(r["nps_source"])))
    return mrows


def _claim_block(jmap, r: dict, names, sources, personas_of) -> str:
    kind = r["kind"]
    name = _dn(r["code"], names) if r["code"] else "Pain point seen only in the numbers"
    cls = f"claim filterable {_e(kind)}" + (" contradicted" if r["grade"] == "contradicted" else "")
    attrs = _data_attrs(r["stage"], r["grade"], personas_of.get(r["claim_id"], []) if personas_of is not None else None)
    out = [f"<article class='{cls}' id='{_e(_anchor('claim', r['claim_id']))}'{attrs}>",
           f"<h4>{_e(name)} {_grade(r['grade'])} <span class='small muted'>{_e(_dn(kind, names))}"
           f"{' · ' + _e(_dn(r['touchpoint'], names)) if r['touchpoint'] else ''}</span></h4>",
           f"<p>{_h(r['claim'], names)}</p>"]
    facts = []
    if r["n_participants_total"]:
        facts.append(f"Raised by <b>{_e(r['n_participants'])} of {_e(r['n_participants_total'])}</b> participants "
                     f"({_e(_pct(r['share_participants']))}"
                     f"{_e(_ci_pct(r['share_ci_low'], r['share_ci_high']).replace(' (', ', ').rstrip(')'))}) "
                     f"in {_e(r['n_segments'])} turn(s)")
        n_rule = r.get("n_participants_rule_only")
        if n_rule is not None and not pd.isna(n_rule) and int(n_rule) > 0:
            prec = r.get("rule_precision")
            facts.append(f"{_e(int(n_rule))} of them on keyword-rule codings alone ("
                         + ("rules' precision not measured" if prec is None or pd.isna(prec) else
                            f"rules' precision against the human coder {prec:.2f}"
                            f"{_e(_ci_pct(r.get('rule_precision_ci_low'), r.get('rule_precision_ci_high')))}")
                         + ")")
    if not pd.isna(r["sentiment_mean"]):
        sm = r["sentiment_mean"]
        facts.append(f"sentiment of those turns <a href='#method-sentiment'>{sm:+.2f}</a>"
                     f"{_e(_ci_num(r['sentiment_ci_low'], r['sentiment_ci_high']))}")
    if facts:
        out.append("<p class='small'>" + "; ".join(facts) + ".</p>")
    mrows = _metric_rows(r, names, sources)
    if mrows:
        out.append("<table class='small'><thead><tr><th scope='col'>linked metric</th><th scope='col'>value</th>"
                   "<th scope='col'>signal</th><th scope='col'>method</th></tr></thead><tbody>"
                   + "".join(f"<tr><td>{_e(a)}</td><td>{_e(b)}</td><td>{_e(c)}</td><td>{d}</td></tr>"
                             for a, b, c, d in mrows) + "</tbody></table>")
    if r["grade_reason"]:
        out.append(f"<p class='reason'>{_h(r['grade_reason'], names)}</p>")
    shown = 0
    for q in [x.strip() for x in str(r["quote_ids"] or "").split(";") if x.strip()]:
        info = jmap.quotes.get(q)
        if not info:
            continue
        shown += 1
        out.append(f"<blockquote>“{_e(info['text'])}”<br><span class='who'>— {_e(_where_said(info))} · "
                   f"<a class='evidence-link' href='#{_e(_anchor('ctx', q))}'>source context</a></span></blockquote>")
    n_turns = r.get("n_segments")
    if shown and not pd.isna(n_turns) and int(n_turns) > shown:  # quotes are capped (evidence_table n_quotes)
        out.append(f"<p class='small muted quote-count'>{shown} of {int(n_turns):,} coded turns quoted.</p>")
    out.append("</article>")
    return "".join(out)


def _stage_section(jmap, stage: str, names, sources, personas_of) -> str:
    out = [f"<section class='stage' id='{_e(_anchor('stage', stage))}' data-stage='{_e(stage)}'>"
           f"<h3>{_e(_dn(stage, names))}</h3>"]
    info = next((s for s in jmap.stages if s["name"] == stage), {})
    bits = []
    if info.get("owner"):
        bits.append(f"Owner: <b>{_e(info['owner'])}</b>")
    if info.get("touchpoints"):
        bits.append("Touchpoints: " + ", ".join(_e(_dn(t, names)) for t in info["touchpoints"]))
    em = jmap.emotion[jmap.emotion["stage"] == stage]
    if len(em) and not pd.isna(em["mean"].iloc[0]):
        r = em.iloc[0]
        ci = _ci_num(r["ci_low"], r["ci_high"]) if r["enough_data"] else ""  # below the minimum n: no interval
        bits.append(f"Emotion <a href='#method-sentiment'>{r['mean']:+.2f}</a>"
                    f"{_e(ci)} from "
                    f"{int(r['n_segments'])} turns of {int(r['n_participants'])} people"
                    + ("" if r["enough_data"] else " <b>(too little data)</b>"))
    if len(em) and not pd.isna(em.iloc[0].get("coded_balance", math.nan)):
        r = em.iloc[0]
        bits.append(f"Emotion in the codes <a href='#method-sentiment'>{r['coded_balance']:+.2f}</a>"
                    f"{_e(_ci_num(r['coded_ci_low'], r['coded_ci_high']))}: {int(r['coded_n_delight'])} of "
                    f"{int(r['coded_n'])} participants with a delight here, {int(r['coded_n_pain'])} with a pain point")
        if bool(r.get("disagree", False)):
            bits.append(f"<span class='warning' role='note'>{_e(disagreement_text(r))} Read the quotes below "
                        "before the curve: <a href='#method-sentiment'>which to trust</a>.</span>")
    if jmap.goals.get(stage):
        bits.append("Goals: " + "; ".join(_h(g, names) for g in jmap.goals[stage]))
    if bits:
        out.append("<p class='small'>" + "<br>".join(bits) + "</p>")
    claims = order_claims(jmap.claims(stage=stage))
    kinds = ["pain_point", "delight", "need", "behaviour"]
    claims = claims.assign(_k=claims["kind"].map({k: i for i, k in enumerate(kinds)})).sort_values("_k", kind="stable")
    if len(claims) == 0:
        out.append("<p class='muted'>No claim at this stage.</p>")
    for r in claims.to_dict("records"):
        out.append(_claim_block(jmap, r, names, sources, personas_of))
    m = jmap.metrics[jmap.metrics["stage"] == stage]
    if len(m):
        out.append("<table class='small'><thead><tr><th scope='col'>metric at this stage</th><th scope='col'>signal"
                   "</th><th scope='col'>method</th></tr></thead><tbody>")
        for r in m.to_dict("records"):
            kind = str(r["metric"]).split(":", 1)[0]
            sig = {"step": r["step_signal"], "csat": r["csat_signal"], "task": r.get("task_signal")}.get(kind)
            src = {"step": r["step_source"], "csat": r["csat_source"], "task": r.get("task_source")}.get(
                kind, "study.yml questionnaire: journeylab.study_questionnaire")
            link = ""
            if isinstance(src, str) and src:
                k = sources.setdefault(src, f"method-src-{len(sources) + 1}")
                link = f"<a href='#{k}'>how measured</a>"
            out.append(f"<tr><td>{_h(r['claim'], names)}</td><td>{_e(sig)}</td><td>{link}</td></tr>")
        out.append("</tbody></table>")
    out.append("</section>")
    return "".join(out)


def _map_table(jmap, names) -> str:
    """The map's lanes as a table: the same cells the image draws, for screen readers and search."""
    head = "".join(f"<th scope='col'>{_e(_dn(s, names))}</th>" for s in jmap.stage_names)
    rows = []
    for key, label, _ in LANES:
        cells = []
        for s in jmap.stage_names:
            if key == "emotion":
                em = jmap.emotion[jmap.emotion["stage"] == s]
                if len(em) and not pd.isna(em["mean"].iloc[0]):
                    r = em.iloc[0]
                    word = "positive" if r["mean"] > 0.05 else "negative" if r["mean"] < -0.05 else "neutral"
                    txt = [f"{word} ({r['mean']:+.2f}{_ci_num(r['ci_low'], r['ci_high'])})" if r["enough_data"]
                           else f"{word} ({r['mean']:+.2f}, {int(r['n_participants'])} people: too little data)"]
                    if not pd.isna(r.get("coded_balance", math.nan)):
                        txt.append(f"codes {r['coded_balance']:+.2f}{_ci_num(r['coded_ci_low'], r['coded_ci_high'])}"
                                   f": {int(r['coded_n_delight'])} delight, {int(r['coded_n_pain'])} pain point of "
                                   f"{int(r['coded_n'])}")
                    if bool(r.get("disagree", False)):
                        txt.append(disagreement_text(r))
                else:
                    txt = ["no interview data"]
            else:
                items, _ = lane_cell(jmap, key, s)
                txt = [str(i.get("text", "")) for i in items]
                # what the image says with marker shapes and colours, said in words
                if key in ("pain_points", "delights"):
                    c = order_claims(jmap.claims("pain_point" if key == "pain_points" else "delight", s))
                    if len(c) == len(txt):
                        txt = [f"{t} ({_d.GRADE_NAMES.get(g, g).lower()})" for t, g in zip(txt, c["grade"])]
                elif key == "metrics":
                    m = jmap.metrics[jmap.metrics["stage"] == s]
                    sig = m["step_signal"].where(m["step_signal"].notna(), m["csat_signal"])
                    sig = sig.iloc[sig.map({"problem": 0, "inconclusive": 1, "healthy": 2}).fillna(3)
                                   .argsort(kind="stable")]
                    if len(sig) == len(txt):
                        txt = [f"{t} — {g}" for t, g in zip(txt, sig)]
            cells.append("<td>" + "<br>".join(_h(t, names) for t in txt) + "</td>")
        rows.append(f"<tr><th scope='row'>{_e(label)}</th>{''.join(cells)}</tr>")
    return ("<div class='table-scroll' tabindex='0' role='region' aria-labelledby='map-table-caption'>"
            "<table id='map-table' class='small'><caption id='map-table-caption'>The journey map as a table: "
            "one row per lane, one column per stage</caption><thead><tr><th scope='col'>lane</th>" + head
            + "</tr></thead><tbody>" + "".join(rows) + "</tbody></table></div>")


def _filters(jmap, names, personas) -> str:
    opts = lambda vals: "".join(f"<option value='{_e(v)}'>{_e(t)}</option>" for v, t in vals)  # noqa: E731
    grades = [g for g in _d.GRADE_NAMES if (jmap.claims()["grade"] == g).any()]
    out = ["<form id='filters' class='filters noprint' hidden aria-label='Filter claims'>"
           "<span class='filters-title'>Show only:</span>"]
    if personas:
        out.append("<label for='filter-persona'>persona</label><select id='filter-persona' data-filter='personas'>"
                   "<option value=''>all personas</option>" + opts([(m.persona, m.persona) for m in personas])
                   + "</select>")
    out.append("<label for='filter-stage'>stage</label><select id='filter-stage' data-filter='stage'>"
               "<option value=''>all stages</option>" + opts([(s, _dn(s, names)) for s in jmap.stage_names])
               + "</select>")
    out.append("<label for='filter-grade'>grade</label><select id='filter-grade' data-filter='grade'>"
               "<option value=''>all grades</option>" + opts([(g, _d.GRADE_NAMES[g]) for g in grades]) + "</select>")
    out.append("<button type='reset' id='filter-reset'>Show all</button>"
               "<span id='filter-status' role='status' aria-live='polite'></span></form>")
    return "".join(out)


#: The report's only script: filters claims by their data attributes. It holds no data, reads no
#: URL and loads nothing; without it every claim is shown (the filter form stays hidden).
_FILTER_JS = """
(function () {
  var form = document.getElementById('filters');
  if (!form) { return; }
  form.hidden = false;
  var selects = form.querySelectorAll('select');
  function apply() {
    var items = document.querySelectorAll('.filterable');
    var shown = 0, claims = 0;
    items.forEach(function (el) {
      var ok = true;
      selects.forEach(function (s) {
        var v = s.value, key = s.getAttribute('data-filter');
        if (!v) { return; }
        var have = el.getAttribute('data-' + key);
        if (have === null) { return; }
        if (key === 'personas') { ok = ok && have.indexOf('|' + v + '|') >= 0; }
        else { ok = ok && have === v; }
      });
      el.hidden = !ok;
      if (el.tagName === 'ARTICLE') { claims += 1; if (ok) { shown += 1; } }
    });
    document.querySelectorAll('section.stage').forEach(function (sec) {
      var st = form.querySelector("select[data-filter='stage']").value;
      sec.hidden = !!st && sec.getAttribute('data-stage') !== st;
    });
    document.getElementById('filter-status').textContent = shown + ' of ' + claims + ' claims shown';
  }
  selects.forEach(function (s) { s.addEventListener('change', apply); });
  form.addEventListener('reset', function () { setTimeout(apply, 0); });
  apply();
})();
"""


def _context_section(jmap) -> str:
    out = ["<h2 id='sources'>Source context of every quote</h2><p class='small muted'>Each quote with the turns "
           "around it, as transcribed (personal data redacted). The quoted turn is highlighted; the position is "
           "given as time in the recording (when the transcript has times) and as characters in the transcript "
           "file.</p>"]
    for q, info in jmap.quotes.items():
        t = info.get("time_start")
        when = f"{_clock(t)} into the recording, " if t is not None and not pd.isna(t) else ""
        out.append(f"<div class='context' id='{_e(_anchor('ctx', q))}'><p class='small'><b>{_e(q)}</b> — participant "
                   f"{_e(info.get('participant_id'))}, transcript {_e(info.get('doc_id'))}, {_e(when)}characters "
                   f"{_e(info.get('start'))}–{_e(info.get('end'))}</p>")
        for turn in info.get("context", []):
            cls = "turn" + (" quote" if turn.get("is_quote") else "") + (
                " interviewer" if turn.get("speaker_role") == "interviewer" else "")
            out.append(f"<div class='{cls}'><span class='spk'>{_e(turn.get('speaker'))}:</span>"
                       f"{_e(turn.get('text'))}</div>")
        out.append("</div>")
    return "".join(out)


def _changes_section(changes: pd.DataFrame, old_title: str | None, names) -> str:
    head = "<h2 id='changes'>What changed</h2>"
    if old_title:
        head += f"<p class='small muted'>Compared with: {_e(old_title)}</p>"
    if changes is None or len(changes) == 0:
        return head + "<p>Nothing changed.</p>"
    rows = []
    for r in changes.to_dict("records"):
        beyond = r.get("beyond_ci")
        flag = ""
        if beyond is True:
            flag = "<span class='beyond'>beyond the uncertainty</span>"
        elif beyond is False:
            flag = "<span class='muted'>within the noise</span>"
        rows.append(f"<tr><td>{_e(str(r['change']).replace('_', ' '))}</td>"
                    f"<td>{_e(_dn(r['stage'], names) if r['stage'] else '')}"
                    f"</td><td>{_h(r['detail'], names)}</td><td>{flag}</td></tr>")
    n_beyond = int((changes["beyond_ci"] == True).sum())  # noqa: E712
    counts = changes["change"].value_counts()
    summary = ", ".join(f"{v} {k.replace('_', ' ')}" for k, v in counts.items())
    return (head + f"<p>{_e(summary)}; {n_beyond} move(s) beyond the uncertainty.</p>"
            "<table><thead><tr><th scope='col'>change</th><th scope='col'>stage</th><th scope='col'>what</th>"
            "<th scope='col'>beyond noise?</th></tr></thead><tbody>" + "".join(rows) + "</tbody></table>")


def _personas_section(maps, names) -> str:
    wide = compare_personas(maps, view="wide")
    personas = [m.persona for m in maps]
    head = ("<h2 id='personas'>Personas side by side</h2><p class='small muted'>Share of each persona's participants "
            "raising the theme · its grade in that persona's map; 'Emotion' rows give the stage's mean sentiment of "
            "the words, 'Coded emotion' rows the codes' balance (share with a delight − share with a pain point). "
            "Small groups: read the grades, not the percentages.</p>")
    rows = "".join("<tr>" + f"<td>{_e(_dn(r['stage'], names))}</td><td>{_e(_dn(r['code'], names))}</td>"
                   + "".join(f"<td>{_h(r[p], names)}</td>" for p in personas) + "</tr>"
                   for r in wide.to_dict("records"))
    return (head + "<div class='table-scroll' tabindex='0' role='region' aria-label='Personas side by side'><table>"
            "<thead><tr><th scope='col'>stage</th><th scope='col'>theme</th>"
            + "".join(f"<th scope='col'>{_e(p)}</th>" for p in personas)
            + "</tr></thead><tbody>" + rows + "</tbody></table></div>")


def _method_details(jmap, study, sources: dict) -> str:
    """The statistical detail behind each number of the report, each with the id its numbers link to."""
    out = ["<h2 id='method-details'>How each number was computed</h2><dl class='small methods'>"]

    def item(key, title, text):
        out.append(f"<dt id='{key}'>{_e(title)}</dt><dd>{_e(text)}</dd>")

    if study is not None:
        h = _d.headline_metrics(study)
        for r in h.to_dict("records"):
            if r["metric"] in ("nps", "conversion") or r["metric"].startswith(("questionnaire:", "task:")):
                item(f"method-{_metric_anchor(r['metric'])}", r["label"], f"{r['method']}; n = {int(r['n']):,}; 95% "
                     f"interval; in the run's {r['source']}.")
        cs = h[h["metric"].str.startswith("csat:")]
        if len(cs):
            item("method-csat", "Satisfaction per touchpoint", f"{cs['method'].iloc[0]}; blanks excluded; in the "
                 "run's csat.csv.")
        eff = _d.change_effect(study)
        if eff and "difference" in eff:
            item("method-change", "Before/after the change",
                 f"{eff['design']}. {eff['method']}. p = {eff['p_value']:.2g}. What could mislead: {eff['warnings']}. "
                 f"In {eff['source']}.")
    item("method-grades", "Grades", "Strong: enough participants raised it and a linked metric (funnel step, "
         "satisfaction, recommendation score) shows it. Numbers only: a metric shows it, too few participants "
         "raised it. Interviews only: enough participants, no metric shows it and none rules it out. Weak: "
         "neither. Contradicted: participants raised it but the linked metrics rule it out. Thresholds below "
         "(Methods, grading rules).")
    item("method-score", "Priority score", _d.score_footnote())
    item("method-sentiment", "Sentiment", "Words: VADER compound score from −1 (negative) to +1 (positive) of the "
         "participants' turns; 95% percentile bootstrap over participants. Codes: the share of the stage's "
         "participants with a delight coding minus the share with a pain point, −1 to +1, adjusted-Wald 95% "
         "interval (as for a Net Promoter Score). The two disagree at a stage when one interval lies wholly above "
         "zero and the other wholly below. Spoken words read positive to a lexicon (politeness, hedges, laughter), "
         "so on interviews and think-aloud sessions the codes are the better guide to how a stage felt; on written "
         "comments the lexicon is closer to what it was built for, and catches strength of feeling the codes do "
         "not count.")
    for text, key in sources.items():
        item(key, "Method of a linked metric", text)
    out.append("</dl>")
    return "".join(out)


def _methods_section(jmap) -> str:
    m = jmap.methods or {}
    cb = m.get("codebook", {})
    cod = m.get("codings", {})
    ag = m.get("agreement") or {}
    se = m.get("sentiment", {})
    fu = m.get("funnel", {})
    sm = m.get("sample", {})
    ru = m.get("rules", {})
    li = []
    li.append(f"<li><b>Study</b>: {_e(m.get('study'))}; persona: {_e(m.get('persona'))}; stages: "
              f"{_e(' → '.join(m.get('stages', [])))}."
              + (f" Period: {_e((m.get('period') or {}).get('start') or 'start')} to "
                 f"{_e((m.get('period') or {}).get('end') or 'end')}." if m.get("period") else "") + "</li>")
    li.append(f"<li><b>Sample</b>: {_e(sm.get('participants'))} interviewed participants "
              f"({_e(sm.get('participant_turns'))} participant turns in {_e(sm.get('transcripts'))} transcripts); "
              f"{_e(sm.get('survey_responses'))} survey responses ({_e(sm.get('survey_comments'))} with a comment); "
              f"{_e(sm.get('events'))} events of {_e(sm.get('event_users'))} users from {_e(sm.get('events_from'))} "
              f"to {_e(sm.get('events_to'))}.</li>")
    li.append(f"<li><b>Codebook</b>: {_e(cb.get('name'))}, version {_e(cb.get('version') or 'not set')}, "
              f"{_e(cb.get('n_codes'))} codes.</li>")
    li.append(f"<li><b>Coding</b>: coders {_e(', '.join(cod.get('coders', [])) or 'unknown')} (origins: "
              f"{_e(', '.join(cod.get('origins', [])) or 'unknown')}); {_e(cod.get('n_codings'))} codings on "
              f"{_e(cod.get('n_segments_coded'))} turns of {_e(cod.get('n_documents_coded'))} transcripts. "
              "A turn carries "
              "a code when any coder or rule applied it"
              + (f"; in transcripts a person coded, {_e(cod.get('n_rule_codings_overruled'))} rule codings no person "
                 "confirmed were left out" if cod.get("prefer_human") else "")
              + ". Shares are out of the participants whose transcripts were coded. Survey comments: "
              f"{_e(m.get('survey_coding') or 'not coded')}.</li>")
    chosen = cod.get("analysis") or {}
    if chosen.get("text"):  # jl.analysis_codings: the one set behind every table of the run
        li.append(f"<li id='analysis-codings'><b>Analysis codings</b>: {_e(chosen['text'])} Every table, figure "
                  "and number of this run counts these codings.</li>")
    if ag and "cohen_kappa" in ag:
        li.append(f"<li><b>Inter-coder agreement</b>: {_e(' and '.join(ag.get('coders', [])))} on "
                  f"{_e(ag.get('n_units'))} shared turns ({_e(', '.join(ag.get('documents', [])))}): Cohen's kappa "
                  f"{_e(_num2(ag.get('cohen_kappa')))}"
                  f"{_e(_ci_num(ag.get('ci_low'), ag.get('ci_high'), '.2f'))} ({_e(ag.get('interpretation'))}), "
                  f"Krippendorff's alpha {_e(_num2(ag.get('krippendorff_alpha')))}"
                  ", pooled over codes (segment × code presence).</li>")
    elif ag:
        li.append(f"<li><b>Inter-coder agreement</b>: not computed ({_e(ag.get('error'))}).</li>")
    else:
        li.append("<li><b>Inter-coder agreement</b>: the study holds fewer than two coders' codings.</li>")
    li.append(f"<li><b>Sentiment</b>: VADER, engine {_e(se.get('engine', 'unknown'))}, split "
              f"{_e(se.get('split', 'unknown'))}; interviewer turns excluded; per claim the mean compound of its "
              "turns with a 95% percentile bootstrap over participants; per stage the same over the turns carrying "
              "a code of that stage.</li>")
    steps = fu.get("steps", [])
    li.append(f"<li><b>Funnel</b>: {_e(' → '.join(s if isinstance(s, str) else ' | '.join(s) for s in steps))}; "
              f"window {_e(fu.get('window'))}; {_e(fu.get('counting'))}; conversion from the previous step with "
              "Wilson 95% intervals. A step is linked to the touchpoint of its event (study.yml).</li>")
    li.append("<li><b>Survey</b>: CSAT per touchpoint as top-2-box share (Wilson CI) and mean (t interval with a "
              "quarter answer added at each end of the scale, clipped to the scale), blanks excluded; NPS of "
              "commenters raising a theme vs the other commenters, gap with an adjusted-Wald CI per group "
              "(Rocks 2016).</li>")
    us = m.get("usability") or {}
    if us:
        parts = []
        if us.get("tasks"):
            t = us["tasks"]
            parts.append(f"{_e(t.get('n_tasks'))} tasks, {_e(t.get('n_attempts'))} attempts: {_e(t.get('method'))}; "
                         f"a task signals a problem when ≥ {_e(_pct(ru.get('task_failure_share', 0.5)))} of its "
                         "participants did not succeed unaided")
        if us.get("session_stages"):
            parts.append(f"codings take the stage of the session they are in ("
                         f"{_e(us['session_stages'].get('n_turns'))} "
                         f"turns staged from {_e(', '.join(us['session_stages'].get('sources', [])))}), shares among "
                         "the participants who reached each stage")
        for sc in (us.get("questionnaire") or {}).get("scales", []):
            parts.append(f"{_e(str(sc.get('scale')).upper())} {_e(format(sc.get('mean'), '.1f'))}"
                         f"{_e(_ci_num(sc.get('ci_low'), sc.get('ci_high'), '.1f'))}, n = {_e(sc.get('n'))}"
                         + (f", Sauro–Lewis grade {_e(sc.get('grade'))}" if sc.get("grade") else "")
                         + (f"; against {_e(format(sc['target'], 'g'))} ({_e(sc.get('target_source'))}): "
                            f"{_e(sc.get('signal'))}" if sc.get("target") is not None else ""))
        li.append("<li><b>Usability test</b>: " + "; ".join(parts) + ".</li>")
    rules_text = m.get("rules_text") or GradingRules.from_dict(ru).describe(m.get("targets"))
    li.append("<li><b>Grading rules</b> (those used for this map, GradingRules):<ul>"
              + "".join(f"<li>{_e(t)}</li>" for t in rules_text) + "</ul></li>")
    if m.get("changes"):
        li.append("<li><b>Changes during the study</b>: " + "; ".join(
            f"{_e(c.get('date'))}: {_e(c.get('name'))} ({_e(c.get('touchpoint') or c.get('stage'))})"
            for c in m["changes"]) + ".</li>")
    grades = m.get("claims", {})
    if grades:
        li.append("<li><b>Claims</b>: " + ", ".join(f"{_e(v)} {_e(k.replace('_', ' '))}" for k, v in grades.items())
                  + ".</li>")
    return "<h2 id='methods'>Methods</h2><ul>" + "".join(li) + "</ul>"


def _manifest_section(manifest: dict) -> str:
    if not manifest:
        return "<h2 id='manifest'>Run manifest</h2><p class='muted'>No manifest recorded.</p>"
    out = ["<h2 id='manifest'>Run manifest</h2>"]
    inputs = manifest.get("inputs") or {}
    if inputs:
        out.append("<h3>Input files (SHA-256)</h3><table class='small'><thead><tr><th>file</th><th>sha256</th></tr>"
                   "</thead><tbody>" + "".join(f"<tr><td>{_e(k)}</td><td><code>{_e(v)}</code></td></tr>"
                                               for k, v in inputs.items()) + "</tbody></table>")
    versions = manifest.get("versions") or {}
    if versions:
        out.append("<h3>Versions</h3><table class='small'><tbody>" + "".join(
            f"<tr><td>{_e(k)}</td><td>{_e(v)}</td></tr>" for k, v in versions.items()) + "</tbody></table>")
    rest = {k: v for k, v in manifest.items() if k not in ("inputs", "versions", "outputs", "timings")}
    if rest:
        out.append("<h3>Parameters and other records</h3><pre>"
                   + _e(json.dumps(rest, indent=1, ensure_ascii=False, default=str)) + "</pre>")
    outputs = manifest.get("outputs") or {}
    if outputs:
        out.append("<h3>Outputs (SHA-256)</h3><table class='small'><thead><tr><th>file</th><th>sha256</th></tr>"
                   "</thead><tbody>" + "".join(f"<tr><td>{_e(k)}</td><td><code>{_e(v)}</code></td></tr>"
                                               for k, v in outputs.items()) + "</tbody></table>")
    timings = manifest.get("timings")
    if timings:  # last, in its own block: the only part that changes when a run is repeated
        rows = [(k, v) for k, v in timings.items() if not isinstance(v, dict)]
        rows += [(f"{k}: {name}", f"{sec} s") for k, v in timings.items() if isinstance(v, dict)
                 for name, sec in v.items()]
        out.append("<div id='timings'><h3>Timings</h3><table class='small'><tbody>" + "".join(
            f"<tr><td>{_e(k)}</td><td>{_e(v)}</td></tr>" for k, v in rows) + "</tbody></table></div>")
    return "".join(out)


_MANIFEST_START = "<h2 id='manifest'>"
_MANIFEST_END = "\n<p class='small muted'>Made with journeylab."


def replace_manifest(path, manifest: dict) -> Path:
    """Merge a run manifest into a written report, replacing its manifest section in place.

    ``journeylab run`` calls this when every notebook has run, so the report records the whole
    run (input and output hashes, parameters, seeds, per-notebook timings), not only what the
    map knew when it was built. Nothing else in the file changes.

    Parameters
    ----------
    path : str or Path
        A report written by :func:`to_html`.
    manifest : dict
        The run manifest (:func:`journeylab.manifest.write_manifest`); the section is rendered
        from it alone (``journeylab run`` adds the map's build parameters as ``map_parameters``).

    Returns
    -------
    Path

    Examples
    --------
    >>> import tempfile, pathlib, journeylab as jl
    >>> from journeylab.map.report import replace_manifest
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "r.html"
    >>> _ = path.write_text("<h2 id='manifest'>Run manifest</h2>old\\n<p class='small muted'>Made with journeylab.</p>")
    >>> "seed" in replace_manifest(path, {"seeds": {"seed": 7}}).read_text()
    True
    """
    path = Path(path)
    text = path.read_text(encoding="utf-8")
    start, end = text.find(_MANIFEST_START), text.find(_MANIFEST_END)
    if start < 0 or end < start:
        raise JourneylabError(f"replace_manifest(): {path.name}: no manifest section found (expected a report "
                              "written by journeylab.report.to_html).")
    section = _manifest_section(dict(manifest))
    path.write_text(text[:start] + section + text[end:], encoding="utf-8")
    return path


def render_html(jmap, *, study=None, manifest: dict | None = None, compare_with=None,
                changes: pd.DataFrame | None = None, personas=None, title: str | None = None,
                map_dpi: int = 110) -> str:
    """The report as an HTML string (see :func:`to_html`)."""
    if not isinstance(jmap, JourneyMap):
        raise JourneylabError(f"to_html(): `jmap` must be a JourneyMap; got {type(jmap).__name__}.")
    if compare_with is not None and changes is None:
        changes = compare_maps(compare_with, new=jmap)
    man = dict(jmap.manifest or {})
    if manifest:
        man.update(manifest)
    personas = list(personas) if personas else []
    title = title or jmap.title
    names = _names(jmap, study)
    sizing = _d.sizing_assumptions(study, jmap)
    personas_of = _persona_index(jmap, personas) if personas else None
    sources: dict = {}
    nav = ["<a href='#first-page'>Summary</a>", "<a href='#priorities-h'>What to fix first</a>",
           "<a href='#map'>The map</a>"]
    if changes is not None:
        nav.append("<a href='#changes'>What changed</a>")
    if personas:
        nav.append("<a href='#personas'>Personas</a>")
    nav += ["<a href='#stages'>Evidence by stage</a>", "<a href='#appendix'>Appendix: methods and sources</a>"]
    png = _map_png(jmap, map_dpi)
    parts = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        "<meta name='viewport' content='width=device-width, initial-scale=1'>",
        f"<title>{_e(title)}</title><style>{_CSS}</style></head><body>",
        "<a class='skip' href='#first-page'>Skip to the summary</a><main>",
        f"<h1>{_e(title)}</h1>",
        f"<p class='muted'>Persona: <b>{_e(jmap.persona_card.get('name', jmap.persona))}</b> · "
        f"{_e(jmap.persona_card.get('n_participants', 0))} interviewed participants · "
        f"{_e(len(jmap.claims()))} claims, each with its evidence below.</p>",
        "<nav class='noprint' aria-label='Sections'>" + "".join(nav) + "</nav>",
        _first_page(jmap, study, names, bool(personas)),
    ]
    for w in jmap.warnings:
        link = (" <a href='#personas'>Personas side by side</a>." if w == _ALL_WARNING and personas else
                " (No per-persona map is included in this report.)" if w == _ALL_WARNING else "")
        parts.append(f"<div class='warning' role='note'>⚠ {_h(w, names)}{link}</div>")
    parts.append(_filters(jmap, names, personas))
    parts.append("<h2 id='priorities-h'>What to fix first</h2>" + _priorities(jmap, names, sizing, personas_of)
                 + _sizing_section(jmap, names, sizing))
    parts.append(f"<h2 id='map'>The map</h2><figure><img id='map-image' "
                 f"alt='{_e('Journey map: ' + jmap.title + '. The same content is in the table below the image.')}' "
                 f"src='data:image/png;base64,{png}'><figcaption>Markers: filled circle = strong (interviews and "
                 "numbers agree), filled square = numbers only, hollow circle = interviews only, grey X = "
                 "contradicted, grey hollow = weak; size = share of participants. The emotion lane's blue line is the "
                 "mean sentiment of the words per stage with its 95% CI band; the dashed diamonds the codes' balance "
                 "(share with a delight − share with a pain point) with its 95% CI; an orange column marks a stage "
                 "where the two disagree. The table below holds the same lanes as text."
                 "</figcaption></figure>" + _map_table(jmap, names))
    if changes is not None:
        parts.append(_changes_section(changes, getattr(compare_with, "title", None), names))
    if personas:
        parts.append(_personas_section(personas, names))
    parts.append("<h2 id='stages'>Evidence by stage</h2>")
    for s in jmap.stage_names:
        parts.append(_stage_section(jmap, s, names, sources, personas_of))
    parts.append("<div id='appendix' class='appendix'><h2 id='appendix-h'>Appendix: methods, sources and run record"
                 "</h2><p class='small muted'>Statistical detail behind every number above, the source context of "
                 "every quote, and what was run.</p>")
    parts.append(_method_details(jmap, study, sources))
    parts.append(_context_section(jmap))
    parts.append(_methods_section(jmap))
    parts.append(_manifest_section(man))
    parts.append("<p class='small muted'>Made with journeylab. This file is self-contained: no network access is "
                 "needed to read it.</p></div></main>"
                 f"<script>{_FILTER_JS}</script></body></html>")
    return "\n".join(parts)


@register_view("html")
def to_html(jmap, path, *, study=None, manifest: dict | None = None, compare_with=None,
            changes: pd.DataFrame | None = None, personas=None, title: str | None = None, map_dpi: int = 110,
            slide: bool = False) -> Path:
    """Write a journey map's standalone HTML report.

    Parameters
    ----------
    jmap : JourneyMap
        The map to report.
    path : str or Path
        The ``.html`` file to write (folders are created).
    study : Study, optional
        The study the map was built from. With it, the first page shows the headline metrics
        (NPS, funnel conversion, satisfaction per touchpoint, with 95% intervals) and the measured
        effect of the change made during the study, computed as the metrics notebook computes
        them, and the sizing uses study.yml ``sizing:`` (:func:`journeylab.map.decision.sizing_assumptions`).
    manifest : dict, optional
        A run manifest (input hashes, versions, parameters; e.g. from ``journeylab run``); merged
        over the map's own manifest, which records the study's file hashes and versions at build
        time.
    compare_with : JourneyMap, optional
        An earlier map: adds a "What changed" section (:func:`journeylab.compare_maps`).
    changes : DataFrame, optional
        A precomputed :func:`journeylab.compare_maps` frame (instead of ``compare_with``).
    personas : list of JourneyMap, optional
        Per-persona maps: shown side by side, and the persona filter uses them.
    title : str, optional
        Default: the map's title.
    map_dpi : int, default 110
        Resolution of the inlined map image.
    slide : bool, default False
        Also write the top decisions as one 16:9 slide, ``<name>_decisions.png`` next to the
        report (:func:`journeylab.map.decision.decision_slide`).

    Returns
    -------
    Path
        The written file.

    Notes
    -----
    Order: the first page (the study in one sentence, headline metrics, the change and its effect,
    the three decisions the evidence supports with their confidence in words, what it does not
    support), priorities with the sizing assumptions and a sensitivity table, the map (image and
    the same lanes as a table), what changed, personas, the evidence of every claim per stage, and
    an appendix (how each number was computed, the source context of every quote, methods,
    manifest) that print leaves out. Internal identifiers are shown by their display names
    (:func:`journeylab.map.decision.display_name`). Every text that came from data is escaped with
    :func:`html.escape` (quotes included), so a participant's ``<script>`` is shown, never run; the
    one script is the file's own filter (persona, stage, grade), which holds no data. The image is
    inlined as base64; the file references no URL.
    """
    path = Path(path)
    if path.suffix.lower() not in (".html", ".htm"):
        raise JourneylabError(f"to_html(): {path.name}: expected an .html file name.")
    text = render_html(jmap, study=study, manifest=manifest, compare_with=compare_with, changes=changes,
                       personas=personas, title=title, map_dpi=map_dpi)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    if slide:
        _d.decision_slide(jmap, path.with_name(path.stem + "_decisions.png"), study=study)
    return path


def to_pdf(html_path, pdf_path=None, *, chromium: str | None = None, timeout: int = 120,
           source_date_epoch: int | None = None) -> Path:
    """Print a written report to PDF with headless Chromium (the print layout: no appendix).

    Parameters
    ----------
    html_path : str or Path
        A report written by :func:`to_html`.
    pdf_path : str or Path, optional
        Default: the report's name with ``.pdf``.
    chromium : str, optional
        The browser executable (default: ``chromium`` or ``chromium-browser`` on the PATH).
    source_date_epoch : int, optional
        Date the PDF with this time (seconds since 1970, UTC) instead of now, so the same report
        gives the same bytes (default: the ``SOURCE_DATE_EPOCH`` environment variable, if set).

    Returns
    -------
    Path

    Raises
    ------
    JourneylabError
        No Chromium found, or it failed.
    """

    html_path = Path(html_path).resolve()
    pdf_path = Path(pdf_path) if pdf_path else html_path.with_suffix(".pdf")
    exe = chromium or shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
    if not exe:
        raise JourneylabError("to_pdf(): no Chromium found on the PATH (apt-get install chromium); or print the "
                              "HTML report from any browser.")
    pdf_path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as profile:
        cmd = [exe, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
               "--disable-component-update", "--disable-sync", f"--user-data-dir={profile}",
               "--no-pdf-header-footer", f"--print-to-pdf={pdf_path.resolve()}", html_path.as_uri()]
        try:
            res = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise JourneylabError(f"to_pdf(): chromium did not finish: {exc}") from None
    if res.returncode != 0 or not pdf_path.is_file():
        raise JourneylabError(f"to_pdf(): chromium failed ({res.returncode}): {res.stderr.strip()[-500:]}")
    if source_date_epoch is None and os.environ.get("SOURCE_DATE_EPOCH", "").isdigit():
        source_date_epoch = int(os.environ["SOURCE_DATE_EPOCH"])
    if source_date_epoch is not None:  # the dates are the only bytes that change between two prints

        stamp = _dt.datetime.fromtimestamp(int(source_date_epoch), _dt.timezone.utc).strftime("D:%Y%m%d%H%M%S")
        data = re.sub(rb"/(CreationDate|ModDate) \(D:\d{14}", lambda m: b"/" + m.group(1) + b" (" + stamp.encode(),
                      pdf_path.read_bytes())  # same length: the cross-reference offsets stay right
        pdf_path.write_bytes(data)
    return pdf_path
