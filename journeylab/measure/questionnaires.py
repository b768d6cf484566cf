"""Standard usability questionnaires scored by their published rules.

:func:`score_questionnaire` reads a wide survey export (Google Forms, Qualtrics, SurveyMonkey: one
column per question, the question text as header, perhaps a comment column after each item) and
returns one row per respondent with the instrument's scale scores: SUS, UMUX-Lite, PSSUQ (version 3
and version 2), SEQ, CES, NPS and CSAT. :func:`questionnaire_summary` gives each scale's mean with a
t interval (and, for the SUS, the Sauro–Lewis curved grade); :func:`questionnaire_comments` turns
the per-item comment columns into tidy survey comments; :func:`sus_grade` grades SUS scores.
"""
from __future__ import annotations

__all__ = ["score_questionnaire", "questionnaire_summary", "questionnaire_comments", "sus_grade", "study_questionnaire",
           "INSTRUMENTS",
           "SUS_GRADES"]

import warnings
from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np
import pandas as pd

from ..errors import JourneylabError
from ..study.load import check_study
from ..utils.checks import check_frame
from .survey import csat as _csat_of
from .survey import nps as _nps_of

#: Answers read as "no answer": blank, or the PSSUQ's "not applicable" point.
NOT_ANSWERED = {"", "n/a", "na", "not applicable", "nan", "none", "null"}

#: The Sauro–Lewis curved grading scale for SUS means (Sauro & Lewis 2016, ch. 8): grade, lowest SUS
#: score of the grade (one decimal, as published), highest, percentile range.
SUS_GRADES = [
    ("A+", 84.1, 100.0, "96–100"), ("A", 80.8, 84.0, "90–95"), ("A-", 78.9, 80.7, "85–89"),
    ("B+", 77.2, 78.8, "80–84"), ("B", 74.1, 77.1, "70–79"), ("B-", 72.6, 74.0, "65–69"),
    ("C+", 71.1, 72.5, "60–64"), ("C", 65.0, 71.0, "41–59"), ("C-", 62.7, 64.9, "35–40"),
    ("D", 51.7, 62.6, "15–34"), ("F", 0.0, 51.6, "0–14"),
]


@dataclass(frozen=True)
class _Instrument:
    name: str
    title: str
    answers: tuple          # (low, high) of one item's answer
    n_items: int | None     # None: one item per task / touchpoint, any number of them
    scales: dict            # scale column -> (low, high) of the score (multi-item instruments)
    score: Callable | None  # (items matrix with NaN for blanks) -> {scale column: values}
    reference: str


def _sus(x):
    contrib = np.where(np.arange(10) % 2 == 0, x - 1, 5 - x)  # items 1, 3, 5, ...: x − 1; 2, 4, ...: 5 − x
    return {"sus": 2.5 * contrib.sum(axis=1)}  # NaN when an item is blank


def _umux_lite(x):
    s = (x[:, 0] + x[:, 1] - 2) / 12 * 100
    return {"umux_lite": s, "umux_lite_sus_equivalent": 0.65 * s + 22.9}


def _means(ranges):
    def score(x):
        out = {}
        for name, (a, b) in ranges.items():
            block = x[:, a - 1:b]
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)  # "mean of empty slice": all N/A
                out[name] = np.nanmean(block, axis=1)  # N/A answers left out of the mean; all N/A -> NaN
        return out
    return score


_PSSUQ3 = {"overall": (1, 16), "sysuse": (1, 6), "infoqual": (7, 12), "intqual": (13, 15)}
_PSSUQ2 = {"overall": (1, 19), "sysuse": (1, 8), "infoqual": (9, 15), "intqual": (16, 18)}

INSTRUMENTS = {
    "sus": _Instrument("sus", "System Usability Scale", (1, 5), 10, {"sus": (0, 100)}, _sus,
                       "Brooke (1996); Sauro & Lewis (2016), ch. 8"),
    "umux_lite": _Instrument("umux_lite", "UMUX-Lite", (1, 7), 2,
                             {"umux_lite": (0, 100), "umux_lite_sus_equivalent": (22.9, 87.9)}, _umux_lite,
                             "Lewis, Utesch & Maher (2013)"),
    "pssuq": _Instrument("pssuq", "PSSUQ version 3", (1, 7), 16, {k: (1, 7) for k in _PSSUQ3}, _means(_PSSUQ3),
                         "Lewis (2002); Sauro & Lewis (2016), ch. 8"),
    "pssuq_v2": _Instrument("pssuq_v2", "PSSUQ version 2", (1, 7), 19, {k: (1, 7) for k in _PSSUQ2},
                            _means(_PSSUQ2), "Lewis (1995)"),
    "seq": _Instrument("seq", "Single Ease Question", (1, 7), None, {}, None, "Sauro & Dumas (2009)"),
    "ces": _Instrument("ces", "Customer Effort Score", (1, 7), None, {}, None, "Dixon, Toman & DeLisi (2013)"),
    "nps": _Instrument("nps", "Net Promoter Score", (0, 10), None, {}, None, "Reichheld (2003)"),
    "csat": _Instrument("csat", "Customer satisfaction", (1, 5), None, {}, None, "journeylab csat()"),
}


