"""Key drivers: which coded themes go with higher or lower satisfaction.

:func:`key_drivers` links the qualitative to the quantitative. For respondents (or participants)
who have both codes and a score, it models the score (OLS) or detractor status (logit) on the
presence of each coded theme, with statsmodels' formula API, and reports each theme's coefficient
with its interval, the p-value after a multiple-testing correction and how many respondents
mention it. It is an association, not a cause — the output says so. :func:`plot_drivers` draws
the coefficients.
"""
from __future__ import annotations

__all__ = ["key_drivers", "plot_drivers", "KeyDrivers", "ASSOCIATION_NOTE"]

import html
import re
import textwrap
import warnings
from typing import Sequence

import numpy as np
import pandas as pd

from ..errors import JourneylabError
from ..utils.checks import check_alpha, check_choice, check_correction, check_frame
from ..utils.docstrings import shared_docs

ASSOCIATION_NOTE = ("Association, not causation: respondents who mention a theme differ in other ways too, and "
                    "unhappy customers may simply write more complaints. Use these as leads to check, not as effects "
                    "of fixing a theme.")


class KeyDrivers(pd.DataFrame):
    """The frame :func:`key_drivers` returns: a DataFrame that prints its caveat above the table.

    ``attrs`` holds ``note`` (the caveat), ``outcome`` (what was modelled), ``kind``, ``n_model``,
    ``n_excluded`` (rows left out and why), ``dropped`` (themes too rare to model), ``fit``
    (R² or pseudo-R²) and ``formula``. Operations on it return plain DataFrames.
    """

    @property
    def _constructor(self):
        return pd.DataFrame

    def _header(self) -> str:
        a = self.attrs
        return (f"Key drivers of {a.get('outcome', '?')} ({a.get('kind', '?')}, n = {a.get('n_model', '?')}). "
                f"{a.get('note', ASSOCIATION_NOTE)}")

    def __repr__(self) -> str:
        return self._header() + "\n" + pd.DataFrame(self).__repr__()

    def _repr_html_(self) -> str:
        body = pd.DataFrame(self)._repr_html_() or ""
        return f"<p><b>{html.escape(self._header())}</b></p>" + body


def _indicator_frame(data, codings, id, code, themes, segment_id, func) -> tuple[pd.DataFrame, list]:
    check_frame(codings, arg="codings", func=func, required=[segment_id, code], allow_empty=True,
                hint="Pass the codings frame of the comments (jl.autocode(...) output).")
    ids = data[id].astype(str)
    pairs = codings[[segment_id, code]].dropna().astype({segment_id: str, code: str}).drop_duplicates()
    pairs = pairs[pairs[segment_id].isin(set(ids))]
    names = sorted(pairs[code].unique()) if themes is None else list(themes)
    wide = pd.crosstab(pairs[segment_id], pairs[code]).clip(upper=1) if len(pairs) else pd.DataFrame()
    out = pd.DataFrame(index=ids.index)
    for t in names:
        col = wide[t] if t in wide.columns else pd.Series(dtype=float)
        out[t] = ids.map(col).fillna(0).astype(np.int64).to_numpy()
    return out, names


