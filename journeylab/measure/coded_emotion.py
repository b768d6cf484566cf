"""Emotion that answers to the coding: the balance of delight and pain-point codes per stage.

:func:`coded_emotion` gives each journey stage the share of its participants with a delight
coding minus the share with a pain-point coding (−1 to +1, the scale of the lexicon's compound
score), with an adjusted-Wald interval. :func:`compare_emotion` sets it beside the lexicon's
emotion curve (:func:`journeylab.emotion_curve`) and marks the stages where their intervals put
the stage on opposite sides of zero. ``docs/sentiment.md`` says when each is the better guide.
"""
from __future__ import annotations

__all__ = ["coded_emotion", "compare_emotion", "EMOTION_SIDES"]

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from ..errors import JourneylabError
from ..study.stages import code_stage_map
from ..utils.checks import check_frame
from ..utils.intervals import net_share_interval

#: What an interval says about the side of zero a stage is on (see :func:`compare_emotion`).
EMOTION_SIDES = ("positive", "negative", "unclear")

_CODED_COLUMNS = ["stage", "stage_order", "n_participants", "n_pain", "n_delight", "n_both", "balance", "ci_low",
                  "ci_high"]


def _kind_map(code_kinds) -> dict:
    if isinstance(code_kinds, Mapping):
        return {str(k): v for k, v in code_kinds.items() if isinstance(v, str)}
    if hasattr(code_kinds, "names") and hasattr(code_kinds, "__getitem__"):   # a Codebook
        return {name: code_kinds[name].kind for name in code_kinds.names if code_kinds[name].kind}
    raise JourneylabError("coded_emotion(): `code_kinds` must be the study's codebook (study.codebook) or a mapping "
                          f"code -> kind ('pain_point', 'delight', ...); got {type(code_kinds).__name__}.")


def _stage_map(code_stages) -> dict:
    if code_stages is None:
        return {}
    if isinstance(code_stages, Mapping):
        return {str(k): v for k, v in code_stages.items() if isinstance(v, str)}
    if hasattr(code_stages, "names") and hasattr(code_stages, "__getitem__"):   # a Codebook
        return {k: v for k, v in code_stage_map(code_stages).items() if v is not None}
    raise JourneylabError("coded_emotion(): `code_stages` must be the study's codebook or a mapping code -> stage; "
                          f"got {type(code_stages).__name__}.")


