"""The analysis codings of a study: one set, chosen once, behind every table, figure, map and report.

A study can hold several codings of its interviews — a reconciled ``gold`` coder, the people who
coded (often two coders on the same few interviews, for agreement), the codebook's rules on every
turn. An analysis that picks its own set (one notebook the first coder, another the rules, a third
everything stacked) gives one claim three different counts. :func:`analysis_codings` chooses
once, in the order study.yml ``analysis_codings:`` gives (default ``[gold, human, rules]``), and
records the choice and its base, which the map and the report state.
"""
from __future__ import annotations

__all__ = ["analysis_codings", "analysis_preference", "DEFAULT_PREFERENCE", "SOURCES", "ANALYSIS_KEY"]

import pandas as pd

from ..errors import JourneylabError
from ..study.load import check_study
from ..utils.docstrings import shared_docs
from .rules import autocode

#: The order in which a transcript's codings are taken when study.yml does not say.
DEFAULT_PREFERENCE = ("gold", "human", "rules")
#: Preference items that are not coder names: every person's codings (``origin`` manual) and the
#: codebook's rules (:func:`journeylab.autocode`). Any other item names a coder (``gold``, ``ann``).
SOURCES = {"human": "the people who coded", "rules": "the codebook's rules"}
#: Key of the record in ``codings.attrs["journeylab"]`` (copied into the evidence table and the map).
ANALYSIS_KEY = "analysis_codings"


def analysis_preference(study) -> tuple:
    """The order of study.yml ``analysis_codings:``, or :data:`DEFAULT_PREFERENCE`.

    Examples
    --------
    >>> import journeylab as jl
    >>> from journeylab.coding.choice import analysis_preference
    >>> analysis_preference(jl.load_study(jl.datasets.sample_study_path()))
    ('gold', 'human', 'rules')
    """
    raw = (study.config or {}).get(ANALYSIS_KEY)
    if raw is None:
        return DEFAULT_PREFERENCE
    items = [raw] if isinstance(raw, str) else raw
    if not isinstance(items, list) or not items or not all(isinstance(x, str) and x.strip() for x in items):
        raise JourneylabError(f"study.yml analysis_codings: expected a list such as [gold, human, rules] (coder "
                              f"names, 'human' or 'rules'), found {raw!r}")
    return tuple(x.strip() for x in items)


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


