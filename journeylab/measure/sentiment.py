"""Sentiment: VADER scores for segments and comments, sentiment per code, the emotion curve.

:func:`sentiment` scores texts with VADER (Hutto & Gilbert, 2014), offline, with either of two
engines that each return exactly the scores of a reference implementation:

- ``engine="vader"`` (default): ``vaderSentiment`` 3.3.2, the maintained upstream package. It
  treats "no" as a negator ("I've had no problems." scores +0.31) and reads emoji.
- ``engine="nltk"``: ``nltk.sentiment.vader.SentimentIntensityAnalyzer`` (NLTK 3.10), which scores
  "I've had no problems." at -0.60 and ignores emoji.

The default was chosen by measuring both against the human ratings published with VADER
(``docs/sentiment.md``). The scorer is a re-implementation (:mod:`journeylab._vader`) that
returns the same four numbers as the reference for every text, several times faster; repeated
texts are scored once and large inputs use several processes.

On top of the scores: :func:`code_sentiment` (mean sentiment per code with a participant-level
bootstrap CI), :func:`emotion_curve` and :func:`plot_emotion_curve` (sentiment per journey stage,
and per persona), :func:`sentiment_vs_scores` (comment sentiment against NPS / CSAT), and
:func:`load_lexicon` (a study's own terms).
"""
from __future__ import annotations

__all__ = [
    "sentiment",
    "load_lexicon",
    "split_sentences",
    "sentiment_terms",
    "code_sentiment",
    "emotion_curve",
    "plot_emotion_curve",
    "sentiment_vs_scores",
    "study_sentiment",
    "study_lexicon",
    "ENGINES",
    "DEFAULT_ENGINE",
]

import csv
import gc
import math
import multiprocessing as mp
import os
import re
from collections.abc import Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
import yaml
from tqdm.auto import tqdm

from ..errors import JourneylabError
from ..study.load import Study, check_study
from ..study.stages import code_stage_map
from ..utils.checks import check_choice, check_frame, check_path
from ..utils.dask import is_dask, map_rows
from ..utils.docstrings import shared_docs
from ..utils.limits import load_yaml
from ..utils.tables import unneutralise
from . import vader as _vader

ENGINES = ("vader", "nltk")
"""Scoring engines: the rules of vaderSentiment 3.3.2 and of NLTK 3.10's VADER."""

DEFAULT_ENGINE = "vader"
"""vaderSentiment's rules correlate better with the human ratings of 3 of the 4 VADER
ground-truth corpora, including the product reviews (``docs/sentiment.md``)."""

SCORE_COLUMNS = ["neg", "neu", "pos", "compound"]
LABELS = ("negative", "neutral", "positive")

_PARALLEL_MIN = 50_000   # distinct texts from which n_jobs=None uses every available core
_PROGRESS_MIN = 100_000  # distinct texts from which progress=None shows a tqdm bar
_CHUNK = 20_000          # texts per task (and per progress update)


# ----------------------------------------------------------------------------- lexicon


def load_lexicon(source, *, base: str | os.PathLike | None = None) -> dict:
    """Read a study's own sentiment terms (added to, or overriding, the VADER lexicon).

    Parameters
    ----------
    source : mapping, str, path, DataFrame or Study
        - a mapping ``{"refund": -1.2, "hassle-free": 2.0}``;
        - a CSV file with columns ``term`` and ``valence`` (further columns are ignored);
        - a YAML file holding such a mapping (or ``sentiment: {lexicon: ...}``);
        - a DataFrame with ``term`` and ``valence`` columns;
        - a :class:`~journeylab.Study`: its study.yml entry ``sentiment: lexicon:``, either a
          mapping or a file name relative to the study folder. A study without the entry gives ``{}``.
    base : str or path, optional
        Folder that relative file names are resolved against (default: the working directory;
        for a Study, its folder).

    Returns
    -------
    dict
        Lower-cased term -> valence (float). VADER looks terms up in lower case, one
        whitespace-separated token at a time.

    Raises
    ------
    JourneylabError
        Naming the file, line and column: a term that is empty or contains whitespace (VADER
        scores single tokens, so "hassle free" could never match; write "hassle-free"), a valence
        that is not a number from -4 to 4 (the scale of the VADER lexicon), a term listed twice.

    Notes
    -----
    VADER valences are mean human ratings on a scale from -4 (extremely negative) to +4
    (extremely positive): "okay" 0.9, "good" 1.9, "great" 3.1, "horrible" -2.5. Pick a domain
    term's valence by comparing it with such anchors. A term that is also a VADER booster
    ("very", "kind of", ...) is still treated as a booster, as in the reference implementations.
    With ``engine="nltk"``, a term with inner punctuation ("hassle-free") matches only when it is
    followed by a space or by nothing, because NLTK strips a trailing comma or full stop only from
    words without punctuation.

    Examples
    --------
    >>> import journeylab as jl
    >>> jl.load_lexicon({"Refund": -1.2, "hassle-free": 2.0})
    {'refund': -1.2, 'hassle-free': 2.0}
    """
    if source is None:
        return {}
    if isinstance(source, Study):
        entry = (source.config.get("sentiment") or {}).get("lexicon") if isinstance(
            source.config.get("sentiment"), Mapping) else None
        if entry is None:
            return {}
        if isinstance(entry, Mapping):
            return _check_terms(entry.items(), where="study.yml, sentiment: lexicon")
        return load_lexicon(entry, base=source.path)
    if isinstance(source, Mapping):
        return _check_terms(source.items(), where="lexicon")
    if isinstance(source, pd.DataFrame):
        check_frame(source, arg="source", func="load_lexicon", required=["term", "valence"], allow_empty=True)
        return _check_terms(zip(source["term"], source["valence"]), where="lexicon frame",
                            lines=[i + 1 for i in range(len(source))], line_word="row")
    if isinstance(source, (str, os.PathLike)):
        path = Path(check_path(source, arg="source", func="load_lexicon"))
        if base is not None and not path.is_absolute():
            path = Path(base) / path
        if not path.is_file():
            raise JourneylabError(f"load_lexicon(): file {str(path)!r} not found; expected a CSV with columns "
                                  "'term' and 'valence' or a YAML mapping term: valence.")
        if path.suffix.lower() in (".yml", ".yaml"):
            return _read_yaml_lexicon(path)
        return _read_csv_lexicon(path)
    raise JourneylabError(f"load_lexicon(): `source` must be a mapping, a CSV/YAML path, a DataFrame or a Study, "
                          f"got {type(source).__name__}.")


def _read_csv_lexicon(path: Path) -> dict:
    with open(path, encoding="utf-8-sig", newline="") as fh:
        reader = csv.reader(fh)
        try:
            header = [h.strip().lower() for h in next(reader)]
        except StopIteration:
            raise JourneylabError(f"{path}: the file is empty; expected a header 'term,valence'.") from None
        missing = [c for c in ("term", "valence") if c not in header]
        if missing:
            raise JourneylabError(f"{path}, line 1: missing column(s) {', '.join(map(repr, missing))}; "
                                  f"found: {', '.join(header) or '(none)'}. Expected a header 'term,valence'.")
        it, iv = header.index("term"), header.index("valence")
        items, lines = [], []
        for row in reader:
            if not row or all(not c.strip() for c in row):
                continue
            if len(row) <= max(it, iv):
                raise JourneylabError(f"{path}, line {reader.line_num}: expected {len(header)} fields "
                                      f"(as in the header), found {len(row)}.")
            # a term written by jl.write_csv may carry its formula-neutralising quote: "'-ish" -> "-ish"
            items.append((unneutralise(row[it]), unneutralise(row[iv])))
            lines.append(reader.line_num)
    return _check_terms(items, where=str(path), lines=lines)


