"""Inter-coder agreement, the places where coders differ, and merging coders' work.

Coding in journeylab is segment-level presence/absence: for every code, each coder decides
whether the code applies to a segment. A codings frame lists the *positive* decisions (one row per
segment × code a coder applied); a segment a coder worked on but did not give a code counts as
"absent" for that coder. Which segments a coder worked on is decided by the *units rule* of
:func:`agreement` (see its Notes).

Public functions
----------------
agreement
    Percent agreement, Cohen's / Fleiss' kappa, Krippendorff's alpha, PABAK, bootstrap
    confidence intervals, interpretation bands and prevalence warnings, per code and overall.
krippendorff_alpha
    Krippendorff's nominal alpha for any number of coders with missing data.
disagreements
    One row per segment × code where the coders differ, with the text and every coder's memo.
compare_coders
    A side-by-side segment × code view of the coders' decisions (escaped HTML in notebooks).
merge_codings
    Bring several coders' codings frames and/or coding stores together without losing or
    duplicating a decision.
"""
from __future__ import annotations

__all__ = [
    "agreement",
    "coder_pair",
    "CoderPair",
    "krippendorff_alpha",
    "disagreements",
    "compare_coders",
    "CoderComparison",
    "merge_codings",
    "merge_report",
    "normalize_coder",
    "plot_agreement",
    "OVERALL",
]

import html
import math
import unicodedata
import warnings
from collections.abc import Sequence
from os import PathLike
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import JourneylabError
from ..study.units import participant_codings, participant_turns
from ..utils.checks import check_frame
from ..utils.docstrings import shared_docs
from ..utils.intervals import wilson_interval
from .store import CodingStore, normalize_coder, read_codings

#: The ``code`` label of the row that pools every code in :func:`agreement`.
OVERALL = "(overall)"

CODING_REQUIRED = ("segment_id", "code", "coder")

_AGREEMENT_COLUMNS = [
    "code", "n_units", "n_coders", "n_positive", "prevalence", "bias_index",
    "percent_agreement", "agreement_ci_low", "agreement_ci_high",
    "cohen_kappa", "fleiss_kappa", "krippendorff_alpha", "pabak",
    "ci_low", "ci_high", "alpha_ci_low", "alpha_ci_high",
    "interpretation", "alpha_interpretation", "warning",
]

#: Prevalence outside [RARE, 1 - RARE] triggers the prevalence-paradox warning.
RARE = 0.05
#: Fewer units than this triggers a "few units" warning.
FEW_UNITS = 30
#: A bias index above this (coders' positive rates differ by > 20 points) triggers a warning.
BIASED = 0.20


# ----------------------------------------------------------------------------- helpers


def _as_list(value, *, arg: str, func: str) -> list | None:
    if value is None:
        return None
    if isinstance(value, str):
        return [value]
    try:
        return list(dict.fromkeys(value))
    except TypeError:
        raise JourneylabError(
            f"{func}(): `{arg}` must be a name or a list of names; got {type(value).__name__}."
        ) from None


def _check_codings(codings, func: str, arg: str = "codings") -> pd.DataFrame:
    return check_frame(
        codings, arg=arg, func=func, required=CODING_REQUIRED,
        hint="A codings frame has one row per segment × code a coder applied "
             "(columns segment_id, code, coder, origin, memo).",
    )


def present_codings(codings: pd.DataFrame) -> pd.DataFrame:
    """Rows that record a code as present (a ``present`` column, when a store keeps one)."""
    if "present" in codings.columns:
        keep = codings["present"].fillna(True).astype(bool)
        return codings[keep.to_numpy()]
    return codings


def _select_coders(codings: pd.DataFrame, coders, func: str, *, minimum: int = 2) -> list[str]:
    available = list(dict.fromkeys(codings["coder"].astype(str)))
    chosen = _as_list(coders, arg="coders", func=func)
    if chosen is None:
        chosen = available
    else:
        unknown = [c for c in chosen if c not in available]
        if unknown:
            raise JourneylabError(
                f"{func}(): coder(s) {', '.join(map(repr, unknown))} not found in `codings`; "
                f"coders present: {', '.join(map(repr, available)) or '(none)'}. "
                "If names differ only in case or spacing, combine them with journeylab.merge_codings first."
            )
    if len(chosen) < minimum:
        raise JourneylabError(
            f"{func}(): need at least {minimum} coders to compare; found {len(chosen)} "
            f"({', '.join(map(repr, chosen)) or 'none'}). Pass codings from several coders "
            "(see journeylab.merge_codings) or choose them with `coders=`."
        )
    return [str(c) for c in chosen]


class CoderPair(tuple):
    """The two coders an agreement analysis compares, or why there are none (:func:`coder_pair`).

    A tuple ``(coder_a, coder_b)`` when two coders can be compared, else the empty tuple — so
    ``if pair:`` reads "if agreement applies" and ``a, b = pair`` unpacks the names.

    Attributes
    ----------
    coders : list of str
        Every coder found in the codings, sorted.
    reason : str
        Empty when the pair applies; otherwise one sentence saying why not, for the notebook to
        print (e.g. "agreement needs two coders; this study has one (lee), so ...").
    """

    def __new__(cls, pair=(), *, coders=(), reason: str = ""):
        obj = super().__new__(cls, tuple(pair))
        obj.coders = list(coders)
        obj.reason = reason
        return obj

    def __repr__(self) -> str:
        return f"CoderPair({tuple(self)!r})" if self else f"CoderPair(none: {self.reason})"


def coder_pair(codings: pd.DataFrame, *, segments: pd.DataFrame | None = None) -> CoderPair:
    """The two coders to compare (the first two by name), or an empty pair with the reason.

    Notebooks call this before an agreement section, so a study with fewer than two coders — or
    two coders who coded no interview in common — says why the section does not apply instead of
    failing in :func:`agreement`.

    Parameters
    ----------
    codings : DataFrame
        ``segment_id``, ``code``, ``coder`` (``study.codings``); may be empty.
    segments : DataFrame, optional
        ``segment_id`` and ``doc_id``: when given, the two coders must have coded at least one
        interview in common.

    Returns
    -------
    CoderPair
        ``(a, b)``, or empty with ``reason`` set.

    Examples
    --------
    >>> import journeylab as jl
    >>> study = jl.load_study(jl.datasets.sample_study_path())
    >>> jl.coder_pair(study.codings, segments=study.segments)
    CoderPair(('amara', 'jonas'))
    >>> one = study.codings[study.codings["coder"] == "amara"]
    >>> print(jl.coder_pair(one).reason)
    agreement needs two coders; this study has one (amara), so there is no agreement to measure
    """
    codings = check_frame(codings, arg="codings", func="coder_pair", required=["coder"], allow_empty=True)
    coders = sorted(codings["coder"].dropna().astype(str).unique())
    if len(coders) < 2:
        has = f"one ({coders[0]})" if coders else "none (no codings/ folder, or it is empty)"
        return CoderPair(coders=coders, reason=f"agreement needs two coders; this study has {has}, so there is no "
                                               "agreement to measure")
    a, b = coders[:2]
    if segments is not None:
        check_frame(segments, arg="segments", func="coder_pair", required=["segment_id", "doc_id"], allow_empty=True)
        doc = segments.set_index("segment_id")["doc_id"]
        docs = [set(codings.loc[codings["coder"].astype(str) == c, "segment_id"].map(doc).dropna()) for c in (a, b)]
        if not docs[0] & docs[1]:
            return CoderPair(coders=coders, reason=f"agreement needs two coders coding the same interviews; {a} and "
                                                   f"{b} coded none in common, so there is no agreement to measure")
    return CoderPair((a, b), coders=coders)


def units_for(
    codings: pd.DataFrame,
    coders: list[str],
    *,
    segments: pd.DataFrame | None,
    documents,
    units,
    func: str,
) -> list[str]:
    """Segment ids that every compared coder saw (the units rule, see agreement's Notes)."""
    docs = _as_list(documents, arg="documents", func=func)
    seg_doc = None
    order = None
    if segments is not None:
        segments = check_frame(segments, arg="segments", func=func, required=("segment_id", "doc_id"))
        seg_ids = segments["segment_id"].astype(str)
        seg_doc = pd.Series(segments["doc_id"].astype(str).to_numpy(), index=seg_ids.to_numpy())
        order = {s: i for i, s in enumerate(seg_ids)}
        known = set(order)
        coded = set(codings.loc[codings["coder"].isin(coders), "segment_id"].astype(str))
        unknown = sorted(coded - known)
        if unknown:
            raise JourneylabError(
                f"{func}(): {len(unknown)} segment_id(s) in `codings` are not in `segments`, e.g. "
                f"{', '.join(map(repr, unknown[:5]))}; pass the segments frame the codings were made on."
            )
        if docs is not None:
            missing = [d for d in docs if d not in set(seg_doc.to_numpy())]
            if missing:
                raise JourneylabError(
                    f"{func}(): document(s) {', '.join(map(repr, missing))} not in `segments`; "
                    f"known doc_id values include {', '.join(map(repr, list(dict.fromkeys(seg_doc))[:8]))}."
                )
    elif docs is not None:
        raise JourneylabError(
            f"{func}(): `documents=` needs `segments=` (the segments frame tells which document each "
            "segment belongs to)."
        )

    if units is not None:
        chosen = [str(u) for u in _as_list(units, arg="units", func=func)]
        if order is not None:
            unknown = [u for u in chosen if u not in order]
            if unknown:
                raise JourneylabError(
                    f"{func}(): unit(s) {', '.join(map(repr, unknown[:5]))} in `units` are not segment_id "
                    "values of `segments`."
                )
    elif segments is not None:
        turns = segments[participant_turns(segments)]
        turn_ids = turns["segment_id"].astype(str).to_numpy()
        turn_docs = turns["doc_id"].astype(str).to_numpy()
        seen_sets = []
        for coder in coders:
            mine = set(codings.loc[codings["coder"] == coder, "segment_id"].astype(str))
            my_docs = set(seg_doc.loc[list(mine)].to_numpy()) if mine else set()
            seen = set(turn_ids[np.isin(turn_docs, list(my_docs))]) | mine
            seen_sets.append(seen)
        common = set.intersection(*seen_sets) if seen_sets else set()
        chosen = sorted(common, key=order.__getitem__)
    else:
        mine = codings.loc[codings["coder"].isin(coders), "segment_id"].astype(str)
        chosen = list(dict.fromkeys(mine))

    if docs is not None:
        wanted = set(docs)
        chosen = [u for u in chosen if seg_doc.get(u) in wanted]
    return chosen


