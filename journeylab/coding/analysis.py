"""Analyses of codings: frequencies, co-occurrence, exemplar quotes, saturation, emergent themes.

Every function takes the codings frame and the segments frame and returns a new tidy frame.
Counts distinguish *how often* a code was applied (``n_segments``) from *how many people*
raised it (``n_participants``: "mentioned by 9 of 14 participants").
"""
from __future__ import annotations

__all__ = ["code_frequencies", "co_occurrence", "exemplar_quotes", "saturation", "plot_saturation",
           "plot_co_occurrence", "suggest_codes", "stop_words", "evaluate_codings"]

from functools import lru_cache
from importlib import resources

import numpy as np
import pandas as pd

from ..errors import JourneylabError
from ..study.codebook import Codebook
from ..study.units import participant_codings
from ..utils.checks import check_choice, check_frame
from ..utils.dask import POSITION, dtypes_of, from_pandas, is_dask, position_meta, with_position
from ..utils.docstrings import shared_docs
from .rules import is_negator, stem, tokenize

ANY = "any"


# ----------------------------------------------------------------------------- helpers


SPAN_COLUMNS = ["doc_id", "start", "end", "text"]


def _one_coder(codings: pd.DataFrame, coder, func: str, *, spans: bool = False) -> pd.DataFrame:
    """The codings of one coder, or of all coders merged (``coder="any"``), one row per (segment, code)
    — with ``spans`` and a codings frame carrying them, one row per (segment, code, span)."""
    if "coder" in codings.columns and coder != ANY:
        _check_coder(sorted(codings["coder"].dropna().astype(str).unique()), coder, func)
        if coder is not None:
            codings = codings[codings["coder"] == coder]
    if spans and set(SPAN_COLUMNS) <= set(codings.columns):
        out = codings[["segment_id", "code", *SPAN_COLUMNS]].dropna(subset=["segment_id", "code"])
        out = out.assign(segment_id=out["segment_id"].astype(str), code=out["code"].astype(str))
        return out.drop_duplicates(["segment_id", "code", "doc_id", "start", "end"])
    return codings[["segment_id", "code"]].dropna().drop_duplicates().astype(str)


def _check_coder(coders: list, coder, func: str) -> None:
    """Raise unless ``coder`` picks one of ``coders`` (the distinct names, sorted), or is None and
    there is at most one; shared by :func:`_one_coder` and the Dask path."""
    if coder is None:
        if len(coders) > 1:
            raise JourneylabError(
                f"{func}(): `codings` holds several coders ({', '.join(coders)}); pass coder=<name> "
                "(e.g. the reconciled 'gold' coder) or coder='any' to count a code when any coder applied it.")
    elif coder not in coders:
        raise JourneylabError(f"{func}(): no coder {coder!r} in `codings`; coders: {', '.join(coders) or 'none'}")


def _segments(segments: pd.DataFrame, func: str, required=("segment_id", "participant_id"),
              dask: bool = False) -> pd.DataFrame:
    check_frame(segments, arg="segments", func=func, required=list(required), dask=dask)
    return segments


def _check_codings(codings, func: str, dask: bool = False) -> pd.DataFrame:
    return check_frame(codings, arg="codings", func=func, required=["segment_id", "code"], allow_empty=True,
                       dask=dask)


def _participant_of(segments: pd.DataFrame) -> pd.Series:
    # a repeated segment_id counts with its first row, as in code_frequencies (and the Dask path)
    pid = segments.drop_duplicates("segment_id").set_index("segment_id")["participant_id"]
    return pid.where(pid.notna(), None)


@lru_cache(maxsize=1)
def stop_words() -> frozenset:
    """Stop words for theme suggestions: scikit-learn's English list plus conversational fillers.

    Negators (*not*, *no*, *never*, ...) are kept out of the list: "not working" is a theme.
    The filler list ships as ``journeylab/data/stopwords_conversational.txt``.
    """
    # lazy: scikit-learn adds ~1.2 s to `import journeylab` (measured; docs/architecture.md)
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    text = resources.files("journeylab").joinpath("data/stopwords_conversational.txt").read_text(encoding="utf-8")
    extra = {ln.strip() for ln in text.splitlines() if ln.strip() and not ln.startswith("#")}
    return frozenset(w for w in set(ENGLISH_STOP_WORDS) | extra if not is_negator(w))


# ----------------------------------------------------------------------------- frequencies


@shared_docs
def code_frequencies(codings: pd.DataFrame, *, segments: pd.DataFrame, participants: pd.DataFrame | None = None,
                     by: str | list | None = None, codebook: Codebook | None = None,
                     coder: str | None = None, aggregate: bool = True) -> pd.DataFrame:
    """How often each code was applied, and by how many participants.

    Parameters
    ----------
    {codings}
        Or a Dask DataFrame (with Dask ``segments`` and ``participants``): a lazy result.
    {segments}
        Needs ``segment_id`` and ``participant_id``.
    {participants}
        Needed when ``by`` names a participant attribute. Its rows are the denominator of the
        share (else: the participants in ``segments``).
    by : str or list of str, optional
        Group by participant attributes (``"persona"``), segment columns (``"doc_id"``) and/or
        ``"stage"``/``"kind"`` (the code's, from ``codebook``).
    codebook : Codebook, optional
        Adds ``stage`` and ``kind`` columns, lists codes never applied (with zeros) and orders
        rows as in the codebook.
    {coder}
    aggregate : bool, default True
        With a codebook, a parent code counts the segments coded with it *or any code below it*
        (NVivo's "aggregate coding from children"), each segment once; False counts only the
        codings of the code itself.

    Returns
    -------
    DataFrame
        One row per code (and group): ``code``, the ``by`` columns, ``n_segments`` (segments
        coded: "mentioned 40 times"), ``n_participants`` (distinct participants whose turns
        carry the code), ``n_participants_total`` (participants in the group),
        ``share_participants`` (the ratio, 0–1), ``mentioned_by`` (e.g. ``"9 of 14"``), then
        ``stage``, ``kind`` and ``includes`` with a codebook (the codes below a parent that its
        counts aggregate, comma-separated, e.g. ``"itself + frustration, delight"``; empty for a
        code without children or with ``aggregate=False``). Sorted by ``n_participants`` then
        ``n_segments``, descending (codebook order with a codebook and no ``by``).
        When any input is a Dask DataFrame: a lazy one-partition Dask DataFrame whose
        ``.compute()`` is that frame, with the numbers pandas gives on the same data.

    Notes
    -----
    Prevalence across people matters more than raw counts in qualitative research: a code
    applied 40 times by two talkative participants is weaker evidence than one mentioned once
    each by 9 of 14. The unit counted is the turn: a coding that is a span (sub-turn, or across
    turns) counts in the turn it starts in (its ``segment_id``), once per turn however many spans
    of the code it holds. Codings on interviewer turns are left out, with an
    ``InterviewerCodingsWarning`` giving their number (:func:`journeylab.participant_codings`,
    the rule evidence, agreement and the learned coder share); the Dask path leaves them out
    too, without the warning (it would need a computation of its own).

    With Dask input the counting is distributed: distinct (segment, code) pairs are joined to
    each segment's first row, rows per (code, group, participant) are counted and summed per
    (code, group) — the count of those rows is the number of distinct participants, which adds
    up across partitions. Only these counts reach the last task, which runs the same finishing
    code as pandas (``docs/scale.md``). The coder and codebook checks run when computing.

    Examples
    --------
    >>> import pandas as pd, journeylab as jl
    >>> seg = pd.DataFrame({"segment_id": ["a", "b", "c"], "participant_id": ["P1", "P1", "P2"]})
    >>> cod = pd.DataFrame({"segment_id": ["a", "b", "c"], "code": ["x", "x", "y"]})
    >>> jl.code_frequencies(cod, segments=seg)[["code", "n_segments", "n_participants", "mentioned_by"]]
      code  n_segments  n_participants mentioned_by
    0    x           2               1       1 of 2
    1    y           1               1       1 of 2
    """
    func = "code_frequencies"
    rollup = aggregate and codebook is not None and any(codebook.children(c.name) for c in codebook)
    if any(is_dask(x) for x in (codings, segments, participants)):
        if rollup and is_dask(codings):
            codings = codings.map_partitions(_with_ancestors, codebook=codebook, meta=codings._meta)
        elif rollup:
            codings = _with_ancestors(codings, codebook=codebook)
        out = _dask_code_frequencies(codings, segments, participants, by=by, codebook=codebook, coder=coder)
        return out.map_partitions(_includes, codebook=codebook, rollup=rollup) if codebook is not None else out
    _check_codings(codings, func, dask=True)
    _segments(segments, func, dask=True)
    if participants is not None:
        check_frame(participants, arg="participants", func=func, required=["participant_id"], allow_empty=True,
                    dask=True)
    cod = _one_coder(codings, coder, func)
    cod = participant_codings(cod, segments=segments, what="code frequencies").codings
    by, code_cols, seg_cols, part_cols = _freq_by(by, codebook, segments.columns, participants, func)
    _check_known_codes(cod["code"].unique(), codebook, func)
    if rollup:
        cod = _with_ancestors(cod, codebook=codebook)

    seg = segments[["segment_id", "participant_id", *seg_cols]].drop_duplicates("segment_id").copy()
    seg["segment_id"] = seg["segment_id"].astype(str)
    if part_cols:
        seg = seg.merge(participants[["participant_id", *part_cols]], on="participant_id", how="left")
    df = cod.merge(seg, on="segment_id", how="inner")
    if part_cols:  # turns without a participant (interviewer) have no participant attributes
        df = df.dropna(subset=["participant_id"])
    keys = ["code", *[b for b in by if b not in code_cols]]
    counts = df.groupby(keys, dropna=False).agg(n_segments=("segment_id", "nunique"),
                                                n_participants=("participant_id", "nunique")).reset_index()
    pop = _freq_population(participants, _participant_groups(seg, seg_cols), part_cols, seg_cols)
    out = _freq_finish(counts, pop, by, code_cols, codebook)
    return _includes(out, codebook=codebook, rollup=rollup) if codebook is not None else out