def _read_yaml_lexicon(path: Path) -> dict:
    try:
        data = load_yaml(path.read_text(encoding="utf-8-sig"))[1]
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f", line {mark.line + 1}" if mark else ""
        raise JourneylabError(f"{path}{line}: not valid YAML ({getattr(exc, 'problem', exc)}).") from None
    if isinstance(data, Mapping) and isinstance(data.get("sentiment"), Mapping):
        data = data["sentiment"].get("lexicon")
    if isinstance(data, Mapping) and set(data) == {"lexicon"}:
        data = data["lexicon"]
    if not isinstance(data, Mapping):
        raise JourneylabError(f"{path}: expected a mapping of term: valence, found {type(data).__name__}.")
    return _check_terms(data.items(), where=str(path))


def _check_terms(items, *, where: str, lines: list | None = None, line_word: str = "line") -> dict:
    out: dict = {}
    first: dict = {}
    for k, (term, value) in enumerate(items):
        at = f"{where}, {line_word} {lines[k]}" if lines is not None else where
        if not isinstance(term, str) or not term.strip():
            raise JourneylabError(f"{at}, column 'term': expected a word, found {term!r}.")
        t = term.strip().lower()
        if len(t.split()) != 1:
            raise JourneylabError(
                f"{at}, column 'term': {term!r} contains a space; VADER scores one token at a time, so "
                "a term of several words can never match (write 'hassle-free', not 'hassle free').")
        try:
            v = float(value)
        except (TypeError, ValueError):
            v = math.nan
        if isinstance(value, bool) or not math.isfinite(v) or not -4.0 <= v <= 4.0:
            raise JourneylabError(f"{at}, column 'valence': expected a number from -4 to 4 (the VADER scale: "
                                  f"'good' is 1.9, 'horrible' -2.5) for term {term!r}, found {value!r}.")
        if t in first:
            raise JourneylabError(f"{at}: term {t!r} is listed twice (first at {first[t]}); keep one valence.")
        first[t] = at
        out[t] = v + 0.0  # -0.0 -> 0.0
    return out


@lru_cache(maxsize=8)
def _scorer(engine: str, overrides: tuple) -> _vader.Scorer:
    return _vader.Scorer(engine, dict(overrides))


# ----------------------------------------------------------------------------- sentences

_SENTENCE_END = re.compile(r"(?<=[.!?…])[\"'”’)\]]*\s+|\s*\n\s*")


def split_sentences(text: str) -> list[str]:
    """Split a text into sentences for sentence-level scoring.

    A sentence ends at ``.``, ``!``, ``?`` or ``…`` (or a run of them, such as ``?!``, with any
    closing quotes or brackets) followed by whitespace, and at every line break. Empty pieces are
    dropped. This simple rule splits "Dr. Smith" in two, which changes no VADER score materially
    ("Dr." carries no sentiment).

    Parameters
    ----------
    text : str

    Returns
    -------
    list of str
        The sentences, stripped; ``[]`` for an empty or whitespace-only text.

    Examples
    --------
    >>> import journeylab as jl
    >>> jl.split_sentences("Loved the rug! Delivery was late though.\\nWould buy again")
    ['Loved the rug!', 'Delivery was late though.', 'Would buy again']
    """
    if not isinstance(text, str):
        raise JourneylabError(f"split_sentences(): `text` must be a str, got {type(text).__name__}.")
    parts = []
    pos = 0
    for m in _SENTENCE_END.finditer(text):
        parts.append(text[pos:m.start() + len(m.group(0).rstrip())] if m.group(0).strip() else text[pos:m.start()])
        pos = m.end()
    parts.append(text[pos:])
    return [p.strip() for p in parts if p.strip()]


# ----------------------------------------------------------------------------- scoring


def _score_unique(scorer: _vader.Scorer, texts: list, n_jobs: int | None, progress: bool | None) -> np.ndarray:
    """Scores of distinct texts as an (n, 4) array (neg, neu, pos, compound)."""
    n = len(texts)
    out = np.empty((n, 4), dtype=float)
    if n == 0:
        return out
    jobs = _n_jobs(n_jobs, n)
    show = (n >= _PROGRESS_MIN) if progress is None else bool(progress)
    bar = None
    if show:
        bar = tqdm(total=n, desc=f"sentiment ({scorer.rules})", unit="text", unit_scale=True)
    try:
        if jobs <= 1:
            for start in range(0, n, _CHUNK):
                chunk = texts[start:start + _CHUNK]
                out[start:start + len(chunk)] = scorer.score_many(chunk)
                if bar is not None:
                    bar.update(len(chunk))
        else:
            _score_parallel(scorer, texts, out, jobs, bar)
    finally:
        if bar is not None:
            bar.close()
    return out


