"""Which coded turns count: the one rule every analysis uses for codings on interviewer turns.

A coding on an interviewer's (moderator's) turn records what the research team said, not what a
participant said. Frequencies, evidence, the learned coder and agreement all leave such codings
out, by :func:`participant_codings`, and say so once, with their number
(:class:`InterviewerCodingsWarning`: "N codings on interviewer turns are left out of ...").
``load_study`` reports the same number as a warning, so a study with such codings learns it at
``journeylab validate``.
"""
from __future__ import annotations

__all__ = ["participant_codings", "participant_turns", "ParticipantCodings", "InterviewerCodingsWarning",
           "left_out_message"]

import warnings
from typing import NamedTuple

import numpy as np
import pandas as pd

from ..errors import JourneylabError


class InterviewerCodingsWarning(UserWarning):
    """Codings on interviewer turns were left out of an analysis (their number is in the message)."""


class ParticipantCodings(NamedTuple):
    """The codings an analysis counts, and how many it left out.

    Attributes
    ----------
    codings : DataFrame
        The rows of ``codings`` on turns of the given roles (participants by default), and rows
        whose ``segment_id`` is not in ``segments`` (other checks report those).
    n_left_out : int
        Rows left out because they sit on another role's turn (interviewers).
    message : str
        ``"N codings on interviewer turns are left out of WHAT"``; empty when none were.
    """

    codings: pd.DataFrame
    n_left_out: int
    message: str


def participant_turns(segments: pd.DataFrame, roles=("participant",)) -> np.ndarray:
    """Boolean mask of the segments whose turns count (by ``speaker_role``).

    ``speaker_role`` in ``roles`` when the frame has that column; otherwise a non-missing
    ``participant_id``; otherwise every segment. ``roles=None``: every segment.
    """
    if roles is None:
        return np.ones(len(segments), dtype=bool)
    if "speaker_role" in segments.columns:
        return segments["speaker_role"].astype("string").fillna("").isin(list(roles)).to_numpy()
    if "participant_id" in segments.columns and tuple(roles) == ("participant",):
        return segments["participant_id"].notna().to_numpy()
    return np.ones(len(segments), dtype=bool)


def left_out_message(n: int, what: str) -> str:
    """The sentence that reports codings left out: ``"3 codings on interviewer turns are left out of X"``."""
    return f"{n} coding{'s' if n != 1 else ''} on interviewer turns {'are' if n != 1 else 'is'} left out of {what}"


def participant_codings(codings: pd.DataFrame, *, segments: pd.DataFrame | None, what: str, roles=("participant",),
                        warn: bool = True) -> ParticipantCodings:
    """Keep the codings on participant turns; count (and warn about) those on interviewer turns.

    Parameters
    ----------
    codings : DataFrame
        Codings with ``segment_id``.
    segments : DataFrame or None
        Segments with ``segment_id`` and ``speaker_role`` (or ``participant_id``); None keeps every
        coding.
    what : str
        The analysis, for the message: ``"code frequencies"``, ``"the evidence table"``...
    roles : tuple of str or None, default ("participant",)
        The speaker roles whose turns count; None keeps every coding.
    warn : bool, default True
        Issue an :class:`InterviewerCodingsWarning` when codings are left out.

    Returns
    -------
    ParticipantCodings
        ``codings`` (kept rows, index reset), ``n_left_out``, ``message``.

    Examples
    --------
    >>> import pandas as pd
    >>> seg = pd.DataFrame({"segment_id": ["a", "b"], "speaker_role": ["interviewer", "participant"]})
    >>> cod = pd.DataFrame({"segment_id": ["a", "b", "b"], "code": ["x", "x", "y"]})
    >>> kept = participant_codings(cod, segments=seg, what="this example", warn=False)
    >>> kept.codings["segment_id"].tolist(), kept.n_left_out, kept.message
    (['b', 'b'], 1, '1 coding on interviewer turns is left out of this example')
    """
    if not isinstance(codings, pd.DataFrame) or "segment_id" not in codings.columns:
        raise JourneylabError(f"participant_codings(): `codings` must be a DataFrame with a segment_id column "
                              f"(for {what})")
    if segments is None or roles is None or not len(codings):
        return ParticipantCodings(codings, 0, "")
    if not isinstance(segments, pd.DataFrame) or "segment_id" not in segments.columns:
        raise JourneylabError(f"participant_codings(): `segments` must be a DataFrame with a segment_id column "
                              f"(for {what})")
    other = set(segments.loc[~participant_turns(segments, roles), "segment_id"].astype(str))
    if not other:
        return ParticipantCodings(codings, 0, "")
    drop = codings["segment_id"].astype(str).isin(other).to_numpy()
    n = int(drop.sum())
    if not n:
        return ParticipantCodings(codings, 0, "")
    message = left_out_message(n, what)
    if warn:
        warnings.warn(message + " (they record what the research team said; see docs/coding.md)",
                      InterviewerCodingsWarning, stacklevel=3)
    return ParticipantCodings(codings[~drop].reset_index(drop=True), n, message)