@shared_docs
def analysis_codings(study, *, prefer=None) -> pd.DataFrame:
    """The codings every analysis of a run uses: per transcript, the first source in the study's order.

    Parameters
    ----------
    {study}
    prefer : list of str, optional
        The order of preference; default study.yml ``analysis_codings:``, else
        ``["gold", "human", "rules"]``. An item is a coder name (``"gold"``: the reconciled
        coder), ``"human"`` (every person who coded: ``origin`` manual) or ``"rules"`` (the
        codebook's rules, :func:`journeylab.autocode`).

    Returns
    -------
    DataFrame
        The codings frame (``segment_id``, ``code``, ``coder``, ``origin``, ``memo``, ...) of the
        chosen sources, plus ``source`` (the preference item each row comes from). Where several
        people coded a transcript, a turn carries a code when any of them applied it.
        ``.attrs["journeylab"]["analysis_codings"]`` records the choice: ``preference``,
        ``declared`` (whether study.yml gave it), ``documents`` (source → transcripts),
        ``coders`` (source → coder names), ``participants`` (the ids of the base: participants
        whose interviews are coded), ``n_participants`` and ``text`` (one sentence saying it).

    Notes
    -----
    The choice is made per transcript: a transcript takes its codings from the first source in
    the order that coded it, and only from that source (a person who read a transcript and left a
    code off outweighs a keyword rule that fired there). A transcript no source coded is not
    counted: the base of every share is the participants whose interviews were coded. A source
    that has no codings in a transcript cannot be told from one that read it and found nothing,
    so the next source is taken there.

    Examples
    --------
    >>> import journeylab as jl
    >>> study = jl.load_study(jl.datasets.sample_study_path())
    >>> codings = jl.analysis_codings(study)
    >>> codings.groupby("source")["segment_id"].count().to_dict()
    {'human': 194, 'rules': 185}
    >>> print(codings.attrs["journeylab"]["analysis_codings"]["text"])  # doctest: +NORMALIZE_WHITESPACE
    Codings of 14 interviews (the base of every share: 14 participants): 4 coded by people
    (amara, jonas), 10 by the codebook's rules; order gold > human > rules (the default).
    """
    check_study(study, func="analysis_codings")
    declared = prefer is None and (study.config or {}).get(ANALYSIS_KEY) is not None
    if prefer is None:
        order = analysis_preference(study)
    else:
        order = tuple([prefer] if isinstance(prefer, str) else prefer)
        if not order or not all(isinstance(x, str) and x for x in order):
            raise JourneylabError(f"analysis_codings(): `prefer` must be a list such as ['gold', 'human', 'rules'];"
                                  f" got {prefer!r}")
    seg = study.segments
    doc_of = dict(zip(seg["segment_id"].astype(str), seg["doc_id"]))
    pid_of_doc = seg.dropna(subset=["participant_id"]).drop_duplicates("doc_id").set_index("doc_id")["participant_id"]
    cod = study.codings
    if "present" in cod.columns:  # a decision that a code is absent is not a coding
        cod = cod[cod["present"].astype(bool)]
    cod = cod.assign(segment_id=cod["segment_id"].astype(str))
    named = {x for x in order if x not in SOURCES}
    frames = {}
    for item in order:
        if item == "rules":
            book = study.codebook
            frames[item] = (autocode(seg, codebook=book) if book is not None and len(book)
                            else pd.DataFrame(columns=["segment_id", "code", "coder", "origin"]))
        elif item == "human":
            human = cod["origin"].astype(str) == "manual" if "origin" in cod.columns else pd.Series(True, cod.index)
            frames[item] = cod[human.to_numpy() & ~cod["coder"].isin(named).to_numpy()] \
                if "coder" in cod.columns else cod[human.to_numpy()]
        else:
            frames[item] = cod[cod["coder"] == item] if "coder" in cod.columns else cod.iloc[:0]
    book = study.codebook
    rules_read = book is not None and any(c.rules.n_rules() for c in book.codes)
    taken, parts, documents, coders = set(), [], {}, {}
    for item in order:
        f = frames[item]
        f = f.assign(segment_id=f["segment_id"].astype(str))
        docs = f["segment_id"].map(doc_of)
        mine = docs.notna() & ~docs.isin(taken)
        f = f[mine.to_numpy()]
        new = sorted(set(docs[mine]))
        if item == "rules" and rules_read:  # the rules read every transcript left: one without a hit is a "no"
            new = sorted(set(seg.loc[seg["participant_id"].notna(), "doc_id"]) - taken)
        taken |= set(new)
        documents[item] = new
        coders[item] = sorted(f["coder"].dropna().astype(str).unique()) if "coder" in f.columns else []
        if len(f):
            parts.append(f.assign(source=item))
    out = (pd.concat(parts, ignore_index=True) if parts
           else pd.DataFrame(columns=["segment_id", "code", "coder", "origin", "memo", "source"]))
    pids = sorted(set(pid_of_doc.reindex(sorted(taken)).dropna().astype(str)))
    said = []
    for item in order:
        n = len(documents[item])
        if not n:
            continue
        if item == "human":
            said.append(f"{n} coded by people ({', '.join(coders[item])})")
        elif item == "rules":
            said.append(f"{n} by the codebook's rules")
        else:
            said.append(f"{n} by coder {item}")
    how = "study.yml analysis_codings" if declared else ("the caller" if prefer is not None else "the default")
    text = (f"Codings of {_plural(len(taken), 'interview')} (the base of every share: "
            f"{_plural(len(pids), 'participant')}): {', '.join(said) or 'none'}; order {' > '.join(order)} ({how}).")
    out.attrs["journeylab"] = {ANALYSIS_KEY: {
        "preference": list(order), "declared": bool(declared), "documents": documents, "coders": coders,
        "participants": pids, "n_participants": len(pids), "n_documents": len(taken), "text": text}}
    return out