# ----------------------------------------------------------------------------- items


@dataclass
class _Items:
    columns: list       # item columns in the instrument's order
    labels: list        # item label: "sus_3" (multi-item) or the output column ("seq_checkout")
    comments: dict      # item column -> its comment column
    ids: pd.Series      # respondent ids (one per row)


def _instrument(instrument, func) -> _Instrument:
    if not isinstance(instrument, str) or instrument.lower() not in INSTRUMENTS:
        raise JourneylabError(f"{func}(): `instrument` must be one of {', '.join(map(repr, INSTRUMENTS))}; "
                              f"got {instrument!r}.")
    return INSTRUMENTS[instrument.lower()]


def _column(responses, c, arg, func):
    """A column named by its header or its 0-based position."""
    if isinstance(c, (int, np.integer)) and not isinstance(c, bool):
        if not 0 <= c < responses.shape[1]:
            raise JourneylabError(f"{func}(): `{arg}` position {c} is outside the frame's {responses.shape[1]} "
                                  "columns (positions count from 0).")
        return responses.columns[c]
    if c not in responses.columns:
        found = ", ".join(map(repr, list(responses.columns)[:20]))
        raise JourneylabError(f"{func}(): `{arg}` names column {c!r}, which `responses` lacks; found: {found}.")
    return c


def _resolve(responses, inst: _Instrument, items, respondent, comments, keep, func) -> _Items:
    keep = [keep] if isinstance(keep, str) else list(keep or [])
    for c in keep:
        _column(responses, c, "keep", func)
    if respondent is None:
        ids = pd.Series(np.arange(1, len(responses) + 1), index=responses.index)
    else:
        if not isinstance(respondent, str) or respondent not in responses.columns:
            found = ", ".join(map(repr, list(responses.columns)[:20]))
            raise JourneylabError(
                f"{func}(): `respondent` column {respondent!r} is not in `responses` (found: {found}); name your "
                "id column with respondent='Response ID', or respondent=None to number the rows from 1.")
        ids = responses[respondent]
        text = ids.astype("string").str.strip()
        blank = (ids.isna() | (text == "")).fillna(True).to_numpy(dtype=bool)
        if blank.any():
            i = int(np.flatnonzero(blank)[0])
            raise JourneylabError(f"{func}(): column {respondent!r}, row {i}: empty respondent id; every row "
                                  "needs one (or pass respondent=None to number the rows).")
        dup = ids.duplicated().to_numpy()
        if dup.any():
            i = int(np.flatnonzero(dup)[0])
            raise JourneylabError(f"{func}(): column {respondent!r}, row {i}: respondent id {_shown(ids.iloc[i])!r} "
                                  "appears twice; keep one response per respondent.")
    reserved = set(keep) | ({respondent} if respondent else set())
    comment_map: dict = {}
    if items is None:
        cols = [c for c in responses.columns if c not in reserved]
        if isinstance(comments, dict):
            cols = [c for c in cols if c not in set(comments.values())]
        elif comments == "after":
            if len(cols) % 2:
                raise JourneylabError(
                    f"{func}(): comments='after' needs the columns to alternate item, comment, item, comment; "
                    f"found {len(cols)} columns besides the id. List the items with items=[...] or map "
                    "comments with comments={item column: comment column}.")
            cols = cols[::2]
        mapping = {c: None for c in cols}
    elif isinstance(items, dict):
        mapping = {_column(responses, c, "items", func): v for c, v in items.items()}
    elif isinstance(items, (list, tuple, range, pd.Index)):
        mapping = {_column(responses, c, "items", func): None for c in items}
        if len(mapping) < len(list(items)):
            raise JourneylabError(f"{func}(): `items` lists a column twice.")
    else:
        raise JourneylabError(f"{func}(): `items` must be a list of item columns (headers or 0-based positions) "
                              f"in the instrument's order, or a dict {{column: item}}; got {type(items).__name__}.")
    if inst.n_items is not None:
        if any(v is not None for v in mapping.values()):
            numbers = list(mapping.values())
            if sorted(map(str, numbers)) != sorted(map(str, range(1, inst.n_items + 1))) or not all(
                    isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in numbers):
                raise JourneylabError(
                    f"{func}(): `items` as a dict maps each column to its {inst.title} item number, 1 to "
                    f"{inst.n_items}, each once; got {sorted(map(str, numbers))}.")
            columns = [c for c, _ in sorted(mapping.items(), key=lambda kv: kv[1])]
        else:
            columns = list(mapping)
        if len(columns) != inst.n_items:
            took = (" (comments='after' took every second column as a comment)"
                    if items is None and comments == "after" else "")
            raise JourneylabError(
                f"{func}(): the {inst.title} has {inst.n_items} items; found {len(columns)} item column(s){took}: "
                f"{', '.join(map(repr, columns[:25]))}. List them with items=[...] in the instrument's order "
                "(or as {column: item number}).")
        labels = [f"{inst.name}_{k}" for k in range(1, inst.n_items + 1)]
    else:
        if not mapping:
            raise JourneylabError(f"{func}(): no item columns found; list them with items=[...].")
        columns = list(mapping)
        names = []
        for c, label in mapping.items():
            label = str(label if label is not None else c).strip()
            if label.lower().startswith(inst.name + "_"):
                label = label[len(inst.name) + 1:]
            names.append(label)
        single = (len(columns) == 1 and all(v is None for v in mapping.values())
                  and not str(columns[0]).lower().startswith(inst.name + "_"))  # csat_delivery stays so
        labels = [inst.name] if single else [f"{inst.name}_{n}" for n in names]
        if len(set(labels)) < len(labels):
            raise JourneylabError(f"{func}(): two items give the same score column ({', '.join(labels)}); "
                                  "name them with items={column: label}.")
    if comments is None:
        pass
    elif comments == "after":
        order = list(responses.columns)
        for c in columns:
            j = order.index(c) + 1
            if j >= len(order) or order[j] in set(columns) | reserved:
                raise JourneylabError(
                    f"{func}(): comments='after': item column {c!r} is not followed by a comment column. Map "
                    "the comment columns with comments={item column: comment column}.")
            comment_map[c] = order[j]
    elif isinstance(comments, dict):
        for c, cc in comments.items():
            c = _column(responses, c, "comments", func)
            if c not in columns:
                raise JourneylabError(f"{func}(): `comments` maps {c!r}, which is not one of the item columns.")
            comment_map[c] = _column(responses, cc, "comments", func)
    else:
        raise JourneylabError(f"{func}(): `comments` must be None, 'after' (a comment column right after each "
                              f"item) or a dict {{item column: comment column}}; got {comments!r}.")
    return _Items(columns, labels, comment_map, ids)


