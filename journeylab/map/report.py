"""The standalone HTML report of a journey map: one file a team can e-mail.

:func:`to_html` writes priorities first, then the map (a PNG inlined as base64), what changed
since an earlier map, per stage every claim with its evidence (redacted quotes linked to their
source context, numbers with CIs, the grade and why), the source context of every quote, a
methods section generated from what was run, and the run manifest. The file has no external
resource at all (CSS inline, no script, no font or image URL), and every text that came from data
is HTML-escaped.
"""
from __future__ import annotations

__all__ = ["to_html", "render_html", "replace_manifest"]

import base64
import html
import io
import json
import re
from pathlib import Path

import pandas as pd

from ..errors import JourneylabError
from ..study.load import PERIOD_DAYS

_CSS = """
:root { --ink:#1d1d1d; --muted:#5b5b5b; --line:#d9d9d9; --blue:#0072B2; --verm:#D55E00; --green:#009E73;
        --orange:#E69F00; --grey:#8c8c8c; --bg:#fafafa; }
* { box-sizing: border-box; }
body { font-family: "DejaVu Sans", "Helvetica Neue", Arial, sans-serif; color: var(--ink); margin: 0;
       background: white; line-height: 1.45; font-size: 15px; }
main { max-width: 1180px; margin: 0 auto; padding: 24px 28px 80px; }
h1 { font-size: 1.8em; margin: 0.2em 0 0.1em; } h2 { border-bottom: 2px solid var(--blue); padding-bottom: 4px;
     margin-top: 2.2em; } h3 { margin: 1.4em 0 0.4em; }
nav { font-size: 0.92em; margin: 0.6em 0 1em; } nav a { margin-right: 1em; }
a { color: var(--blue); } .muted { color: var(--muted); } .small { font-size: 0.86em; }
.warning { background: #fff4e0; border: 1px solid var(--orange); border-radius: 6px; padding: 8px 12px; margin: 8px 0; }
table { border-collapse: collapse; width: 100%; margin: 0.6em 0 1em; font-size: 0.92em; }
th, td { border-bottom: 1px solid var(--line); padding: 5px 7px; text-align: left; vertical-align: top; }
th { background: #f0f4f8; font-weight: 600; } td.num { text-align: right; white-space: nowrap; }
.grade { display: inline-block; padding: 1px 8px; border-radius: 10px; font-size: 0.82em; font-weight: 600;
         white-space: nowrap; border: 1.5px solid; }
.grade-strong { background: var(--verm); border-color: var(--verm); color: white; }
.grade-quantitative_only { background: var(--blue); border-color: var(--blue); color: white; }
.grade-qualitative_only { background: white; border-color: var(--orange); color: #8a5a00; }
.grade-weak { background: white; border-color: var(--grey); color: var(--muted); }
.grade-contradicted { background: #ececec; border-color: #555; color: #333; text-decoration: line-through; }
.delight .grade-strong { background: var(--green); border-color: var(--green); }
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
.beyond { font-weight: 600; color: var(--verm); }
pre { background: var(--bg); padding: 8px; overflow-x: auto; font-size: 0.82em; }
@media print { nav, .noprint { display: none; } main { max-width: none; } .claim { break-inside: avoid; } }
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
    s = str(name).replace("_", " ")
    return s[:1].upper() + s[1:]


def _grade(g) -> str:
    if g is None or (not isinstance(g, str) and pd.isna(g)):
        return ""
    text = {"strong": "strong", "quantitative_only": "numbers only", "qualitative_only": "interviews only",
            "weak": "weak", "contradicted": "contradicted"}.get(str(g), str(g))
    return f"<span class='grade grade-{_e(g)}' title='triangulation grade'>{_e(text)}</span>"


def _map_png(jmap, dpi: int) -> str:
    import matplotlib.pyplot as plt

    from .render import plot_map

    fig = plot_map(jmap, dpi=dpi)  # laid out at the resolution it is saved at
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, metadata={"Software": "journeylab"}, facecolor="white")
    plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def _priorities(jmap) -> str:
    from .journey_map import prioritise, vocabulary_of

    p = prioritise(jmap)
    period = vocabulary_of(jmap)["period"]
    per = PERIOD_DAYS[period] / 7
    if len(p) == 0:
        return "<p class='muted'>No pain points were found.</p>"
    rows = []
    for r in p.to_dict("records"):
        where = f"{_label(r['stage'])} · {_label(r['touchpoint'])}" if r["touchpoint"] else _label(r["stage"])
        name = _label(r["code"]) if r["code"] else r["claim"]
        size = []
        if not pd.isna(r["step_lost_per_week"]):
            size.append(f"{r['step_lost_per_week'] * per:,.0f} users/{period} lost at {_label(r['step']).lower()}")
        if not pd.isna(r["nps_gap"]):
            size.append(f"NPS gap {r['nps_gap']:+.0f}{_ci_num(r['nps_gap_ci_low'], r['nps_gap_ci_high'], '+.0f')}")
        sent = "" if pd.isna(r["sentiment_mean"]) else (
            f"{r['sentiment_mean']:+.2f}{_ci_num(r['sentiment_ci_low'], r['sentiment_ci_high'])}")
        link = f"<a href='#{_e(_anchor('claim', r['claim_id']))}'>evidence</a>"
        todo = ""
        if isinstance(r.get("opportunity"), str):
            todo = f"<br><span class='small'>→ {_e(r['opportunity'])}" + (
                f" <span class='muted'>({_e(r['owner'])})</span>" if isinstance(r.get("owner"), str) else "") + "</span>"
        rows.append(
            f"<tr><td class='num'>{int(r['rank'])}</td><td><b>{_e(name)}</b><br><span class='small muted'>"
            f"{_e(where)}</span>{todo}</td><td>{_grade(r['grade'])}</td>"
            f"<td>{_e(r['n_participants'])} people, {_e(_pct(r['share_participants']))}"
            f"<span class='small'>{_e(_ci_pct(r['share_ci_low'], r['share_ci_high']))}</span></td>"
            f"<td class='small'>{_e(sent)}</td><td class='small'>{_e('; '.join(size))}</td>"
            f"<td class='small'>{_e(r['upside'])}</td><td class='num small'>{r['score']:.2f}</td><td>{link}</td></tr>")
    return ("<table id='priorities'><thead><tr><th>#</th><th>pain point → opportunity (owner)</th><th>grade</th><th>how many</th>"
            "<th>sentiment</th><th>size</th><th>upside if fixed</th><th>score</th><th></th></tr></thead><tbody>"
            + "".join(rows) + "</tbody></table>"
            "<p class='small muted'>Score = 0.4 × grade (strong 1 … contradicted 0) + 0.25 × share of participants "
            "+ 0.15 × negativity of sentiment + 0.2 × size (users lost a week relative to the largest loss, or the "
            "NPS gap). Upside assumes a tenth of the step's drop-off can be recovered; its interval covers the "
            "sampling uncertainty of the loss and of onward conversion, not that assumption. Pain points at the "
            "same step share one drop-off: do not add their upsides.</p>")


def _claim_block(jmap, r: dict) -> str:
    kind = r["kind"]
    name = _label(r["code"]) if r["code"] else "Metric-only pain point"
    cls = f"claim {_e(kind)}" + (" contradicted" if r["grade"] == "contradicted" else "")
    out = [f"<div class='{cls}' id='{_e(_anchor('claim', r['claim_id']))}'>",
           f"<h4>{_e(name)} {_grade(r['grade'])} <span class='small muted'>{_e(_label(kind))}"
           f"{' · ' + _e(_label(r['touchpoint'])) if r['touchpoint'] else ''}</span></h4>",
           f"<p>{_e(r['claim'])}</p>"]
    facts = []
    if r["n_participants_total"]:
        facts.append(f"Raised by <b>{_e(r['n_participants'])} of {_e(r['n_participants_total'])}</b> participants "
                     f"({_e(_pct(r['share_participants']))}{_e(_ci_pct(r['share_ci_low'], r['share_ci_high']).replace(' (', ', ').rstrip(')'))}) "
                     f"in {_e(r['n_segments'])} turn(s)")
    if not pd.isna(r["sentiment_mean"]):
        sm = r["sentiment_mean"]
        facts.append(f"sentiment of those turns {sm:+.2f}"
                     f"{_e(_ci_num(r['sentiment_ci_low'], r['sentiment_ci_high']))}")
    if facts:
        out.append("<p class='small'>" + "; ".join(facts) + ".</p>")
    mrows = []
    if not pd.isna(r["step_conversion"]):
        mrows.append(("Funnel step", f"{_label(r['step_from'])} → {_label(r['step']).lower()}: "
                      f"{_pct(r['step_conversion'], 1)}{_ci_pct(r['step_ci_low'], r['step_ci_high'])} of "
                      f"{int(r['step_users_from']):,} users; {int(r['step_lost']):,} lost", r["step_signal"],
                      r["step_source"]))
    if not pd.isna(r["csat_top2"]):
        mrows.append(("CSAT", f"{_label(r['touchpoint'])}: top-2 box {_pct(r['csat_top2'], 1)}"
                      f"{_ci_pct(r['csat_top2_ci_low'], r['csat_top2_ci_high'])}, mean {r['csat_mean']:.2f}"
                      f"{_ci_num(r['csat_mean_ci_low'], r['csat_mean_ci_high'])}, n = {int(r['csat_n']):,}",
                      r["csat_signal"], r["csat_source"]))
    if not pd.isna(r["nps_gap"]):
        mrows.append(("NPS of commenters", f"{r['nps_theme']:+.0f} (n = {int(r['nps_n_theme'])}) vs other commenters "
                      f"{r['nps_others']:+.0f} (n = {int(r['nps_n_others'])}): gap {r['nps_gap']:+.0f}"
                      f"{_ci_num(r['nps_gap_ci_low'], r['nps_gap_ci_high'], '+.0f')}", r["nps_signal"],
                      r["nps_source"]))
    if mrows:
        out.append("<table class='small'><thead><tr><th>linked metric</th><th>value</th><th>signal</th>"
                   "<th>source</th></tr></thead><tbody>"
                   + "".join(f"<tr><td>{_e(a)}</td><td>{_e(b)}</td><td>{_e(c)}</td><td class='muted'>{_e(d)}</td></tr>"
                             for a, b, c, d in mrows) + "</tbody></table>")
    if r["grade_reason"]:
        out.append(f"<p class='reason'>{_e(r['grade_reason'])}</p>")
    shown = 0
    for q in [x.strip() for x in str(r["quote_ids"] or "").split(";") if x.strip()]:
        info = jmap.quotes.get(q)
        if not info:
            continue
        shown += 1
        out.append(f"<blockquote>“{_e(info['text'])}”<br><span class='who'>— {_e(info.get('participant_id'))}, "
                   f"{_e(info.get('doc_id'))} characters {_e(info.get('start'))}–{_e(info.get('end'))} · "
                   f"<a class='evidence-link' href='#{_e(_anchor('ctx', q))}'>source context</a></span></blockquote>")
    n_turns = r.get("n_segments")
    if shown and not pd.isna(n_turns) and int(n_turns) > shown:  # quotes are capped (evidence_table n_quotes)
        out.append(f"<p class='small muted quote-count'>{shown} of {int(n_turns):,} coded turns quoted.</p>")
    out.append("</div>")
    return "".join(out)


def _stage_section(jmap, stage: str) -> str:
    from .journey_map import _order_claims

    out = [f"<section class='stage' id='{_e(_anchor('stage', stage))}'><h3>{_e(_label(stage))}</h3>"]
    info = next((s for s in jmap.stages if s["name"] == stage), {})
    bits = []
    if info.get("owner"):
        bits.append(f"Owner: <b>{_e(info['owner'])}</b>")
    if info.get("touchpoints"):
        bits.append("Touchpoints: " + ", ".join(_e(_label(t)) for t in info["touchpoints"]))
    em = jmap.emotion[jmap.emotion["stage"] == stage]
    if len(em) and not pd.isna(em["mean"].iloc[0]):
        r = em.iloc[0]
        bits.append(f"Emotion {r['mean']:+.2f}{_e(_ci_num(r['ci_low'], r['ci_high']))} from "
                    f"{int(r['n_segments'])} turns of {int(r['n_participants'])} people"
                    + ("" if r["enough_data"] else " <b>(too little data)</b>"))
    if jmap.goals.get(stage):
        bits.append("Goals: " + "; ".join(_e(g) for g in jmap.goals[stage]))
    if bits:
        out.append("<p class='small'>" + "<br>".join(bits) + "</p>")
    claims = _order_claims(jmap.claims(stage=stage))
    kinds = ["pain_point", "delight", "need", "behaviour"]
    claims = claims.assign(_k=claims["kind"].map({k: i for i, k in enumerate(kinds)})).sort_values("_k", kind="stable")
    if len(claims) == 0:
        out.append("<p class='muted'>No claim at this stage.</p>")
    for r in claims.to_dict("records"):
        out.append(_claim_block(jmap, r))
    m = jmap.metrics[jmap.metrics["stage"] == stage]
    if len(m):
        out.append("<table class='small'><thead><tr><th>metric at this stage</th><th>signal</th><th>source</th>"
                   "</tr></thead><tbody>")
        for r in m.to_dict("records"):
            sig = r["step_signal"] if str(r["metric"]).startswith("step:") else r["csat_signal"]
            src = r["step_source"] if str(r["metric"]).startswith("step:") else r["csat_source"]
            out.append(f"<tr><td>{_e(r['claim'])}</td><td>{_e(sig)}</td><td class='muted'>{_e(src)}</td></tr>")
        out.append("</tbody></table>")
    out.append("</section>")
    return "".join(out)


def _context_section(jmap) -> str:
    out = ["<h2 id='sources'>Source context of every quote</h2><p class='small muted'>Each quote with the turns "
           "around it, as transcribed (personal data redacted). The quoted turn is highlighted.</p>"]
    for q, info in jmap.quotes.items():
        out.append(f"<div class='context' id='{_e(_anchor('ctx', q))}'><p class='small'><b>{_e(q)}</b> — participant "
                   f"{_e(info.get('participant_id'))}, transcript {_e(info.get('doc_id'))}, characters "
                   f"{_e(info.get('start'))}–{_e(info.get('end'))}</p>")
        for t in info.get("context", []):
            cls = "turn" + (" quote" if t.get("is_quote") else "") + (
                " interviewer" if t.get("speaker_role") == "interviewer" else "")
            out.append(f"<div class='{cls}'><span class='spk'>{_e(t.get('speaker'))}:</span>{_e(t.get('text'))}</div>")
        out.append("</div>")
    return "".join(out)


def _changes_section(changes: pd.DataFrame, old_title: str | None) -> str:
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
            flag = "<span class='beyond'>beyond the CIs</span>"
        elif beyond is False:
            flag = "<span class='muted'>within the noise</span>"
        rows.append(f"<tr><td>{_e(str(r['change']).replace('_', ' '))}</td><td>{_e(_label(r['stage']) if r['stage'] else '')}"
                    f"</td><td>{_e(r['detail'])}</td><td>{flag}</td></tr>")
    n_beyond = int((changes["beyond_ci"] == True).sum())  # noqa: E712
    counts = changes["change"].value_counts()
    summary = ", ".join(f"{v} {k.replace('_', ' ')}" for k, v in counts.items())
    return (head + f"<p>{_e(summary)}; {n_beyond} move(s) beyond the uncertainty.</p>"
            "<table><thead><tr><th>change</th><th>stage</th><th>what</th><th>beyond noise?</th></tr></thead><tbody>"
            + "".join(rows) + "</tbody></table>")


def _personas_section(maps) -> str:
    from .journey_map import compare_personas

    wide = compare_personas(maps, view="wide")
    personas = [m.persona for m in maps]
    head = ("<h2 id='personas'>Personas side by side</h2><p class='small muted'>Share of each persona's participants "
            "raising the theme · its grade in that persona's map; emotion rows give the stage's mean sentiment. "
            "Small groups: read the grades, not the percentages.</p>")
    rows = "".join("<tr>" + f"<td>{_e(_label(r['stage']))}</td><td>{_e(_label(r['code']))}</td>"
                   + "".join(f"<td>{_e(r[p])}</td>" for p in personas) + "</tr>" for r in wide.to_dict("records"))
    return (head + "<table><thead><tr><th>stage</th><th>theme</th>" + "".join(f"<th>{_e(p)}</th>" for p in personas)
            + "</tr></thead><tbody>" + rows + "</tbody></table>")


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
              f"{_e(cod.get('n_segments_coded'))} turns of {_e(cod.get('n_documents_coded'))} transcripts. A turn carries "
              "a code when any coder or rule applied it"
              + (f"; in transcripts a person coded, {_e(cod.get('n_rule_codings_overruled'))} rule codings no person "
                 "confirmed were left out" if cod.get("prefer_human") else "")
              + ". Shares are out of the participants whose transcripts were coded. Survey comments: "
              f"{_e(m.get('survey_coding') or 'not coded')}.</li>")
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
    li.append("<li><b>Survey</b>: CSAT per touchpoint as top-2-box share (Wilson CI) and mean (t interval), blanks "
              "excluded; NPS of commenters raising a theme vs the other commenters, gap with a Wald CI from the "
              "trinomial variance.</li>")
    li.append(f"<li><b>Grading rules</b>: qualitative support = at least {_e(ru.get('min_participants'))} "
              f"participants or {_e(_pct(ru.get('min_share')))} of them; a funnel step signals a problem when it is "
              f"among the {_e(ru.get('worst_steps'))} lowest conversions or its CI lies below the median step; CSAT "
              f"when the top-2 CI lies below {_e(_pct(ru.get('csat_top2_min')))}; NPS when the gap's CI lies below 0 "
              f"(healthy above −{_e(ru.get('nps_gap_margin'))} points); metrics need ≥ {_e(ru.get('min_metric_n'))} "
              f"answers (≥ {_e(ru.get('min_nps_n'))} commenters for NPS). Strong = both agree; contradicted = "
              f"interviews say it, no metric backs it and {_e('one' if ru.get('contradiction') == 'any' else 'every')} "
              "linked metric rules it out; interviews only / numbers only / weak otherwise. Confidence level "
              f"{_e(_pct(ru.get('level')))}.</li>")
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
    >>> from journeylab.report import replace_manifest
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


def render_html(jmap, *, manifest: dict | None = None, compare_with=None, changes: pd.DataFrame | None = None,
                personas=None, title: str | None = None, map_dpi: int = 110) -> str:
    """The report as an HTML string (see :func:`to_html`)."""
    from .journey_map import JourneyMap, compare_maps

    if not isinstance(jmap, JourneyMap):
        raise JourneylabError(f"to_html(): `jmap` must be a JourneyMap; got {type(jmap).__name__}.")
    if compare_with is not None and changes is None:
        changes = compare_maps(compare_with, jmap)
    man = dict(jmap.manifest or {})
    if manifest:
        man.update(manifest)
    title = title or jmap.title
    nav = ["<a href='#priorities-h'>What to fix first</a>", "<a href='#map'>The map</a>"]
    if changes is not None:
        nav.append("<a href='#changes'>What changed</a>")
    if personas:
        nav.append("<a href='#personas'>Personas</a>")
    nav += ["<a href='#stages'>Evidence by stage</a>", "<a href='#sources'>Sources</a>",
            "<a href='#methods'>Methods</a>", "<a href='#manifest'>Manifest</a>"]
    png = _map_png(jmap, map_dpi)
    parts = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        "<meta name='viewport' content='width=device-width, initial-scale=1'>",
        f"<title>{_e(title)}</title><style>{_CSS}</style></head><body><main>",
        f"<h1>{_e(title)}</h1>",
        f"<p class='muted'>Persona: <b>{_e(jmap.persona_card.get('name', jmap.persona))}</b> · "
        f"{_e(jmap.persona_card.get('n_participants', 0))} interviewed participants · "
        f"{_e(len(jmap.claims()))} claims, each with its evidence below.</p>",
        "<nav class='noprint'>" + "".join(nav) + "</nav>",
    ]
    for w in jmap.warnings:
        parts.append(f"<div class='warning'>⚠ {_e(w)}</div>")
    parts.append("<h2 id='priorities-h'>What to fix first</h2>" + _priorities(jmap))
    parts.append(f"<h2 id='map'>The map</h2><figure><img id='map-image' alt='{_e('Journey map: ' + jmap.title)}' "
                 f"src='data:image/png;base64,{png}'><figcaption>Markers: filled circle = strong (interviews and "
                 "numbers agree), filled square = numbers only, hollow circle = interviews only, grey X = "
                 "contradicted, grey hollow = weak; size = share of participants. The emotion line is the mean "
                 "sentiment per stage with its 95% CI band.</figcaption></figure>")
    if changes is not None:
        parts.append(_changes_section(changes, getattr(compare_with, "title", None)))
    if personas:
        parts.append(_personas_section(list(personas)))
    parts.append("<h2 id='stages'>Evidence by stage</h2>")
    for s in jmap.stage_names:
        parts.append(_stage_section(jmap, s))
    parts.append(_context_section(jmap))
    parts.append(_methods_section(jmap))
    parts.append(_manifest_section(man))
    parts.append("<p class='small muted'>Made with journeylab. This file is self-contained: no network access is "
                 "needed to read it.</p></main></body></html>")
    return "\n".join(parts)


def to_html(jmap, path, *, manifest: dict | None = None, compare_with=None, changes: pd.DataFrame | None = None,
            personas=None, title: str | None = None, map_dpi: int = 110) -> Path:
    """Write a journey map's standalone HTML report.

    Parameters
    ----------
    jmap : JourneyMap
        The map to report.
    path : str or Path
        The ``.html`` file to write (folders are created).
    manifest : dict, optional
        A run manifest (input hashes, versions, parameters; e.g. from ``journeylab run``); merged
        over the map's own manifest, which records the study's file hashes and versions at build
        time.
    compare_with : JourneyMap, optional
        An earlier map: adds a "What changed" section (:func:`journeylab.compare_maps`).
    changes : DataFrame, optional
        A precomputed :func:`journeylab.compare_maps` frame (instead of ``compare_with``).
    personas : list of JourneyMap, optional
        Per-persona maps to show side by side (:func:`journeylab.compare_personas`).
    title : str, optional
        Default: the map's title.
    map_dpi : int, default 110
        Resolution of the inlined map image.

    Returns
    -------
    Path
        The written file.

    Notes
    -----
    Order: priorities (what to fix first, with upside estimates), the map, what changed, personas,
    the evidence of every claim per stage, the source context of every quote (each quote links to
    its context by an in-page anchor), methods, manifest. Every text that came from data is
    escaped with :func:`html.escape` (quotes included), so a participant's ``<script>`` is shown,
    never run. The image is inlined as base64; the file references no URL.
    """
    path = Path(path)
    if path.suffix.lower() not in (".html", ".htm"):
        raise JourneylabError(f"to_html(): {path.name}: expected an .html file name.")
    text = render_html(jmap, manifest=manifest, compare_with=compare_with, changes=changes, personas=personas,
                       title=title, map_dpi=map_dpi)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path