def _with_ancestors(codings: pd.DataFrame, *, codebook: Codebook) -> pd.DataFrame:
    """The codings plus, for each, a copy under every ancestor code (a parent aggregates its children)."""
    known = set(codebook.names)
    up = {c: codebook.ancestors(c) for c in codings["code"].dropna().unique() if c in known}
    extra = [codings[codings["code"] == c].assign(code=a) for c, anc in up.items() for a in anc]
    return pd.concat([codings, *extra], ignore_index=True) if extra else codings


def _includes(freq: pd.DataFrame, *, codebook: Codebook, rollup: bool) -> pd.DataFrame:
    """Add ``includes``: the codes below each parent that its counts aggregate."""
    below = {c.name: codebook.descendants(c.name) if rollup else [] for c in codebook}
    return freq.assign(includes=freq["code"].map(
        lambda c: "itself + " + ", ".join(below[c]) if below.get(c) else ""))


def _freq_by(by, codebook, segment_columns, participants, func: str):
    """Split ``by`` into code columns (``stage``/``kind``), segment columns and participant
    attributes; check the codebook / participants they need (columns only)."""
    by = [] if by is None else ([by] if isinstance(by, str) else list(by))
    code_cols = [b for b in by if b in ("stage", "kind")]
    if code_cols and codebook is None:
        raise JourneylabError(f"{func}(): by={code_cols[0]!r} needs the codebook (codebook=...)")
    seg_cols = [b for b in by if b not in code_cols and b in segment_columns and b != "participant_id"]
    part_cols = [b for b in by if b not in code_cols and b not in seg_cols]
    if part_cols:
        if participants is None:
            raise JourneylabError(f"{func}(): by={part_cols[0]!r} is not a segments column; pass `participants` "
                                  "to group by a participant attribute")
        lazy = is_dask(participants)
        check_frame(participants._meta if lazy else participants, arg="participants", func=func,
                    required=["participant_id", *part_cols], allow_empty=lazy)
    return by, code_cols, seg_cols, part_cols


def _check_known_codes(codes, codebook, func: str) -> None:
    unknown = [c for c in codes if codebook is not None and c not in codebook]
    if unknown:
        raise JourneylabError(f"{func}(): code {unknown[0]!r} in `codings` is not in the codebook")


def _participant_groups(seg: pd.DataFrame, seg_cols: list) -> pd.DataFrame:
    """Distinct (participant, segment-column values) of the segments with a participant."""
    return seg[["participant_id", *seg_cols]].dropna(subset=["participant_id"]).drop_duplicates()


def _freq_population(participants, groups: pd.DataFrame, part_cols: list, seg_cols: list) -> pd.DataFrame:
    """The denominators' people: ``participant_id`` and the group columns (rows may repeat)."""
    if participants is None:
        return groups
    pop = participants[["participant_id", *part_cols]].drop_duplicates("participant_id")
    if seg_cols:
        pop = pop.merge(groups, on="participant_id")
    return pop


def _freq_finish(counts: pd.DataFrame, pop: pd.DataFrame, by: list, code_cols: list,
                 codebook: Codebook | None) -> pd.DataFrame:
    """Counts per (code, group) and the population → the :func:`code_frequencies` table.

    ``counts`` has ``code``, the group columns, ``n_segments`` and ``n_participants``; shared by
    the pandas and the Dask path, so both give the same table from the same counts.
    """
    group_cols = [b for b in by if b not in code_cols]
    keys = ["code", *group_cols]
    if group_cols:
        totals = pop.groupby(group_cols, dropna=False)["participant_id"].nunique().rename("n_participants_total")
        counts = counts.merge(totals.reset_index(), on=group_cols, how="left")
    else:
        counts["n_participants_total"] = pop["participant_id"].nunique()
    if codebook is not None:
        # codes never applied: zero rows (per group)
        names = [c.name for c in codebook if c.codable]
        if group_cols:
            all_groups = (pop.groupby(group_cols, dropna=False)["participant_id"].nunique()
                          .rename("n_participants_total").reset_index())
            grid = pd.DataFrame({"code": names}).merge(all_groups, how="cross")
        else:
            grid = pd.DataFrame({"code": names, "n_participants_total": pop["participant_id"].nunique()})
        counts = grid.merge(counts.drop(columns="n_participants_total"), on=keys, how="left")
        counts[["n_segments", "n_participants"]] = counts[["n_segments", "n_participants"]].fillna(0)
        counts["stage"] = counts["code"].map(lambda c: codebook[c].stage)
        counts["kind"] = counts["code"].map(lambda c: codebook[c].kind)
    counts["n_segments"] = counts["n_segments"].astype(int)
    counts["n_participants"] = counts["n_participants"].astype(int)
    counts["n_participants_total"] = counts["n_participants_total"].fillna(0).astype(int)
    total = counts["n_participants_total"].replace(0, np.nan)
    counts["share_participants"] = (counts["n_participants"] / total).astype(float)
    counts["mentioned_by"] = [f"{a} of {b}" for a, b in zip(counts["n_participants"], counts["n_participants_total"])]
    cols = ["code", *group_cols, "n_segments", "n_participants", "n_participants_total", "share_participants",
            "mentioned_by"] + (["stage", "kind"] if codebook is not None else [])
    counts = counts[cols]
    if codebook is not None and not by:
        order = {n: i for i, n in enumerate(codebook.names)}
        counts = counts.sort_values("code", key=lambda s: s.map(order))
    else:
        counts = counts.sort_values(["n_participants", "n_segments", *keys],
                                    ascending=[False, False] + [True] * len(keys))
    if code_cols:
        counts = counts[[*[c for c in cols if c in ("code",)], *code_cols,
                         *[c for c in cols if c not in ("code", *code_cols)]]]
    return counts.reset_index(drop=True)