def _answers(responses, col, item_label, lo, hi, answers, respondent, func) -> np.ndarray:
    """One item column as floats (NaN = not answered); out-of-range answers raise naming column and row."""
    raw = responses[col]
    if isinstance(raw.dtype, pd.CategoricalDtype):
        raw = raw.astype(object)
    if raw.dtype == object or pd.api.types.is_string_dtype(raw.dtype):
        text = raw.astype("string").str.strip()
        blank = (raw.isna() | text.str.lower().isin(NOT_ANSWERED)).fillna(True).to_numpy(dtype=bool)
        if answers:
            lookup = {str(k).strip().lower(): v for k, v in answers.items()}
            text = text.map(lambda t: lookup.get(t.lower(), t) if isinstance(t, str) else t)
        values = pd.to_numeric(text.where(~pd.Series(blank, index=raw.index)), errors="coerce")
    else:
        blank = raw.isna().to_numpy()
        values = pd.to_numeric(raw, errors="coerce")
    values = np.asarray(pd.Series(values).astype("Float64").to_numpy(dtype=float, na_value=np.nan), dtype=float)
    bad = ~blank & (np.isnan(values) | (values < lo) | (values > hi) | (np.round(values) != values))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        who = f", {respondent} {_shown(responses[respondent].iloc[i])!r}" if respondent else ""
        hint = ("" if answers or not np.isnan(values[i]) else
                " If the export holds answer labels, map them to numbers with answers={'<label>': <number>, ...}.")
        raise JourneylabError(
            f"{func}(): column {col!r} ({item_label}), row {i} (index {responses.index[i]!r}{who}): expected a whole "
            f"number from {lo:g} to {hi:g} (or a blank / N/A), found {_shown(raw.iloc[i])!r}; "
            f"{int(bad.sum())} such value(s) "
            f"in the column.{hint}")
    values[blank] = np.nan
    return values


def _shown(value):
    """A cell as the user wrote it: 6, not np.int64(6)."""
    return value.item() if isinstance(value, np.generic) else value