def _score_parallel(scorer: _vader.Scorer, texts: list, out: np.ndarray, jobs: int, bar) -> None:
    """Score ``texts`` into ``out`` with ``jobs - 1`` worker processes plus this process.

    Workers take chunks from the front, this process from the back, so the work balances itself
    when other programs slow some of the processes down. Workers are forked (Linux) after
    ``gc.freeze()``, so they do not copy the parent's memory by collecting its garbage;
    elsewhere they are spawned.
    """
    n = len(texts)
    size = max(2_000, min(_CHUNK, -(-n // (jobs * 8))))
    chunks = [(s, min(s + size, n)) for s in range(0, n, size)]
    method = "fork" if "fork" in mp.get_all_start_methods() and os.name == "posix" else None
    ctx = mp.get_context(method) if method else None
    front, back = 0, len(chunks)
    pending: dict = {}
    gc.freeze()
    try:
        with ProcessPoolExecutor(max_workers=jobs - 1, mp_context=ctx, initializer=_init_worker,
                                 initargs=(scorer.rules, scorer.overrides)) as pool:
            while front < back or pending:
                while front < back and len(pending) < 2 * (jobs - 1):
                    a, b = chunks[front]
                    pending[pool.submit(_score_chunk, texts[a:b])] = (a, b)
                    front += 1
                if front < back:  # this process scores a chunk from the back
                    back -= 1
                    a, b = chunks[back]
                    out[a:b] = scorer.score_many(texts[a:b])
                    if bar is not None:
                        bar.update(b - a)
                    done = [fut for fut in pending if fut.done()]
                else:
                    done, _ = wait(list(pending), return_when=FIRST_COMPLETED)
                for fut in done:
                    a, b = pending.pop(fut)
                    out[a:b] = fut.result()
                    if bar is not None:
                        bar.update(b - a)
    finally:
        gc.unfreeze()


def _n_jobs(n_jobs: int | None, n: int) -> int:
    try:
        available = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - macOS / Windows
        available = os.cpu_count() or 1
    if n_jobs is None:
        return available if n >= _PARALLEL_MIN else 1
    if not isinstance(n_jobs, (int, np.integer)) or isinstance(n_jobs, bool) or n_jobs == 0 or n_jobs < -1:
        raise JourneylabError("sentiment(): `n_jobs` must be None, -1 (all cores) or a positive integer; "
                              f"got {n_jobs!r}.")
    return available if n_jobs == -1 else int(n_jobs)


_WORKER: _vader.Scorer | None = None


def _init_worker(rules: str, overrides: dict) -> None:
    global _WORKER
    _WORKER = _vader.Scorer(rules, overrides)


def _score_chunk(texts: list) -> np.ndarray:
    return _WORKER.score_many(texts)


def _labels(compound: np.ndarray, thresholds: tuple) -> pd.Categorical:
    """Ordered categorical negative < neutral < positive; NaN where compound is NaN."""
    lo, hi = thresholds
    codes = np.where(compound >= hi, 2, np.where(compound <= lo, 0, 1)).astype(np.int8)
    codes[np.isnan(compound)] = -1
    return pd.Categorical.from_codes(codes, categories=list(LABELS), ordered=True)


def _check_thresholds(thresholds) -> tuple:
    try:
        lo, hi = (float(x) for x in thresholds)
    except (TypeError, ValueError):
        raise JourneylabError(f"sentiment(): `thresholds` must be two numbers (negative, positive) such as "
                              f"(-0.05, 0.05); got {thresholds!r}.") from None
    if not (-1.0 <= lo < hi <= 1.0):
        raise JourneylabError("sentiment(): `thresholds` must satisfy -1 <= negative < positive <= 1; "
                              f"got {thresholds!r}.")
    return lo, hi


def _as_frame(data, text: str, id: str, include_interviewer: bool, func: str = "sentiment") -> pd.DataFrame:
    """Normalise the accepted inputs to a frame with columns ``id`` and ``text``."""
    if isinstance(data, pd.DataFrame):
        check_frame(data, arg="data", func=func, required=[c for c in (id, text) if c is not None],
                    allow_empty=True,
                    hint="Name your columns with `text=` and `id=` (e.g. text='comment', id='respondent_id').")
        df = data
        if not include_interviewer and "speaker_role" in df.columns:
            df = df[df["speaker_role"].astype("string").fillna("") != "interviewer"]
        ids = df.index.to_numpy() if id is None else df[id].to_numpy()
        return pd.DataFrame({"__id__" if id is None else id: ids, text: df[text].to_numpy()})
    if isinstance(data, pd.Series):
        ids = data.index.to_numpy()
        return pd.DataFrame({id: ids, text: data.to_numpy()})
    if isinstance(data, str):
        raise JourneylabError(f"{func}(): `data` is a single string; pass a list of texts (e.g. [text]), "
                              "a Series or a segments frame.")
    if isinstance(data, (Sequence, np.ndarray)) or hasattr(data, "__iter__"):
        values = list(data)
        return pd.DataFrame({id: np.arange(len(values)), text: pd.Series(values, dtype=object)})
    raise JourneylabError(f"{func}(): `data` must be a DataFrame, a Series or a list of strings; "
                          f"got {type(data).__name__}.")


def _stamp(out: pd.DataFrame, engine, split, thresholds, overrides) -> pd.DataFrame:
    """Record how the scores were made in ``out.attrs`` (read by evidence tables and reports)."""
    out.attrs.update({"engine": engine, "split": split, "thresholds": tuple(thresholds),
                      "custom_terms": len(overrides)})
    return out


def sentiment(
    data,
    *,
    engine: str = DEFAULT_ENGINE,
    text: str = "text",
    id: str = "segment_id",
    split: str | None = None,
    aggregate: bool = True,
    thresholds: tuple = (-0.05, 0.05),
    lexicon=None,
    include_interviewer: bool = False,
    n_jobs: int | None = None,
    progress: bool | None = None,
) -> pd.DataFrame:
    """Score texts with VADER: ``neg``, ``neu``, ``pos``, ``compound`` and a label.

    Parameters
    ----------
    data : DataFrame, Series, list of str or dask.dataframe.DataFrame
        A segments frame (``study.segments``), any frame with a text column (``study.survey``
        with ``text="comment", id="respondent_id"``), a Series (its index becomes the id) or a
        list of strings (ids 0, 1, ...). A Dask DataFrame gives a lazy Dask DataFrame scored
        partition by partition (one process per partition: ``n_jobs`` defaults to 1 there), with
        the rows and numbers pandas gives (``docs/scale.md``).
    engine : {"vader", "nltk"}, default "vader"
        Whose rules to reproduce: ``"vader"`` the scores of ``vaderSentiment`` 3.3.2,
        ``"nltk"`` those of ``nltk.sentiment.vader.SentimentIntensityAnalyzer`` (NLTK 3.10, with
        the lexicon shipped in vaderSentiment). Both are exact: the same four numbers as the
        reference for every text. See Notes for how they differ.
    text, id : str
        Names of the text and id columns of a frame (``id`` also names the id column of the result).
    split : {None, "sentence"}, default None
        ``None`` scores each text as a whole. ``"sentence"`` scores each sentence
        (:func:`split_sentences`) and, with ``aggregate=True``, averages them per text (Notes).
        Recommended for long interview turns: VADER's compound saturates towards ±1 as a text
        gets longer, and ``!``/``?`` emphasis then applies to the sentence that carries it.
    aggregate : bool, default True
        With ``split="sentence"``: one row per text (True) or one row per sentence (False).
    thresholds : (float, float), default (-0.05, 0.05)
        ``label`` is "negative" when ``compound <= thresholds[0]``, "positive" when
        ``compound >= thresholds[1]``, else "neutral" (the cut-offs recommended by VADER's authors).
    lexicon : mapping, path, DataFrame or Study, optional
        Domain terms added to (or overriding) the VADER lexicon; anything :func:`load_lexicon` reads.
    include_interviewer : bool, default False
        Keep rows whose ``speaker_role`` is "interviewer" (dropped by default; frames without a
        ``speaker_role`` column are kept whole).
    n_jobs : int, optional
        Processes for scoring. Default: one for fewer than 50,000 distinct texts, every available
        core above. ``-1``: every core.
    progress : bool, optional
        Show a tqdm progress bar. Default: only from 100,000 distinct texts.

    Returns
    -------
    DataFrame
        One row per input row, in input order (interviewer rows dropped unless asked):

        - ``<id>`` (``segment_id`` by default): the id of the text;
        - ``neg``, ``neu``, ``pos``: shares of the text's sentiment-bearing weight that are
          negative, neutral and positive (they sum to about 1; all 0 for an empty text);
        - ``compound``: the normalised sum of valences, from -1 (most negative) to +1;
        - ``label``: "negative", "neutral" or "positive" (an ordered categorical:
          negative < neutral < positive);
        - with ``split="sentence"``: ``n_sentences`` (aggregated) or ``sentence`` (1-based
          position) and ``text`` (per sentence).

        A missing text (NaN/None) gives NaN scores and a missing label; an empty or
        whitespace-only text gives 0, 0, 0, 0 and "neutral", as in the references.
        ``attrs`` records ``engine``, ``split``, ``thresholds`` and ``custom_terms`` (how many).

    Raises
    ------
    JourneylabError
        On an unknown engine or split, missing columns, bad thresholds or a bad lexicon.

    Notes
    -----
    VADER (Hutto & Gilbert, 2014) sums the valences of lexicon words (mean ratings of ten human
    raters, -4 to +4), adjusted by rules: boosters and dampeners ("very", "kind of") within three
    words, negation within three words (x -0.74), ALL-CAPS emphasis when other words are not in
    capitals, "but" (earlier words x0.5, later x1.5), "least", a few idioms, and ``!``/``?``
    emphasis. ``compound = s / sqrt(s^2 + 15)``.

    The engines differ: vaderSentiment treats "no" before a lexicon word as a negator ("no
    problems" is positive; NLTK adds the negative "no" and "problems"), replaces emoji by their
    descriptions, strips any punctuation around a word, keeps one-letter words and recognises
    more boosters and idioms; NLTK strips only 17 punctuation forms (so "great!?" is not
    "great"), scores a repeated word in the context of its first occurrence, and multiplies
    "never so/this good" by 1.5 where vaderSentiment uses 1.25.

    Speed: each distinct text is scored once (``pandas.factorize``), tokens are normalised once
    and cached, only lexicon words are examined (those with no modifier nearby take a short path),
    the final arithmetic runs in numpy for all texts at once, and large inputs are split across
    processes.
    ``benchmarks/bench_sentiment.py`` measures the speed-up and checks identity with both
    references.

    Sentence aggregation (``split="sentence"``): ``compound``, ``neg``, ``neu`` and ``pos`` are the
    unweighted means over the text's sentences, as VADER's authors suggest for paragraphs; the label
    comes from the mean compound. A text with no sentence (empty) scores as an empty text.

    References
    ----------
    Hutto, C.J. & Gilbert, E.E. (2014). VADER: A Parsimonious Rule-based Model for Sentiment
    Analysis of Social Media Text. ICWSM-14.

    Examples
    --------
    >>> import journeylab as jl
    >>> jl.sentiment(["I've had no problems.", "The form was awful!!"])
       segment_id    neg    neu    pos  compound     label
    0           0  0.000  0.571  0.429    0.3089  positive
    1           1  0.544  0.456  0.000   -0.5550  negative
    >>> jl.sentiment(["I've had no problems."], engine="nltk")["compound"].item()
    -0.5994
    """
    if is_dask(data):
        return map_rows(sentiment, data, engine=engine, text=text, id=id, split=split, aggregate=aggregate,
                              thresholds=thresholds, lexicon=lexicon, include_interviewer=include_interviewer,
                              n_jobs=1 if n_jobs is None else n_jobs, progress=False if progress is None else progress)
    check_choice(engine, arg="engine", func="sentiment", choices=ENGINES)
    check_choice(split, arg="split", func="sentiment", choices=(None, "sentence"))
    thresholds = _check_thresholds(thresholds)
    overrides = tuple(sorted(load_lexicon(lexicon).items())) if lexicon is not None else ()
    scorer = _scorer(engine, overrides)
    frame = _as_frame(data, text, id, include_interviewer)
    texts = frame[text]
    if pd.api.types.infer_dtype(texts, skipna=True) not in ("string", "empty"):
        # numbers or other objects in the text column: score their str(); missing stays missing
        texts = texts.where(texts.isna() | texts.map(lambda v: isinstance(v, str)), texts.astype(str))

    if split is None:
        codes, uniques = pd.factorize(texts, use_na_sentinel=True)
        scores = _score_unique(scorer, list(uniques), n_jobs, progress)
        values = np.full((len(frame), 4), np.nan)
        ok = codes >= 0
        values[ok] = scores[codes[ok]]
        out = pd.DataFrame(values, columns=SCORE_COLUMNS)
        out.insert(0, id, frame[id].to_numpy())
        out["label"] = _labels(out["compound"].to_numpy(), thresholds)
        return _stamp(out, engine, split, thresholds, overrides)

    # sentence level
    rows, sent_texts, sent_pos = [], [], []
    for r, t in enumerate(texts.to_numpy()):
        if isinstance(t, str):
            parts = split_sentences(t) or [t]
            rows.extend([r] * len(parts))
            sent_texts.extend(parts)
            sent_pos.extend(range(1, len(parts) + 1))
    rows_arr = np.asarray(rows, dtype=int)
    codes, uniques = pd.factorize(pd.Series(sent_texts, dtype=object))
    scores = _score_unique(scorer, list(uniques), n_jobs, progress)
    sent_scores = scores[codes] if len(codes) else np.empty((0, 4))
    if not aggregate:
        out = pd.DataFrame(sent_scores, columns=SCORE_COLUMNS)
        out.insert(0, id, frame[id].to_numpy()[rows_arr] if len(rows_arr) else frame[id].iloc[:0].to_numpy())
        out.insert(1, "sentence", np.asarray(sent_pos, dtype=int))
        out.insert(2, "text", pd.Series(sent_texts, dtype="string"))
        out["label"] = _labels(out["compound"].to_numpy(), thresholds)
        return _stamp(out, engine, split, thresholds, overrides)
    n = len(frame)
    counts = np.bincount(rows_arr, minlength=n).astype(float)
    sums = np.zeros((n, 4))
    np.add.at(sums, rows_arr, sent_scores)
    with np.errstate(invalid="ignore", divide="ignore"):
        means = sums / counts[:, None]
    means[counts == 0] = np.nan
    out = pd.DataFrame(means, columns=SCORE_COLUMNS)
    out.insert(0, id, frame[id].to_numpy())
    out["label"] = _labels(out["compound"].to_numpy(), thresholds)
    out["n_sentences"] = counts.astype(int)
    return _stamp(out, engine, split, thresholds, overrides)


def sentiment_terms(
    data,
    *,
    engine: str = DEFAULT_ENGINE,
    text: str = "text",
    lexicon=None,
    include_interviewer: bool = False,
    top: int | None = 20,
) -> pd.DataFrame:
    """The lexicon words that carry the scores of a set of texts, most frequent first.

    A quick way to see what VADER is reacting to in *your* data — a transcript annotation such
    as "[laughs]" (valence +2.2), a filler such as "like" (+1.5), a domain word it does not know —
    before trusting an average.

    Parameters
    ----------
    data, engine, text, lexicon, include_interviewer
        As in :func:`sentiment`.
    top : int or None, default 20
        Keep the ``top`` most frequent terms (None: all).

    Returns
    -------
    DataFrame
        ``term`` (lower case, as looked up), ``valence`` (lexicon value, custom terms included),
        ``n`` (occurrences), ``n_texts`` (texts containing it), ``direction`` ("positive" or
        "negative"), sorted by ``n`` then term. Words the references treat as boosters ("very",
        "kind of") are not listed: they modify other words and carry no valence of their own.

    Examples
    --------
    >>> import journeylab as jl
    >>> jl.sentiment_terms(["Great, thanks!", "Not great [laughs]"])[["term", "valence", "n", "n_texts"]]
         term  valence  n  n_texts
    0   great      3.1  2        2
    1  laughs      2.2  1        1
    2  thanks      1.9  1        1
    """
    check_choice(engine, arg="engine", func="sentiment_terms", choices=ENGINES)
    overrides = tuple(sorted(load_lexicon(lexicon).items())) if lexicon is not None else ()
    scorer = _scorer(engine, overrides)
    frame = _as_frame(data, text, None, include_interviewer, func="sentiment_terms")
    booster = _vader.VADER_BOOSTER if engine == "vader" else _vader.NLTK_BOOSTER
    lex = scorer.lexicon
    counts: dict = {}
    docs: dict = {}
    for t in frame[text].dropna():
        seen = set()
        for tok in scorer.tokens(str(t)):
            low = tok.lower()
            if low in lex and low not in booster:
                counts[low] = counts.get(low, 0) + 1
                seen.add(low)
        for low in seen:
            docs[low] = docs.get(low, 0) + 1
    out = pd.DataFrame({"term": list(counts), "n": list(counts.values())})
    out["valence"] = out["term"].map(lex).astype(float)
    out["n_texts"] = out["term"].map(docs).astype(int)
    out["direction"] = np.where(out["valence"] > 0, "positive", np.where(out["valence"] < 0, "negative", "neutral"))
    out = out[["term", "valence", "n", "n_texts", "direction"]].sort_values(["n", "term"], ascending=[False, True])
    if top is not None:
        out = out.head(top)
    return out.reset_index(drop=True)


# ----------------------------------------------------------------------------- aggregation


def _cluster_bootstrap(values: np.ndarray, clusters: np.ndarray, *, n_boot: int, ci: float,
                       rng: np.random.Generator) -> tuple:
    """Mean of ``values`` and its percentile CI, resampling whole clusters with replacement.

    Each replicate draws as many clusters as there are, with replacement, and recomputes the
    mean over all their values (``sum of sums / sum of counts``).
    """
    mean = float(values.mean()) if len(values) else math.nan
    codes, uniq = pd.factorize(clusters)
    p = len(uniq)
    if p < 2:
        return mean, math.nan, math.nan
    sums = np.bincount(codes, weights=values, minlength=p)
    counts = np.bincount(codes, minlength=p).astype(float)
    w = rng.multinomial(p, np.full(p, 1.0 / p), size=n_boot).astype(float)
    boot = (w @ sums) / (w @ counts)
    alpha = 1.0 - ci
    lo, hi = np.quantile(boot, [alpha / 2, 1 - alpha / 2])
    return mean, float(lo), float(hi)


def _check_boot(n_boot, ci, func):
    if not isinstance(n_boot, (int, np.integer)) or isinstance(n_boot, bool) or n_boot < 100:
        raise JourneylabError(f"{func}(): `n_boot` must be an integer >= 100; got {n_boot!r}.")
    if not (isinstance(ci, (int, float)) and 0 < ci < 1):
        raise JourneylabError(f"{func}(): `ci` must be a number between 0 and 1, such as 0.95; got {ci!r}.")


def _scored_segments(sentiment_frame, segments, func, sid="segment_id", arg="sentiment_frame") -> pd.DataFrame:
    """``segment_id, participant_id, compound`` of scored participant segments (``arg``: the
    sentiment frame's parameter name in ``func``, for messages)."""
    check_frame(sentiment_frame, arg=arg, func=func, required=[sid, "compound"], allow_empty=True,
                hint="Pass the frame returned by jl.sentiment(segments).")
    check_frame(segments, arg="segments", func=func, required=[sid, "participant_id"], allow_empty=True)
    s = sentiment_frame[[sid, "compound"]].dropna(subset=["compound"])
    if s[sid].duplicated().any():
        dup = s.loc[s[sid].duplicated(), sid].iloc[0]
        raise JourneylabError(f"{func}(): `{arg}` has several rows for {sid} {dup!r}; pass one row per "
                              "segment (aggregate=True when split='sentence').")
    seg = segments[[sid, "participant_id"]].drop_duplicates(subset=[sid])
    out = s.merge(seg, on=sid, how="inner")
    return out.dropna(subset=["participant_id"]).reset_index(drop=True)


def _code_pairs(codings, func, coder=None) -> pd.DataFrame:
    check_frame(codings, arg="codings", func=func, required=["segment_id", "code"], allow_empty=True)
    c = codings
    if coder is not None:
        if "coder" not in c.columns:
            raise JourneylabError(f"{func}(): `coder` was given but `codings` has no 'coder' column.")
        wanted = [coder] if isinstance(coder, str) else list(coder)
        c = c[c["coder"].isin(wanted)]
    return c[["segment_id", "code"]].dropna().drop_duplicates().reset_index(drop=True)


def _span_compounds(codings: pd.DataFrame, segments: pd.DataFrame, *, coder=None, lexicon=None) -> pd.DataFrame:
    """``segment_id, code, span_compound``: the mean sentence-level compound of the sub-turn spans of
    each code in each turn (codings whose ``text`` is not their whole turn's text)."""
    if not {"start", "text"} <= set(codings.columns) or not len(codings):
        return pd.DataFrame(columns=["segment_id", "code", "span_compound"])
    c = codings
    if coder is not None and "coder" in c.columns:
        c = c[c["coder"].isin([coder] if isinstance(coder, str) else list(coder))]
    c = c[c["start"].notna() & c["text"].notna()][["segment_id", "code", "text"]]
    if "text" in segments.columns:
        turn = dict(zip(segments["segment_id"].astype(str), segments["text"].astype(str).str.strip()))
        c = c[[turn.get(str(sid)) != str(t).strip() for sid, t in zip(c["segment_id"], c["text"])]]
    if not len(c):
        return pd.DataFrame(columns=["segment_id", "code", "span_compound"])
    texts = c["text"].astype(str).drop_duplicates().tolist()
    scores = sentiment(texts, split="sentence", lexicon=lexicon)
    score = dict(zip(texts, scores["compound"]))
    c = c.assign(span_compound=c["text"].astype(str).map(score))
    return c.groupby(["segment_id", "code"], as_index=False)["span_compound"].mean()


def study_lexicon(study) -> dict | None:
    """The study's own sentiment terms: ``lexicon.csv`` (``term,valence``) in its folder, or None.

    Examples
    --------
    >>> import journeylab as jl
    >>> from journeylab.measure.sentiment import study_lexicon
    >>> len(study_lexicon(jl.load_study(jl.datasets.sample_study_path()))) > 0
    True
    """
    check_study(study, func="study_lexicon")
    path = Path(study.path) / "lexicon.csv"
    return load_lexicon(path) if path.is_file() else None


def study_sentiment(study, *, engine: str = DEFAULT_ENGINE) -> pd.DataFrame:
    """The sentiment of a study's turns as every analysis of a run scores them.

    Turns split into sentences (a long turn is the mean of its sentences), with the study's
    ``lexicon.csv`` when it has one (:func:`study_lexicon`). Notebook 04's tables, the evidence
    table, the map's emotion lane and the report all use these scores, so a stage's or a code's
    sentiment is one number wherever it appears.

    Parameters
    ----------
    study : Study
    engine : str, default "vader"
        See :func:`sentiment`.

    Returns
    -------
    DataFrame
        :func:`sentiment` of ``study.segments``; ``.attrs`` ``engine``, ``split`` and ``lexicon``
        (the number of study terms, 0 without a lexicon) say how.

    Examples
    --------
    >>> import journeylab as jl
    >>> s = jl.study_sentiment(jl.load_study(jl.datasets.sample_study_path()))
    >>> s.attrs["split"], s.attrs["lexicon"] > 0
    ('sentence', True)
    """
    check_study(study, func="study_sentiment")
    lexicon = study_lexicon(study)
    out = sentiment(study.segments, engine=engine, split="sentence", lexicon=lexicon)
    out.attrs.update({"engine": engine, "split": "sentence", "lexicon": len(lexicon or {})})
    return out


@shared_docs
def code_sentiment(
    codings: pd.DataFrame,
    *,
    sentiment: pd.DataFrame,
    segments: pd.DataFrame,
    n_boot: int = 2000,
    ci: float = 0.95,
    coder=None,
    random_state: int | np.random.Generator | None = 0,
    lexicon=None,
) -> pd.DataFrame:
    """Mean sentiment of the segments carrying each code, with a participant-level bootstrap CI.

    Parameters
    ----------
    codings : DataFrame
        ``segment_id``, ``code`` (optionally ``coder``): from a coder, :func:`journeylab.autocode`
        or :func:`journeylab.merge_codings`. A segment counts once per code however many coders
        applied it.
    sentiment : DataFrame
        From :func:`sentiment` (``segment_id``, ``compound``), one row per segment.
    segments : DataFrame
        ``segment_id``, ``participant_id`` (``study.segments``).
    n_boot : int, default 2000
        Bootstrap replicates.
    ci : float, default 0.95
        Confidence level.
    coder : str or list of str, optional
        Use only these coders' codings.
    {random_state}
    lexicon : optional
        Domain terms for scoring coded spans (as in :func:`sentiment`); pass the one used for
        ``sentiment_frame``.

    Returns
    -------
    DataFrame
        One row per code, most negative first (codes without a scored segment last):
        ``code``, ``n_segments``, ``n_participants``, ``mean`` (mean compound of what was coded:
        a coding that is a sub-turn span — ``start``, ``end``, ``text`` columns, text other than
        its whole turn — scores its span's own text, sentence by sentence and averaged, as
        :func:`sentiment` with ``split="sentence"``; a whole-turn coding takes its segment's row
        of ``sentiment_frame``; several spans of one code in a turn count once, their mean),
        ``ci_low``, ``ci_high`` (percentile bootstrap interval; NaN with fewer than two
        participants), ``share_negative``, ``share_positive`` (shares of its segments with
        compound <= -0.05 and >= 0.05).

    Notes
    -----
    The segments of one person are not independent: someone who disliked the delivery says so in
    several turns, so treating 12 segments from 3 people as 12 observations would make the
    interval far too narrow. The bootstrap therefore resamples *participants* (a cluster
    bootstrap; Field & Welsh, 2007): each replicate draws as many participants as there are, with
    replacement, keeps all their segments with the code, and recomputes the mean; the interval is
    the 2.5th and 97.5th percentiles of the replicates. With few participants (under about 10) the
    percentile interval is too narrow; read ``n_participants`` with the interval.

    References
    ----------
    Field, C.A. & Welsh, A.H. (2007). Bootstrapping clustered data. JRSS B 69(3), 369-390.

    Examples
    --------
    >>> import journeylab as jl
    >>> segs = __import__("pandas").DataFrame({"segment_id": ["a", "b", "c"],
    ...     "participant_id": ["P1", "P2", "P2"], "text": ["Great!", "Awful.", "Bad."]})
    >>> codings = __import__("pandas").DataFrame({"segment_id": ["a", "b", "c"], "code": ["x", "x", "x"]})
    >>> jl.code_sentiment(codings, sentiment=jl.sentiment(segs), segments=segs,
    ...                   random_state=1)[["code", "n_segments", "n_participants"]]
      code  n_segments  n_participants
    0    x           3               2
    """
    func = "code_sentiment"
    _check_boot(n_boot, ci, func)
    rng = np.random.default_rng(random_state)
    scored = _scored_segments(sentiment, segments, func, arg="sentiment")
    pairs = _code_pairs(codings, func, coder)
    df = pairs.merge(scored, on="segment_id", how="inner")
    spans = _span_compounds(codings, segments, coder=coder, lexicon=lexicon)
    if len(spans):
        df = df.merge(spans, on=["segment_id", "code"], how="left")
        df["compound"] = df["span_compound"].fillna(df["compound"])
    rows = []
    for code in pd.unique(pairs["code"]):
        d = df[df["code"] == code]
        values = d["compound"].to_numpy(float)
        if len(values) == 0:
            rows.append((code, 0, 0, math.nan, math.nan, math.nan, math.nan, math.nan))
            continue
        mean, lo, hi = _cluster_bootstrap(values, d["participant_id"].to_numpy(), n_boot=n_boot, ci=ci, rng=rng)
        rows.append((code, len(values), d["participant_id"].nunique(), mean, lo, hi,
                     float((values <= -0.05).mean()), float((values >= 0.05).mean())))
    out = pd.DataFrame(rows, columns=["code", "n_segments", "n_participants", "mean", "ci_low", "ci_high",
                                      "share_negative", "share_positive"])
    return out.sort_values(["mean", "code"], na_position="last", kind="stable").reset_index(drop=True)


def _code_stage_map(code_stages) -> dict:
    """code -> stage from a mapping, a Codebook (a code without a stage takes its nearest
    ancestor's) or a frame with ``code``/``stage`` columns."""
    if code_stages is None:
        return {}
    if isinstance(code_stages, Mapping):
        return {str(k): v for k, v in code_stages.items() if v is not None and not pd.isna(v)}
    if isinstance(code_stages, pd.DataFrame):
        check_frame(code_stages, arg="code_stages", func="emotion_curve", required=["code", "stage"], allow_empty=True)
        return {c: s for c, s in zip(code_stages["code"], code_stages["stage"]) if isinstance(s, str)}
    if hasattr(code_stages, "names") and hasattr(code_stages, "__getitem__"):   # a Codebook
        return {name: stage for name, stage in code_stage_map(code_stages).items() if stage is not None}
    raise JourneylabError("emotion_curve(): `code_stages` must be a mapping code -> stage, a Codebook or a frame "
                          f"with 'code' and 'stage' columns; got {type(code_stages).__name__}.")


@shared_docs
def emotion_curve(
    sentiment_frame: pd.DataFrame,
    *,
    segments: pd.DataFrame,
    codings: pd.DataFrame | None = None,
    stages: Sequence[str],
    code_stages=None,
    participants: pd.DataFrame | None = None,
    by: str | None = None,
    min_n: int = 3,
    n_boot: int = 2000,
    ci: float = 0.95,
    coder=None,
    random_state: int | np.random.Generator | None = 0,
    lexicon=None,
) -> pd.DataFrame:
    """Mean sentiment per journey stage (and per group, such as persona), with CIs, in stage order.

    Parameters
    ----------
    sentiment_frame : DataFrame
        From :func:`sentiment`: ``segment_id``, ``compound``.
    segments : DataFrame
        ``segment_id``, ``participant_id`` (and ``stage`` when ``codings`` is None).
    codings : DataFrame, optional
        ``segment_id``, ``code``: a segment belongs to the stage of each code it carries.
    stages : list of str
        The journey stages in order (``study.stages``); every stage gets a row, with or without data.
    code_stages : mapping, Codebook or DataFrame
        Where each code belongs: ``{"shipping_form_tedious": "purchase", ...}``, the study's
        codebook (``study.codebook``; a code without a stage takes its nearest ancestor's) or
        a frame with ``code`` and ``stage``. Required with ``codings``.
    {participants}
        Needed when ``by`` is a participant attribute (``participant_id`` and the ``by`` column).
    by : str, optional
        A participant (or segment) attribute such as ``"persona"``: one curve per value.
    min_n : int, default 3
        Fewest distinct participants for a stage estimate to count as enough data
        (``enough_data``); stages below it are drawn hollow and not joined by the line.
    n_boot, ci, coder
        As in :func:`code_sentiment`.
    {random_state}
    lexicon : optional
        Domain terms for scoring coded spans (as in :func:`sentiment`); pass the one used for
        ``sentiment_frame``.

    Returns
    -------
    DataFrame
        One row per (``by`` value and) stage, stages in journey order: ``<by>`` (if given),
        ``stage``, ``stage_order`` (0-based), ``mean`` (mean compound of the stage's segments;
        with ``codings`` that carry sub-turn spans, a segment's value for a stage is the mean
        over its codes of that stage of what was coded: a span's own sentiment, scored sentence by
        sentence with ``lexicon``, else the segment's), ``ci_low``, ``ci_high`` (participant bootstrap;
        NaN with fewer than two participants),
        ``n_segments``, ``n_participants``, ``enough_data`` (``n_participants >= min_n``).

    Raises
    ------
    JourneylabError
        When a code's stage is not one of ``stages``, when ``codings`` is given without
        ``code_stages``, or when neither gives a stage.

    Notes
    -----
    The stage of a segment comes from the codes it carries: a segment coded
    ``shipping_form_tedious`` (stage ``purchase``) counts towards purchase; a segment whose codes
    belong to two stages counts once in each; a segment with no staged code is not on the curve
    (it says nothing about a stage). A segment counts once per stage however many codes or coders
    put it there. The estimate and its interval are those of :func:`code_sentiment` (mean of
    segment compounds, percentile bootstrap resampling participants). Stages are never
    interpolated: a stage without data has ``mean`` NaN and ``n_segments`` 0.

    Examples
    --------
    >>> import journeylab as jl, pandas as pd
    >>> segs = pd.DataFrame({"segment_id": ["a", "b", "c"], "participant_id": ["P1", "P2", "P3"],
    ...                      "text": ["Found you on Instagram, lovely!", "Checkout was awful.", "Bad form."]})
    >>> codings = pd.DataFrame({"segment_id": ["a", "b", "c"], "code": ["ad", "form", "form"]})
    >>> curve = jl.emotion_curve(jl.sentiment(segs), segments=segs, codings=codings, stages=["awareness", "purchase"],
    ...                          code_stages={"ad": "awareness", "form": "purchase"}, min_n=2, random_state=0)
    >>> curve[["stage", "n_segments", "enough_data"]]
           stage  n_segments  enough_data
    0  awareness           1        False
    1   purchase           2         True
    """
    func = "emotion_curve"
    _check_boot(n_boot, ci, func)
    if isinstance(stages, str) or not isinstance(stages, Sequence) or not len(stages):
        raise JourneylabError(f"{func}(): `stages` must be the list of journey stages in order "
                              f"(study.stages); got {stages!r}.")
    stages = list(stages)
    if not isinstance(min_n, (int, np.integer)) or min_n < 1:
        raise JourneylabError(f"{func}(): `min_n` must be a positive integer; got {min_n!r}.")
    if participants is not None:
        check_frame(participants, arg="participants", func=func, required=["participant_id"], allow_empty=True)
    rng = np.random.default_rng(random_state)
    scored = _scored_segments(sentiment_frame, segments, func)

    if codings is not None:
        if code_stages is None:
            raise JourneylabError(f"{func}(): `codings` needs `code_stages` (a mapping code -> stage, or "
                                  "study.codebook) to know each code's stage.")
        mapping = _code_stage_map(code_stages)
        pairs = _code_pairs(codings, func, coder)
        pairs["stage"] = pairs["code"].map(mapping)
        staged = pairs.dropna(subset=["stage"])[["segment_id", "stage"]].drop_duplicates()
        spans = _span_compounds(codings, segments, coder=coder, lexicon=lexicon)
        if len(spans):  # what was coded: a sub-turn span's own sentiment, averaged per turn and stage
            per_code = pairs.dropna(subset=["stage"]).merge(scored, on="segment_id", how="inner")
            per_code = per_code.merge(spans, on=["segment_id", "code"], how="left")
            per_code["compound"] = per_code["span_compound"].fillna(per_code["compound"])
            scored_by_stage = (per_code.groupby(["segment_id", "stage"], as_index=False, sort=False)
                               .agg(compound=("compound", "mean"), participant_id=("participant_id", "first")))
        else:
            scored_by_stage = None
    else:
        if "stage" not in segments.columns:
            raise JourneylabError(f"{func}(): pass `codings` (with `code_stages`) or a `segments` frame with a "
                                  "'stage' column; neither gives the segments' stages.")
        staged = segments[["segment_id", "stage"]].dropna().drop_duplicates()
    unknown = sorted(set(staged["stage"]) - set(stages))
    if unknown:
        raise JourneylabError(f"{func}(): stage(s) {', '.join(map(repr, unknown))} are not in `stages` "
                              f"({', '.join(stages)}); check the codebook's stages against study.yml.")
    if codings is not None and scored_by_stage is not None:
        df = staged.merge(scored_by_stage, on=["segment_id", "stage"], how="inner")[
            ["segment_id", "stage", *[c for c in scored.columns if c != "segment_id"]]]
    else:
        df = staged.merge(scored, on="segment_id", how="inner")

    groups = [None]
    if by is not None:
        if by in segments.columns and by != "participant_id":
            attr = segments[["segment_id", by]].drop_duplicates(subset=["segment_id"])
            df = df.merge(attr, on="segment_id", how="left")
        elif participants is not None:
            check_frame(participants, arg="participants", func=func, required=["participant_id", by])
            attr = participants[["participant_id", by]].drop_duplicates(subset=["participant_id"])
            df = df.merge(attr, on="participant_id", how="left")
        else:
            raise JourneylabError(f"{func}(): `by={by!r}` is not a column of `segments`; pass `participants` "
                                  f"(study.participants) holding it.")
        df = df.dropna(subset=[by])
        groups = sorted(pd.unique(df[by]).tolist(), key=str)
        if participants is not None and by in participants.columns:
            extra = [g for g in pd.unique(participants[by].dropna()) if g not in groups]
            groups = sorted(groups + extra, key=str)

    rows = []
    for g in groups:
        dg = df if g is None else df[df[by] == g]
        for k, st in enumerate(stages):
            d = dg[dg["stage"] == st]
            values = d["compound"].to_numpy(float)
            n_part = d["participant_id"].nunique()
            if len(values):
                mean, lo, hi = _cluster_bootstrap(values, d["participant_id"].to_numpy(), n_boot=n_boot, ci=ci, rng=rng)
            else:
                mean = lo = hi = math.nan
            row = {"stage": st, "stage_order": k, "mean": mean, "ci_low": lo, "ci_high": hi,
                   "n_segments": len(values), "n_participants": n_part, "enough_data": bool(n_part >= min_n)}
            if g is not None:
                row = {by: g, **row}
            rows.append(row)
    cols = ([by] if by is not None else []) + ["stage", "stage_order", "mean", "ci_low", "ci_high",
                                               "n_segments", "n_participants", "enough_data"]
    return pd.DataFrame(rows, columns=cols)


_CURVE_COLUMNS = {"stage", "stage_order", "mean", "ci_low", "ci_high", "n_segments", "n_participants", "enough_data"}
_PALETTE = ["#0072b2", "#d55e00", "#009e73", "#cc79a7", "#e69f00", "#56b4e9", "#000000"]


@shared_docs
def plot_emotion_curve(curve: pd.DataFrame, *, ax=None, title: str | None = None, size_by: str = "n_segments",
                       ylim=None):
    """Draw an emotion curve in the journey-map idiom.

    Stages run left to right in journey order. For each curve (one per ``by`` group): a line joins
    consecutive stages that have enough data, a shaded band shows their confidence interval, and
    each point's area grows with the number of segments. A stage with too little data is drawn as
    a hollow point with a dotted interval and is *not* joined by the line; a stage without data is
    marked "no data". A zero line separates positive from negative.

    Parameters
    ----------
    curve : DataFrame
        From :func:`emotion_curve` (with or without a ``by`` column).
    {ax}
    title : str, optional
        Axes title (default "Emotion curve across the journey").
    size_by : {"n_segments", "n_participants"}, default "n_segments"
        What the point areas show.
    ylim : (float, float) or "full", optional
        Vertical range. Default: the data and their intervals, with zero always shown; "full"
        shows the whole compound scale, -1 to 1.

    Returns
    -------
    matplotlib Axes

    Examples
    --------
    >>> import journeylab as jl, pandas as pd
    >>> curve = pd.DataFrame({"stage": ["awareness", "purchase"], "stage_order": [0, 1], "mean": [0.4, -0.3],
    ...     "ci_low": [0.2, -0.5], "ci_high": [0.6, -0.1], "n_segments": [12, 20], "n_participants": [6, 9],
    ...     "enough_data": [True, True]})
    >>> ax = jl.plot_emotion_curve(curve)
    """
    # lazy: matplotlib.pyplot adds ~0.8 s to `import journeylab` (measured; docs/architecture.md)
    import matplotlib.pyplot as plt
    import matplotlib.transforms as mtransforms
    from matplotlib.lines import Line2D

    check_frame(curve, arg="curve", func="plot_emotion_curve", required=sorted(_CURVE_COLUMNS),
                hint="Pass the frame returned by jl.emotion_curve().")
    check_choice(size_by, arg="size_by", func="plot_emotion_curve", choices=("n_segments", "n_participants"))
    extra = [c for c in curve.columns if c not in _CURVE_COLUMNS]
    by = extra[0] if extra else None
    order = curve.drop_duplicates("stage_order").sort_values("stage_order")
    xs, names = order["stage_order"].to_numpy(), order["stage"].tolist()
    if ax is None:
        _, ax = plt.subplots(figsize=(max(6.5, 1.7 * len(xs) + 2), 4.4))
    nmax = max(float(curve[size_by].max() or 1), 1.0)

    def area(n):
        return 30 + 300 * np.sqrt(np.asarray(n, float) / nmax)

    groups = [(None, curve)] if by is None else list(curve.groupby(by, sort=False))
    k = len(groups)
    offsets = np.linspace(-0.18, 0.18, k) if k > 1 else [0.0]
    band_alpha = 0.18 if k == 1 else 0.09
    bottom = mtransforms.blended_transform_factory(ax.transData, ax.transAxes)
    handles = []
    any_thin = False
    no_data_marked = set()
    for (g, d), off, colour in zip(groups, offsets, _PALETTE * 10):
        d = d.sort_values("stage_order")
        so = d["stage_order"].to_numpy()
        x = so.astype(float) + off
        m = d["mean"].to_numpy(float)
        lo, hi = d["ci_low"].to_numpy(float), d["ci_high"].to_numpy(float)
        sizes = area(d[size_by].to_numpy())
        ok = d["enough_data"].to_numpy(bool) & ~np.isnan(m)
        # runs of consecutive stages with enough data: the line and the band stay within a run
        runs, run = [], []
        for i in range(len(d)):
            if ok[i] and run and so[i] == so[run[-1]] + 1:
                run.append(i)
            else:
                if run:
                    runs.append(run)
                run = [i] if ok[i] else []
        if run:
            runs.append(run)
        for r in runs:
            idx = np.array(r)
            if len(idx) > 1:
                ax.plot(x[idx], m[idx], color=colour, lw=2, zorder=3)
                has = ~np.isnan(lo[idx]) & ~np.isnan(hi[idx])
                ax.fill_between(x[idx], np.where(has, lo[idx], m[idx]), np.where(has, hi[idx], m[idx]),
                                color=colour, alpha=band_alpha, lw=0, zorder=1)
            elif not np.isnan(lo[idx[0]]):
                i = idx[0]
                ax.errorbar(x[i], m[i], yerr=[[m[i] - lo[i]], [hi[i] - m[i]]], color=colour, alpha=0.6,
                            capsize=4, lw=1.5, zorder=2)
        ax.scatter(x[ok], m[ok], s=sizes[ok], color=colour, edgecolor="white", linewidth=1.0, zorder=4)
        thin = ~ok & ~np.isnan(m)
        any_thin = any_thin or bool(thin.any())
        edge = "#777777" if by is None else colour
        for i in np.flatnonzero(thin & ~np.isnan(lo)):
            eb = ax.errorbar(x[i], m[i], yerr=[[m[i] - lo[i]], [hi[i] - m[i]]], color=edge, ls="none",
                             capsize=3, lw=1, alpha=0.7, zorder=2)
            for coll in eb[2]:
                coll.set_linestyle(":")
        ax.scatter(x[thin], m[thin], s=sizes[thin], facecolor="white", edgecolor=edge, linewidth=1.5,
                   linestyle="--", zorder=4)
        for i in np.flatnonzero(np.isnan(m)):
            key = int(so[i]) if by is None else (int(so[i]), g)
            if key in no_data_marked:
                continue
            no_data_marked.add(key)
            label = "no data" if by is None else f"no data: {g}"
            ax.text(x[i] if by is None else so[i], 0.03 + 0.05 * (len(no_data_marked) - 1 if by is not None else 0),
                    label, transform=bottom, ha="center", va="bottom", fontsize=8, color=colour if by else "#888888",
                    style="italic")
        if by is not None:
            handles.append(Line2D([], [], color=colour, marker="o", lw=2, label=str(g)))
    ax.axhline(0, color="#444444", lw=0.8, zorder=0)
    ax.set_xticks(xs)
    if by is None:
        parts = order.set_index("stage_order")["n_participants"]
        ax.set_xticklabels([f"{str(s).replace('_', ' ')}\n({int(parts.loc[o])} people)" for s, o in zip(names, xs)])
    else:
        ax.set_xticklabels([str(s).replace("_", " ") for s in names])
    ax.set_xlim(xs.min() - 0.5, xs.max() + 0.5)
    if ylim == "full":
        ax.set_ylim(-1.0, 1.0)
    elif ylim is not None:
        ax.set_ylim(*ylim)
    else:
        vals = np.concatenate([curve[c].to_numpy(float) for c in ("mean", "ci_low", "ci_high")] + [np.zeros(1)])
        vals = vals[~np.isnan(vals)]
        lo_, hi_ = float(vals.min()), float(vals.max())
        pad = max(0.05, 0.12 * (hi_ - lo_))
        ax.set_ylim(max(-1.0, lo_ - pad), min(1.0, hi_ + pad))
    ax.set_xlabel("Journey stage")
    ax.set_ylabel("Mean sentiment (VADER compound)")
    ax.set_title(title or "Emotion curve across the journey")
    ax.grid(axis="y", color="#dddddd", lw=0.6, zorder=0)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    items = list(handles)
    if any_thin:
        items.append(Line2D([], [], color="#777777", marker="o", lw=0, markerfacecolor="white", markersize=8,
                            label="hollow: too few participants (not joined)"))
    items.append(Line2D([], [], color="#777777", marker="o", lw=0, markersize=8,
                        label=f"point area: {size_by.replace('_', ' ')}"))
    ax.legend(handles=items, loc="upper center", bbox_to_anchor=(0.5, -0.2 if by is None else -0.14), fontsize=8,
              frameon=False, ncol=min(len(items), 3))
    return ax



# ----------------------------------------------------------------------------- survey scores


def sentiment_vs_scores(
    sentiment_frame: pd.DataFrame,
    *,
    survey: pd.DataFrame,
    scores: Sequence[str] | None = None,
    id: str = "respondent_id",
    method: str = "spearman",
    ci: float = 0.95,
) -> pd.DataFrame:
    """Correlate comment sentiment with survey scores (NPS, CSAT), with a confidence interval.

    Parameters
    ----------
    sentiment_frame : DataFrame
        From ``jl.sentiment(study.survey, text="comment", id="respondent_id")``.
    survey : DataFrame
        The survey frame: ``respondent_id`` and the score columns.
    scores : list of str, optional
        Score columns (default: ``nps`` and every ``csat_*`` column present).
    id : str, default "respondent_id"
        The column linking both frames.
    method : {"spearman", "pearson"}, default "spearman"
        Spearman suits ordinal 0-10 and 1-5 scales.
    ci : float, default 0.95
        Confidence level.

    Returns
    -------
    DataFrame
        One row per score: ``score``, ``method``, ``n`` (respondents with both a scored comment and
        the score), ``r``, ``ci_low``, ``ci_high``, ``p_value`` (two-sided, from scipy).

    Notes
    -----
    The interval uses Fisher's z transform: ``z = atanh(r)``, ``z ± q·se``, back-transformed with
    ``tanh``. For Pearson ``se = 1/sqrt(n-3)``; for Spearman the Bonett & Wright (2000)
    ``se = sqrt((1 + r²/2)/(n-3))``, which keeps the coverage near nominal for rank correlations.
    Rows with a missing comment or score are left out; NaN with fewer than 4 pairs.

    References
    ----------
    Bonett, D.G. & Wright, T.A. (2000). Sample size requirements for estimating Pearson,
    Kendall and Spearman correlations. Psychometrika 65(1), 23-28.

    Examples
    --------
    >>> import journeylab as jl, pandas as pd
    >>> survey = pd.DataFrame({"respondent_id": list("abcdefgh"), "nps": [10, 9, 3, 1, 8, 2, 7, 6],
    ...     "comment": ["Love it!", "Great service", "Slow and annoying", "Awful, broken", "Good",
    ...                 "Fine, I guess", "Bad box, nice rug", "ok"]})
    >>> s = jl.sentiment(survey, text="comment", id="respondent_id")
    >>> jl.sentiment_vs_scores(s, survey=survey).round(3)
      score    method  n      r  ci_low  ci_high  p_value
    0   nps  spearman  8  0.881   0.334    0.984    0.004
    """
    # lazy: scipy.stats adds ~1.3 s to `import journeylab` (measured; docs/architecture.md)
    from scipy import stats

    func = "sentiment_vs_scores"
    check_choice(method, arg="method", func=func, choices=("spearman", "pearson"))
    if not (isinstance(ci, (int, float)) and 0 < ci < 1):
        raise JourneylabError(f"{func}(): `ci` must be a number between 0 and 1; got {ci!r}.")
    check_frame(sentiment_frame, arg="sentiment_frame", func=func, required=[id, "compound"], allow_empty=True,
                hint=f"Score the comments with jl.sentiment(survey, text='comment', id={id!r}).")
    check_frame(survey, arg="survey", func=func, required=[id], allow_empty=True)
    if scores is None:
        scores = [c for c in survey.columns if c == "nps" or str(c).startswith("csat_")]
        if not scores:
            raise JourneylabError(f"{func}(): `survey` has no 'nps' or 'csat_*' column; name the score columns "
                                  "with `scores=[...]`.")
    elif isinstance(scores, str):
        scores = [scores]
    missing = [c for c in scores if c not in survey.columns]
    if missing:
        raise JourneylabError(f"{func}(): score column(s) {', '.join(map(repr, missing))} not in `survey`; "
                              f"found: {', '.join(map(str, survey.columns))}.")
    merged = sentiment_frame[[id, "compound"]].merge(survey[[id] + list(scores)], on=id, how="inner")
    q = stats.norm.ppf(0.5 + ci / 2)
    rows = []
    for col in scores:
        d = merged[["compound", col]].apply(pd.to_numeric, errors="coerce").dropna()
        n = len(d)
        r = lo = hi = p = math.nan
        if n >= 4 and d["compound"].nunique() > 1 and d[col].nunique() > 1:
            x, y = d["compound"].to_numpy(float), d[col].to_numpy(float)
            res = stats.spearmanr(x, y) if method == "spearman" else stats.pearsonr(x, y)
            r, p = float(res[0]), float(res[1])
            se = math.sqrt((1 + r * r / 2) / (n - 3)) if method == "spearman" else 1 / math.sqrt(n - 3)
            z = math.atanh(min(max(r, -0.999999), 0.999999))
            lo, hi = math.tanh(z - q * se), math.tanh(z + q * se)
        rows.append((col, method, n, r, lo, hi, p))
    return pd.DataFrame(rows, columns=["score", "method", "n", "r", "ci_low", "ci_high", "p_value"])