def coded_emotion(
    codings: pd.DataFrame,
    *,
    segments: pd.DataFrame,
    stages: Sequence[str],
    code_kinds,
    code_stages=None,
    reached: Mapping | None = None,
    level: float = 0.95,
    pain: str = "pain_point",
    delight: str = "delight",
) -> pd.DataFrame:
    """Balance of participants with a delight and with a pain point per stage, with an interval.

    Parameters
    ----------
    codings : DataFrame
        ``segment_id``, ``code``; optionally ``stage``, the stage each coding is at (from
        :func:`journeylab.coding_stages` when the session has stages). Where it is missing, a
        coding takes its code's stage (``code_stages``).
    segments : DataFrame
        ``segment_id``, ``participant_id`` (``study.segments``).
    stages : list of str
        The journey stages in order (``study.stages``); every stage gets a row.
    code_kinds : Codebook or mapping
        Each code's kind: ``study.codebook`` or ``{"form_tedious": "pain_point", ...}``.
    code_stages : Codebook or mapping, optional
        Each code's stage (``study.codebook``; a code without one takes its nearest ancestor's).
        Needed unless ``codings`` has a ``stage`` column filled everywhere.
    reached : mapping, optional
        Stage → the participants at that stage (the denominator): with session stages those who
        reached it (:func:`journeylab.stage_reach`). Default: every participant with a coding in
        ``codings`` at every stage, the denominator of the evidence table's shares.
    level : float, default 0.95
        Confidence level of the interval.
    pain, delight : str
        The kinds that count as a pain point and as a delight.

    Returns
    -------
    DataFrame
        One row per stage in journey order: ``stage``, ``stage_order`` (0-based),
        ``n_participants`` (the denominator), ``n_pain`` (participants with at least one
        pain-point coding at the stage), ``n_delight`` (with at least one delight coding),
        ``n_both``, ``balance`` ((``n_delight`` − ``n_pain``) / ``n_participants``, −1 to +1; NaN
        without participants), ``ci_low``, ``ci_high``.

    Notes
    -----
    A participant with a delight and no pain point at a stage counts +1, one with a pain point
    and no delight −1, everyone else 0 (both, or neither): the balance is the difference of two
    shares of one sample, like the Net Promoter Score, and its interval is the same adjusted-Wald
    interval (Rocks 2016; :func:`journeylab.nps`): 3/4 added to each count and 3 to the
    denominator, trinomial variance. A participant counts once per stage however many codings
    they have there; the balance says how many people met a pain point or a delight at the stage,
    not how strongly. It is as complete as the coding: a stage nobody coded has no pain point and
    no delight, and so a balance of 0 with a narrow interval when its participants are many —
    read ``n_pain`` and ``n_delight`` with it.

    References
    ----------
    Rocks, B. (2016). Interval estimation for the "net promoter score". *The American
    Statistician*, 70(4), 365–372.

    Examples
    --------
    >>> import pandas as pd, journeylab as jl
    >>> segs = pd.DataFrame({"segment_id": ["a", "b", "c", "d"], "participant_id": ["P1", "P2", "P3", "P4"]})
    >>> codings = pd.DataFrame({"segment_id": ["a", "b", "c", "d"], "code": ["slow", "slow", "slow", "nice"]})
    >>> out = jl.coded_emotion(codings, segments=segs, stages=["buy"], code_kinds={"slow": "pain_point",
    ...                        "nice": "delight"}, code_stages={"slow": "buy", "nice": "buy"})
    >>> out[["stage", "n_participants", "n_pain", "n_delight", "balance"]]
      stage  n_participants  n_pain  n_delight  balance
    0   buy               4       3          1     -0.5
    """
    func = "coded_emotion"
    check_frame(codings, arg="codings", func=func, required=["segment_id", "code"], allow_empty=True)
    check_frame(segments, arg="segments", func=func, required=["segment_id", "participant_id"], allow_empty=True)
    if isinstance(stages, str) or not isinstance(stages, Sequence) or not len(stages):
        raise JourneylabError(f"{func}(): `stages` must be the list of journey stages in order (study.stages); "
                              f"got {stages!r}.")
    if not isinstance(level, (int, float)) or not 0 < level < 1:
        raise JourneylabError(f"{func}(): `level` must be a confidence level between 0 and 1; got {level!r}.")
    stages = list(stages)
    kinds = _kind_map(code_kinds)
    pid_of = segments.assign(segment_id=segments["segment_id"].astype(str)).drop_duplicates("segment_id") \
        .set_index("segment_id")["participant_id"]
    cod = codings.assign(segment_id=codings["segment_id"].astype(str), code=codings["code"].astype(str))
    cod = cod.assign(participant_id=cod["segment_id"].map(pid_of)).dropna(subset=["participant_id"])
    stage = cod["stage"] if "stage" in cod.columns else pd.Series(np.nan, index=cod.index, dtype=object)
    by_code = cod["code"].map(_stage_map(code_stages))
    stage = stage.where(stage.notna(), by_code)
    if stage.isna().any() and code_stages is None:
        missing = sorted(cod.loc[stage.isna(), "code"].unique())
        raise JourneylabError(f"{func}(): code(s) {', '.join(map(repr, missing[:5]))} have no stage: give `codings` a "
                              "'stage' column or pass `code_stages` (study.codebook).")
    cod = cod.assign(stage=stage).dropna(subset=["stage"])
    unknown = sorted(set(cod["stage"]) - set(stages))
    if unknown:
        raise JourneylabError(f"{func}(): stage(s) {', '.join(map(repr, unknown))} are not in `stages` "
                              f"({', '.join(stages)}); check the codebook's stages against study.yml.")
    cod = cod.assign(kind=cod["code"].map(kinds))
    everyone = set(cod["participant_id"])
    rows = []
    for k, st in enumerate(stages):
        at = cod[cod["stage"] == st]
        who = set(reached.get(st, ())) if reached is not None else everyone
        pain_p = set(at.loc[at["kind"] == pain, "participant_id"])
        del_p = set(at.loc[at["kind"] == delight, "participant_id"])
        who = who | pain_p | del_p   # whoever had a pain point or a delight at a stage was there
        rows.append({"stage": st, "stage_order": k, "n_participants": len(who), "n_pain": len(pain_p),
                     "n_delight": len(del_p), "n_both": len(pain_p & del_p)})
    out = pd.DataFrame(rows, columns=_CODED_COLUMNS[:6])
    n = out["n_participants"].to_numpy(float)
    plus = (out["n_delight"] - out["n_both"]).to_numpy(float)
    minus = (out["n_pain"] - out["n_both"]).to_numpy(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        out["balance"] = np.where(n > 0, (plus - minus) / n, np.nan)
    _, _, lo, hi = net_share_interval(plus, minus, n, level=level)
    out["ci_low"], out["ci_high"] = lo, hi
    return out[_CODED_COLUMNS]


def _side(lo, hi) -> str:
    if pd.isna(lo) or pd.isna(hi):
        return "unclear"
    return "positive" if lo > 0 else "negative" if hi < 0 else "unclear"


def compare_emotion(curve: pd.DataFrame, *, coded: pd.DataFrame) -> pd.DataFrame:
    """The lexicon's emotion and the coded balance side by side, stage by stage, with their verdict.

    Parameters
    ----------
    curve : DataFrame
        :func:`journeylab.emotion_curve` (``stage``, ``mean``, ``ci_low``, ``ci_high``, and
        ``enough_data`` when present).
    coded : DataFrame
        :func:`coded_emotion` (``stage``, ``balance``, ``ci_low``, ``ci_high``).

    Returns
    -------
    DataFrame
        One row per stage of ``coded``: ``stage``, ``lexicon``, ``lexicon_ci_low``,
        ``lexicon_ci_high``, ``coded``, ``coded_ci_low``, ``coded_ci_high``, ``lexicon_side``,
        ``coded_side`` (each ``positive`` when its interval lies above zero, ``negative`` when
        below, else ``unclear``), ``disagree`` (True when the two sides are positive and
        negative).

    Notes
    -----
    **Disagreement**, exactly: the lexicon's interval lies wholly above zero and the coded
    balance's wholly below, or the other way round. Intervals that touch or span zero never
    disagree; a lexicon stage with too little data (``enough_data`` False: its bootstrap interval
    is too narrow) counts as unclear. Two measures of different things can differ without
    disagreeing (one mildly positive, one clearly negative): only opposite sides beyond both
    intervals is reported.

    Examples
    --------
    >>> import pandas as pd, journeylab as jl
    >>> curve = pd.DataFrame({"stage": ["buy"], "mean": [0.3], "ci_low": [0.2], "ci_high": [0.4]})
    >>> coded = pd.DataFrame({"stage": ["buy"], "balance": [-0.8], "ci_low": [-1.0], "ci_high": [-0.5]})
    >>> jl.compare_emotion(curve, coded=coded)[["stage", "lexicon_side", "coded_side", "disagree"]]
      stage lexicon_side coded_side  disagree
    0   buy     positive   negative      True
    """
    check_frame(curve, arg="curve", func="compare_emotion", required=["stage", "mean", "ci_low", "ci_high"],
                allow_empty=True, hint="Pass the frame returned by jl.emotion_curve().")
    check_frame(coded, arg="coded", func="compare_emotion", required=["stage", "balance", "ci_low", "ci_high"],
                allow_empty=True, hint="Pass the frame returned by jl.coded_emotion().")
    lex = curve.drop_duplicates("stage").set_index("stage")
    rows = []
    for r in coded.to_dict("records"):
        s = r["stage"]
        lx = lex.loc[s] if s in lex.index else None
        m, lo, hi = (np.nan, np.nan, np.nan) if lx is None else (lx["mean"], lx["ci_low"], lx["ci_high"])
        thin = lx is not None and "enough_data" in lex.columns and not bool(lx["enough_data"])
        ls = "unclear" if thin else _side(lo, hi)
        cs = _side(r["ci_low"], r["ci_high"])
        rows.append({"stage": s, "lexicon": m, "lexicon_ci_low": lo, "lexicon_ci_high": hi, "coded": r["balance"],
                     "coded_ci_low": r["ci_low"], "coded_ci_high": r["ci_high"], "lexicon_side": ls,
                     "coded_side": cs, "disagree": {ls, cs} == {"positive", "negative"}})
    return pd.DataFrame(rows, columns=["stage", "lexicon", "lexicon_ci_low", "lexicon_ci_high", "coded",
                                       "coded_ci_low", "coded_ci_high", "lexicon_side", "coded_side", "disagree"])