def _answer_range(inst, scale, func):
    if scale is None:
        return inst.answers
    if inst.name not in ("csat", "ces"):
        raise JourneylabError(f"{func}(): `scale` applies to 'csat' and 'ces' only; the {inst.title}'s answers are "
                              f"fixed at {inst.answers[0]}–{inst.answers[1]}.")
    if (not isinstance(scale, (tuple, list)) or len(scale) != 2
            or not all(isinstance(x, (int, float, np.integer)) and not isinstance(x, bool) for x in scale)
            or not scale[0] < scale[1]):
        raise JourneylabError(f"{func}(): `scale` must be (low, high) like (1, 5); got {scale!r}.")
    return tuple(scale)


def score_questionnaire(
    responses: pd.DataFrame,
    *,
    instrument: str,
    items: Sequence | dict | None = None,
    respondent: str | None = "respondent_id",
    reverse: bool | Sequence | None = None,
    answers: dict | None = None,
    comments: str | dict | None = None,
    scale: tuple | None = None,
    keep: str | Sequence[str] | None = None,
) -> pd.DataFrame:
    """Score a standard questionnaire: one row per respondent with the instrument's scale scores.

    Parameters
    ----------
    responses : DataFrame
        One row per respondent, one column per question (a Google Forms, Qualtrics or
        SurveyMonkey export read with ``pd.read_csv``); headers may be the question text.
    instrument : {"sus", "umux_lite", "pssuq", "pssuq_v2", "seq", "ces", "nps", "csat"}
        The questionnaire (see Notes for each one's items, answers and scores).
    items : list or dict, optional
        The item columns. A list gives them in the instrument's order (item 1 first), each by
        header or by 0-based position in ``responses``; a dict maps each column to its item number
        (``{"I found the system unnecessarily complex": 2, ...}``) or, for the one-item-per-task
        instruments (SEQ, CES, NPS, CSAT), to a label (``{"How easy was checkout?": "checkout"}`` gives
        a ``seq_checkout`` column). Default: every column other than the id, ``keep`` and comment
        columns, in order.
    respondent : str or None, default "respondent_id"
        The id column (``"Response ID"`` in Qualtrics); ``None`` numbers the rows from 1.
    reverse : True or list, optional
        Items whose answer scale runs the other way in your export (e.g. a SUS exported as
        1 = strongly agree): ``True`` for every item, or the columns (headers or positions). An
        answer *x* on a reversed item is read as *low + high − x* before scoring. Declared, never
        guessed from the data.
    answers : dict, optional
        Answer labels to numbers, for exports that hold the label text
        (``{"Strongly disagree": 1, ..., "Strongly agree": 5}``; case and surrounding spaces ignored).
    comments : "after" or dict, optional
        Comment columns that belong to items (left out of the scoring; see
        :func:`questionnaire_comments`): ``"after"`` when the column right after each item is its
        comment, or ``{item column: comment column}``.
    scale : (low, high), optional
        The answer scale, for ``"csat"`` (default (1, 5)) and ``"ces"`` (default (1, 7)) only.
    keep : str or list of str, optional
        Columns carried into the result unchanged (persona, device, ...), for ``by=`` in
        :func:`questionnaire_summary`.

    Returns
    -------
    DataFrame
        One row per respondent: ``respondent_id``, the scale scores, then the ``keep`` columns.

        - ``"sus"``: ``sus`` (0–100).
        - ``"umux_lite"``: ``umux_lite`` (0–100) and ``umux_lite_sus_equivalent`` (0.65 × UMUX-Lite
          + 22.9, on the SUS's scale).
        - ``"pssuq"``, ``"pssuq_v2"``: ``overall``, ``sysuse``, ``infoqual``, ``intqual`` (1–7,
          *lower is better*).
        - ``"seq"``, ``"ces"``, ``"nps"``, ``"csat"``: one column per item, ``<instrument>_<label>``
          (the label from ``items=``, else the column name without a leading ``<instrument>_``), or
          just ``<instrument>`` for a single unlabelled item whose column is not already named
          ``<instrument>_...``; the answer itself.

        A SUS or UMUX-Lite with an unanswered item has no score (NaN); a PSSUQ scale is the mean of
        its answered items (NaN when none is answered).

    Raises
    ------
    JourneylabError
        An answer outside the item's range (or not a whole number, or an unknown label), naming the
        column, the item, the row and the respondent; a wrong number of item columns; an unknown
        instrument or column.

    Notes
    -----
    - **SUS** (Brooke 1996): 10 items, 1–5 (strongly disagree – strongly agree). Odd items are
      worded positively and score *x − 1*, even items negatively and score *5 − x*; the sum (0–40)
      × 2.5 gives 0–100. It is not a percentage: the average across products is about 68 (Sauro &
      Lewis 2016); :func:`sus_grade` places a mean on their curved grading scale.
    - **UMUX-Lite** (Lewis, Utesch & Maher 2013): 2 items, 1–7 ("This system's capabilities meet my
      requirements", "This system is easy to use"); score = (item 1 + item 2 − 2) × 100 / 12. Its
      regression-adjusted SUS equivalent is 0.65 × score + 22.9, which puts it on the SUS's scale
      (and its grades).
    - **PSSUQ** (Lewis 1995, 2002): 7-point items, 1 = strongly agree, 7 = strongly disagree, so
      lower is better, plus an N/A point. Version 3 has 16 items: overall = mean of items 1–16,
      SysUse 1–6, InfoQual 7–12, IntQual 13–15. Version 2 has 19: overall 1–19, SysUse 1–8,
      InfoQual 9–15, IntQual 16–18. Each scale is the mean of the answered items: a blank or "N/A"
      is left out of the mean, as Lewis's instructions say, not counted as zero or midpoint.
    - **SEQ** (Sauro & Dumas 2009): one 1–7 item after each task ("Overall, how difficult or easy
      was the task to complete?", 7 = very easy). **CES** (Customer Effort Score 2.0): one 1–7
      agreement item ("The company made it easy for me to handle my issue"), 7 = least effort
      (Dixon, Toman & DeLisi 2013; the first CES, 2010, asked "how much effort" on 1–5: pass
      ``scale=(1, 5)`` and remember that there a *low* score is good).
    - **NPS** and **CSAT** answers are kept as they are (0–10; the CSAT scale); summarise them with
      :func:`journeylab.nps` / :func:`journeylab.csat` or :func:`questionnaire_summary`.

    Examples
    --------
    >>> import pandas as pd, journeylab as jl
    >>> r = pd.DataFrame({"respondent_id": ["R1", "R2"],
    ...                   **{f"Q{k}": [5 if k % 2 else 1, 4 if k % 2 else 2] for k in range(1, 11)}})
    >>> jl.score_questionnaire(r, instrument="sus")
      respondent_id    sus
    0            R1  100.0
    1            R2   75.0
    """
    func = "score_questionnaire"
    check_frame(responses, arg="responses", func=func, allow_empty=True)
    inst = _instrument(instrument, func)
    lo, hi = _answer_range(inst, scale, func)
    if answers is not None and not isinstance(answers, dict):
        raise JourneylabError(f"{func}(): `answers` must be a dict {{answer label: number}}; got {answers!r}.")
    it = _resolve(responses, inst, items, respondent, comments, keep, func)
    if reverse is None or reverse is False:
        rev = set()
    elif reverse is True:
        rev = set(it.columns)
    elif isinstance(reverse, (list, tuple, range, pd.Index, set)):
        rev = {_column(responses, c, "reverse", func) for c in reverse}
        stray = rev - set(it.columns)
        if stray:
            raise JourneylabError(f"{func}(): `reverse` names {', '.join(map(repr, stray))}, which is not one of "
                                  "the item columns.")
    else:
        raise JourneylabError(f"{func}(): `reverse` must be True or a list of item columns; got {reverse!r}.")
    matrix = np.empty((len(responses), len(it.columns)))
    for k, (col, label) in enumerate(zip(it.columns, it.labels)):
        item_label = (f"{inst.title} item {k + 1}" if inst.n_items is not None else label)
        v = _answers(responses, col, item_label, lo, hi, answers, respondent, func)
        matrix[:, k] = lo + hi - v if col in rev else v
    out = pd.DataFrame({"respondent_id": it.ids.to_numpy()})
    if inst.score is not None:
        for name, values in inst.score(matrix).items():
            out[name] = np.asarray(values, dtype=float)
    else:
        for k, label in enumerate(it.labels):
            out[label] = matrix[:, k]
    for c in ([keep] if isinstance(keep, str) else list(keep or [])):
        out[_column(responses, c, "keep", func)] = responses[c].to_numpy()
    return out