# ----------------------------------------------------------------------------- co-occurrence


@shared_docs
def co_occurrence(codings: pd.DataFrame, *, segments: pd.DataFrame, level: str = "segment",
                  coder: str | None = None, min_count: int = 1) -> pd.DataFrame:
    """Which codes occur together, within a segment or within a participant.

    Parameters
    ----------
    {codings}
        Or a Dask DataFrame (with Dask ``segments``): a lazy result (docs/scale.md).
    {segments}
        Needs ``segment_id``, and ``participant_id`` for ``level="participant"`` (``start``,
        ``end`` for ``"overlap"``).
    level : {"segment", "participant", "overlap"}
        When two codes co-occur: ``"segment"``, both are on the same turn; ``"participant"``,
        both are on turns of the same participant; ``"overlap"``, a coding of each covers at
        least one common character of one turn (their spans overlap: ``max(start) < min(end)``;
        a whole-turn coding covers its turn; a span that runs across turns counts in the turn it
        starts in). ``n_a``, ``n_b`` and ``count`` count turns for ``"segment"`` and
        ``"overlap"``, participants for ``"participant"``. The result's ``attrs["unit"]`` says
        which.
    {coder}
    min_count : int, default 1
        Leave out pairs that co-occur in fewer units (0 keeps every pair of applied codes).

    Returns
    -------
    DataFrame
        One row per unordered pair: ``code_a``, ``code_b`` (``code_a < code_b``), ``n_a``,
        ``n_b`` (units carrying each code), ``count`` (units carrying both), ``jaccard``
        (``count / (n_a + n_b - count)``), sorted by ``count`` then ``jaccard``, descending.
        With Dask input: a lazy one-partition Dask DataFrame that computes to that frame.

    Notes
    -----
    Jaccard similarity |A∩B| / |A∪B| over units (Jaccard 1901) corrects raw counts for the
    codes' own frequencies: two frequent codes co-occur often by chance.

    With Dask input, distinct (unit, code) pairs are joined with themselves on the unit and the
    pairs counted per partition and summed: exact, and only per-pair counts reach the last task.

    Examples
    --------
    >>> import pandas as pd, journeylab as jl
    >>> seg = pd.DataFrame({"segment_id": ["a", "b"], "participant_id": ["P1", "P2"]})
    >>> cod = pd.DataFrame({"segment_id": ["a", "a", "b"], "code": ["x", "y", "x"]})
    >>> jl.co_occurrence(cod, segments=seg)
      code_a code_b  n_a  n_b  count  jaccard
    0      x      y    2    1      1      0.5
    """
    func = "co_occurrence"
    if is_dask(codings) or is_dask(segments):
        return _dask_co_occurrence(codings, segments, level=level, coder=coder, min_count=min_count)
    _check_codings(codings, func, dask=True)
    check_choice(level, arg="level", func=func, choices=["segment", "participant", "overlap"])
    _segments(segments, func, {"participant": ("segment_id", "participant_id"),
                               "overlap": ("segment_id", "start", "end")}.get(level, ("segment_id",)), dask=True)
    cod = _one_coder(codings, coder, func, spans=level == "overlap")
    cod = participant_codings(cod, segments=segments, what="co-occurrence").codings
    if level == "overlap":
        out = _co_overlap(cod, segments, min_count)
        out.attrs["unit"] = ("turns in which a coding of each code covers a common character (overlapping spans; "
                             "a whole-turn coding covers its turn)")
        return out
    if level == "participant":
        pid = _participant_of(segments.assign(segment_id=segments["segment_id"].astype(str)))
        cod = cod.assign(unit=cod["segment_id"].map(pid)).dropna(subset=["unit"])
    else:
        cod = cod.assign(unit=cod["segment_id"])
    cod = cod[["unit", "code"]].drop_duplicates()
    n = cod.groupby("code")["unit"].nunique()
    pairs = cod.merge(cod, on="unit", suffixes=("_a", "_b"))
    pairs = pairs[pairs["code_a"] < pairs["code_b"]]
    counts = pairs.groupby(["code_a", "code_b"]).size().rename("count").reset_index()
    out = _co_finish(counts, n, min_count)
    out.attrs["unit"] = "participants" if level == "participant" else "turns carrying both codes"
    return out