def decision_array(codings: pd.DataFrame, coders: list[str], codes: list[str], units: list[str]) -> np.ndarray:
    """Boolean array units × coders × codes: did the coder apply the code to the unit?"""
    x = np.zeros((len(units), len(coders), len(codes)), dtype=bool)
    if not units or not codes:
        return x
    u_idx = {u: i for i, u in enumerate(units)}
    c_idx = {c: i for i, c in enumerate(coders)}
    k_idx = {k: i for i, k in enumerate(codes)}
    pos = present_codings(codings)
    seg = pos["segment_id"].astype(str).map(u_idx)
    cod = pos["coder"].astype(str).map(c_idx)
    kod = pos["code"].astype(str).map(k_idx)
    ok = (seg.notna() & cod.notna() & kod.notna()).to_numpy()
    x[seg.to_numpy()[ok].astype(int), cod.to_numpy()[ok].astype(int), kod.to_numpy()[ok].astype(int)] = True
    return x


def _binary_parts(x: np.ndarray, w: np.ndarray) -> dict[str, np.ndarray]:
    """Sufficient statistics of binary agreement for every code, under unit weights ``w``.

    ``x`` is units × coders × codes (bool), every coder rating every unit; ``w`` is
    replicates × units (1 for the point estimate, bootstrap counts otherwise). Returns arrays of
    shape replicates × codes.
    """
    n_units, m, _ = x.shape
    xf = x.astype(np.float64)
    n = w.sum(axis=1)[:, None]  # weighted number of units
    k = xf.sum(axis=1)  # units × codes: coders who applied the code
    # Fleiss (1971): per-unit share of agreeing coder pairs
    p_unit = (k * (k - 1) + (m - k) * (m - k - 1)) / (m * (m - 1))
    with np.errstate(invalid="ignore", divide="ignore"):
        po = (w @ p_unit) / n
        pos_rate = np.stack([(w @ xf[:, j, :]) / n for j in range(m)], axis=0)  # coders × reps × codes
        p_bar = pos_rate.mean(axis=0)
        pe_fleiss = p_bar**2 + (1 - p_bar) ** 2
        if m == 2:
            # Cohen (1960): expected agreement = sum over categories of the product of the two
            # coders' own marginal proportions: p1*p2 + (1-p1)*(1-p2).
            pe_cohen = pos_rate[0] * pos_rate[1] + (1 - pos_rate[0]) * (1 - pos_rate[1])
        else:
            pe_cohen = np.full_like(po, np.nan)
        # Krippendorff (2011): coincidences; every unit has m pairable values
        n_values = n * m
        n_pos = w @ k
        n_neg = n_values - n_pos
        disagree = w @ (2 * k * (m - k) / (m - 1))  # o_01 + o_10
    return {
        "n": np.broadcast_to(n, po.shape), "po": po, "pe_cohen": pe_cohen, "pe_fleiss": pe_fleiss,
        "prevalence": p_bar, "bias": pos_rate.max(axis=0) - pos_rate.min(axis=0),
        "n_values": np.broadcast_to(n_values, po.shape), "n_pos": n_pos, "n_neg": n_neg,
        "disagree": disagree,
    }


def _kappa(po, pe):
    with np.errstate(invalid="ignore", divide="ignore"):
        out = (po - pe) / (1 - pe)
    return np.where(np.isclose(pe, 1.0), np.nan, out)


def _alpha_from_parts(n_values, n_pos, n_neg, disagree):
    with np.errstate(invalid="ignore", divide="ignore"):
        out = 1 - (n_values - 1) * disagree / (2 * n_pos * n_neg)
    return np.where((n_pos == 0) | (n_neg == 0), np.nan, out)


def _stats(parts: dict[str, np.ndarray], m: int) -> dict[str, np.ndarray]:
    """Per-code statistics (replicates × codes) and pooled ones (replicates,)."""
    kappa_c = _kappa(parts["po"], parts["pe_cohen"])
    kappa_f = _kappa(parts["po"], parts["pe_fleiss"])
    alpha = _alpha_from_parts(parts["n_values"], parts["n_pos"], parts["n_neg"], parts["disagree"])
    # pooled over codes: mean Po and mean Pe (De Vries et al. 2008), summed coincidences for alpha
    po_bar = parts["po"].mean(axis=1)
    pooled = {
        "po": po_bar,
        "cohen": _kappa(po_bar, parts["pe_cohen"].mean(axis=1)) if m == 2 else np.full_like(po_bar, np.nan),
        "fleiss": _kappa(po_bar, parts["pe_fleiss"].mean(axis=1)) if m > 2 else np.full_like(po_bar, np.nan),
        "alpha": _alpha_from_parts(parts["n_values"].sum(axis=1), parts["n_pos"].sum(axis=1),
                                   parts["n_neg"].sum(axis=1), parts["disagree"].sum(axis=1)),
    }
    return {"po": parts["po"], "cohen": kappa_c, "fleiss": kappa_f, "alpha": alpha, "pooled": pooled}


def _bootstrap_weights(rng: np.random.Generator, n_units: int, size: int) -> np.ndarray:
    idx = rng.integers(0, n_units, size=(size, n_units))
    flat = (idx + np.arange(size)[:, None] * n_units).ravel()
    return np.bincount(flat, minlength=size * n_units).reshape(size, n_units).astype(np.float64)


def landis_koch(kappa: float) -> str:
    """Landis & Koch (1977) band of a kappa value ('undefined' for NaN)."""
    if kappa is None or (isinstance(kappa, float) and math.isnan(kappa)):
        return "undefined"
    if kappa < 0:
        return "poor"
    for upper, label in ((0.20, "slight"), (0.40, "fair"), (0.60, "moderate"), (0.80, "substantial")):
        if kappa <= upper + 1e-12:
            return label
    return "almost perfect"


def krippendorff_band(alpha: float) -> str:
    """Krippendorff's (2004, 2011) reading of alpha: reliable ≥ .800, tentative ≥ .667."""
    if alpha is None or (isinstance(alpha, float) and math.isnan(alpha)):
        return "undefined"
    if alpha >= 0.800 - 1e-12:
        return "reliable"
    if alpha >= 0.667 - 1e-12:
        return "tentative"
    return "unreliable"


def _warning(n_units: int, prevalence: float, bias: float, n_positive: int, kappa: float) -> str:
    notes = []
    if n_units == 0:
        return "no units: no segment was seen by every compared coder"
    if n_positive == 0:
        notes.append("no coder applied this code on these units: kappa and alpha undefined")
    elif prevalence < RARE or prevalence > 1 - RARE:
        notes.append(
            f"prevalence {prevalence:.1%}: kappa unstable for a code this "
            f"{'rare' if prevalence < RARE else 'common'} (prevalence paradox), read pabak"
        )
    elif math.isnan(kappa):
        notes.append("every coder applied this code to every unit: kappa and alpha undefined")
    if bias > BIASED:
        notes.append(f"coders apply the code at different rates (bias index {bias:.2f}): sharpen the definition")
    if 0 < n_units < FEW_UNITS:
        notes.append(f"only {n_units} units: wide confidence interval")
    return "; ".join(notes)


# ----------------------------------------------------------------------------- agreement