def questionnaire_comments(
    responses: pd.DataFrame,
    *,
    instrument: str,
    items: Sequence | dict | None = None,
    respondent: str | None = "respondent_id",
    comments: str | dict = "after",
) -> pd.DataFrame:
    """The per-item comment columns of a questionnaire export as a tidy comments frame.

    Parameters
    ----------
    responses, instrument, items, respondent
        As in :func:`score_questionnaire`.
    comments : "after" or dict, default "after"
        The column right after each item is its comment, or ``{item column: comment column}``.

    Returns
    -------
    DataFrame
        One row per non-blank comment, respondents in row order and items in the instrument's
        order: ``respondent_id``, ``item`` (``sus_3`` for item 3 of the SUS; the score column for
        SEQ, CES, NPS, CSAT), ``column`` (the comment column's header), ``comment`` (stripped text).
        Rename ``comment`` and concatenate with ``study.survey`` to code them with the other survey
        comments.

    Examples
    --------
    >>> import pandas as pd, journeylab as jl
    >>> r = pd.DataFrame({"respondent_id": ["R1", "R2"], "How easy was checkout?": [6, 2],
    ...                   "Why?": ["", "The address form reset twice"]})
    >>> jl.questionnaire_comments(r, instrument="seq", items={"How easy was checkout?": "checkout"})
      respondent_id          item column                       comment
    0            R2  seq_checkout   Why?  The address form reset twice
    """
    func = "questionnaire_comments"
    check_frame(responses, arg="responses", func=func, allow_empty=True)
    inst = _instrument(instrument, func)
    if comments is None:
        raise JourneylabError(f"{func}(): `comments` must be 'after' or a dict {{item column: comment column}}.")
    it = _resolve(responses, inst, items, respondent, comments, None, func)
    rows = []
    for i in range(len(responses)):
        for col, label in zip(it.columns, it.labels):
            cc = it.comments.get(col)
            if cc is None:
                continue
            v = responses[cc].iloc[i]
            if isinstance(v, str) and v.strip() and v.strip().lower() not in NOT_ANSWERED:
                rows.append({"respondent_id": it.ids.iloc[i], "item": label, "column": cc, "comment": v.strip()})
            elif not isinstance(v, str) and not pd.isna(v):
                rows.append({"respondent_id": it.ids.iloc[i], "item": label, "column": cc, "comment": str(v)})
    out = pd.DataFrame(rows, columns=["respondent_id", "item", "column", "comment"])
    out["comment"] = out["comment"].astype("string")
    return out


