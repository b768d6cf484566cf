"""A coder that learns from the team's own coding and says how far it can be trusted.

:class:`LearnedCoder` learns one presence/absence classifier per code from a human coder's
decisions (typically the reconciled ``gold`` coder), suggests codes for new segments with a
probability, reports its cross-validated agreement with the human coding per code, and proposes
which uncoded segments a person should code next (active learning).
"""
from __future__ import annotations

__all__ = ["LearnedCoder", "text_features"]

import html
import math
import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd

from ..errors import JourneylabError, NotFittedError
from ..study.units import participant_codings, participant_turns
from ..utils.checks import check_frame
from .reliability import OVERALL, landis_koch, present_codings, units_for

_TOKEN = r"[^\W_]+(?:'[^\W_]+)*"
_APOS = str.maketrans({"’": "'", "‘": "'", "`": "'"})
_NEGATORS = frozenset({"not", "no", "nor", "never", "cannot", "without", "nothing", "none", "hardly", "barely"})
_STEMMER = None
_STEM_CACHE: dict[str, str] = {}
_TOKENIZER = None


def _stop_words() -> frozenset[str]:
    # lazy: scikit-learn adds ~1.2 s to `import journeylab` (measured; docs/architecture.md)
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    return frozenset(ENGLISH_STOP_WORDS) - _NEGATORS


_STOP = None


def text_features(text: str) -> list[str]:
    """The features of one text: stemmed unigrams and bigrams.

    Tokens are runs of letters/digits (inner apostrophes kept) from
    :class:`nltk.tokenize.RegexpTokenizer` on the lower-cased text, stemmed with NLTK's
    :class:`~nltk.stem.SnowballStemmer` (English). Stop words (scikit-learn's English list,
    keeping negators such as *not*, *no*, *never*, and any token ending in *n't*) are dropped;
    bigrams join consecutive remaining stems, so "wasn't fast" gives ``"wasn't fast"``.

    Examples
    --------
    >>> text_features("The refunds were not refunded")
    ['refund', 'not', 'refund', 'refund not', 'not refund']
    """
    global _STEMMER, _TOKENIZER, _STOP
    if _STEMMER is None:
        # lazy: nltk adds ~2.3 s to `import journeylab` (measured; docs/architecture.md)
        from nltk.stem import SnowballStemmer
        from nltk.tokenize import RegexpTokenizer

        _STEMMER = SnowballStemmer("english")
        _TOKENIZER = RegexpTokenizer(_TOKEN)
        _STOP = _stop_words()
    if not isinstance(text, str):
        return []
    tokens = _TOKENIZER.tokenize(text.translate(_APOS).lower())
    stems = []
    for t in tokens:
        if t in _STOP and not t.endswith("n't"):
            continue
        s = _STEM_CACHE.get(t)
        if s is None:
            s = _STEM_CACHE[t] = _STEMMER.stem(t)
        stems.append(s)
    return stems + [f"{a} {b}" for a, b in zip(stems, stems[1:])]


def _kappa_2x2(y, p) -> float:
    y = np.asarray(y, bool)
    p = np.asarray(p, bool)
    n = len(y)
    if n == 0:
        return float("nan")
    po = np.mean(y == p)
    py, pp = y.mean(), p.mean()
    pe = py * pp + (1 - py) * (1 - pp)
    if math.isclose(pe, 1.0):
        return float("nan")
    return float((po - pe) / (1 - pe))