@shared_docs
def agreement(
    codings: pd.DataFrame,
    *,
    coders: Sequence[str] | None = None,
    codes: Sequence[str] | None = None,
    documents: Sequence[str] | None = None,
    segments: pd.DataFrame | None = None,
    units: Sequence[str] | None = None,
    n_boot: int = 1000,
    random_state: int | None = 0,
    level: float = 0.95,
) -> pd.DataFrame:
    """Inter-coder agreement per code and overall, the way reviewers expect it reported.

    Each code is a binary decision (present / absent) per unit; a unit is a segment that every
    compared coder saw (see *Units rule* below): agreement per turn. For agreement on the coded
    spans themselves (where each coding starts and ends), see :func:`unitizing_alpha`
    (Krippendorff's u-alpha), reported beside this table.

    Parameters
    ----------
    codings : DataFrame
        Codings frame (``segment_id``, ``code``, ``coder``, ...) holding every compared coder's
        positive decisions. A ``present`` column, if any, marks rows with ``False`` as removed.
    coders : list of str, optional
        Coders to compare (at least two). Default: every coder in ``codings``.
    codes : list of str, optional
        Codes to report. Default: every code in ``codings`` (pass the codebook's names to include
        codes nobody applied).
    documents : list of str, optional
        Restrict the units to these ``doc_id`` values (needs ``segments``).
    segments : DataFrame, optional
        The segments frame the codings were made on (``segment_id``, ``doc_id``, optionally
        ``speaker_role``). Strongly recommended: without it, only segments that some compared coder
        coded count as units, so agreement on "absent" is undercounted.
    units : list of str, optional
        Explicit segment ids that every coder saw; overrides the units rule.
    n_boot : int, default 1000
        Bootstrap replicates for the confidence intervals (0: no intervals).
    {random_state}
    level : float, default 0.95
        Confidence level of the percentile bootstrap intervals.

    Returns
    -------
    DataFrame
        One row per code, then a row whose ``code`` is ``"(overall)"`` pooling every code:

        - ``code``: the code (or ``"(overall)"``).
        - ``n_units``: segments compared (seen by every coder).
        - ``n_coders``: coders compared.
        - ``n_positive``: units that at least one coder coded with the code (summed over codes
          in the overall row).
        - ``prevalence``: share of positive decisions (mean of the coders' positive rates).
        - ``bias_index``: largest difference between two coders' positive rates (Byrt et al.'s
          bias index for two coders, as an absolute value).
        - ``percent_agreement``: mean share of agreeing coder pairs per unit (for two coders: the
          share of units where they agree), in [0, 1].
        - ``agreement_ci_low``, ``agreement_ci_high``: Wilson score interval of
          ``percent_agreement`` over the ``n_units`` units (for more than two coders, of the
          effective count ``percent_agreement × n_units``; in the overall row the units are the
          segments, as the codes of one segment are not independent).
        - ``cohen_kappa``: Cohen's kappa (two coders only, else NaN), from
          :func:`statsmodels.stats.inter_rater.cohens_kappa`.
        - ``fleiss_kappa``: Fleiss' kappa (three or more coders only, else NaN), from
          :func:`statsmodels.stats.inter_rater.fleiss_kappa`.
        - ``krippendorff_alpha``: Krippendorff's alpha, nominal (any number of coders).
        - ``pabak``: prevalence- and bias-adjusted kappa, ``2 * percent_agreement - 1``.
        - ``ci_low``, ``ci_high``: percentile bootstrap interval of the kappa reported (Cohen's
          for two coders, Fleiss' for more), resampling units with replacement.
        - ``alpha_ci_low``, ``alpha_ci_high``: the same for Krippendorff's alpha.
        - ``interpretation``: Landis & Koch (1977) band of that kappa: poor (< 0), slight
          (≤ .20), fair (≤ .40), moderate (≤ .60), substantial (≤ .80), almost perfect.
        - ``alpha_interpretation``: Krippendorff's (2004, 2011) reading of alpha: ``reliable``
          (≥ .800), ``tentative`` (≥ .667, tentative conclusions only), ``unreliable``.
        - ``warning``: empty, or why the numbers need care: prevalence below 5 % or above 95 %
          (kappa is unstable, read PABAK), no positive decision (undefined), coders' rates
          differing by more than 20 points (bias index > 0.2), fewer than 30 units.

    Notes
    -----
    **Units rule.** A coder *saw* a segment if the segment is a participant turn
    (``speaker_role == "participant"``; every segment when the column is absent) of a document
    in which the coder applied at least one code, or if the coder coded the segment itself. The
    units are the segments every compared coder saw, so a coder who has not yet opened a
    document does not count as having said "absent" to all of it. Without ``segments`` the units
    are the segments any compared coder coded; pass ``units=`` to state the units explicitly.
    ``documents`` then restricts the units; ``codes`` restricts the rows, not the units.

    **Statistics.** With :math:`P_o` the observed and :math:`P_e` the expected agreement,
    kappa is :math:`(P_o - P_e) / (1 - P_e)`.

    - Cohen (1960): :math:`P_e = \\sum_c p_{1c} p_{2c} = p_1 p_2 + (1 - p_1)(1 - p_2)`, the sum
      over both categories of the product of each coder's own marginal proportions (not
      ``P(yes) * P(no)``, an error found in one open-source QDA tool).
    - Fleiss (1971): :math:`P_o = \\bar P` the mean over units of the share of agreeing coder
      pairs, :math:`P_e = \\bar p^2 + (1 - \\bar p)^2` with :math:`\\bar p` the pooled share of
      "present" decisions.
    - Krippendorff (2011), nominal: :math:`\\alpha = 1 - D_o / D_e = 1 - (n - 1)
      \\sum_{c \\ne k} o_{ck} / \\sum_{c \\ne k} n_c n_k` from the coincidence matrix
      :math:`o_{ck}`; implemented here (see :func:`krippendorff_alpha`, which also takes missing
      data) and checked against the ``krippendorff`` package in the tests.
    - Byrt, Bishop & Carlin (1993): PABAK = :math:`2 P_o - 1` for two categories; it does not
      depend on prevalence, so read it next to kappa for rare codes, where kappa can be low even
      when coders agree on nearly every unit (the prevalence paradox).

    **Overall row.** Pooled over codes: ``percent_agreement`` and ``pabak`` from the mean
    :math:`P_o` over codes (= the share of all segment × code decisions agreed on); kappa is the
    *pooled kappa* of De Vries et al. (2008), :math:`(\\bar P_o - \\bar P_e) / (1 - \\bar P_e)`
    with means over codes; alpha is computed from the coincidence matrices summed over codes
    (every segment × code is a unit). The overall bootstrap resamples segments (all codes of a
    segment together), so it respects that one segment's codes are not independent.

    Bootstrap replicates in which a statistic is undefined (no variation) are left out of its
    interval.

    References
    ----------
    - Cohen, J. (1960). A coefficient of agreement for nominal scales. *Educational and
      Psychological Measurement*, 20(1), 37–46.
    - Fleiss, J. L. (1971). Measuring nominal scale agreement among many raters. *Psychological
      Bulletin*, 76(5), 378–382.
    - Krippendorff, K. (2011). Computing Krippendorff's alpha-reliability. Annenberg School for
      Communication, University of Pennsylvania. https://repository.upenn.edu/asc_papers/43
    - Krippendorff, K. (2004). *Content analysis: An introduction to its methodology* (2nd ed.),
      p. 241. Sage.
    - Byrt, T., Bishop, J., & Carlin, J. B. (1993). Bias, prevalence and kappa. *Journal of
      Clinical Epidemiology*, 46(5), 423–429.
    - Landis, J. R., & Koch, G. G. (1977). The measurement of observer agreement for categorical
      data. *Biometrics*, 33(1), 159–174.
    - De Vries, H., Elliott, M. N., Kanouse, D. E., & Teleki, S. S. (2008). Using pooled kappa
      to summarize interrater agreement across many items. *Field Methods*, 20(3), 272–282.

    Examples
    --------
    >>> import journeylab as jl
    >>> study = jl.load_study(jl.datasets.sample_study_path())
    >>> table = jl.agreement(study.codings, segments=study.segments, n_boot=200)
    >>> table.columns[:4].tolist()
    ['code', 'n_units', 'n_coders', 'n_positive']
    """
    func = "agreement"
    codings = _check_codings(codings, func)
    if not (isinstance(n_boot, (int, np.integer)) and n_boot >= 0):
        raise JourneylabError(f"{func}(): `n_boot` must be a whole number ≥ 0; got {n_boot!r}.")
    if not (isinstance(level, (int, float)) and 0 < level < 1):
        raise JourneylabError(f"{func}(): `level` must be between 0 and 1 (e.g. 0.95); got {level!r}.")
    coder_list = _select_coders(codings, coders, func)
    code_list = _as_list(codes, arg="codes", func=func)
    sub = codings[codings["coder"].astype(str).isin(coder_list)]
    if segments is not None and units is None:
        sub = participant_codings(sub, segments=segments, what=f"{func}()").codings
    if code_list is None:
        code_list = list(dict.fromkeys(present_codings(sub)["code"].astype(str)))
    else:
        code_list = [str(c) for c in code_list]
    unit_list = units_for(sub, coder_list, segments=segments, documents=documents, units=units, func=func)
    x = decision_array(sub, coder_list, code_list, unit_list)
    m = len(coder_list)
    n = len(unit_list)

    rows = []
    if n == 0 or not code_list:
        for code in code_list + [OVERALL]:
            rows.append({"code": code, "n_units": 0, "n_coders": m, "n_positive": 0,
                         "warning": "no units: no segment was seen by every compared coder"})
        out = pd.DataFrame(rows).reindex(columns=_AGREEMENT_COLUMNS)
        out["interpretation"] = "undefined"
        out["alpha_interpretation"] = "undefined"
        return out

    parts = _binary_parts(x, np.ones((1, n)))
    point = _stats(parts, m)
    k = x.sum(axis=1)  # units × codes

    # point estimates of kappa from statsmodels (the reference implementation)
    from statsmodels.stats.inter_rater import cohens_kappa, fleiss_kappa

    kappa_sm = np.full(len(code_list), np.nan)
    for j in range(len(code_list)):
        if math.isnan(point["cohen" if m == 2 else "fleiss"][0, j]):
            continue
        if m == 2:
            a, b = x[:, 0, j], x[:, 1, j]
            table = np.array([[np.sum(a & b), np.sum(a & ~b)], [np.sum(~a & b), np.sum(~a & ~b)]])
            with warnings.catch_warnings(), np.errstate(invalid="ignore", divide="ignore"):
                # statsmodels' z statistic divides by a zero variance when agreement is perfect
                warnings.simplefilter("ignore", RuntimeWarning)
                kappa_sm[j] = cohens_kappa(table, return_results=True).kappa
        else:
            counts = np.column_stack([m - k[:, j], k[:, j]])
            kappa_sm[j] = fleiss_kappa(counts, method="fleiss")

    ci = np.full((len(code_list) + 1, 4), np.nan)
    if n_boot > 0:
        rng = np.random.default_rng(random_state)
        chunk = max(1, min(n_boot, int(2e7 // max(n, 1))))
        kap_reps, alp_reps, pk_reps, pa_reps = [], [], [], []
        done = 0
        while done < n_boot:
            size = min(chunk, n_boot - done)
            st = _stats(_binary_parts(x, _bootstrap_weights(rng, n, size)), m)
            kap_reps.append(st["cohen" if m == 2 else "fleiss"])
            alp_reps.append(st["alpha"])
            pk_reps.append(st["pooled"]["cohen" if m == 2 else "fleiss"])
            pa_reps.append(st["pooled"]["alpha"])
            done += size
        q = [(1 - level) / 2, (1 + level) / 2]
        kap = np.column_stack([np.vstack(kap_reps), np.concatenate(pk_reps)])
        alp = np.column_stack([np.vstack(alp_reps), np.concatenate(pa_reps)])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            ci[:, 0:2] = np.nanquantile(kap, q, axis=0).T
            ci[:, 2:4] = np.nanquantile(alp, q, axis=0).T
        # a statistic undefined at the point estimate has no interval
        point_k = np.append(kappa_sm, point["pooled"]["cohen" if m == 2 else "fleiss"][0])
        point_a = np.append(point["alpha"][0], point["pooled"]["alpha"][0])
        ci[np.isnan(point_k), 0:2] = np.nan
        ci[np.isnan(point_a), 2:4] = np.nan

    n_pos_units = (k > 0).sum(axis=0)
    po_codes = np.append(point["po"][0, :len(code_list)], point["pooled"]["po"][0])
    ag_lo, ag_hi = wilson_interval(po_codes * n, np.full(len(po_codes), n), level)
    for j, code in enumerate(code_list):
        kappa = float(kappa_sm[j])
        alpha = float(point["alpha"][0, j])
        po = float(point["po"][0, j])
        prev = float(parts["prevalence"][0, j])
        bias = float(parts["bias"][0, j])
        rows.append({
            "code": code, "n_units": n, "n_coders": m, "n_positive": int(n_pos_units[j]),
            "prevalence": prev, "bias_index": bias, "percent_agreement": po,
            "agreement_ci_low": float(ag_lo[j]), "agreement_ci_high": float(ag_hi[j]),
            "cohen_kappa": kappa if m == 2 else np.nan,
            "fleiss_kappa": kappa if m > 2 else np.nan,
            "krippendorff_alpha": alpha, "pabak": 2 * po - 1,
            "ci_low": ci[j, 0], "ci_high": ci[j, 1], "alpha_ci_low": ci[j, 2], "alpha_ci_high": ci[j, 3],
            "interpretation": landis_koch(kappa), "alpha_interpretation": krippendorff_band(alpha),
            "warning": _warning(n, prev, bias, int(n_pos_units[j]), kappa),
        })
    pooled = point["pooled"]
    kappa_all = float(pooled["cohen" if m == 2 else "fleiss"][0])
    alpha_all = float(pooled["alpha"][0])
    po_all = float(pooled["po"][0])
    prev_all = float(parts["prevalence"][0].mean())
    n_codes_rare = sum((r["prevalence"] < RARE or r["prevalence"] > 1 - RARE) for r in rows)
    note = []
    if n_codes_rare:
        note.append(f"{n_codes_rare} of {len(code_list)} codes have prevalence below {RARE:.0%} "
                    f"or above {1 - RARE:.0%}: read their rows and pabak")
    if n < FEW_UNITS:
        note.append(f"only {n} units: wide confidence interval")
    rows.append({
        "code": OVERALL, "n_units": n, "n_coders": m, "n_positive": int(n_pos_units.sum()),
        "prevalence": prev_all, "bias_index": float(parts["bias"][0].mean()),
        "percent_agreement": po_all,
        "agreement_ci_low": float(ag_lo[-1]), "agreement_ci_high": float(ag_hi[-1]),
        "cohen_kappa": kappa_all if m == 2 else np.nan,
        "fleiss_kappa": kappa_all if m > 2 else np.nan,
        "krippendorff_alpha": alpha_all, "pabak": 2 * po_all - 1,
        "ci_low": ci[-1, 0], "ci_high": ci[-1, 1], "alpha_ci_low": ci[-1, 2], "alpha_ci_high": ci[-1, 3],
        "interpretation": landis_koch(kappa_all), "alpha_interpretation": krippendorff_band(alpha_all),
        "warning": "; ".join(note),
    })
    out = pd.DataFrame(rows, columns=_AGREEMENT_COLUMNS)
    out["n_units"] = out["n_units"].astype(int)
    out["n_coders"] = out["n_coders"].astype(int)
    out["n_positive"] = out["n_positive"].astype(int)
    return out


UNITIZING_MEASURE = "Krippendorff's u-alpha (unitizing, on spans)"
UNITIZING_COLUMNS = ["code", "measure", "coders", "n_documents", "n_units", "d_observed", "d_expected", "u_alpha"]


def _unit_segments(units: list[tuple[int, int]], length: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One observer's continuum [0, length) as segments (begin, length, is_unit): its units and the gaps."""
    b, l, v = [], [], []  # noqa: E741  (begin, length, is_unit, as in the docstring)
    pos = 0
    for a, e in units:
        if a > pos:
            b.append(pos), l.append(a - pos), v.append(False)
        b.append(a), l.append(e - a), v.append(True)
        pos = e
    if pos < length:
        b.append(pos), l.append(length - pos), v.append(False)
    return np.array(b, dtype=np.int64), np.array(l, dtype=np.int64), np.array(v, dtype=bool)


def _observed_sum(s1, s2) -> float:
    """Sum of Krippendorff's delta^2 over the overlapping segment pairs of two observers."""
    b1, l1, v1 = s1
    b2, l2, v2 = s2
    if not len(b1) or not len(b2):
        return 0.0
    B1, L1, V1 = (x[:, None].astype(float) for x in (b1, l1, v1))
    B2, L2, V2 = (x[None, :].astype(float) for x in (b2, l2, v2))
    E1, E2 = B1 + L1, B2 + L2
    both = (V1 == 1) & (V2 == 1) & (-L1 < B1 - B2) & (B1 - B2 < L2)
    d = np.where(both, (B1 - B2) ** 2 + (E1 - E2) ** 2, 0.0)
    d += np.where((V1 == 1) & (V2 == 0) & (B2 <= B1) & (E1 <= E2), L1 ** 2, 0.0)  # unit inside the other's gap
    d += np.where((V2 == 1) & (V1 == 0) & (B1 <= B2) & (E2 <= E1), L2 ** 2, 0.0)
    return float(d.sum())


def _unitizing_parts(seg_a: list, seg_b: list, total: int) -> tuple[float, float]:
    """D_o and D_e of one code for two observers, pooled over documents (lists of segment triples)."""
    m = 2
    do = sum(2 * _observed_sum(x, y) for x, y in zip(seg_a, seg_b)) / (m * (m - 1) * total ** 2)
    unit_len = np.concatenate([s[1][s[2]] for s in seg_a + seg_b]).astype(float)
    gap_len = np.sort(np.concatenate([s[1][~s[2]] for s in seg_a + seg_b]).astype(float))
    n_units = len(unit_len)
    if n_units == 0:
        return do, 0.0
    csum = np.concatenate([[0.0], np.cumsum(gap_len[::-1])])[::-1]  # csum[k] = sum of gap_len[k:]
    k = np.searchsorted(gap_len, unit_len, side="left")  # gaps at least as long as each unit
    n_ge = len(gap_len) - k
    fit = csum[k] - (unit_len - 1) * n_ge  # sum over those gaps of (l_gap - l_unit + 1)
    num = ((n_units - 1) / 3 * (2 * unit_len ** 3 - 3 * unit_len ** 2 + unit_len) + unit_len ** 2 * fit).sum()
    num *= 2 / total
    den = m * total * (m * total - 1) - (unit_len * (unit_len - 1)).sum()
    return do, float(num / den) if den > 0 else 0.0


def unitizing_alpha(codings: pd.DataFrame, *, documents: pd.DataFrame, segments: pd.DataFrame | None = None,
                    coders=None, codes=None) -> pd.DataFrame:
    """Agreement on the coded spans themselves: Krippendorff's unitizing alpha (u-alpha).

    Turn-level agreement (:func:`agreement`) asks "is the code on this turn?"; u-alpha asks
    whether two coders marked *the same stretches of text*: a span that starts or ends elsewhere,
    or that one coder did not mark, counts as disagreement in proportion to the squared lengths
    involved. It is the measure ATLAS.ti reports for span coding.

    Parameters
    ----------
    codings : DataFrame
        ``code``, ``coder`` and the span (``doc_id``, ``start``, ``end``); a row without a span is
        its whole turn (``segment_id``, looked up in ``segments``).
    documents : DataFrame
        ``doc_id``, ``text``: each document is a continuum of ``len(text)`` characters.
    segments : DataFrame, optional
        ``segment_id``, ``doc_id``, ``start``, ``end``: needed for codings without a span.
    coders : list of two str, optional
        The two coders (default: the two in ``codings``).
    codes : list of str, optional
        Codes to report (default: every code either coder used).

    Returns
    -------
    DataFrame
        One row per code, then a row ``code="(all codes)"``: ``code``, ``measure`` (the
        measure's name), ``coders`` (``"a, b"``), ``n_documents`` (documents both coders coded,
        the continuum), ``n_units`` (spans of the code, both coders, after merging one coder's
        overlapping spans of one code), ``d_observed``, ``d_expected`` (Krippendorff's D_o and
        D_e), ``u_alpha`` (``1 - d_observed / d_expected``; the overall row pools the codes:
        ``1 - sum(D_o) / sum(D_e)``; NaN when ``d_expected`` is 0).

    Notes
    -----
    Krippendorff's (2004, pp. 251-256) unitizing alpha for two observers and one category at a
    time. Each coder's continuum is cut into the units of the code and the gaps between them.
    Two overlapping units at ``[b1, b1+l1)`` and ``[b2, b2+l2)`` differ by
    ``(b1-b2)^2 + (b1+l1-b2-l2)^2``; a unit lying inside the other coder's gap differs by its
    squared length; everything else by 0. D_o sums these over the pairs and divides by
    ``m(m-1)L^2`` (``L``: the continuum's length in characters). D_e is the same disagreement
    expected when the units are placed at random, by Krippendorff's formula for discrete
    continua (with ``l_gap - l_unit + 1``, the reading the published numbers confirm). Only
    documents in which both coders have at least one coding make the continuum (a document
    one coder never opened is not disagreement). Read it with the bands of
    :func:`krippendorff_band`. Implemented for exactly two coders.

    References
    ----------
    Krippendorff, K. (1995). On the reliability of unitizing contiguous data. Sociological
    Methodology 25, 47-76. Krippendorff, K. (2004). Content Analysis: An Introduction to Its
    Methodology, 2nd ed., Sage, section 11.6 (the worked example of p. 254 is this function's
    test). Krippendorff, K., Mathet, Y., Bouvry, S. & Widlöcher, A. (2016). On the reliability
    of unitizing textual continua: Further developments. Quality & Quantity 50, 2347-2364.

    Examples
    --------
    >>> import pandas as pd, journeylab as jl
    >>> docs = pd.DataFrame({"doc_id": ["d"], "text": ["x" * 300]})
    >>> cod = pd.DataFrame({"doc_id": "d", "code": "c", "coder": ["i", "i", "j", "j", "j"],
    ...                     "start": [75, 220, 70, 205, 250], "end": [145, 250, 150, 225, 270]})
    >>> round(float(jl.unitizing_alpha(cod, documents=docs)["u_alpha"].iloc[0]), 4)
    0.7286
    """
    func = "unitizing_alpha"
    check_frame(codings, arg="codings", func=func, required=["code", "coder"], allow_empty=True)
    check_frame(documents, arg="documents", func=func, required=["doc_id", "text"])
    cod = codings.copy()
    for c in ("doc_id", "start", "end"):
        if c not in cod.columns:
            cod[c] = pd.NA
    whole = cod["start"].isna() | cod["end"].isna()
    if whole.any():
        if segments is None or "segment_id" not in cod.columns:
            raise JourneylabError(f"{func}(): {int(whole.sum())} codings have no span (doc_id, start, end); pass "
                                  "`segments` (segment_id, doc_id, start, end) to take their turns' spans.")
        check_frame(segments, arg="segments", func=func, required=["segment_id", "doc_id", "start", "end"])
        seg = segments.assign(segment_id=segments["segment_id"].astype(str)).drop_duplicates("segment_id")
        seg = seg.set_index("segment_id")
        sid = cod.loc[whole, "segment_id"].astype(str)
        unknown = ~sid.isin(seg.index)
        if unknown.any():
            raise JourneylabError(f"{func}(): segment_id {sid[unknown].iloc[0]!r} of `codings` is not in `segments`.")
        cod.loc[whole, "doc_id"] = sid.map(seg["doc_id"]).to_numpy()
        cod.loc[whole, "start"] = sid.map(seg["start"]).to_numpy()
        cod.loc[whole, "end"] = sid.map(seg["end"]).to_numpy()
    cod["doc_id"] = cod["doc_id"].astype(str)
    cod["start"] = pd.to_numeric(cod["start"]).astype(np.int64)
    cod["end"] = pd.to_numeric(cod["end"]).astype(np.int64)
    lengths = dict(zip(documents["doc_id"].astype(str), documents["text"].astype(str).str.len()))
    unknown = ~cod["doc_id"].isin(lengths)
    if unknown.any():
        raise JourneylabError(f"{func}(): doc_id {cod.loc[unknown, 'doc_id'].iloc[0]!r} of `codings` is not in "
                              "`documents`.")
    bad = (cod["start"] < 0) | (cod["end"] <= cod["start"]) | (cod["end"] > cod["doc_id"].map(lengths))
    if bad.any():
        r = cod[bad].iloc[0]
        raise JourneylabError(f"{func}(): the span [{r['start']}, {r['end']}) of {r['code']!r} in {r['doc_id']!r} "
                              f"does not fit the document ({lengths[r['doc_id']]} characters).")
    found = sorted(cod["coder"].dropna().astype(str).unique())
    pair = list(coders) if coders is not None else found
    if len(pair) != 2 or any(c not in found for c in pair):
        raise JourneylabError(f"{func}(): u-alpha is computed for exactly two coders; `codings` has "
                              f"{', '.join(found) or 'none'}"
                              f"{f' and coders={list(coders)!r}' if coders is not None else ''}"
                              "; pass coders=[a, b].")
    cod = cod[cod["coder"].astype(str).isin(pair)]
    docs = sorted(set.intersection(*(set(cod.loc[cod["coder"] == c, "doc_id"]) for c in pair)))
    cod = cod[cod["doc_id"].isin(docs)]
    total = int(sum(lengths[d] for d in docs))
    names = list(codes) if codes is not None else list(dict.fromkeys(cod["code"].astype(str)))
    rows, sum_o, sum_e = [], 0.0, 0.0
    for code in names:
        per = {c: [] for c in pair}
        n_units = 0
        for coder in pair:
            mine = cod[(cod["code"] == code) & (cod["coder"] == coder)]
            for d in docs:
                spans = sorted(mine.loc[mine["doc_id"] == d, ["start", "end"]].itertuples(index=False, name=None))
                merged: list = []
                for a, e in spans:  # one coder's overlapping spans of one code are one unit
                    if merged and a < merged[-1][1]:  # touching spans stay two units
                        merged[-1] = (merged[-1][0], max(merged[-1][1], e))
                    else:
                        merged.append((a, e))
                n_units += len(merged)
                per[coder].append(_unit_segments(merged, lengths[d]))
        do, de = _unitizing_parts(per[pair[0]], per[pair[1]], total) if total else (0.0, 0.0)
        sum_o, sum_e = sum_o + do, sum_e + de
        rows.append({"code": code, "n_units": n_units, "d_observed": do, "d_expected": de,
                     "u_alpha": 1 - do / de if de > 0 else np.nan})
    rows.append({"code": "(all codes)", "n_units": sum(r["n_units"] for r in rows), "d_observed": sum_o,
                 "d_expected": sum_e, "u_alpha": 1 - sum_o / sum_e if sum_e > 0 else np.nan})
    out = pd.DataFrame(rows)
    out["measure"] = UNITIZING_MEASURE
    out["coders"] = ", ".join(pair)
    out["n_documents"] = len(docs)
    return out[UNITIZING_COLUMNS]


def krippendorff_alpha(data, *, level: str = "nominal") -> float:
    """Krippendorff's alpha for nominal data, any number of coders, missing values allowed.

    Parameters
    ----------
    data : array-like of shape (coders, units) or DataFrame
        Krippendorff's *reliability data* layout: one row per coder, one column per unit, the
        value each coder assigned (any hashable; numbers or strings). ``None``/``NaN``/``pd.NA``
        mark a missing value (the coder did not code the unit). A DataFrame is read the same way
        (rows = coders, columns = units).
    level : {"nominal"}
        Level of measurement; only nominal is implemented (codes are categories).

    Returns
    -------
    float
        Alpha; NaN when fewer than two pairable values or a single category occurs.

    Notes
    -----
    Following Krippendorff (2011): units with fewer than two values are not pairable and are
    dropped. For each remaining unit *u* with :math:`m_u` values and :math:`n_{uc}` values of
    category *c*, the coincidence matrix gains
    :math:`o_{ck} \\mathrel{+}= (n_{uc} n_{uk} - [c = k]\\, n_{uc}) / (m_u - 1)`.
    With :math:`n_c = \\sum_k o_{ck}` and :math:`n = \\sum_c n_c`,
    :math:`\\alpha = 1 - (n - 1) \\sum_{c \\ne k} o_{ck} / \\sum_{c \\ne k} n_c n_k`.

    References
    ----------
    Krippendorff, K. (2011). Computing Krippendorff's alpha-reliability. Annenberg School for
    Communication, University of Pennsylvania. https://repository.upenn.edu/asc_papers/43

    Examples
    --------
    Krippendorff's (2011) example C: 4 observers, 12 units, missing data; nominal alpha 0.743.

    >>> import numpy as np
    >>> nan = np.nan
    >>> data = [[1, 2, 3, 3, 2, 1, 4, 1, 2, nan, nan, nan],
    ...         [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, nan, 3],
    ...         [nan, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, nan],
    ...         [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, nan]]
    >>> round(krippendorff_alpha(data), 3)
    0.743
    """
    if level != "nominal":
        raise JourneylabError(
            f"krippendorff_alpha(): `level` must be 'nominal' (codes are categories); got {level!r}."
        )
    if isinstance(data, (str, bytes)) or not (isinstance(data, pd.DataFrame) or hasattr(data, "shape")
                                              or hasattr(data, "__iter__")):
        raise JourneylabError(f"krippendorff_alpha(): `data` must be a coders × units table (a list of lists, an "
                              f"array or a DataFrame); got {type(data).__name__}.")
    frame = data if isinstance(data, pd.DataFrame) else pd.DataFrame(list(data) if not hasattr(data, "shape") else data)
    if frame.ndim != 2 or frame.shape[0] < 2:
        raise JourneylabError(
            "krippendorff_alpha(): `data` must be coders × units (at least two rows, one per coder); "
            f"got shape {frame.shape}."
        )
    values = frame.to_numpy(dtype=object)
    missing = pd.isna(values)
    cats = sorted({v for v, miss in zip(values.ravel(), missing.ravel()) if not miss}, key=repr)
    if len(cats) == 0:
        return float("nan")
    index = {c: i for i, c in enumerate(cats)}
    counts = np.zeros((values.shape[1], len(cats)))
    for u in range(values.shape[1]):
        for r in range(values.shape[0]):
            if not missing[r, u]:
                counts[u, index[values[r, u]]] += 1
    m_u = counts.sum(axis=1)
    counts = counts[m_u >= 2]
    m_u = m_u[m_u >= 2]
    if len(m_u) == 0:
        return float("nan")
    o = np.einsum("uc,uk->ck", counts / (m_u - 1)[:, None], counts) - np.diag((counts / (m_u - 1)[:, None]).sum(axis=0))
    n_c = o.sum(axis=1)
    n_tot = n_c.sum()
    off = ~np.eye(len(cats), dtype=bool)
    expected = np.outer(n_c, n_c)[off].sum()
    if expected == 0:
        return float("nan")
    return float(1 - (n_tot - 1) * o[off].sum() / expected)


# ----------------------------------------------------------------------------- disagreements

_SEGMENT_INFO = ["segment_id", "doc_id", "participant_id", "text"]


def _memo_lookup(codings: pd.DataFrame) -> dict[tuple[str, str, str], str]:
    """(coder, segment_id, code) -> memo text ('' when none); several memos joined with ' | '."""
    if "memo" not in codings.columns or len(codings) == 0:
        return {}
    sub = codings[["coder", "segment_id", "code", "memo"]].copy()
    sub = sub[sub["memo"].notna()]
    sub["memo"] = sub["memo"].astype(str).str.strip()
    sub = sub[sub["memo"] != ""]
    out: dict[tuple[str, str, str], str] = {}
    for coder, seg, code, memo in sub.itertuples(index=False):
        key = (str(coder), str(seg), str(code))
        if key in out and memo not in out[key].split(" | "):
            out[key] = f"{out[key]} | {memo}"
        else:
            out.setdefault(key, memo)
    return out


def _prepare(codings, segments, coders, codes, documents, units, func):
    codings = _check_codings(codings, func)
    segments = check_frame(segments, arg="segments", func=func, required=("segment_id", "doc_id", "text"))
    coder_list = _select_coders(codings, coders, func)
    reserved = set(_SEGMENT_INFO) | {"code"}
    clash = [c for c in coder_list if c in reserved or c.startswith("memo_")]
    if clash:
        raise JourneylabError(
            f"{func}(): coder name(s) {', '.join(map(repr, clash))} would clash with a column of the "
            "result; rename the coder (e.g. with DataFrame.replace on the `coder` column)."
        )
    sub = codings[codings["coder"].astype(str).isin(coder_list)]
    if units is None:
        sub = participant_codings(sub, segments=segments, what=f"{func}()").codings
    code_list = _as_list(codes, arg="codes", func=func)
    if code_list is None:
        code_list = list(dict.fromkeys(present_codings(sub)["code"].astype(str)))
    code_list = [str(c) for c in code_list]
    unit_list = units_for(sub, coder_list, segments=segments, documents=documents, units=units, func=func)
    x = decision_array(sub, coder_list, code_list, unit_list)
    info = segments.assign(segment_id=segments["segment_id"].astype(str)).drop_duplicates("segment_id")
    info = info.set_index("segment_id").reindex(unit_list)
    if "participant_id" not in info.columns:
        info["participant_id"] = pd.NA
    return sub, coder_list, code_list, unit_list, x, info


def disagreements(
    codings: pd.DataFrame,
    *,
    segments: pd.DataFrame,
    coders: Sequence[str] | None = None,
    codes: Sequence[str] | None = None,
    documents: Sequence[str] | None = None,
    units: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Every segment × code on which the compared coders do not all agree.

    Parameters
    ----------
    codings : DataFrame
        Codings frame with the coders' positive decisions (see :func:`agreement`).
    segments : DataFrame
        Segments frame (``segment_id``, ``doc_id``, ``text``, optionally ``participant_id`` and
        ``speaker_role``); it decides the units (see :func:`agreement`, *Units rule*) and
        supplies the text.
    coders, codes, documents, units
        As in :func:`agreement`.

    Returns
    -------
    DataFrame
        One row per disagreement, in the order of ``segments`` then of ``codes``:

        - ``segment_id``, ``doc_id``, ``participant_id``, ``text``: the segment.
        - ``code``: the code the coders disagree on.
        - one boolean column per coder, named after the coder: ``True`` if that coder applied
          the code to the segment, ``False`` if the coder saw the segment and did not.
        - ``memo_<coder>`` per coder: that coder's memo on this segment × code (``""`` if none;
          several memos joined with ``" | "``).

    Notes
    -----
    The units are those of :func:`agreement` with the same arguments, so the number of rows for a
    code equals ``n_units * (1 - percent_agreement)`` there (two coders).

    Examples
    --------
    >>> import journeylab as jl
    >>> study = jl.load_study(jl.datasets.sample_study_path())
    >>> diff = jl.disagreements(study.codings, segments=study.segments)
    >>> diff.columns[:5].tolist()
    ['segment_id', 'doc_id', 'participant_id', 'code', 'text']
    """
    func = "disagreements"
    sub, coder_list, code_list, unit_list, x, info = _prepare(
        codings, segments, coders, codes, documents, units, func)
    columns = ["segment_id", "doc_id", "participant_id", "code", "text", *coder_list,
               *[f"memo_{c}" for c in coder_list]]
    if x.size == 0:
        return pd.DataFrame({c: pd.Series(dtype=bool if c in coder_list else object) for c in columns})
    differ = x.any(axis=1) & ~x.all(axis=1)  # units × codes
    u_idx, k_idx = np.nonzero(differ)
    memos = _memo_lookup(sub)
    out = pd.DataFrame({
        "segment_id": [unit_list[u] for u in u_idx],
        "doc_id": info["doc_id"].to_numpy()[u_idx] if len(u_idx) else [],
        "participant_id": info["participant_id"].to_numpy()[u_idx] if len(u_idx) else [],
        "code": [code_list[k] for k in k_idx],
        "text": info["text"].to_numpy()[u_idx] if len(u_idx) else [],
    })
    for j, coder in enumerate(coder_list):
        out[coder] = x[u_idx, j, k_idx].astype(bool)
    for coder in coder_list:
        out[f"memo_{coder}"] = [memos.get((coder, unit_list[u], code_list[k]), "") for u, k in zip(u_idx, k_idx)]
    return out[columns].reset_index(drop=True)


class CoderComparison:
    """Side-by-side view of several coders' decisions (returned by :func:`compare_coders`).

    Attributes
    ----------
    matrix : DataFrame
        Index ``segment_id``; columns a MultiIndex (``code``, ``coder``) of booleans (did the
        coder apply the code?). Only the rows and codes selected for display.
    segments : DataFrame
        ``segment_id`` (index), ``doc_id``, ``participant_id``, ``text`` of those rows.
    coders, codes : list of str
    """

    def __init__(self, matrix: pd.DataFrame, segments: pd.DataFrame, coders: list[str], codes: list[str],
                 *, max_text: int = 160):
        self.matrix = matrix
        self.segments = segments
        self.coders = coders
        self.codes = codes
        self.max_text = max_text

    def to_frame(self) -> pd.DataFrame:
        """The matrix as a tidy long frame: ``segment_id``, ``code``, ``coder``, ``applied``."""
        long = self.matrix.stack(["code", "coder"], future_stack=True).rename("applied").reset_index()
        return long.astype({"applied": bool})

    def __repr__(self) -> str:
        n_diff = int(self._differ().to_numpy().sum()) if len(self.matrix) else 0
        return (f"CoderComparison({len(self.matrix)} segments × {len(self.codes)} codes, "
                f"coders {', '.join(self.coders)}; {n_diff} disagreements)")

    def _differ(self) -> pd.DataFrame:
        m = self.matrix
        out = {}
        for code in self.codes:
            block = m[code]
            out[code] = block.any(axis=1) & ~block.all(axis=1)
        return pd.DataFrame(out, index=m.index)

    def to_html(self) -> str:
        """An HTML table: one row per segment, one column per code, each coder's mark per cell."""
        esc = html.escape
        coders = self.coders
        legend = " | ".join(esc(c) for c in coders)
        head = ["<th>segment</th>", "<th>text</th>"] + [
            f"<th style='writing-mode:vertical-rl;transform:rotate(180deg);text-align:left'>{esc(c)}</th>"
            for c in self.codes]
        differ = self._differ() if len(self.matrix) else None
        body = []
        for seg_id in self.matrix.index:
            info = self.segments.loc[seg_id]
            text = "" if pd.isna(info["text"]) else str(info["text"])
            short = text if len(text) <= self.max_text else text[: self.max_text - 1] + "…"
            who = "" if pd.isna(info["participant_id"]) else f" · {esc(str(info['participant_id']))}"
            cells = [f"<td style='white-space:nowrap'><code>{esc(seg_id)}</code>{who}</td>",
                     f"<td title='{esc(text)}' style='text-align:left;min-width:18em;max-width:42em'>{esc(short)}</td>"]
            for code in self.codes:
                marks = self.matrix.loc[seg_id, code]
                symbols = " ".join(
                    f"<span title='{esc(c)}: {'applied' if marks[c] else 'not applied'}'>"
                    f"{'✓' if marks[c] else '·'}</span>" for c in coders)
                if differ.loc[seg_id, code]:
                    style = "background:#fdd49e"
                elif bool(marks.all()):
                    style = "background:#d9f0d3"
                else:
                    style = ""
                cells.append(f"<td style='{style};text-align:center;white-space:nowrap'>{symbols}</td>")
            body.append("<tr>" + "".join(cells) + "</tr>")
        caption = (f"<caption style='caption-side:top;text-align:left'>Each cell shows the coders in the "
                   f"order {legend}: ✓ applied, · not applied. Orange: coders differ; green: all applied."
                   "</caption>")
        return ("<table class='journeylab-compare'>" + caption + "<thead><tr>" + "".join(head)
                + "</tr></thead><tbody>" + "".join(body) + "</tbody></table>")

    def _repr_html_(self) -> str:
        return self.to_html()


def compare_coders(
    codings: pd.DataFrame,
    *,
    segments: pd.DataFrame,
    coders: Sequence[str] | None = None,
    codes: Sequence[str] | None = None,
    documents: Sequence[str] | None = None,
    units: Sequence[str] | None = None,
    only_disagreements: bool = True,
    max_rows: int | None = 200,
) -> CoderComparison:
    """A side-by-side segment × code view of where coders differ.

    Parameters
    ----------
    codings, segments, coders, codes, documents, units
        As in :func:`disagreements`.
    only_disagreements : bool, default True
        Show only segments with at least one disagreement, and only codes with at least one
        disagreement among them. ``False`` shows every unit and code.
    max_rows : int or None, default 200
        At most this many segments (in segment order); ``None`` for all.

    Returns
    -------
    CoderComparison
        ``.matrix`` (segment × (code, coder) booleans), ``.segments``, ``.to_frame()`` (long:
        ``segment_id``, ``code``, ``coder``, ``applied``); shown in a notebook as an escaped
        HTML table with disagreements highlighted.

    Examples
    --------
    >>> import journeylab as jl
    >>> study = jl.load_study(jl.datasets.sample_study_path())
    >>> view = jl.compare_coders(study.codings, segments=study.segments, max_rows=20)
    >>> view.matrix.columns.names
    FrozenList(['code', 'coder'])
    """
    func = "compare_coders"
    _, coder_list, code_list, unit_list, x, info = _prepare(
        codings, segments, coders, codes, documents, units, func)
    differ = x.any(axis=1) & ~x.all(axis=1)
    keep_u = np.arange(len(unit_list))
    keep_k = np.arange(len(code_list))
    if only_disagreements and x.size:
        keep_u = np.flatnonzero(differ.any(axis=1))
        keep_k = np.flatnonzero(differ[keep_u].any(axis=0)) if len(keep_u) else np.array([], dtype=int)
    if max_rows is not None:
        keep_u = keep_u[:max_rows]
    columns = pd.MultiIndex.from_product([[code_list[k] for k in keep_k], coder_list], names=["code", "coder"])
    if len(keep_u) and len(keep_k):
        data = x[np.ix_(keep_u, np.arange(len(coder_list)), keep_k)].transpose(0, 2, 1).reshape(len(keep_u), -1)
    else:
        data = np.zeros((len(keep_u), len(columns)), dtype=bool)
    ids = [unit_list[u] for u in keep_u]
    matrix = pd.DataFrame(data, index=pd.Index(ids, name="segment_id"), columns=columns)
    seg = info.loc[ids, ["doc_id", "participant_id", "text"]]
    seg.index.name = "segment_id"
    return CoderComparison(matrix, seg, coder_list, [code_list[k] for k in keep_k])


# ----------------------------------------------------------------------------- merging coders

_MERGE_REPORT_COLUMNS = ["kind", "coder", "original", "segment_id", "code", "n_rows", "source", "detail"]
_VOLATILE = {"decided_at", "id", "rowid", "decision_id", "seq", "_source", "_order"}


def _tidy_spelling(name) -> str:
    return " ".join(unicodedata.normalize("NFC", str(name)).split())


_REMOVAL_COLUMNS = ["coder", "segment_id", "code", "start", "end", "removed_at"]
_SPAN_KEYS = (("start", "end"), ("span_start", "span_end"))  # a codings frame's span columns, either naming


def _removals(decisions: pd.DataFrame, span_decisions: pd.DataFrame | None = None) -> pd.DataFrame:
    """The (coder, segment, code[, span]) whose latest decision in a store's log is a removal, with its time.

    Whole-turn removals have ``start``/``end`` missing; span removals (a store's
    ``span_decisions()``) carry their span.
    """
    frames = []
    if len(decisions):
        last = decisions.sort_values("decision_id").groupby(["coder_key", "segment_id", "code"], sort=False).tail(1)
        frames.append(last[~last["value"].astype(bool)].assign(start=pd.NA, end=pd.NA))
    if span_decisions is not None and len(span_decisions):
        last = span_decisions.sort_values("decision_id").groupby(["coder_key", "doc_id", "start", "end", "code"],
                                                                 sort=False).tail(1)
        frames.append(last[~last["value"].astype(bool)])
    frames = [f for f in frames if len(f)]
    if not frames:
        return pd.DataFrame(columns=_REMOVAL_COLUMNS)
    out = pd.concat([f.rename(columns={"decided_at": "removed_at"})[_REMOVAL_COLUMNS] for f in frames],
                    ignore_index=True)
    return out


def _store_removals(store) -> pd.DataFrame:
    spans = store.span_decisions() if callable(getattr(store, "span_decisions", None)) else None
    return _removals(store.decisions(), spans)


def _span_of(data: pd.DataFrame) -> tuple[list, list]:
    """Each row's span (start, end as int, None for a whole-turn coding), from either naming of the columns."""
    for a, b in _SPAN_KEYS:
        if a in data.columns and b in data.columns:
            def num(v):
                return None if v is None or v is pd.NA or (isinstance(v, float) and np.isnan(v)) \
                    or str(v).strip() == "" else int(v)
            return [num(v) for v in data[a]], [num(v) for v in data[b]]
    return [None] * len(data), [None] * len(data)


def _read_source(src, i: int) -> tuple[pd.DataFrame, str, pd.DataFrame | None]:
    """A codings frame, a label and (a coding store) its removals, for one source of merge_codings."""
    func = "merge_codings"
    if callable(getattr(src, "decisions", None)) and callable(getattr(src, "codings", None)):  # a CodingStore
        return (_check_codings(src.codings(), func, arg="sources").copy(), str(getattr(src, "path", f"store {i + 1}")),
                _store_removals(src))
    if isinstance(src, pd.DataFrame):
        return _check_codings(src, func, arg="sources").copy(), f"frame {i + 1}", None
    if hasattr(src, "codings") and isinstance(getattr(src, "codings", None), pd.DataFrame):
        return _check_codings(src.codings, func).copy(), f"{type(src).__name__} {i + 1}", None
    if isinstance(src, str) and not src.strip():
        raise JourneylabError(f"{func}(): `sources`: source {i + 1} is an empty path; expected a codings DataFrame, "
                              "a coding store path or a CSV path.")
    if isinstance(src, (str, PathLike)):
        path = Path(src)
        if not path.exists():
            raise JourneylabError(f"{func}(): `sources`: source {i + 1} ({path}) does not exist; expected a coding "
                                  "store "
                                  "(.sqlite/.db), a codings CSV or a folder of codings CSVs.")
        if path.is_dir() or path.suffix.lower() == ".csv":
            files = sorted(path.glob("*.csv")) if path.is_dir() else [path]
            if not files:
                raise JourneylabError(f"{func}(): folder {path} holds no .csv codings files.")
            frames = []
            for f in files:
                df = pd.read_csv(f, dtype=str, keep_default_na=False, encoding="utf-8-sig")
                if "coder" not in df.columns:
                    df["coder"] = f.stem
                frames.append(df)
            df = pd.concat(frames, ignore_index=True)
            if "memo" in df.columns:
                df["memo"] = df["memo"].replace({"": pd.NA})
            return _check_codings(df, func, ).copy(), str(path), None
        codings = read_codings(path)  # checks the file is a readable store
        with CodingStore(path) as store:
            removals = _store_removals(store)
        return _check_codings(codings, func).copy(), str(path), removals
    raise JourneylabError(
        f"{func}(): `sources`: source {i + 1} must be a codings DataFrame, a coding store path or a CSV path; "
        f"got {type(src).__name__}."
    )


def _comparable(df: pd.DataFrame, columns: list[str]) -> pd.Series:
    """One hashable fingerprint per row over ``columns`` (NA and '' compare equal)."""
    parts = []
    for c in columns:
        col = df[c]
        parts.append(col.astype(object).where(col.notna() & (col.astype(str) != ""), None).map(
            lambda v: None if v is None else str(v)))
    return pd.Series(list(zip(*parts)) if parts else [()] * len(df), index=df.index)


def _drop_removed(data: pd.DataFrame, removals: pd.DataFrame, spelling: dict, report: list) -> pd.DataFrame:
    """Drop rows a coding store's log removed after they were decided; report each decision taken.

    A row of (coder, segment, code, span) is dropped when a store's latest decision on it is a removal
    at least as recent as the row's ``decided_at`` (a row without one counts as older): the log is
    the truth, and an old export must not bring a removed coding back. A row decided after the
    removal (applied again elsewhere) is kept.
    """
    removals = removals.assign(coder=removals["coder"].map(lambda n: spelling.setdefault(
        normalize_coder(n), _tidy_spelling(n))))
    removed_at = pd.to_datetime(removals["removed_at"], errors="coerce", utc=True, format="mixed")
    latest: dict = {}
    r_start, r_end = _span_of(removals)
    for key, t, src in zip(zip(removals["coder"], removals["segment_id"].astype(str), removals["code"], r_start,
                               r_end),
                           removed_at, removals["_source"]):
        if key not in latest or (pd.notna(t) and (pd.isna(latest[key][0]) or t > latest[key][0])):
            latest[key] = (t, src)
    if "decided_at" in data.columns:
        when = pd.to_datetime(data["decided_at"], errors="coerce", utc=True, format="mixed")
    else:
        when = pd.Series(pd.NaT, index=data.index, dtype="datetime64[ns, UTC]")
    drop = []
    keys = list(zip(data["coder"], data["segment_id"].astype(str), data["code"], *_span_of(data)))
    for idx, key, t, src in zip(data.index, keys, when, data["_source"]):
        if key not in latest:
            continue
        t_rm, store = latest[key]
        base = {"coder": key[0], "original": pd.NA, "segment_id": key[1], "code": key[2], "n_rows": 1,
                "source": src}
        stamp = "no decided_at" if pd.isna(t) else f"decided {t.isoformat()}"
        if pd.isna(t) or pd.isna(t_rm) or t <= t_rm:
            drop.append(idx)
            report.append({**base, "kind": "removed",
                           "detail": f"removed in {store} at {t_rm.isoformat() if pd.notna(t_rm) else '?'}; the row "
                                     f"from {src} ({stamp}) is not newer: not brought back (the store's log wins)"})
        else:
            report.append({**base, "kind": "reapplied",
                           "detail": f"removed in {store} at {t_rm.isoformat()}, then applied again in {src} "
                                     f"({stamp}): kept (the latest decision wins)"})
    return data.drop(index=drop)


def merge_codings(*sources) -> pd.DataFrame:
    """Bring several coders' codings together without losing or duplicating a decision.

    Parameters
    ----------
    *sources : DataFrame, path or object with a ``codings`` frame
        Codings frames, coding-store files (read with :func:`journeylab.store.read_codings`),
        codings CSV files or folders of them (a file without a ``coder`` column is named after the
        file, as in a study's ``codings/`` folder), or objects with a ``.codings`` frame (a
        coding store or session). Order matters only for ties (see Notes).

    Returns
    -------
    DataFrame
        The merged codings frame: the union of the sources' columns, ``segment_id``, ``code``,
        ``coder``, ``origin``, ``memo`` first; one row per decision. Its
        ``attrs["merge_report"]`` holds :func:`merge_report`'s frame as a list of records.

    See Also
    --------
    merge_report : what the merge did, one row per action.

    Notes
    -----
    - **Coder identity.** Names equal after Unicode NFKC normalisation, trimming, collapsing inner
      whitespace and case-folding are the same coder (``"Amara"``, ``"amara "``, ``"AMARA"``).
      The first spelling met (sources in order, rows in order), trimmed, is kept.
    - **Decision identity.** A decision is (coder, ``segment_id``, ``code``), plus the span
      (``start``/``end``, or ``span_start``/``span_end``) when present: two spans of one code in
      a segment are two decisions, and a whole-turn coding (no span) is another.
    - **Duplicates.** Rows of one decision whose other columns (except ``decided_at`` and store
      row ids) are equal — blank and missing memos count as equal — collapse into one row (the
      one with the latest ``decided_at``).
    - **Removals.** A coding store's decision log is the truth: when its latest decision on
      (coder, segment, code), or on a span of it, is a removal, rows of other sources (an earlier
      export) with that turn or span decided at or
      before the removal — or without ``decided_at`` — are dropped and reported (``removed``);
      a row decided after it was applied again and is kept (``reapplied``).
    - **Conflicts.** Rows of one decision that differ (memo, origin, ``present``, ...) keep the
      row with the latest ``decided_at``; without timestamps, or on a tie, the row from the later
      source wins. Every conflict is reported with both versions, so nothing is lost silently.

    Examples
    --------
    >>> import pandas as pd
    >>> a = pd.DataFrame({"segment_id": ["s1"], "code": ["price"], "coder": ["Amara"],
    ...                   "origin": ["manual"], "memo": [None]})
    >>> b = a.assign(coder="amara ")
    >>> merge_codings(a, b)["coder"].tolist()
    ['Amara']
    """
    return _merge(sources, "merge_codings")[0]


def merge_report(*sources) -> pd.DataFrame:
    """What :func:`merge_codings` does to the same sources: one row per coder folded, duplicate
    collapsed or conflict resolved.

    Parameters
    ----------
    *sources : DataFrame, path or object with a ``codings`` frame
        As for :func:`merge_codings`, in the same order.

    Returns
    -------
    DataFrame
        One row per action taken: ``kind`` (``"coder_merged"``: a spelling folded into another;
        ``"duplicate"``: identical decisions collapsed; ``"conflict"``: different decisions of
        the same coder on the same segment × code, one kept; ``"removed"``: a row dropped because
        a coding store's log removed that coding later; ``"reapplied"``: a row kept because it was
        decided after the store's removal), ``coder`` (the kept spelling),
        ``original`` (the folded spelling, for ``coder_merged``), ``segment_id``, ``code``,
        ``n_rows`` (rows involved), ``source`` (where the folded or dropped rows came from),
        ``detail`` (what was kept and why).

    See Also
    --------
    merge_codings : the merged codings frame.

    Examples
    --------
    >>> import pandas as pd
    >>> a = pd.DataFrame({"segment_id": ["s1"], "code": ["price"], "coder": ["Amara"],
    ...                   "origin": ["manual"], "memo": [None]})
    >>> merge_report(a, a.assign(coder="amara "))["kind"].tolist()
    ['coder_merged', 'duplicate']
    """
    return _merge(sources, "merge_report")[1]


def _merge(sources, func: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The merged codings and the report (see :func:`merge_codings`)."""
    if not sources:
        raise JourneylabError(f"{func}(): `sources`: give at least one source (codings frame or coding store path).")
    frames, removals = [], []
    for i, src in enumerate(sources):
        df, label, removed = _read_source(src, i)
        df["_source"] = label
        frames.append(df)
        if removed is not None and len(removed):
            removals.append(removed.assign(_source=label))
    data = pd.concat(frames, ignore_index=True)
    data["_order"] = np.arange(len(data))
    report: list[dict] = []

    # coder identity
    spelling: dict[str, str] = {}
    for name in data["coder"].astype(str):
        spelling.setdefault(normalize_coder(name), _tidy_spelling(name))
    original = data["coder"].astype(str)
    canonical = original.map(lambda n: spelling[normalize_coder(n)])
    changed = original != canonical
    if changed.any():
        grp = data[changed.to_numpy()].assign(_orig=original[changed], _canon=canonical[changed])
        for (orig, canon, src), g in grp.groupby(["_orig", "_canon", "_source"], sort=False):
            report.append({"kind": "coder_merged", "coder": canon, "original": orig, "n_rows": len(g),
                           "source": src, "detail": f"{orig!r} is the same coder as {canon!r}"})
    data["coder"] = canonical.to_numpy()
    if removals:
        data = _drop_removed(data, pd.concat(removals, ignore_index=True), spelling, report)

    key_cols = ["coder", "segment_id", "code"] + [c for c in ("start", "end", "span_start", "span_end")
                                                  if c in data.columns]
    content_cols = [c for c in data.columns if c not in set(key_cols) | _VOLATILE]
    key = _comparable(data, key_cols)
    content = _comparable(data, content_cols)
    if "decided_at" in data.columns:
        when = pd.to_datetime(data["decided_at"], errors="coerce", utc=True, format="mixed")
    else:
        when = pd.Series(pd.NaT, index=data.index, dtype="datetime64[ns, UTC]")
    data["_when"] = when
    data["_key"] = key
    data["_content"] = content

    keep_idx = []
    multi = data["_key"].duplicated(keep=False)
    keep_idx.extend(data.index[~multi.to_numpy()].tolist())
    for _, g in data[multi.to_numpy()].groupby("_key", sort=False):
        # latest decided_at wins; NaT counts as oldest; ties -> later source / later row
        ordered = g.sort_values(["_when", "_order"], na_position="first")
        winner = ordered.index[-1]
        keep_idx.append(winner)
        first = g.iloc[0]
        base = {"coder": first["coder"], "original": pd.NA, "segment_id": first["segment_id"], "code": first["code"]}
        if g["_content"].nunique() == 1:
            report.append({**base, "kind": "duplicate", "n_rows": len(g),
                           "source": ", ".join(dict.fromkeys(g["_source"])),
                           "detail": f"{len(g)} identical decisions collapsed into one"})
        else:
            win = data.loc[winner]
            losers = g.drop(index=winner)
            later = pd.notna(win["_when"]) and (losers["_when"].isna() | (losers["_when"] < win["_when"])).all()
            why = "latest decided_at" if later else "no decided_at to order them: the later source wins"
            fp = {c: _comparable(g, [c]) for c in content_cols}
            shown = [c for c in content_cols if fp[c].nunique() > 1]

            def describe(r):
                return ", ".join(f"{c}={r[c]!r}" for c in shown
                                 if not (pd.isna(r[c]) if np.ndim(r[c]) == 0 else False)) or "(no other fields)"
            report.append({**base, "kind": "conflict", "n_rows": len(g),
                           "source": ", ".join(dict.fromkeys(losers["_source"])),
                           "detail": f"kept {describe(win)} from {win['_source']} ({why}); dropped "
                                     + "; ".join(f"{describe(r)} from {r['_source']}" for _, r in losers.iterrows())})
    out = data.loc[sorted(keep_idx, key=lambda i: data.at[i, "_order"])]
    out = out.drop(columns=["_source", "_order", "_when", "_key", "_content"]).reset_index(drop=True)
    front = [c for c in ("segment_id", "code", "coder", "origin", "memo") if c in out.columns]
    out = out[front + [c for c in out.columns if c not in front]]
    if "memo" in out.columns:
        blank = out["memo"].notna() & (out["memo"].astype(str).str.strip() == "")
        out["memo"] = out["memo"].astype(object).where(~blank, pd.NA)
    rep = pd.DataFrame(report, columns=_MERGE_REPORT_COLUMNS)
    if len(rep):
        rep["n_rows"] = rep["n_rows"].astype(int)
    out.attrs["merge_report"] = rep.astype(object).where(rep.notna(), None).to_dict("records")
    return out, rep


# ----------------------------------------------------------------------------- plot


@shared_docs
def plot_agreement(table: pd.DataFrame, *, statistic: str = "kappa", ax=None):
    """Forest plot of an :func:`agreement` table: estimate and bootstrap interval per code.

    Parameters
    ----------
    table : DataFrame
        The result of :func:`agreement`.
    statistic : {"kappa", "alpha"}, default "kappa"
        Cohen's/Fleiss' kappa (with Landis & Koch bands shaded) or Krippendorff's alpha (with
        his 0.667 and 0.800 thresholds drawn).
    {ax}
        A new figure is sized to the number of codes.

    Returns
    -------
    matplotlib.axes.Axes

    Notes
    -----
    Codes are sorted by the estimate, the pooled ``"(overall)"`` row at the top in bold. Codes
    flagged by the prevalence warning (below 5 % or above 95 %) are drawn hollow: read their
    PABAK rather than their kappa. A code whose bootstrap interval has zero width (a handful of
    positive turns, so every resample gives the same value) gets a dotted line across the whole
    scale instead of no bar: its uncertainty is unknown, not zero. Codes whose statistic is
    undefined are left out.

    Examples
    --------
    >>> import journeylab as jl
    >>> study = jl.load_study(jl.datasets.sample_study_path())
    >>> ax = plot_agreement(jl.agreement(study.codings, segments=study.segments, n_boot=100))
    """
    # lazy: matplotlib.pyplot adds ~0.8 s to `import journeylab` (measured; docs/architecture.md)
    import matplotlib.pyplot as plt

    table = check_frame(table, arg="table", func="plot_agreement",
                        required=("code", "krippendorff_alpha", "ci_low", "ci_high", "prevalence"))
    if statistic not in ("kappa", "alpha"):
        raise JourneylabError(f"plot_agreement(): `statistic` must be 'kappa' or 'alpha'; got {statistic!r}.")
    if statistic == "kappa":
        est = table["cohen_kappa"].fillna(table["fleiss_kappa"])
        lo, hi = table["ci_low"], table["ci_high"]
        label = "Cohen's kappa" if table["cohen_kappa"].notna().any() else "Fleiss' kappa"
    else:
        est, lo, hi = table["krippendorff_alpha"], table["alpha_ci_low"], table["alpha_ci_high"]
        label = "Krippendorff's alpha"
    df = pd.DataFrame({"code": table["code"], "est": est, "lo": lo, "hi": hi,
                       "rare": (table["prevalence"] < RARE) | (table["prevalence"] > 1 - RARE)})
    df = df[df["est"].notna()]
    overall = df[df["code"] == OVERALL]
    df = pd.concat([df[df["code"] != OVERALL].sort_values("est"), overall])
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 0.32 * len(df) + 1.4))
    y = np.arange(len(df))
    if statistic == "kappa":
        for x0, x1, name in ((0.0, 0.2, "slight"), (0.2, 0.4, "fair"), (0.4, 0.6, "moderate"),
                             (0.6, 0.8, "substantial"), (0.8, 1.0, "almost perfect")):
            ax.axvspan(x0, x1, color="#000000", alpha=0.03 + 0.03 * (x0 * 5 % 2))
            ax.text((x0 + x1) / 2, len(df) - 0.3, name, ha="center", va="bottom", fontsize=7, color="#555555")
    else:
        for x, name in ((0.667, "tentative"), (0.8, "reliable")):
            ax.axvline(x, color="#888888", lw=0.8, ls="--")
            ax.text(x, len(df) - 0.3, name, ha="left", va="bottom", fontsize=7, color="#555555")
    err = np.vstack([(df["est"] - df["lo"]).clip(lower=0).fillna(0), (df["hi"] - df["est"]).clip(lower=0).fillna(0)])
    ax.errorbar(df["est"], y, xerr=err, fmt="none", ecolor="#4d4d4d", elinewidth=1, capsize=2)
    solid = ~df["rare"].to_numpy()
    ax.scatter(df["est"][solid], y[solid], color="#0072b2", zorder=3, s=28, label="estimate")
    ax.scatter(df["est"][~solid], y[~solid], facecolors="white", edgecolors="#0072b2", zorder=3, s=28,
               label="prevalence < 5 % (read PABAK)")
    # a zero-width bootstrap interval (two or three positive turns: every resample gives the same kappa, or
    # none) is not certainty: draw it as unknown, a dotted line across the whole scale, not as a point
    flat = ((df["hi"] - df["lo"]).abs() <= 1e-12).to_numpy() & (df["code"] != OVERALL).to_numpy()
    if flat.any():
        ax.hlines(y[flat], -1.0, 1.0, colors="#d55e00", linestyles=":", lw=1.2, zorder=2,
                  label="interval of zero width: not estimable")
    ax.set_yticks(y)
    ax.set_yticklabels(df["code"])
    for tick, code in zip(ax.get_yticklabels(), df["code"]):
        if code == OVERALL:
            tick.set_fontweight("bold")
    ax.axvline(0, color="#999999", lw=0.8)
    low_x = float(np.nanmin(df["lo"].fillna(df["est"])))
    ax.set_xlim(max(-1.05, min(-0.2, low_x) - 0.05), 1.05)
    ax.set_ylim(-0.7, len(df) + 0.2)
    ax.set_xlabel(f"{label} with {'bootstrap ' if df['lo'].notna().any() else ''}interval")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.9 / (0.32 * len(df) + 1.4)), ncol=2, fontsize=7,
              frameon=False)
    ax.figure.tight_layout()
    return ax