def _co_overlap(cod: pd.DataFrame, segments: pd.DataFrame, min_count: int) -> pd.DataFrame:
    """Co-occurrence by overlapping spans within a turn (see :func:`co_occurrence`, ``level="overlap"``).

    Integer keys throughout (turns and codes factorised), so the self-join, the overlap test and
    the distinct (turn, code pair) count stay in numpy.
    """
    seg = segments.assign(segment_id=segments["segment_id"].astype(str)).drop_duplicates("segment_id")
    sid = cod["segment_id"].to_numpy()
    at = pd.Index(seg["segment_id"]).get_indexer(sid)
    seg_a, seg_b = seg["start"].to_numpy(float), seg["end"].to_numpy(float)
    a = (pd.to_numeric(cod["start"], errors="coerce").to_numpy(float) if "start" in cod.columns
         else np.full(len(cod), np.nan))
    b = (pd.to_numeric(cod["end"], errors="coerce").to_numpy(float) if "end" in cod.columns
         else np.full(len(cod), np.nan))
    whole = (np.isnan(a) | np.isnan(b)) & (at >= 0)
    a = np.where(whole, seg_a[np.maximum(at, 0)], a)
    b = np.where(whole, seg_b[np.maximum(at, 0)], b)
    keep = ~(np.isnan(a) | np.isnan(b))
    unit, _ = pd.factorize(sid[keep])
    code, names = pd.factorize(cod["code"].to_numpy()[keep], sort=True)  # code order = name order
    k = max(len(names), 1)
    c = pd.DataFrame({"unit": unit, "code": code, "a": a[keep], "b": b[keep]}).drop_duplicates()
    n = pd.Series(np.bincount(pd.unique(c["unit"].to_numpy(np.int64) * k + c["code"].to_numpy()) % k,
                              minlength=len(names)), index=names)
    pairs = c.merge(c, on="unit", suffixes=("_a", "_b"))
    ca, cb = pairs["code_a"].to_numpy(np.int64), pairs["code_b"].to_numpy(np.int64)
    hit = (ca < cb) & (np.maximum(pairs["a_a"].to_numpy(), pairs["a_b"].to_numpy())
                       < np.minimum(pairs["b_a"].to_numpy(), pairs["b_b"].to_numpy()))
    distinct = pd.unique((pairs["unit"].to_numpy(np.int64)[hit] * k + ca[hit]) * k + cb[hit]) % (k * k)
    count = np.bincount(distinct, minlength=k * k)
    pair_key = np.flatnonzero(count)
    counts = pd.DataFrame({"code_a": names[pair_key // k], "code_b": names[pair_key % k], "count": count[pair_key]})
    return _co_finish(counts, n, min_count)


def _co_finish(counts: pd.DataFrame, n: pd.Series, min_count: int) -> pd.DataFrame:
    """Units per pair (``code_a``, ``code_b``, ``count``) and per code (``n``) → the
    :func:`co_occurrence` table; shared by the pandas and the Dask path."""
    if min_count <= 0:
        names = sorted(n.index)
        grid = pd.DataFrame([(a, b) for i, a in enumerate(names) for b in names[i + 1:]], columns=["code_a", "code_b"])
        counts = grid.merge(counts, on=["code_a", "code_b"], how="left").fillna({"count": 0})
    counts = counts[counts["count"] >= min_count].copy()
    counts["count"] = counts["count"].astype(int)
    counts["n_a"] = counts["code_a"].map(n).astype(int)
    counts["n_b"] = counts["code_b"].map(n).astype(int)
    counts["jaccard"] = counts["count"] / (counts["n_a"] + counts["n_b"] - counts["count"])
    counts = counts.sort_values(["count", "jaccard", "code_a", "code_b"], ascending=[False, False, True, True])
    return counts[["code_a", "code_b", "n_a", "n_b", "count", "jaccard"]].reset_index(drop=True)


@shared_docs
def plot_co_occurrence(co: pd.DataFrame, *, value: str = "jaccard", ax=None, max_codes: int = 25):
    """Heat map of a :func:`co_occurrence` frame.

    Parameters
    ----------
    co : DataFrame
        From :func:`co_occurrence`: ``code_a``, ``code_b`` and the ``value`` column.
    value : {"jaccard", "count"}, default "jaccard"
        The column to colour by.
    {ax}
    max_codes : int, default 25
        Show the codes in the most pairs, at most this many.

    Returns
    -------
    matplotlib.axes.Axes
    """
    # lazy: matplotlib.pyplot adds ~0.8 s to `import journeylab` (measured; docs/architecture.md)
    import matplotlib.pyplot as plt

    check_frame(co, arg="co", func="plot_co_occurrence", required=["code_a", "code_b", value], allow_empty=True)
    codes = pd.concat([co["code_a"], co["code_b"]]).value_counts().index[:max_codes].sort_values().tolist()
    m = pd.DataFrame(np.nan, index=codes, columns=codes)
    for a, b, v in co[["code_a", "code_b", value]].itertuples(index=False):
        if a in m.index and b in m.index:
            m.loc[a, b] = m.loc[b, a] = v
    created = ax is None
    if ax is None:
        size = max(4.0, 0.32 * len(codes) + 2)
        _, ax = plt.subplots(figsize=(size + 1, size))
    im = ax.imshow(m.to_numpy(dtype=float), cmap="viridis", vmin=0)
    ax.set_xticks(range(len(codes)), codes, rotation=60, ha="right", fontsize=8)
    ax.set_yticks(range(len(codes)), codes, fontsize=8)
    ax.figure.colorbar(im, ax=ax, shrink=0.7, label=value)
    ax.set_title(f"Code co-occurrence ({value})")
    if created:
        ax.figure.tight_layout()
    return ax


# ----------------------------------------------------------------------------- exemplar quotes


@shared_docs
def exemplar_quotes(codings: pd.DataFrame, *, segments: pd.DataFrame, code: str | list | None = None, n: int = 3,
                    max_per_participant: int = 1, max_chars: int = 280, min_chars: int = 25,
                    coder: str | None = None) -> pd.DataFrame:
    """Short, representative quotes for each code, attributed to participant and position.

    Parameters
    ----------
    {codings}
    {segments}
        Needs ``segment_id``, ``participant_id``, ``doc_id``, ``start``, ``end``, ``text``.
    code : str or list of str, optional
        Only these codes (default: every code in ``codings``).
    n : int, default 3
        Quotes per code.
    max_per_participant : int, default 1
        At most this many quotes per participant and code, so one voice does not dominate.
    max_chars, min_chars : int
        Quotes longer than ``max_chars`` or shorter than ``min_chars`` are used only when a code
        has no quote of a suitable length.
    {coder}

    Returns
    -------
    DataFrame
        ``code``, ``rank`` (1 = best), ``participant_id``, ``doc_id``, ``segment_id``,
        ``start``, ``end`` (character offsets in the document), ``text``, ``n_chars``,
        ``score`` (cosine similarity to the code's centroid, 0–1). The quote is what was
        coded: the coding's span (``start``, ``end``, ``text`` of a codings frame with spans),
        else its whole turn; ``segment_id`` is the turn the span starts in.

    Notes
    -----
    Representativeness: every segment carrying the code becomes a TF-IDF vector of its stemmed
    tokens (stop words removed, the same tokens as :func:`journeylab.autocode`); the centroid
    of the code's segments stands for what the code is about, and segments are ranked by cosine
    similarity to it (a centroid-based choice of medoid-like exemplars). Among segments of a
    suitable length the best ``n`` are kept, with at most ``max_per_participant`` each.

    Examples
    --------
    >>> import journeylab as jl
    >>> study = jl.load_study(jl.datasets.sample_study_path())
    >>> q = jl.exemplar_quotes(study.codings, segments=study.segments, code="shipping_form_tedious", coder="amara")
    >>> q[["rank", "participant_id", "segment_id"]]
       rank participant_id segment_id
    0     1            P05   P05-t026
    1     2            P01   P01-t034
    2     3            P11   P11-t036
    """
    func = "exemplar_quotes"
    _check_codings(codings, func)
    _segments(segments, func, ("segment_id", "participant_id", "doc_id", "start", "end", "text"))
    if not isinstance(n, int) or n < 1 or not isinstance(max_per_participant, int) or max_per_participant < 1:
        raise JourneylabError(f"{func}(): `n` and `max_per_participant` must be positive integers; "
                              f"got n={n!r}, max_per_participant={max_per_participant!r}")
    cod = _one_coder(codings, coder, func, spans=True)
    if code is not None:
        wanted = [code] if isinstance(code, str) else list(code)
        missing = [c for c in wanted if c not in set(cod["code"])]
        if missing:
            raise JourneylabError(f"{func}(): code {missing[0]!r} has no codings")
        cod = cod[cod["code"].isin(wanted)]
    seg = segments.assign(segment_id=segments["segment_id"].astype(str)).drop_duplicates("segment_id")
    seg = seg.set_index("segment_id")
    cod = cod[cod["segment_id"].astype(str).isin(seg.index)].assign(segment_id=lambda d: d["segment_id"].astype(str))
    cols = ["code", "rank", "participant_id", "doc_id", "segment_id", "start", "end", "text", "n_chars", "score"]
    if cod.empty:
        return pd.DataFrame(columns=cols)
    # lazy: scikit-learn adds ~1.2 s to `import journeylab` (measured; docs/architecture.md)
    from sklearn.feature_extraction.text import TfidfVectorizer

    stops = stop_words()
    # a quote is what was coded: a coding's span (doc_id, start, end, text) when it has one, else its turn
    has_span = {"doc_id", "start", "end", "text"} <= set(cod.columns)
    qids, spans = [], {}
    # the turns' columns by position: a .at per coding and column costs ~25 µs (seconds on a large study)
    where = {sid: i for i, sid in enumerate(seg.index)}
    t_doc, t_start, t_end, t_text = (seg[c].array for c in ("doc_id", "start", "end", "text"))
    for rec in cod.itertuples(index=False):
        sid = rec.segment_id
        if has_span and pd.notna(rec.start) and pd.notna(rec.text):
            q = f"{rec.doc_id}:{int(rec.start)}:{int(rec.end)}"
            spans.setdefault(q, (sid, rec.doc_id, int(rec.start), int(rec.end), str(rec.text)))
        else:
            q = sid
            if q not in spans:
                i = where[sid]
                spans[q] = (sid, t_doc[i], t_start[i], t_end[i], "" if pd.isna(t_text[i]) else str(t_text[i]))
        qids.append(q)
    cod = cod.assign(_qid=qids)
    ids = list(spans)
    texts = [spans[q][4] for q in ids]

    def analyzer(text):
        return [stem(t) for t in tokenize(text) if t not in stops]

    vec = TfidfVectorizer(analyzer=analyzer, sublinear_tf=True)
    try:
        X = vec.fit_transform(texts)
    except ValueError:  # every text is empty after stop words
        X = None
    row_of = {s: i for i, s in enumerate(ids)}
    rows = []
    order = list(dict.fromkeys(cod["code"]))
    for c in order:
        qs = list(dict.fromkeys(cod.loc[cod["code"] == c, "_qid"]))
        sids = [spans[q][0] for q in qs]
        idx = [row_of[q] for q in qs]
        if X is not None:
            sub = X[idx]
            centroid = np.asarray(sub.mean(axis=0)).ravel()
            norm = np.linalg.norm(centroid)
            scores = (sub @ centroid) / norm if norm > 0 else np.zeros(len(idx))
            scores = np.asarray(scores).ravel()
        else:
            scores = np.zeros(len(idx))
        cand = pd.DataFrame({"qid": qs, "segment_id": sids, "score": scores})
        cand["text"] = [spans[q][4] for q in qs]
        cand["n_chars"] = cand["text"].str.len()
        cand["participant_id"] = seg.loc[sids, "participant_id"].to_numpy()
        cand["fits"] = cand["n_chars"].between(min_chars, max_chars)
        cand = cand.sort_values(["fits", "score", "n_chars", "segment_id"], ascending=[False, False, True, True])
        taken, per = [], {}
        for rec in cand.itertuples(index=False):
            key = rec.participant_id if isinstance(rec.participant_id, str) else f"?{rec.segment_id}"
            if per.get(key, 0) >= max_per_participant:
                continue
            per[key] = per.get(key, 0) + 1
            taken.append(rec)
            if len(taken) == n:
                break
        for rank, rec in enumerate(taken, start=1):
            _, doc, a, b, _ = spans[rec.qid]
            rows.append({"code": c, "rank": rank, "participant_id": seg.at[rec.segment_id, "participant_id"],
                         "doc_id": doc, "segment_id": rec.segment_id, "start": a, "end": b, "text": rec.text,
                         "n_chars": int(rec.n_chars), "score": round(float(rec.score), 6)})
    return pd.DataFrame(rows, columns=cols)


# ----------------------------------------------------------------------------- saturation


@shared_docs
def saturation(codings: pd.DataFrame, *, segments: pd.DataFrame, order=None, by: str = "doc_id",
               coder: str | None = None) -> pd.DataFrame:
    """New codes discovered per successive interview (code saturation).

    Parameters
    ----------
    {codings}
    {segments}
        Needs ``segment_id`` and the ``by`` column.
    order : list, optional
        The interviews (values of ``by``) in the order they were done; default: their order of
        first appearance in ``segments``. Interviews without codings still get a row.
    by : str, default "doc_id"
        What an interview is: ``"doc_id"`` or ``"participant_id"``.
    {coder}

    Returns
    -------
    DataFrame
        One row per interview in order: ``position`` (1-based), the ``by`` column,
        ``n_codes`` (distinct codes in this interview), ``new_codes`` (codes not seen in any
        earlier interview), ``cumulative_codes``, ``share_of_codes`` (cumulative / all codes
        found), ``new_code_names`` (comma-separated).

    Notes
    -----
    Code saturation in the sense of Guest, Bunce & Johnson (2006, *Field Methods* 18:59) and
    Hennink, Kaiser & Marconi (2017): the point after which further interviews add few or no
    new codes. The curve depends on the interview order; pass the real order.

    Examples
    --------
    >>> import pandas as pd, journeylab as jl
    >>> seg = pd.DataFrame({"segment_id": ["a", "b", "c"], "doc_id": ["P1", "P2", "P3"]})
    >>> cod = pd.DataFrame({"segment_id": ["a", "a", "b", "c"], "code": ["x", "y", "y", "z"]})
    >>> jl.saturation(cod, segments=seg)[["doc_id", "new_codes", "cumulative_codes"]]
      doc_id  new_codes  cumulative_codes
    0     P1          2                 2
    1     P2          0                 2
    2     P3          1                 3
    """
    func = "saturation"
    _check_codings(codings, func)
    _segments(segments, func, ("segment_id", by))
    cod = _one_coder(codings, coder, func)
    unit = segments.assign(segment_id=segments["segment_id"].astype(str)).drop_duplicates("segment_id")
    unit = unit.set_index("segment_id")[by]
    cod = cod.assign(unit=cod["segment_id"].map(unit)).dropna(subset=["unit"])
    units = list(dict.fromkeys(unit.dropna()))
    if order is not None:
        order = list(order)
        unknown = [u for u in order if u not in set(units)]
        if unknown:
            raise JourneylabError(f"{func}(): `order` has {unknown[0]!r}, which is not a {by} in `segments`")
        missing = [u for u in units if u not in set(order)]
        if missing:
            raise JourneylabError(f"{func}(): `order` leaves out {missing[0]!r} (and {len(missing) - 1} more); "
                                  f"list every {by}")
        units = order
    codes_of = cod.groupby("unit")["code"].agg(lambda s: sorted(set(s))).to_dict()
    seen: set = set()
    rows = []
    total = cod["code"].nunique()
    for i, u in enumerate(units, start=1):
        codes = codes_of.get(u, [])
        new = [c for c in codes if c not in seen]
        seen.update(codes)
        rows.append({"position": i, by: u, "n_codes": len(codes), "new_codes": len(new),
                     "cumulative_codes": len(seen), "share_of_codes": len(seen) / total if total else np.nan,
                     "new_code_names": ", ".join(new)})
    return pd.DataFrame(rows, columns=["position", by, "n_codes", "new_codes", "cumulative_codes", "share_of_codes",
                                       "new_code_names"])


#: At most this many interviews are named on :func:`plot_saturation`'s x axis (every k-th one beyond).
MAX_SATURATION_LABELS = 40


@shared_docs
def plot_saturation(sat: pd.DataFrame, *, ax=None, label: str | None = None):
    """Plot a :func:`saturation` frame: new codes per interview (bars) and the cumulative count (line).

    Parameters
    ----------
    sat : DataFrame
        From :func:`saturation`: ``position``, ``new_codes``, ``cumulative_codes`` and the
        interview column.
    {ax}
    label : str, optional
        The column that names each interview on the x axis (default: the interview column). With
        more than :data:`MAX_SATURATION_LABELS` interviews every k-th one is named, and a new
        figure is at most 16 inches wide.

    Returns
    -------
    matplotlib.axes.Axes
    """
    # lazy: matplotlib.pyplot adds ~0.8 s to `import journeylab` (measured; docs/architecture.md)
    import matplotlib.pyplot as plt

    check_frame(sat, arg="sat", func="plot_saturation", required=["position", "new_codes", "cumulative_codes"])
    label = label or next((c for c in sat.columns if c not in ("position", "n_codes", "new_codes", "cumulative_codes",
                                                               "share_of_codes", "new_code_names")), "position")
    # lazy: matplotlib adds ~0.15 s to `import journeylab` (measured; docs/architecture.md)
    from matplotlib.ticker import MaxNLocator

    created = ax is None
    if ax is None:  # at most 16 inches wide: hundreds of interviews made a figure metres wide
        _, ax = plt.subplots(figsize=(min(max(5.0, 0.45 * len(sat) + 2), 16.0), 3.6))
    x = np.arange(len(sat))
    ax.bar(x, sat["new_codes"], color="#56b4e9", label="new codes in this interview")
    ax.plot(x, sat["cumulative_codes"], color="#d55e00", marker="o", label="codes found so far")
    many = len(sat) > 8
    step = -(-len(sat) // MAX_SATURATION_LABELS)  # every step-th interview named: at most that many labels
    ax.set_xticks(x[::step], sat[label].astype(str).iloc[::step], rotation=45 if many else 0,
                  ha="right" if many else "center")
    ax.set_xlabel(f"interview ({label}), in order")
    ax.set_ylabel("codes")
    ax.set_ylim(0, max(1, int(sat["cumulative_codes"].max())) * 1.12)
    ax.set_title("Code saturation")
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.legend(loc="best", frameon=False)
    ax.spines[["top", "right"]].set_visible(False)
    if created:
        ax.figure.tight_layout()
    return ax


# ----------------------------------------------------------------------------- emergent themes


@shared_docs
def suggest_codes(codings: pd.DataFrame, *, segments: pd.DataFrame, top: int = 20, min_freq: int = 2,
                  roles=("participant",), measure: str = "likelihood_ratio") -> pd.DataFrame:
    """Frequent collocations among uncoded segments: candidates for new codes.

    Parameters
    ----------
    codings : DataFrame
        Codings of any coders (``segment_id``, ``code``); a segment with any coding is left out.
    {segments}
        Needs ``segment_id`` and ``text``; ``speaker_role``, ``participant_id`` are used when
        present.
    top : int, default 20
        How many bigrams to return.
    min_freq : int, default 2
        Minimum occurrences of a bigram.
    roles : tuple of str, default ("participant",)
        Speaker roles whose turns are searched.
    measure : {"likelihood_ratio", "pmi", "raw_freq", "chi_sq", "student_t"}
        NLTK ``BigramAssocMeasures`` score used to rank.

    Returns
    -------
    DataFrame
        ``bigram`` ("address lookup"), ``word_1``, ``word_2``, ``score``, ``n`` (occurrences),
        ``n_segments``, ``n_participants``, ``example_segment_id``, ``example`` (its text),
        best first.

    Notes
    -----
    Tokens as in :func:`journeylab.autocode` (lower-cased, not stemmed so the bigram reads
    naturally), stop words removed (:func:`stop_words`; negators kept), bigrams counted within
    segments only with NLTK's ``BigramCollocationFinder.from_documents`` and ranked by Dunning's
    log-likelihood ratio (Dunning 1993; Manning & Schütze 1999, ch. 5) by default.

    Examples
    --------
    >>> import pandas as pd, journeylab as jl
    >>> seg = pd.DataFrame({"segment_id": list("abc"), "text": ["the address lookup failed",
    ...                     "address lookup again", "fine"]})
    >>> jl.suggest_codes(seg.iloc[:0].assign(code=[]), segments=seg, top=1)[["bigram", "n"]]
               bigram  n
    0  address lookup  2
    """
    # lazy: nltk adds ~2.3 s to `import journeylab` (measured; docs/architecture.md)
    from nltk.collocations import BigramAssocMeasures, BigramCollocationFinder

    func = "suggest_codes"
    check_frame(segments, arg="segments", func=func, required=["segment_id", "text"])
    _check_codings(codings, func)
    check_choice(measure, arg="measure", func=func, choices=["likelihood_ratio", "pmi", "raw_freq", "chi_sq",
                                                               "student_t"])
    seg = segments
    if "speaker_role" in seg.columns:
        seg = seg[seg["speaker_role"].isin(set(roles))]
    coded = set(codings["segment_id"].astype(str))
    seg = seg[~seg["segment_id"].astype(str).isin(coded)]
    stops = stop_words()
    docs, meta = [], []
    for rec in seg.itertuples(index=False):
        text = rec.text if isinstance(rec.text, str) else ""
        toks = [t for t in tokenize(text) if t not in stops and not t.isdigit() and len(t) > 1]
        docs.append(toks)
        meta.append((str(rec.segment_id), getattr(rec, "participant_id", None), text))
    cols = ["bigram", "word_1", "word_2", "score", "n", "n_segments", "n_participants", "example_segment_id", "example"]
    if not any(len(d) > 1 for d in docs):
        return pd.DataFrame(columns=cols)
    finder = BigramCollocationFinder.from_documents(docs)
    finder.apply_freq_filter(min_freq)
    scored = finder.score_ngrams(getattr(BigramAssocMeasures, measure))
    where: dict[tuple, list[int]] = {}
    for i, toks in enumerate(docs):
        for bg in set(zip(toks, toks[1:])):
            where.setdefault(bg, []).append(i)
    rows = []
    for (w1, w2), score in scored[:top]:
        hits = where.get((w1, w2), [])
        ex = min(hits, key=lambda i: (len(meta[i][2]), meta[i][0]))
        pids = {meta[i][1] for i in hits if isinstance(meta[i][1], str)}
        rows.append({"bigram": f"{w1} {w2}", "word_1": w1, "word_2": w2, "score": float(score),
                     "n": int(finder.ngram_fd[(w1, w2)]), "n_segments": len(hits), "n_participants": len(pids),
                     "example_segment_id": meta[ex][0], "example": meta[ex][2]})
    return pd.DataFrame(rows, columns=cols)


# ----------------------------------------------------------------------------- rules against people


def evaluate_codings(predicted: pd.DataFrame, *, reference: pd.DataFrame, segments: pd.DataFrame,
                     documents=None, roles=("participant",)) -> pd.DataFrame:
    """Precision and recall of predicted codings (rules, a model) against a reference coder.

    Parameters
    ----------
    predicted : DataFrame
        Codings to evaluate (e.g. :func:`journeylab.autocode` output); one coder.
    reference : DataFrame
        The human coding taken as right (one coder, e.g. ``gold``).
    segments : DataFrame
        The segments frame (``segment_id``, ``doc_id``; ``speaker_role`` when present).
    documents : list of str, optional
        Documents to compare on; default: those where the reference coded anything (a
        document the reference never read says nothing about the rules).
    roles : tuple of str, default ("participant",)
        Speaker roles whose segments count.

    Returns
    -------
    DataFrame
        One row per code found in either coding, then an ``(all codes)`` row:
        ``code``, ``n_predicted``, ``n_reference``, ``n_both``, ``precision``
        (``n_both / n_predicted``), ``recall`` (``n_both / n_reference``), ``f1``
        (``2 n_both / (n_predicted + n_reference)``, the harmonic mean of precision and recall where
        both are defined, and 0 when the two codings never meet — e.g. a rule that fires but never
        hits); precision and recall are NaN where their denominator is 0.

    Notes
    -----
    A (segment, code) pair is the unit; segments outside ``documents`` and ``roles`` are left
    out of both codings. Precision says how often a rule is right when it fires, recall how much
    of the human coding it finds (Manning, Raghavan & Schütze 2008, ch. 8).

    Examples
    --------
    >>> import pandas as pd, journeylab as jl
    >>> seg = pd.DataFrame({"segment_id": ["a", "b"], "doc_id": "D1"})
    >>> rules = pd.DataFrame({"segment_id": ["a", "b"], "code": ["x", "x"]})
    >>> human = pd.DataFrame({"segment_id": ["a"], "code": ["x"]})
    >>> jl.evaluate_codings(rules, reference=human, segments=seg)[["code", "precision", "recall"]]
              code  precision  recall
    0            x        0.5     1.0
    1  (all codes)        0.5     1.0
    """
    func = "evaluate_codings"
    check_frame(predicted, arg="predicted", func=func, required=["segment_id", "code"], allow_empty=True)
    check_frame(reference, arg="reference", func=func, required=["segment_id", "code"], allow_empty=True)
    check_frame(segments, arg="segments", func=func, required=["segment_id", "doc_id"])
    for arg, frame in (("predicted", predicted), ("reference", reference)):
        if "coder" in frame.columns and frame["coder"].nunique() > 1:
            raise JourneylabError(f"{func}(): `{arg}` holds several coders "
                                  f"({', '.join(sorted(frame['coder'].unique()))}); pass one coder's codings")
    seg = segments.assign(segment_id=segments["segment_id"].astype(str))
    all_docs = seg.drop_duplicates("segment_id").set_index("segment_id")["doc_id"]
    if "speaker_role" in seg.columns:
        seg = seg[seg["speaker_role"].isin(set(roles))]
    doc_of = seg.drop_duplicates("segment_id").set_index("segment_id")["doc_id"]
    ref = reference[["segment_id", "code"]].astype(str).drop_duplicates()
    pred = predicted[["segment_id", "code"]].astype(str).drop_duplicates()
    if documents is None:
        documents = set(ref["segment_id"].map(all_docs).dropna())
    else:
        documents = set([documents] if isinstance(documents, str) else documents)
    keep = set(doc_of[doc_of.isin(documents)].index)
    ref = ref[ref["segment_id"].isin(keep)]
    pred = pred[pred["segment_id"].isin(keep)]
    both = ref.merge(pred, on=["segment_id", "code"])
    codes = sorted(set(ref["code"]) | set(pred["code"]))
    out = pd.DataFrame({"code": codes})
    out["n_predicted"] = out["code"].map(pred["code"].value_counts()).fillna(0).astype(int)
    out["n_reference"] = out["code"].map(ref["code"].value_counts()).fillna(0).astype(int)
    out["n_both"] = out["code"].map(both["code"].value_counts()).fillna(0).astype(int)
    total = pd.DataFrame({"code": ["(all codes)"], "n_predicted": [len(pred)], "n_reference": [len(ref)],
                          "n_both": [len(both)]})
    out = pd.concat([out, total], ignore_index=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        out["precision"] = out["n_both"] / out["n_predicted"].replace(0, np.nan)
        out["recall"] = out["n_both"] / out["n_reference"].replace(0, np.nan)
        # 2TP / (2TP + FP + FN): defined whenever either coding has the code, and 0 (not NaN) when a
        # rule fires but never agrees with the reference, or the reference has a code the rules never find
        out["f1"] = 2 * out["n_both"] / (out["n_predicted"] + out["n_reference"]).replace(0, np.nan)
    return out


# ----------------------------------------------------------------------------- the same tables on Dask


def _first_per_segment(df: pd.DataFrame) -> pd.DataFrame:
    """A partition shuffled by ``segment_id``: each segment's first row in the frame's order."""
    df = df.sort_values(POSITION, kind="stable").drop_duplicates("segment_id").drop(columns=POSITION)
    return df.assign(segment_id=df["segment_id"].astype(str))


def _codings_of(codings, coder):
    """Row-wise part of ``coding._one_coder``: rows of ``coder`` (all rows for None / "any")."""
    if "coder" in codings.columns and coder not in (None, ANY):
        codings = codings[codings["coder"] == coder]
    return codings[["segment_id", "code"]].dropna().astype(str)


def _check_coder_arg(coder, func: str) -> None:
    if coder is not None and not isinstance(coder, str):
        raise JourneylabError(f"{func}(): `coder` must be a coder's name, 'any' or None; got {coder!r}.")


def _check_coders(coders, coder, func: str) -> None:
    """``coding._one_coder``'s checks, on the distinct coders found (computed; None when there is
    no ``coder`` column or ``coder="any"``)."""
    if coders is not None:
        _check_coder(sorted(pd.Series(coders).astype(str).unique()), coder, func)


def _first_rows(seg):
    """Each segment's first row (``segment_id`` as str), as pandas' ``drop_duplicates("segment_id")``
    keeps it: rows get their (partition, row) position, are shuffled by ``segment_id``, and each
    partition keeps the lowest position per segment."""
    meta = position_meta(seg._meta)
    seg = seg.map_partitions(with_position, meta=meta).shuffle(on="segment_id")
    return seg.map_partitions(_first_per_segment, meta=_first_per_segment(meta))


def _finish_frequencies(counts, groups, participants, coders, codes, n_segments, a: dict) -> pd.DataFrame:
    """The computed, small pieces → the :func:`journeylab.code_frequencies` table."""
    func = "code_frequencies"
    _check_coders(coders, a["coder"], func)
    _check_known_codes(pd.unique(np.asarray(codes, dtype=object)), a["codebook"], func)
    if n_segments == 0:
        raise JourneylabError(f"{func}(): argument `segments` is empty (0 rows); expected at least one row.")
    pop = _freq_population(participants, groups, a["part_cols"], a["seg_cols"])
    counts = counts.reset_index(drop=True).astype({"n_segments": np.int64, "n_participants": np.int64, **a["dtypes"]})
    return _freq_finish(counts, pop, a["by"], a["code_cols"], a["codebook"])


def _dask_code_frequencies(codings, segments, participants, *, by, codebook, coder):
    """The Dask path of :func:`journeylab.code_frequencies`: a lazy one-partition Dask DataFrame.

    Counting is distributed and exact: the codings are reduced to distinct (segment, code)
    pairs; the segments to each segment's first row (a shuffle by ``segment_id``, as pandas'
    ``drop_duplicates`` keeps the first); the two are joined, and rows per
    (code, group, participant) are counted — the number of segments, which adds up across
    partitions — and then summed per (code, group), where the count of participants is the number
    of distinct (code, group, participant) rows. Only these per-code counts, the distinct
    (participant, segment-column) pairs and the participants table reach the final task, which
    runs the pandas function's own finishing code.
    """
    import dask  # optional dependency (journeylab[dask]); a Dask frame came in
    import dask.dataframe as dd  # as above

    func = "code_frequencies"
    # group columns leave as the user's dtypes (Dask turns pandas strings into pyarrow strings)
    dtypes = {**dtypes_of(participants), **dtypes_of(segments)}
    codings = codings if is_dask(codings) else from_pandas(codings, "codings", func)
    segments = segments if is_dask(segments) else from_pandas(segments, "segments", func)
    _check_codings(codings._meta, func)
    check_frame(segments._meta, arg="segments", func=func, required=["segment_id", "participant_id"], allow_empty=True)
    _check_coder_arg(coder, func)
    if participants is not None:   # as in the pandas path; _freq_by checks the columns by= needs
        check_frame(participants._meta if is_dask(participants) else participants, arg="participants", func=func,
                    required=["participant_id"], allow_empty=True, dask=True)
    by, code_cols, seg_cols, part_cols = _freq_by(by, codebook, segments.columns, participants, func)

    cod = codings.map_partitions(_codings_of, coder, meta=_codings_of(codings._meta, coder))
    cod = cod.drop_duplicates()
    seg = _first_rows(segments[["segment_id", "participant_id", *seg_cols]])
    # codings on interviewer turns (no participant) are left out, as in the pandas path
    df = cod.merge(seg, on="segment_id", how="inner").dropna(subset=["participant_id"])
    if part_cols:
        people = participants[["participant_id", *part_cols]].drop_duplicates()
        df = df.merge(people, on="participant_id", how="left")
    keys = ["code", *[b for b in by if b not in code_cols]]
    # each (segment, code, group) occurs once: rows per (code, group, participant) are segments
    per_person = df.groupby([*keys, "participant_id"], dropna=False).size().rename("n_segments").reset_index()
    counts = per_person.groupby(keys, dropna=False).agg({"n_segments": "sum", "participant_id": "count"})
    counts = counts.rename(columns={"participant_id": "n_participants"}).reset_index()
    groups = seg[["participant_id", *seg_cols]].dropna(subset=["participant_id"]).drop_duplicates()
    coders = codings["coder"].dropna().unique() if "coder" in codings.columns and coder != "any" else None
    codes = cod["code"].unique()
    a = dict(by=by, code_cols=code_cols, seg_cols=seg_cols, part_cols=part_cols, codebook=codebook, coder=coder,
             dtypes={c: dtypes[c] for c in keys[1:]})
    n_segments = segments.shape[0]
    out = dask.delayed(_finish_frequencies, pure=True)(counts, groups, participants, coders, codes, n_segments, a)
    with dask.config.set({"dataframe.convert-string": False}):   # the pandas function's own dtypes
        meta = _frequencies_meta(counts._meta, groups._meta, participants, a)
        return dd.from_delayed([out], meta=meta, verify_meta=False)


def _frequencies_meta(counts, groups, participants, a):
    counts = counts.astype({"n_segments": np.int64, "n_participants": np.int64, **a["dtypes"]})
    if is_dask(participants):
        participants = participants._meta
    pop = _freq_population(participants, groups, a["part_cols"], a["seg_cols"])
    out = _freq_finish(counts, pop, a["by"], a["code_cols"], a["codebook"]).iloc[:0]
    return out.astype({"code": str, "mentioned_by": str})


def _finish_co(counts, n, coders, n_segments, a: dict) -> pd.DataFrame:
    _check_coders(coders, a["coder"], "co_occurrence")
    if n_segments == 0:
        raise JourneylabError("co_occurrence(): argument `segments` is empty (0 rows); expected at least one row.")
    n = n.astype(np.int64)
    return _co_finish(counts.reset_index(drop=True), n, a["min_count"])


def _dask_co_occurrence(codings, segments, *, level, coder, min_count):
    """The Dask path of :func:`journeylab.co_occurrence`: a lazy one-partition Dask DataFrame.

    The codings become distinct (unit, code) pairs (a unit: a segment, or the participant of the
    segment's first row); codes per unit, and pairs of codes per unit from a join of the pairs
    with themselves on the unit, are counted and summed across partitions; the final task runs
    the pandas function's finishing code on these counts.
    """
    import dask  # optional dependency (journeylab[dask]); a Dask frame came in
    import dask.dataframe as dd  # as above

    func = "co_occurrence"
    codings = codings if is_dask(codings) else from_pandas(codings, "codings", func)
    segments = segments if is_dask(segments) else from_pandas(segments, "segments", func)
    _check_codings(codings._meta, func)
    check_choice(level, arg="level", func=func, choices=["segment", "participant"])
    required = ["segment_id", "participant_id"] if level == "participant" else ["segment_id"]
    check_frame(segments._meta, arg="segments", func=func, required=required, allow_empty=True)
    _check_coder_arg(coder, func)
    cod = codings.map_partitions(_codings_of, coder, meta=_codings_of(codings._meta, coder))
    if level == "participant":
        seg = _first_rows(segments[["segment_id", "participant_id"]])
        cod = cod.merge(seg, on="segment_id", how="inner").dropna(subset=["participant_id"])
        cod = cod.rename(columns={"participant_id": "unit"})
        cod = cod.assign(unit=cod["unit"].astype(str))
    else:
        cod = cod.rename(columns={"segment_id": "unit"})
    cod = cod[["unit", "code"]].drop_duplicates()
    n = cod.groupby("code").size()
    pairs = cod.merge(cod, on="unit", suffixes=("_a", "_b"))
    pairs = pairs[pairs["code_a"] < pairs["code_b"]]
    counts = pairs.groupby(["code_a", "code_b"]).size().rename("count").reset_index()
    coders = codings["coder"].dropna().unique() if "coder" in codings.columns and coder != "any" else None
    a = dict(coder=coder, min_count=min_count)
    out = dask.delayed(_finish_co, pure=True)(counts, n, coders, segments.shape[0], a)
    meta = pd.DataFrame({"code_a": pd.Series([], dtype=str), "code_b": pd.Series([], dtype=str),
                         **{c: pd.Series([], dtype=np.int64) for c in ("n_a", "n_b", "count")},
                         "jaccard": pd.Series([], dtype=float)})
    with dask.config.set({"dataframe.convert-string": False}):   # the pandas function's own dtypes
        return dd.from_delayed([out], meta=meta, verify_meta=False)