class LearnedCoder:
    """Learn codes from human coding; suggest codes with a probability; report its own reliability.

    Parameters
    ----------
    C : float, default 1.0
        Inverse L2 regularisation strength of each code's logistic regression.
    min_df : int, default 1
        Keep features that occur in at least this many training segments.
    threshold : float or "auto", default "auto"
        Probability at or above which :meth:`predict` applies a code (and :meth:`suggest`
        suggests it). ``"auto"``: chosen per code during :meth:`fit` by an inner 3-fold
        cross-validation on the training data, as the cut-off that maximises Cohen's kappa
        (see Notes).
    min_positive : int, default 8
        Codes with fewer positive training segments are flagged ``too_few_examples``: they get a
        model when there are at least two examples, but :meth:`predict`, :meth:`suggest` and
        :meth:`next_to_code` leave them out.
    speaker_roles : tuple of str or None, default ("participant",)
        Segments whose ``speaker_role`` is one of these are coded; ``None``: every segment.
    name : str, default "model"
        The ``coder`` value of the codings :meth:`predict` returns.
    random_state : int or None, default 0
        Seed of the solver and of the cross-validation folds; same seed, same model.

    Attributes
    ----------
    coder_ : str
        The human coder learned from.
    codes_ : list of str
        Every code seen in that coder's decisions (or the ``codes`` passed to :meth:`fit`).
    classes_ : list of str
        Alias of ``codes_`` (scikit-learn naming).
    n_positive_ : pandas.Series
        Positive training segments per code.
    thresholds_ : pandas.Series
        The probability cut-off used per code (``threshold``, or the one chosen by ``"auto"``).
    too_few_examples_ : list of str
        Codes with fewer than ``min_positive`` positives.
    vectorizer_ : sklearn.feature_extraction.text.TfidfVectorizer
        The fitted feature extractor (analyzer :func:`text_features`).
    estimators_ : dict
        Code → fitted :class:`sklearn.linear_model.LogisticRegression` (``None`` when the code
        had fewer than two positive or no negative examples).
    training_units_ : list of str
        The segment ids learned from (see *Training data* in Notes).

    Notes
    -----
    **Training data.** The units of the human coder follow :func:`journeylab.agreement`'s rule:
    the participant turns of every document in which the coder applied at least one code, so a
    turn the coder read and left uncoded is a negative example, and documents the coder never
    opened are not used.

    **Features.** Stemmed unigrams and bigrams (:func:`text_features`: NLTK
    ``RegexpTokenizer`` + ``SnowballStemmer``), weighted by TF-IDF with sublinear term
    frequency and L2-normalised rows.

    **Classifier.** One binary L2-regularised logistic regression per code (one-vs-rest over a
    multi-label problem: a segment can carry several codes), scikit-learn's
    ``LogisticRegression(class_weight="balanced", solver="liblinear")``. Why: logistic
    regression gives calibrated-enough probabilities for pre-filled suggestions and active
    learning (NLTK's naive Bayes is notoriously over-confident); it is a well-established, fast
    baseline for short-text classification with a few hundred examples; ``class_weight=
    "balanced"`` counters the rarity of most codes (a code on 3 % of segments would otherwise
    almost never be predicted). scikit-learn is already a dependency of journeylab.

    **Threshold.** With rare codes, even a class-balanced regression on sparse text features
    gives the positive segments probabilities well under 0.5 (on the sample study's reference
    coding the median out-of-fold probability of a true positive is about 0.4), so a fixed 0.5
    cut-off predicts almost nothing. ``threshold="auto"`` picks each code's cut-off from the
    grid 0.10, 0.15, ..., 0.90 by inner cross-validation on the training data only (no peeking at
    held-out folds); codes with fewer than three positives keep 0.5.

    **Trust.** :meth:`cross_validate` reports Cohen's kappa between out-of-fold predictions and
    the held-out human decisions per code: the same statistic, and the same Landis & Koch bands,
    as human–human agreement, so the two can be compared directly.

    Examples
    --------
    >>> import journeylab as jl
    >>> study = jl.load_study(jl.datasets.sample_study_path())
    >>> model = jl.LearnedCoder().fit(study.segments, study.codings, coder="amara")
    >>> model.suggest(study.segments, top=3).columns.tolist()
    ['segment_id', 'code', 'probability', 'rank', 'origin', 'confidence']
    """

    def __init__(
        self,
        *,
        C: float = 1.0,
        min_df: int = 1,
        threshold: float | str = "auto",
        min_positive: int = 8,
        speaker_roles: Sequence[str] | None = ("participant",),
        name: str = "model",
        random_state: int | None = 0,
    ):
        self.C = C
        self.min_df = min_df
        self.threshold = threshold
        self.min_positive = min_positive
        self.speaker_roles = speaker_roles
        self.name = name
        self.random_state = random_state

    # ------------------------------------------------------------------ helpers

    def get_params(self, deep: bool = True) -> dict:
        """The constructor arguments (scikit-learn convention)."""
        return {k: getattr(self, k) for k in
                ("C", "min_df", "threshold", "min_positive", "speaker_roles", "name", "random_state")}

    def set_params(self, **params) -> "LearnedCoder":
        """Set constructor arguments; returns ``self``."""
        valid = self.get_params()
        for k, v in params.items():
            if k not in valid:
                raise JourneylabError(f"LearnedCoder.set_params(): unknown parameter {k!r}; valid: {', '.join(valid)}.")
            setattr(self, k, v)
        return self

    def _check_params(self, func: str) -> None:
        if not (self.threshold == "auto" or (isinstance(self.threshold, (int, float))
                                              and not isinstance(self.threshold, bool) and 0 < self.threshold < 1)):
            raise JourneylabError(f"LearnedCoder.{func}(): `threshold` must be 'auto' or a number between 0 and 1; "
                                  f"got {self.threshold!r}.")
        if not (isinstance(self.min_positive, (int, np.integer)) and self.min_positive >= 2):
            raise JourneylabError(f"LearnedCoder.{func}(): `min_positive` must be a whole number ≥ 2; "
                                  f"got {self.min_positive!r}.")
        if not (isinstance(self.C, (int, float)) and self.C > 0):
            raise JourneylabError(f"LearnedCoder.{func}(): `C` must be a positive number; got {self.C!r}.")

    def _check_fitted(self, func: str) -> None:
        if not hasattr(self, "estimators_"):
            raise NotFittedError(
                f"LearnedCoder.{func}(): this LearnedCoder is not fitted yet; call "
                "fit(segments, codings, coder=...) first."
            )

    def _eligible(self, segments: pd.DataFrame) -> pd.DataFrame:
        return segments[participant_turns(segments, self.speaker_roles)]

    @staticmethod
    def _pick_coder(codings: pd.DataFrame, coder, func: str) -> str:
        coders = list(dict.fromkeys(codings["coder"].astype(str)))
        if coder is None:
            if len(coders) == 1:
                return coders[0]
            if "gold" in coders:
                return "gold"
            raise JourneylabError(
                f"LearnedCoder.{func}(): `codings` holds several coders ({', '.join(map(repr, coders))}); "
                "say which one to learn from with coder=... (e.g. the reconciled 'gold')."
            )
        if str(coder) not in coders:
            raise JourneylabError(
                f"LearnedCoder.{func}(): coder {coder!r} not found in `codings`; coders present: "
                f"{', '.join(map(repr, coders)) or '(none)'}."
            )
        return str(coder)

    def _training_data(self, segments, codings, coder, codes, func):
        segments = check_frame(segments, arg="segments", func=f"LearnedCoder.{func}",
                               required=("segment_id", "doc_id", "text"))
        codings = check_frame(codings, arg="codings", func=f"LearnedCoder.{func}",
                              required=("segment_id", "code", "coder"))
        coder = self._pick_coder(codings, coder, func)
        mine = present_codings(codings[codings["coder"].astype(str) == coder])
        roles = None if self.speaker_roles is None else tuple(self.speaker_roles)
        mine = participant_codings(mine, segments=segments, what=f"LearnedCoder.{func}()'s training data",
                                   roles=roles).codings
        units = units_for(mine, [coder], segments=segments, documents=None, units=None,
                           func=f"LearnedCoder.{func}")
        eligible = set(self._eligible(segments)["segment_id"].astype(str))
        units = [u for u in units if u in eligible]
        if codes is None:
            code_list = list(dict.fromkeys(mine["code"].astype(str)))
        else:
            code_list = [str(c) for c in ([codes] if isinstance(codes, str) else codes)]
        if not units:
            raise JourneylabError(f"LearnedCoder.{func}(): coder {coder!r} has no coded segments to learn from.")
        text = segments.assign(segment_id=segments["segment_id"].astype(str)).drop_duplicates("segment_id")
        text = text.set_index("segment_id").loc[units, "text"].fillna("").astype(str).tolist()
        y = np.zeros((len(units), len(code_list)), dtype=bool)
        u_idx = {u: i for i, u in enumerate(units)}
        k_idx = {k: i for i, k in enumerate(code_list)}
        for seg, code in mine[["segment_id", "code"]].astype(str).itertuples(index=False):
            if seg in u_idx and code in k_idx:
                y[u_idx[seg], k_idx[code]] = True
        return coder, units, text, code_list, y

    def _classifier(self):
        # lazy: scikit-learn adds ~1.2 s to `import journeylab` (measured; docs/architecture.md)
        from sklearn.linear_model import LogisticRegression

        return LogisticRegression(C=self.C, class_weight="balanced", solver="liblinear",
                                  random_state=self.random_state, max_iter=1000)

    def _auto_threshold(self, x, yj: np.ndarray) -> float:
        """Cut-off maximising kappa over inner out-of-fold probabilities (training data only)."""
        # lazy: scikit-learn adds ~1.2 s to `import journeylab` (measured; docs/architecture.md)
        from sklearn.model_selection import StratifiedKFold

        pos = int(yj.sum())
        if pos < 3 or len(yj) - pos < 3:
            return 0.5
        oof = np.zeros(len(yj))
        inner = StratifiedKFold(n_splits=3, shuffle=True, random_state=self.random_state)
        for tr, te in inner.split(np.zeros(len(yj)), yj):
            clf = self._classifier().fit(x[tr], yj[tr])
            oof[te] = clf.predict_proba(x[te])[:, list(clf.classes_).index(True)]
        grid = np.round(np.arange(0.10, 0.901, 0.05), 2)
        scores = np.array([_kappa_2x2(yj, oof >= t) for t in grid])
        scores = np.where(np.isnan(scores), -np.inf, scores)
        best = np.flatnonzero(scores == scores.max())
        return float(grid[best[np.argmin(np.abs(grid[best] - 0.5))]])  # ties: nearest 0.5

    def _fit_arrays(self, text: list[str], y: np.ndarray):
        # lazy: scikit-learn adds ~1.2 s to `import journeylab` (measured; docs/architecture.md)
        from sklearn.feature_extraction.text import TfidfVectorizer

        vec = TfidfVectorizer(analyzer=text_features, min_df=self.min_df, sublinear_tf=True)
        x = vec.fit_transform(text)
        estimators, thresholds = [], []
        for j in range(y.shape[1]):
            pos = int(y[:, j].sum())
            if pos < 2 or pos == len(y):
                estimators.append(None)
                thresholds.append(0.5 if self.threshold == "auto" else float(self.threshold))
                continue
            estimators.append(self._classifier().fit(x, y[:, j]))
            thresholds.append(self._auto_threshold(x, y[:, j]) if self.threshold == "auto" else float(self.threshold))
        return vec, estimators, np.array(thresholds)

    @staticmethod
    def _proba(vec, estimators, text: list[str]) -> np.ndarray:
        x = vec.transform(text)
        out = np.zeros((len(text), len(estimators)))
        for j, clf in enumerate(estimators):
            if clf is not None:
                out[:, j] = clf.predict_proba(x)[:, list(clf.classes_).index(True)]
        return out

    # ------------------------------------------------------------------ API

    def fit(self, segments: pd.DataFrame, codings: pd.DataFrame, *, coder: str | None = None,
            codes: Sequence[str] | None = None) -> "LearnedCoder":
        """Learn every code from one human coder's decisions.

        Parameters
        ----------
        segments : DataFrame
            Segments frame (``segment_id``, ``doc_id``, ``text``, optionally ``speaker_role``).
        codings : DataFrame
            Codings frame; only ``coder``'s rows are used.
        coder : str, optional
            The coder to learn from. Default: the only coder in ``codings``, else ``"gold"`` if
            present, else an error.
        codes : list of str, optional
            Codes to learn (default: every code the coder applied).

        Returns
        -------
        LearnedCoder
            ``self``, fitted.
        """
        self._check_params("fit")
        coder, units, text, code_list, y = self._training_data(segments, codings, coder, codes, "fit")
        vec, estimators, thresholds = self._fit_arrays(text, y)
        self.coder_ = coder
        self.codes_ = code_list
        self.classes_ = code_list
        self.n_positive_ = pd.Series(y.sum(axis=0).astype(int), index=pd.Index(code_list, name="code"),
                                     name="n_positive")
        self.thresholds_ = pd.Series(thresholds, index=pd.Index(code_list, name="code"), name="threshold")
        self.too_few_examples_ = [c for c, n in self.n_positive_.items() if n < self.min_positive]
        self.vectorizer_ = vec
        self.estimators_ = dict(zip(code_list, estimators))
        self.training_units_ = units
        return self

    def _usable(self) -> list[str]:
        return [c for c in self.codes_ if self.estimators_[c] is not None and c not in self.too_few_examples_]

    def predict_proba(self, segments: pd.DataFrame) -> pd.DataFrame:
        """Probability of every usable code for every eligible segment.

        Parameters
        ----------
        segments : DataFrame
            Segments frame (``segment_id``, ``text``; ``speaker_role`` filters the segments).

        Returns
        -------
        DataFrame
            ``segment_id``, ``code``, ``probability`` (one row per segment × code, codes flagged
            ``too_few_examples`` left out), in segment order then code order.
        """
        self._check_fitted("predict_proba")
        segments = check_frame(segments, arg="segments", func="LearnedCoder.predict_proba",
                               required=("segment_id", "text"), allow_empty=True)
        seg = self._eligible(segments)
        codes = self._usable()
        ids = seg["segment_id"].astype(str).to_numpy()
        if len(seg) == 0 or not codes:
            return pd.DataFrame({"segment_id": pd.Series(dtype=object), "code": pd.Series(dtype=object),
                                 "probability": pd.Series(dtype=float)})
        p = self._proba(self.vectorizer_, [self.estimators_[c] for c in codes],
                        seg["text"].fillna("").astype(str).tolist())
        return pd.DataFrame({
            "segment_id": np.repeat(ids, len(codes)),
            "code": np.tile(np.array(codes, dtype=object), len(ids)),
            "probability": p.ravel(),
        })

    def predict(self, segments: pd.DataFrame) -> pd.DataFrame:
        """Apply every code whose probability reaches its threshold (:attr:`thresholds_`).

        Returns
        -------
        DataFrame
            A codings frame: ``segment_id``, ``code``, ``coder`` (``name``), ``origin``
            (``"model"``), ``memo`` (empty), ``confidence`` (the probability).
        """
        self._check_fitted("predict")
        proba = self.predict_proba(segments)
        hit = proba[proba["probability"] >= proba["code"].map(self.thresholds_).to_numpy()]
        return pd.DataFrame({
            "segment_id": hit["segment_id"].to_numpy(), "code": hit["code"].to_numpy(),
            "coder": self.name, "origin": "model", "memo": pd.NA,
            "confidence": hit["probability"].to_numpy(),
        }).reset_index(drop=True)

    def suggest(self, segments: pd.DataFrame, top: int = 3, *, min_probability: float | None = None) -> pd.DataFrame:
        """Up to ``top`` code suggestions per segment, most probable first.

        Parameters
        ----------
        segments : DataFrame
            Segments to suggest codes for.
        top : int, default 3
            At most this many suggestions per segment.
        min_probability : float, optional
            Suggest only codes at least this probable (default: each code's threshold,
            :attr:`thresholds_`).

        Returns
        -------
        DataFrame
            ``segment_id``, ``code``, ``probability``, ``rank`` (1 = most probable),
            ``origin`` (``"model"``: a suggestion until a person accepts it), ``confidence`` (the
            probability again, under its codings-frame name, so the frame can be passed straight
            to ``CodingSession(..., suggestions=...)``, which shows it as pre-filled suggestions).
        """
        self._check_fitted("suggest")
        if not (isinstance(top, (int, np.integer)) and top >= 1):
            raise JourneylabError(f"LearnedCoder.suggest(): `top` must be a whole number ≥ 1; got {top!r}.")
        proba = self.predict_proba(segments)
        floor = proba["code"].map(self.thresholds_).to_numpy() if min_probability is None else min_probability
        proba = proba[proba["probability"] >= floor]
        proba = proba.assign(_o=np.arange(len(proba)))
        proba = proba.sort_values(["segment_id", "probability", "_o"], ascending=[True, False, True], kind="stable")
        proba["rank"] = proba.groupby("segment_id", sort=False).cumcount() + 1
        proba = proba[proba["rank"] <= top]
        order = {s: i for i, s in enumerate(self._eligible(segments)["segment_id"].astype(str))}
        proba = proba.assign(_s=proba["segment_id"].map(order)).sort_values(["_s", "rank"])
        out = proba[["segment_id", "code", "probability", "rank"]].reset_index(drop=True)
        out["rank"] = out["rank"].astype(int)
        out["origin"] = "model"
        out["confidence"] = out["probability"]
        return out

    def cross_validate(self, segments: pd.DataFrame, codings: pd.DataFrame, *, coder: str | None = None,
                       codes: Sequence[str] | None = None, cv: int = 5, groups: str | None = None) -> pd.DataFrame:
        """How far the learned coder agrees with held-out human coding, per code.

        The model (features included) is refitted on each training fold and predicts the
        held-out fold; the out-of-fold predictions of all folds are then compared with the human
        decisions.

        Parameters
        ----------
        segments, codings, coder, codes
            As in :meth:`fit`.
        cv : int, default 5
            Number of folds (at least 2).
        groups : str, optional
            A column of ``segments`` (e.g. ``"doc_id"``) whose values must not be split across
            folds. Grouping by interview measures how well the model codes *new* interviews;
            without it, folds are shuffled segments (seeded by ``random_state``), which is
            somewhat optimistic because turns of one interview resemble each other.

        Returns
        -------
        DataFrame
            One row per code, then ``"(overall)"`` (pooled over codes not flagged):

            - ``code``
            - ``n_units``: segments compared.
            - ``n_positive``: human positives.
            - ``n_predicted``: out-of-fold positive predictions.
            - ``cohen_kappa``: Cohen's kappa, predictions vs. human coding (pooled kappa of
              De Vries et al. 2008 in the overall row).
            - ``precision``, ``recall``: of the predictions (NaN when undefined).
            - ``interpretation``: Landis & Koch (1977) band of the kappa.
            - ``too_few_examples``: fewer than ``min_positive`` human positives; do not use the
              model for this code yet.

        Notes
        -----
        Flagged codes are still evaluated (their kappa is usually poor), so the table shows what
        more coding would buy. A fold in which a code has fewer than two positives predicts
        "absent" for it.
        """
        self._check_params("cross_validate")
        if not (isinstance(cv, (int, np.integer)) and cv >= 2):
            raise JourneylabError(f"LearnedCoder.cross_validate(): `cv` must be a whole number ≥ 2; got {cv!r}.")
        coder, units, text, code_list, y = self._training_data(segments, codings, coder, codes, "cross_validate")
        n = len(units)
        if groups is not None:
            if groups not in segments.columns:
                raise JourneylabError(f"LearnedCoder.cross_validate(): `groups` column {groups!r} not in `segments`; "
                                      f"found: {', '.join(map(str, segments.columns))}.")
            g = segments.assign(segment_id=segments["segment_id"].astype(str)).drop_duplicates("segment_id")
            g = g.set_index("segment_id").loc[units, groups].astype(str).to_numpy()
            n_groups = len(set(g))
            if n_groups < cv:
                raise JourneylabError(
                    f"LearnedCoder.cross_validate(): {n_groups} distinct {groups!r} values among the training "
                    f"segments, fewer than cv={cv}; lower cv to at most {n_groups} or drop `groups`."
                )
            # lazy: scikit-learn adds ~1.2 s to `import journeylab` (measured; docs/architecture.md)
            from sklearn.model_selection import GroupKFold

            splits = GroupKFold(n_splits=cv).split(np.zeros(n), groups=g)
        else:
            if n < cv:
                raise JourneylabError(f"LearnedCoder.cross_validate(): only {n} training segments for cv={cv} folds.")
            # lazy: scikit-learn adds ~1.2 s to `import journeylab` (measured; docs/architecture.md)
            from sklearn.model_selection import KFold

            splits = KFold(n_splits=cv, shuffle=True, random_state=self.random_state).split(np.zeros(n))
        pred = np.zeros_like(y)
        text_arr = np.array(text, dtype=object)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            for train, test in splits:
                vec, est, cut = self._fit_arrays(text_arr[train].tolist(), y[train])
                pred[test] = self._proba(vec, est, text_arr[test].tolist()) >= cut[None, :]
        rows = []
        po, pe, flagged = [], [], []
        for j, code in enumerate(code_list):
            yt, yp = y[:, j], pred[:, j]
            tp = int(np.sum(yt & yp))
            kappa = _kappa_2x2(yt, yp)
            few = int(yt.sum()) < self.min_positive
            rows.append({
                "code": code, "n_units": n, "n_positive": int(yt.sum()), "n_predicted": int(yp.sum()),
                "cohen_kappa": kappa,
                "precision": tp / yp.sum() if yp.sum() else float("nan"),
                "recall": tp / yt.sum() if yt.sum() else float("nan"),
                "interpretation": landis_koch(kappa), "too_few_examples": few,
            })
            if not few:
                p1, p2 = yt.mean(), yp.mean()
                po.append(np.mean(yt == yp))
                pe.append(p1 * p2 + (1 - p1) * (1 - p2))
            flagged.append(few)
        if po:
            po_bar, pe_bar = float(np.mean(po)), float(np.mean(pe))
            pooled = float("nan") if math.isclose(pe_bar, 1.0) else (po_bar - pe_bar) / (1 - pe_bar)
        else:
            pooled = float("nan")
        ok = ~np.array(flagged, dtype=bool) if flagged else np.array([], dtype=bool)
        yt_ok, yp_ok = y[:, ok], pred[:, ok]
        rows.append({
            "code": OVERALL, "n_units": n, "n_positive": int(yt_ok.sum()), "n_predicted": int(yp_ok.sum()),
            "cohen_kappa": pooled,
            "precision": float((yt_ok & yp_ok).sum() / yp_ok.sum()) if yp_ok.sum() else float("nan"),
            "recall": float((yt_ok & yp_ok).sum() / yt_ok.sum()) if yt_ok.sum() else float("nan"),
            "interpretation": landis_koch(pooled), "too_few_examples": not bool(ok.any()),
        })
        return pd.DataFrame(rows, columns=["code", "n_units", "n_positive", "n_predicted", "cohen_kappa",
                                           "precision", "recall", "interpretation", "too_few_examples"])

    def next_to_code(self, segments: pd.DataFrame, n: int = 10, *, codings: pd.DataFrame | None = None) -> pd.DataFrame:
        """Active learning: the uncoded segments the model is least sure about.

        Parameters
        ----------
        segments : DataFrame
            Segments frame; eligible segments not among the training units (and not in
            ``codings``, if given) are candidates.
        n : int, default 10
            How many to propose.
        codings : DataFrame, optional
            Codings made since fitting; their segments are excluded too.

        Returns
        -------
        DataFrame
            ``segment_id``, ``doc_id``, ``participant_id``, ``text``, ``code`` (the code it is
            least sure about), ``probability`` (of that code), ``uncertainty`` (see Notes; 1 = on
            the decision boundary), most uncertain first (ties: segment order).

        Notes
        -----
        Uncertainty sampling (Lewis & Gale 1994): coding the segments nearest the decision
        boundary teaches the model most per segment coded. For a code with threshold *t* and
        probability *p*, uncertainty is :math:`1 - |p - t| / \\max(t, 1 - t)`; with *t* = 0.5 this
        is :math:`2 \\min(p, 1 - p)`. A segment's uncertainty is the maximum over usable codes.

        Lewis, D. D., & Gale, W. A. (1994). A sequential algorithm for training text classifiers.
        *SIGIR '94*, 3–12.
        """
        self._check_fitted("next_to_code")
        if not (isinstance(n, (int, np.integer)) and n >= 1):
            raise JourneylabError(f"LearnedCoder.next_to_code(): `n` must be a whole number ≥ 1; got {n!r}.")
        segments = check_frame(segments, arg="segments", func="LearnedCoder.next_to_code",
                               required=("segment_id", "text"))
        done = set(self.training_units_)
        if codings is not None:
            done |= set(check_frame(codings, arg="codings", func="LearnedCoder.next_to_code",
                                    required=("segment_id",), allow_empty=True)["segment_id"].astype(str))
        seg = self._eligible(segments)
        seg = seg[~seg["segment_id"].astype(str).isin(done).to_numpy()]
        columns = ["segment_id", "doc_id", "participant_id", "text", "code", "probability", "uncertainty"]
        proba = self.predict_proba(seg)
        if len(proba) == 0:
            return pd.DataFrame(columns=columns)
        t = proba["code"].map(self.thresholds_).to_numpy()
        proba["uncertainty"] = 1 - np.abs(proba["probability"].to_numpy() - t) / np.maximum(t, 1 - t)
        proba["_o"] = np.arange(len(proba))
        best = proba.sort_values(["uncertainty", "_o"], ascending=[False, True]).drop_duplicates("segment_id")
        best = best.head(n)
        info = (seg.assign(segment_id=seg["segment_id"].astype(str)).drop_duplicates("segment_id")
                .set_index("segment_id"))
        out = best[["segment_id", "code", "probability", "uncertainty"]].reset_index(drop=True)
        for c in ("doc_id", "participant_id", "text"):
            out[c] = info[c].reindex(out["segment_id"]).to_numpy() if c in info.columns else pd.NA
        return out[columns]

    # ------------------------------------------------------------------ display

    def __repr__(self) -> str:
        params = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        if not hasattr(self, "estimators_"):
            return f"LearnedCoder({params}) [not fitted]"
        return (f"LearnedCoder({params}) [fitted on coder {self.coder_!r}: {len(self.training_units_)} segments, "
                f"{len(self._usable())} of {len(self.codes_)} codes usable]")

    def _repr_html_(self) -> str:
        if not hasattr(self, "estimators_"):
            return f"<p>{html.escape(repr(self))}</p>"
        def status(c) -> str:
            if c in self.too_few_examples_:
                return "too few examples"
            return "no model" if self.estimators_[c] is None else "usable"

        rows = "".join(
            f"<tr><td>{html.escape(c)}</td><td>{int(self.n_positive_[c])}</td><td>{status(c)}</td></tr>"
            for c in self.codes_)
        return (f"<p>LearnedCoder fitted on coder <b>{html.escape(self.coder_)}</b> "
                f"({len(self.training_units_)} segments)</p><table><thead><tr><th>code</th><th>positives</th>"
                f"<th>status</th></tr></thead><tbody>{rows}</tbody></table>")