def key_drivers(
    data: pd.DataFrame,
    *,
    outcome: str = "nps",
    themes: Sequence[str] | None = None,
    codings: pd.DataFrame | None = None,
    id: str = "respondent_id",
    code: str = "code",
    segment_id: str = "segment_id",
    kind: str = "ols",
    transform: str | None = None,
    threshold: float = 6,
    covariates: Sequence[str] | None = None,
    text: str | None = None,
    min_n: int = 5,
    alpha: float = 0.05,
    correction: str = "holm",
) -> KeyDrivers:
    """Model a score on the presence of coded themes: which themes go with satisfaction.

    Parameters
    ----------
    data : DataFrame
        One row per respondent (``study.survey``) or participant, with the ``outcome`` column and
        either 0/1 theme columns (``themes``) or an ``id`` column to join ``codings`` on.
    outcome : str, default "nps"
        The score column (NPS 0–10, a CSAT column, ...).
    themes : list of str, optional
        Theme columns of ``data`` holding 0/1 (or True/False); with ``codings``, the codes to use
        (default: every code with at least ``min_n`` respondents).
    codings : DataFrame, optional
        A codings frame whose ``segment_id`` is the respondent id (e.g. comments coded with
        :func:`journeylab.autocode` after ``survey.rename(columns={"respondent_id": "segment_id",
        "comment": "text"})``); a respondent "mentions" a code if any coding links them to it.
    id, code, segment_id : str
        Column names for the join.
    kind : {"ols", "logit"}, default "ols"
        ``"ols"``: linear model of the score (robust HC3 standard errors). ``"logit"``: logistic
        model of a 0/1 outcome — by default detractor status (``outcome <= threshold``).
    transform : {None, "nps"}, optional
        With ``"nps"`` (OLS only) the outcome becomes +100 for promoters (9–10), 0 for passives and
        −100 for detractors (0–6), so a coefficient is a difference in NPS points.
    threshold : float, default 6
        For ``kind="logit"`` with a non-binary outcome: 1 when ``outcome <= threshold`` (NPS
        detractors 0–6).
    covariates : list of str, optional
        Columns to adjust for (persona, device, period, ...); text columns enter as categories.
    text : str, optional
        Leave out rows whose ``text`` is blank (they could not mention any theme), e.g. "comment".
    min_n : int, default 5
        Themes mentioned by fewer respondents (or by all but fewer) are not modelled; they are
        listed in ``attrs["dropped"]``.
    alpha : float, default 0.05
        1 − confidence level; family-wise level of ``p_adj``.
    correction : str, default "holm"
        multipletests method for ``p_adj`` across themes.

    Returns
    -------
    KeyDrivers (a DataFrame)
        One row per theme, largest positive coefficient first: ``theme``, ``n`` (respondents
        mentioning it), ``share``, ``outcome_with``, ``outcome_without`` (mean outcome — or
        detractor share for logit — among those who do and do not mention it; unadjusted),
        ``coef`` (OLS: difference in the outcome, adjusted for the other themes and covariates;
        logit: log odds ratio), ``ci_low``, ``ci_high``, ``p_value``, ``p_adj``, ``correction``,
        for logit also ``odds_ratio``, ``or_ci_low``, ``or_ci_high``; then ``kind`` and ``outcome``.
        It prints "Association, not causation: ..." above the table; ``attrs`` holds the note,
        the model's n, the rows left out, dropped themes, the fit and the formula.

    Notes
    -----
    OLS with heteroskedasticity-robust (HC3) standard errors (MacKinnon & White 1985), because
    bounded scores are not homoskedastic; logit by maximum likelihood. Both through
    ``statsmodels.formula.api`` with every theme in one model, so each coefficient is adjusted for
    the other themes. P-values are adjusted across themes with ``multipletests(method=correction)``.

    This is association, not causation: detractors may write more complaints whatever caused
    their score, themes go together, and respondents choose whether to comment. Read large,
    consistent coefficients as leads to check against the funnel and the interviews.

    Examples
    --------
    >>> import pandas as pd, journeylab as jl
    >>> d = pd.DataFrame({"nps": [2, 3, 9, 10, 8, 1, 9, 10, 4, 9] * 3,
    ...                   "form": [1, 1, 0, 0, 0, 1, 0, 0, 1, 0] * 3})
    >>> kd = jl.key_drivers(d, themes=["form"], min_n=3)
    >>> round(float(kd.loc[0, "coef"]), 2)     # mean 2.5 with the theme, 9.17 without
    -6.67
    """
    # lazy: statsmodels adds ~1.3 s to `import journeylab` (measured; docs/architecture.md)
    import statsmodels.formula.api as smf
    from statsmodels.stats.multitest import multipletests

    func = "key_drivers"
    check_frame(data, arg="data", func=func, required=[outcome], hint="Name the score column with outcome=.")
    check_choice(kind, arg="kind", func=func, choices=("ols", "logit"))
    check_choice(transform, arg="transform", func=func, choices=(None, "nps"))
    check_correction(correction, func)
    check_alpha(alpha, func)
    if transform == "nps" and kind != "ols":
        raise JourneylabError(f"{func}(): transform='nps' is for kind='ols'; with kind='logit' the outcome is "
                              "detractor status already.")
    covariates = list(covariates or [])
    check_frame(data, arg="data", func=func, required=covariates + ([text] if text else []))
    excluded = {}
    frame = data.reset_index(drop=True)
    if codings is not None:
        check_frame(data, arg="data", func=func, required=[id], hint="Name the respondent id column with id=.")
        ind, names = _indicator_frame(frame, codings, id, code, themes, segment_id, func)
    else:
        if not themes:
            raise JourneylabError(f"{func}(): pass `themes` (0/1 columns of `data`) or `codings` (to build them).")
        names = list(themes)
        check_frame(data, arg="data", func=func, required=names)
        ind = pd.DataFrame(index=frame.index)
        for t in names:
            col = frame[t]
            vals = pd.to_numeric(col.astype("float64") if col.dtype == bool else col, errors="coerce")
            bad = ~vals.isin([0, 1])
            if bad.any():
                i = int(np.flatnonzero(bad.to_numpy())[0])
                raise JourneylabError(f"{func}(): theme column {t!r}, row {i}: expected 0/1 or True/False, found "
                                      f"{col.iloc[i]!r}.")
            ind[t] = vals.astype(np.int64)
    y_raw = pd.to_numeric(frame[outcome], errors="coerce")
    if (frame[outcome].notna() & y_raw.isna()).any():
        i = int(np.flatnonzero((frame[outcome].notna() & y_raw.isna()).to_numpy())[0])
        raise JourneylabError(f"{func}(): outcome column {outcome!r}, row {i}: expected a number, found "
                              f"{frame[outcome].iloc[i]!r}.")
    keep = y_raw.notna().to_numpy().copy()
    if (~keep).any():
        excluded["blank outcome"] = int((~keep).sum())
    if text:
        blank = frame[text].isna() | (frame[text].astype("string").str.strip() == "").fillna(True)
        blank = blank.to_numpy(dtype=bool) & keep
        if blank.any():
            excluded[f"blank {text}"] = int(blank.sum())
        keep &= ~blank
    for c in covariates:
        miss = frame[c].isna().to_numpy() & keep
        if miss.any():
            excluded[f"missing {c}"] = int(miss.sum())
        keep &= ~miss
    y = y_raw[keep].astype(float)
    if kind == "logit":
        binary = set(np.unique(y)) <= {0.0, 1.0}
        if binary:
            y_model = y
            outcome_desc = f"{outcome} (0/1)"
        else:
            y_model = (y <= threshold).astype(float)
            outcome_desc = f"{outcome} <= {threshold:g}" + (" (detractor)" if outcome == "nps" else "")
    elif transform == "nps":
        y_model = np.where(y >= 9, 100.0, np.where(y <= 6, -100.0, 0.0))
        outcome_desc = "NPS points"
    else:
        y_model = y
        outcome_desc = outcome
    X = ind[keep].reset_index(drop=True)
    n_model = len(X)
    counts = X.sum()
    rare = [t for t in names if counts[t] < min_n or n_model - counts[t] < min_n]
    used = [t for t in names if t not in rare]
    if not used:
        raise JourneylabError(f"{func}(): no theme is mentioned by at least min_n={min_n} of the {n_model} "
                              f"respondents modelled (and absent for {min_n}); counts: "
                              f"{', '.join(f'{t}={int(counts[t])}' for t in names[:15])}. Lower min_n or code more.")
    safe = {t: f"theme_{i}" for i, t in enumerate(used)}
    model_frame = pd.DataFrame({"y": np.asarray(y_model, dtype=float)})
    for t in used:
        model_frame[safe[t]] = X[t].to_numpy()
    cov_terms = []
    for j, c in enumerate(covariates):
        model_frame[f"cov_{j}"] = frame.loc[keep, c].to_numpy()
        cov_terms.append(f"cov_{j}")
    formula = "y ~ " + " + ".join([safe[t] for t in used] + cov_terms)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            if kind == "ols":
                fit = smf.ols(formula, data=model_frame).fit(cov_type="HC3")
                fit_stat = float(fit.rsquared)
            else:
                fit = smf.logit(formula, data=model_frame).fit(disp=0, maxiter=200)
                fit_stat = float(fit.prsquared)
        except Exception as exc:  # perfect separation, singular design
            raise JourneylabError(f"{func}(): the {kind} model could not be fitted ({type(exc).__name__}: {exc}); "
                                  "a theme may perfectly predict the outcome or duplicate another — raise min_n or "
                                  "drop themes.") from None
    ci = fit.conf_int(alpha=alpha)
    rows = []
    for t in used:
        s = safe[t]
        has = X[t].to_numpy() == 1
        yv = np.asarray(y_model, dtype=float)
        rows.append(dict(theme=t, n=int(has.sum()), share=float(has.mean()),
                         outcome_with=float(yv[has].mean()), outcome_without=float(yv[~has].mean()),
                         coef=float(fit.params[s]), ci_low=float(ci.loc[s, 0]), ci_high=float(ci.loc[s, 1]),
                         p_value=float(fit.pvalues[s])))
    out = pd.DataFrame(rows)
    out["p_adj"] = multipletests(out["p_value"].to_numpy(), alpha=alpha, method=correction)[1]
    out["correction"] = correction
    if kind == "logit":
        out["odds_ratio"] = np.exp(out["coef"])
        out["or_ci_low"] = np.exp(out["ci_low"])
        out["or_ci_high"] = np.exp(out["ci_high"])
    out["kind"] = kind
    out["outcome"] = outcome_desc
    out = out.sort_values("coef", ascending=False, kind="stable").reset_index(drop=True)
    result = KeyDrivers(out)
    result.attrs.update(note=ASSOCIATION_NOTE, outcome=outcome_desc, kind=kind, n_model=n_model,
                        n_excluded=excluded, dropped=rare, fit=fit_stat,
                        outcome_definition=("promoter (9–10) = +100, passive = 0, detractor (0–6) = −100, from "
                                            f"{outcome!r}") if transform == "nps" else outcome_desc,
                        fit_name="R²" if kind == "ols" else "McFadden pseudo-R²",
                        formula=re.sub(r"theme_(\d+)", lambda m: repr(used[int(m.group(1))]), formula),
                        covariates=covariates, alpha=alpha)
    return result