def sus_grade(scores) -> pd.DataFrame:
    """Grade SUS scores on the Sauro–Lewis curved grading scale.

    Parameters
    ----------
    scores : number or sequence of numbers
        SUS scores (0–100), usually a study's mean SUS.

    Returns
    -------
    DataFrame
        One row per score: ``sus``, ``grade`` (A+ … F) and ``percentile_range`` (the percentile
        ranks of the grade among the products in Sauro & Lewis's data). NaN scores get no grade.

    Notes
    -----
    The curved grading scale (Sauro & Lewis 2016, *Quantifying the User Experience*, 2nd ed.,
    ch. 8) maps a mean SUS to a letter grade by its percentile among several hundred studies: a
    mean of 68 is a C (the 50th percentile), not the B a school scale suggests.

    ====== ============ ===========
    grade  SUS          percentile
    ====== ============ ===========
    A+     84.1–100     96–100
    A      80.8–84.0    90–95
    A−     78.9–80.7    85–89
    B+     77.2–78.8    80–84
    B      74.1–77.1    70–79
    B−     72.6–74.0    65–69
    C+     71.1–72.5    60–64
    C      65.0–71.0    41–59
    C−     62.7–64.9    35–40
    D      51.7–62.6    15–34
    F      0–51.6       0–14
    ====== ============ ===========

    The bounds are published to one decimal; a score is compared at one decimal, rounding half up
    (84.05 and above is an A+, 84.04 an A).

    Examples
    --------
    >>> import journeylab as jl
    >>> jl.sus_grade([68, 80.8, 51.6])
        sus grade percentile_range
    0  68.0     C            41–59
    1  80.8     A            90–95
    2  51.6     F             0–14
    """
    func = "sus_grade"
    if isinstance(scores, (int, float, np.integer, np.floating)) and not isinstance(scores, bool):
        values = np.array([scores], dtype=float)
    elif isinstance(scores, (list, tuple, np.ndarray, pd.Series)) and not isinstance(scores, str):
        try:
            values = np.asarray(pd.to_numeric(pd.Series(list(scores), dtype=object)), dtype=float)
        except (ValueError, TypeError):
            raise JourneylabError(f"{func}(): `scores` must be SUS scores (numbers from 0 to 100); "
                                  f"got {list(scores)[:5]!r}.") from None
    else:
        raise JourneylabError(f"{func}(): `scores` must be a number or a list of SUS scores (0–100); "
                              f"got {type(scores).__name__}.")
    bad = ~np.isnan(values) & ((values < 0) | (values > 100))
    if bad.any():
        raise JourneylabError(f"{func}(): `scores` must be from 0 to 100 (the SUS scale); found "
                              f"{values[bad][0]:g} at position {int(np.flatnonzero(bad)[0])}.")
    grades, pct = [], []
    for v in values:
        if np.isnan(v):
            grades.append(None)
            pct.append(None)
            continue
        for g, low, _, p in SUS_GRADES:
            if v >= low - 0.05 - 1e-9:
                grades.append(g)
                pct.append(p)
                break
    return pd.DataFrame({"sus": values, "grade": grades, "percentile_range": pct})


