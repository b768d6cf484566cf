"""Stages that follow the session: the stage of each coding from where it is in the transcript.

By default a code has one stage, the one its codebook entry names ("code-linked" stages): right
for interviews that wander back and forth through the journey. A usability session, or an
interview guide that walks through the journey in order, says where each stage or task begins
(``## Task 3`` headings, ``[T3]`` in the moderator's turn, or a ``segment_stages.csv``):
:attr:`journeylab.Study.segment_stages` holds the stage of every turn after such a marker, and
:func:`coding_stages` gives each coding the stage of the turn it is on — so one code can be a
pain point at several stages.
"""
from __future__ import annotations

__all__ = ["coding_stages", "stage_reach"]

import pandas as pd

from ..errors import JourneylabError
from ..utils.checks import check_frame
from .load import check_study


def code_stage_map(codebook) -> dict:
    """code -> its stage in the codebook (a code without one takes its nearest ancestor's)."""
    if codebook is None:
        return {}
    out = {}
    for name in codebook.names:
        stage = codebook[name].stage
        if stage is None and hasattr(codebook, "ancestors"):
            for anc in codebook.ancestors(name):
                if codebook[anc].stage is not None:
                    stage = codebook[anc].stage
                    break
        out[name] = stage
    return out


def coding_stages(study, *, codings: pd.DataFrame) -> pd.DataFrame:
    """The stage of each coding: where it is in the session, else its code's stage.

    Parameters
    ----------
    study : Study
        From :func:`journeylab.load_study`; ``study.segment_stages`` (from study.yml
        ``transcripts: stage_marker:`` or ``segment_stages.csv``) and the codebook's stages.
    codings : DataFrame
        ``segment_id``, ``code`` (any other columns are kept).

    Returns
    -------
    DataFrame
        ``codings`` with two more columns: ``stage`` (the stage of the turn the coding is on when
        ``study.segment_stages`` gives one, else the stage of the code in the codebook; NA when
        neither does) and ``stage_source`` (``"session"`` or ``"codebook"``; NA without a stage).

    Notes
    -----
    A study without ``segment_stages`` gets every coding at its code's stage, exactly as the
    evidence table has always counted. With them, a code spoken during four tasks sits at four
    stages; codings on turns before the first marker (the warm-up questions) keep their code's
    stage.

    Examples
    --------
    >>> import journeylab as jl
    >>> study = jl.load_study(jl.datasets.usability_study_path())
    >>> cs = jl.coding_stages(study, codings=study.codings)
    >>> sorted(cs["stage_source"].dropna().unique())
    ['session']
    """
    func = "coding_stages"
    check_study(study, func=func)
    check_frame(codings, arg="codings", func=func, required=["segment_id", "code"], allow_empty=True)
    by_code = code_stage_map(study.codebook)
    code_stage = codings["code"].map(lambda c: by_code.get(c) if isinstance(c, str) else None)
    ss = study.segment_stages
    if ss is not None and len(ss):
        session = codings["segment_id"].astype(str).map(dict(zip(ss["segment_id"].astype(str), ss["stage"])))
    else:
        session = pd.Series(pd.NA, index=codings.index, dtype=object)
    has_session = session.notna()
    stage = session.where(has_session, code_stage)
    source = pd.Series(pd.NA, index=codings.index, dtype=object)
    source[has_session] = "session"
    source[~has_session & code_stage.notna()] = "codebook"
    return codings.assign(stage=stage.astype(object).where(stage.notna(), pd.NA), stage_source=source)


def stage_reach(study, *, participants=None) -> pd.DataFrame:
    """Which participants reached each stage of a session-ordered study.

    Parameters
    ----------
    study : Study
        From :func:`journeylab.load_study`.
    participants : iterable of str, optional
        Count only these participants (a persona's); default every participant with a transcript.

    Returns
    -------
    DataFrame
        One row per stage in journey order: ``stage``, ``n_reached`` (participants who reached it)
        and ``participants`` (their sorted ids, ``;``-joined). A participant reached a stage when
        one of their turns lies at it (``study.segment_stages``); a participant whose transcript
        carries no stage marker counts as having reached every stage (the interview was not in
        stage order), as does everyone when the study has no ``segment_stages``.

    Examples
    --------
    >>> import journeylab as jl
    >>> study = jl.load_study(jl.datasets.usability_study_path())
    >>> int(jl.stage_reach(study)["n_reached"].iloc[0])
    8
    """
    check_study(study, func="stage_reach")
    seg = study.segments
    everyone = set(seg.loc[seg["speaker_role"] == "participant", "participant_id"].dropna().astype(str)) \
        if len(seg) else set()
    if participants is not None:
        if isinstance(participants, str):
            raise JourneylabError("stage_reach(): `participants` must be a list of participant ids, not one string.")
        everyone &= {str(p) for p in participants}
    ss = study.segment_stages
    reached = {s: set() for s in study.stages}
    if ss is None or len(ss) == 0:
        for s in study.stages:
            reached[s] = set(everyone)
    else:
        staged = ss.dropna(subset=["participant_id"])
        staged_pids = set(staged["participant_id"].astype(str))
        for s, pid in zip(staged["stage"], staged["participant_id"].astype(str)):
            if s in reached and pid in everyone:
                reached[s].add(pid)
        unstaged = everyone - staged_pids
        for s in study.stages:
            reached[s] |= unstaged
    return pd.DataFrame({"stage": list(study.stages), "n_reached": [len(reached[s]) for s in study.stages],
                         "participants": [";".join(sorted(reached[s])) for s in study.stages]})