@shared_docs
def plot_drivers(result: pd.DataFrame, *, ax=None, title: str | None = None):
    """Forest plot of key drivers: each theme's coefficient with its interval.

    Parameters
    ----------
    result : DataFrame
        What :func:`key_drivers` returned.
    {ax}
    title : str, optional
        The plot's title.

    Returns
    -------
    matplotlib Axes
        Themes sorted by coefficient; filled markers where ``p_adj < alpha``, marker area by the
        number of respondents; the association-not-causation caveat under the axis.

    Examples
    --------
    >>> import pandas as pd, journeylab as jl
    >>> d = pd.DataFrame({"nps": [2, 3, 9, 10, 8, 1, 9, 10, 4, 9] * 3, "form": [1, 1, 0, 0, 0, 1, 0, 0, 1, 0] * 3})
    >>> ax = jl.plot_drivers(jl.key_drivers(d, themes=["form"], min_n=3))
    """
    # lazy: matplotlib.pyplot adds ~0.8 s to `import journeylab` (measured; docs/architecture.md)
    import matplotlib.pyplot as plt

    check_frame(result, arg="result", func="plot_drivers",
                required=["theme", "n", "coef", "ci_low", "ci_high", "p_adj", "kind"],
                hint="Pass what jl.key_drivers() returned.")
    r = pd.DataFrame(result).sort_values("coef", kind="stable").reset_index(drop=True)
    attrs = getattr(result, "attrs", {}) or {}
    alpha = attrs.get("alpha", 0.05)
    logit = (r["kind"] == "logit").all()
    if ax is None:
        _, ax = plt.subplots(figsize=(7.5, 0.42 * len(r) + 1.9))
    yv = np.arange(len(r))
    est = np.exp(r["coef"]) if logit else r["coef"]
    lo = np.exp(r["ci_low"]) if logit else r["ci_low"]
    hi = np.exp(r["ci_high"]) if logit else r["ci_high"]
    sig = r["p_adj"] < alpha
    pos = (est > (1 if logit else 0)).to_numpy()
    colors = np.where(pos, "#4C72B0", "#C44E52")
    if logit:       # for detractor status, above 1 is bad
        colors = np.where(pos, "#C44E52", "#4C72B0")
    sizes = 25 + 175 * np.sqrt(r["n"] / max(r["n"].max(), 1))
    ax.hlines(yv, lo, hi, color=colors, lw=1.6)
    ax.scatter(est[sig], yv[sig], s=sizes[sig], c=colors[sig], zorder=3, edgecolor="black", lw=0.5)
    ax.scatter(est[~sig], yv[~sig], s=sizes[~sig], facecolors="white", edgecolors=colors[~sig], zorder=3, lw=1.4)
    ax.axvline(1 if logit else 0, color="grey", lw=1, ls="--")
    if logit:
        ax.set_xscale("log")
    ax.set_yticks(yv)
    ax.set_yticklabels([f"{t}  (n={n:,})" for t, n in zip(r["theme"], r["n"])], fontsize=9)
    level = f"{(1 - alpha) * 100:g}%"
    outcome = attrs.get("outcome", r["outcome"].iloc[0] if "outcome" in r else "outcome")
    ax.set_xlabel(f"odds ratio of {outcome} ({level} CI, log scale)" if logit
                  else f"difference in {outcome} when the theme is mentioned ({level} CI)", fontsize=9)
    ax.spines[["top", "right"]].set_visible(False)
    if title is None:
        title = f"Key drivers ({'logit' if logit else 'OLS, HC3'}; n = {attrs.get('n_model', '?')})"
    ax.set_title(f"{title}\n● p_adj < {alpha:g} ({r['correction'].iloc[0]})   ○ not significant   "
                 "marker area ∝ respondents", fontsize=10)

    fig = ax.figure
    fig.text(0.01, 0.01, "\n".join(textwrap.wrap(ASSOCIATION_NOTE, 115)), fontsize=7.5, color="#555555",
             va="bottom", ha="left")
    fig.tight_layout(rect=(0, min(0.5, 0.5 / fig.get_figheight()), 1, 1))
    return ax