def _scale_columns(scores, inst, func) -> list:
    if inst.scales:
        cols = [c for c in inst.scales if c in scores.columns]
        if not cols:
            raise JourneylabError(f"{func}(): `scores` has none of the {inst.title}'s score columns "
                                  f"({', '.join(inst.scales)}); pass the frame score_questionnaire(..., "
                                  f"{inst.name!r}) returned.")
        return cols
    cols = [c for c in scores.columns if c == inst.name or str(c).startswith(inst.name + "_")]
    if not cols:
        raise JourneylabError(f"{func}(): `scores` has no column {inst.name!r} or '{inst.name}_<item>'; pass the "
                              f"frame score_questionnaire(..., {inst.name!r}) returned.")
    return cols


def questionnaire_summary(
    scores: pd.DataFrame,
    *,
    instrument: str,
    by: str | Sequence[str] | None = None,
    confidence: float = 0.95,
    scale: tuple | None = None,
) -> pd.DataFrame:
    """Mean of each questionnaire scale with a t interval, overall or per group.

    Parameters
    ----------
    scores : DataFrame
        What :func:`score_questionnaire` returned (with ``keep=`` columns for ``by``).
    instrument : str
        The instrument it was scored as.
    by : str or list of str, optional
        Group columns; one row per group × scale.
    confidence : float, default 0.95
        Confidence level of the intervals.
    scale : (low, high), optional
        The answer scale of ``"csat"`` / ``"ces"`` when it is not the default, to clip the interval.

    Returns
    -------
    DataFrame
        One row per (group ×) scale: the ``by`` columns, ``scale`` (the score column), ``n``
        (respondents with a score), ``n_missing`` (without: an unanswered SUS item, all-N/A PSSUQ
        scale, blank answer), ``mean``, ``sd``, ``ci_low``, ``ci_high`` (Student t interval of the
        mean, clipped to the scale's range), ``range_low``, ``range_high`` (that range),
        ``method``. For the SUS (and UMUX-Lite's SUS equivalent) also ``grade`` and
        ``percentile_range`` of the mean on the Sauro–Lewis curved grading scale (:func:`sus_grade`);
        for NPS also ``nps`` with ``nps_ci_low`` / ``nps_ci_high`` (:func:`journeylab.nps`); for CSAT
        also ``top_box`` (the top two answers), ``top_box_share`` with ``top_box_ci_low`` /
        ``top_box_ci_high`` (Wilson, :func:`journeylab.csat`).

    Notes
    -----
    The interval is ``mean ± t(n − 1) · sd / √n`` (Sauro & Lewis 2016, ch. 3, for rating scales), NaN
    below two scores. With few respondents near the end of a scale it can pass the scale's limits
    (a SUS mean of 95 from five people); it is then clipped to the range — the ``method`` column
    says so — because no mean can lie outside it. The PSSUQ's scales run 1–7 with *lower* better.

    Examples
    --------
    >>> import pandas as pd, journeylab as jl
    >>> s = pd.DataFrame({"respondent_id": [1, 2, 3, 4], "sus": [72.5, 85.0, 67.5, 77.5]})
    >>> jl.questionnaire_summary(s, instrument="sus")[["scale", "n", "mean", "ci_low", "ci_high", "grade"]].round(1)
      scale  n  mean  ci_low  ci_high grade
    0   sus  4  75.6    63.7     87.5     B
    """
    # lazy: scipy.stats adds ~1.3 s to `import journeylab` (measured; docs/architecture.md)
    from scipy import stats

    func = "questionnaire_summary"
    check_frame(scores, arg="scores", func=func, allow_empty=True)
    inst = _instrument(instrument, func)
    lo_ans, hi_ans = _answer_range(inst, scale, func)
    if (isinstance(confidence, bool) or not isinstance(confidence, (int, float))
            or not 0 < confidence < 1):
        raise JourneylabError(f"{func}(): `confidence` must be a number between 0 and 1, e.g. 0.95; "
                              f"got {confidence!r}.")
    by = [by] if isinstance(by, str) else list(by or [])
    check_frame(scores, arg="scores", func=func, required=by, allow_empty=True)
    cols = _scale_columns(scores, inst, func)
    if by:
        g = scores.groupby(by, dropna=False, sort=True)
        keys = g.size().reset_index()[by]
        code = g.ngroup().to_numpy()
    else:
        keys, code = pd.DataFrame(index=[0]), np.zeros(len(scores), dtype=np.int64)
    rows = []
    for gi in range(len(keys)):
        part = scores.loc[code == gi]
        for c in cols:
            lo, hi = inst.scales.get(c, (lo_ans, hi_ans))
            v = pd.to_numeric(part[c], errors="coerce").to_numpy(dtype=float)
            ok = v[~np.isnan(v)]
            n = len(ok)
            mean = float(ok.mean()) if n else np.nan
            sd = float(ok.std(ddof=1)) if n > 1 else np.nan
            half = stats.t.ppf(1 - (1 - confidence) / 2, n - 1) * sd / np.sqrt(n) if n > 1 else np.nan
            row = {k: keys[k].iloc[gi] for k in by} | {
                "scale": c, "n": n, "n_missing": int(len(v) - n), "mean": mean, "sd": sd,
                "ci_low": float(np.clip(mean - half, lo, hi)) if n > 1 else np.nan,
                "ci_high": float(np.clip(mean + half, lo, hi)) if n > 1 else np.nan,
                "range_low": lo, "range_high": hi,
                "method": f"Student t interval of the mean, clipped to the scale's range {lo:g}–{hi:g}"}
            if c in ("sus", "umux_lite_sus_equivalent"):
                gr = sus_grade(mean)
                row["grade"], row["percentile_range"] = gr.loc[0, "grade"], gr.loc[0, "percentile_range"]
            if inst.name == "nps":
                r = _nps_of(pd.DataFrame({"nps": v}), score="nps", alpha=1 - confidence, id=None)
                row["nps"], row["nps_ci_low"], row["nps_ci_high"] = (r.loc[0, "nps"], r.loc[0, "ci_low"],
                                                                     r.loc[0, "ci_high"])
            if inst.name == "csat" and hi - lo >= 2:
                r = _csat_of(pd.DataFrame({c: v}), columns=[c], scale=(lo, hi), alpha=1 - confidence, id=None)
                for k in ("top_box", "top_box_share", "top_box_ci_low", "top_box_ci_high"):
                    row[k] = r.loc[0, k]
                if n > 1:  # CSAT's mean interval is jl.csat's (one computation for one number)
                    row["ci_low"], row["ci_high"] = r.loc[0, "mean_ci_low"], r.loc[0, "mean_ci_high"]
                    row["method"] = str(r.loc[0, "mean_ci_method"]) if "mean_ci_method" in r.columns else row["method"]
            rows.append(row)
    out = pd.DataFrame(rows)
    if out.empty:
        out = pd.DataFrame(columns=by + ["scale", "n", "n_missing", "mean", "sd", "ci_low", "ci_high",
                                         "range_low", "range_high", "method"])
    return out


def study_questionnaire(study, *, summary: bool = False, by: str | Sequence[str] | None = None,
                        confidence: float = 0.95) -> pd.DataFrame | None:
    """Score the questionnaire a study declares in study.yml (``questionnaire:``).

    Parameters
    ----------
    study : Study
        From :func:`journeylab.load_study`; ``study.questionnaire`` names the instrument and its
        item columns in ``study.survey``.
    summary : bool, default False
        False: one row per respondent (:func:`score_questionnaire`). True: one row per (group ×)
        scale with its mean and interval (:func:`questionnaire_summary`).
    by : str or list of str, optional
        Survey columns to carry along (and, with ``summary=True``, to group by), e.g. ``"persona"``.
    confidence : float, default 0.95
        Confidence level of the summary's intervals.

    Returns
    -------
    DataFrame or None
        As :func:`score_questionnaire` (``respondent_id``, the scale scores, the ``by`` columns)
        or :func:`questionnaire_summary`; ``.attrs["instrument"]`` and ``.attrs["stage"]`` say which
        instrument it is and the stage it rates (None: the product as a whole). None when the study
        declares no questionnaire.

    Examples
    --------
    >>> import journeylab as jl
    >>> study = jl.load_study(jl.datasets.usability_study_path())
    >>> s = jl.study_questionnaire(study, summary=True)
    >>> s["scale"].tolist(), s.attrs["instrument"]
    (['sus'], 'sus')
    """

    check_study(study, func="study_questionnaire")
    q = study.questionnaire
    if q is None:
        return None
    by = [by] if isinstance(by, str) else list(by or [])
    inst = q["instrument"]
    scale = tuple(study.csat_scale) if inst == "csat" else None
    scores = score_questionnaire(study.survey, instrument=inst, items=list(q["items"]), respondent="respondent_id",
                                 scale=scale, keep=by or None)
    out = (questionnaire_summary(scores, instrument=inst, by=by or None, confidence=confidence, scale=scale)
           if summary else scores)
    out.attrs["instrument"] = inst
    out.attrs["stage"] = q.get("stage")
    return out
