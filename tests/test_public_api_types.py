"""Every public function fed a wrong type (and an empty frame where a frame is expected) raises a
JourneylabError naming the argument (issue 10, section 2).

The public names are enumerated from the ``journeylab`` namespace; each must have a row in ROWS
or a reason in EXEMPT / PENDING, so a new public function without a row fails
``test_every_public_name_has_a_row``.
"""
from __future__ import annotations

import inspect
import types
from pathlib import Path

import pandas as pd
import pytest

import journeylab as jl
from journeylab.errors import JourneylabError

WRONG = ["not a path", 7, 3.5, None, ["a", "list"]]
WRONG_FRAME = WRONG + [pd.DataFrame()]          # an empty frame without columns: missing columns
WRONG_PATH = [3.5, None, ["a", "list"], ""]
WRONG_NUMBER = ["0.1", None, ["a", "list"], pd.DataFrame()]
WRONG_KW = ["a string", ["a", "list"]]            # a frame keyword given something else

# Small valid frames for the rest of each call: every check runs at entry, before any work.
SEG = pd.DataFrame({
    "segment_id": ["d1-1", "d1-2"], "doc_id": ["d1", "d1"], "participant_id": ["p1", "p1"],
    "speaker": ["P1", "P1"], "speaker_role": ["participant", "participant"], "turn": [1, 2],
    "start": [0, 20], "end": [19, 40], "text": ["The delivery was late", "Checkout was easy enough"],
})
COD = pd.DataFrame({"segment_id": ["d1-1", "d1-2"], "code": ["late", "easy"], "coder": ["ann", "bob"],
                    "origin": ["manual", "manual"], "memo": ["", ""]})
EV = pd.DataFrame({"user_id": ["u1", "u1"], "timestamp": pd.to_datetime(["2024-01-01", "2024-01-02"]),
                   "event": ["view", "buy"], "session_id": ["s1", "s1"], "variant": ["a", "a"]})
SENT = pd.DataFrame({"segment_id": ["d1-1", "d1-2"], "neg": [0.5, 0.0], "neu": [0.5, 0.6], "pos": [0.0, 0.4],
                     "compound": [-0.4, 0.5], "label": ["negative", "positive"]})
SURVEY = pd.DataFrame({"respondent_id": ["r1", "r2"], "nps": [9, 3], "comment": ["good", "bad"]})
EVID = pd.DataFrame({"claim_id": ["c1"], "code": ["late"], "stage": ["delivery"], "kind": ["pain_point"],
                     "persona": ["all"], "grade": ["strong"], "n_participants": [1]})
STAGES = {"late": "delivery", "easy": "delivery"}
CB = jl.Codebook([jl.Code("late"), jl.Code("easy")])


def _study():
    # An unfilled Study: the checks of the other arguments run before the study is read.
    return object.__new__(jl.Study)


def _store():
    import tempfile

    return str(Path(tempfile.mkdtemp(prefix="jl-types-")) / "codings.db")


# name -> (call taking the bad value, the argument its message must name, bad values)
ROWS = {
    "read_transcript": (lambda v: jl.read_transcript(v), "path", WRONG_PATH),
    "read_document": (lambda v: jl.read_document(v), "path", WRONG_PATH),
    "load_study": (lambda v: jl.load_study(v), "path", WRONG_PATH),
    "validate_study": (lambda v: jl.validate_study(v), "path", WRONG_PATH),
    "import_qdpx": (lambda v: jl.import_qdpx(v), "path", WRONG_PATH),
    "import_taguette": (lambda v: jl.import_taguette(v), "path", WRONG_PATH),
    "read_codings": (lambda v: jl.read_codings(v), "path", WRONG_PATH),
    "CodingStore": (lambda v: jl.CodingStore(v), "path", WRONG_PATH),
    "load_notes": (lambda v: jl.load_notes(v), "source", [3.5, ["a", "list"], pd.DataFrame(), ""]),  # None: no notes
    "load_lexicon": (lambda v: jl.load_lexicon(v), "source", [3.5, 7, ["a", "list"], ""]),  # None: no terms, {}
    "export_qdpx": (lambda v: jl.export_qdpx(v, COD, "out.qdpx"), "study", WRONG),
    "redact": (lambda v: jl.redact(v), "segments", WRONG_FRAME),
    "redact_text": (lambda v: jl.redact_text(v), "text", [3.5, 7, None, ["a", "list"], pd.DataFrame()]),
    "split_sentences": (lambda v: jl.split_sentences(v), "text", [3.5, 7, None, ["a", "list"], pd.DataFrame()]),
    "Codebook": (lambda v: jl.Codebook(v), "codes", ["not a code", 7, 3.5, ["a", "list"], pd.DataFrame()]),
    "autocode": (lambda v: jl.autocode(v, CB), "segments", WRONG_FRAME),
    "CodingSession": (lambda v: jl.CodingSession(v, CB, _store(), "ann"), "segments", WRONG_FRAME),
    "code_frequencies": (lambda v: jl.code_frequencies(v, SEG), "codings", WRONG_FRAME),
    "co_occurrence": (lambda v: jl.co_occurrence(v, SEG), "codings", WRONG_FRAME),
    "exemplar_quotes": (lambda v: jl.exemplar_quotes(v, SEG), "codings", WRONG_FRAME),
    "saturation": (lambda v: jl.saturation(v, SEG), "codings", WRONG_FRAME),
    "suggest_codes": (lambda v: jl.suggest_codes(v, COD), "segments", WRONG_FRAME),
    "evaluate_codings": (lambda v: jl.evaluate_codings(v, COD, SEG), "predicted", WRONG_FRAME),
    "plot_saturation": (lambda v: jl.plot_saturation(v), "sat", WRONG_FRAME),
    "plot_co_occurrence": (lambda v: jl.plot_co_occurrence(v), "co", WRONG_FRAME),
    # a list of texts is valid; a single str is refused (a list of its characters is never meant)
    "sentiment": (lambda v: jl.sentiment(v), "data", ["one text", 3.5, 7, None, pd.DataFrame()]),
    "sentiment_terms": (lambda v: jl.sentiment_terms(v), "data", ["one text", 3.5, 7, None, pd.DataFrame()]),
    "code_sentiment": (lambda v: jl.code_sentiment(v, COD, SEG), "sentiment_frame", WRONG_FRAME),
    "emotion_curve": (lambda v: jl.emotion_curve(v, SEG, COD, stages=["delivery"], code_stages=STAGES),
                      "sentiment_frame", WRONG_FRAME),
    "plot_emotion_curve": (lambda v: jl.plot_emotion_curve(v), "curve", WRONG_FRAME),
    "sentiment_vs_scores": (lambda v: jl.sentiment_vs_scores(v, SURVEY), "sentiment_frame", WRONG_FRAME),
    "nps": (lambda v: jl.nps(v), "survey", WRONG_FRAME),
    "csat": (lambda v: jl.csat(v), "survey", WRONG_FRAME),
    "agreement": (lambda v: jl.agreement(v), "codings", WRONG_FRAME),
    "krippendorff_alpha": (lambda v: jl.krippendorff_alpha(v), "data", ["not a matrix", 7, 3.5, None, pd.DataFrame()]),
    "coder_pair": (lambda v: jl.coder_pair(v), "codings", WRONG_FRAME),
    "disagreements": (lambda v: jl.disagreements(v, SEG), "codings", WRONG_FRAME),
    "compare_coders": (lambda v: jl.compare_coders(v, SEG), "codings", WRONG_FRAME),
    "merge_codings": (lambda v: jl.merge_codings(v), "sources", [7, 3.5, None, ["a", "list"], ""]),
    "LearnedCoder": (lambda v: jl.LearnedCoder().fit(v, COD), "segments", WRONG_FRAME),
    "ReconcileSession": (lambda v: jl.ReconcileSession(v, segments=SEG), "data", WRONG_FRAME),
    "funnel": (lambda v: jl.funnel(v, steps=["view", "buy"]), "events", WRONG_FRAME),
    "plot_funnel": (lambda v: jl.plot_funnel(v), "result", WRONG_FRAME),
    "funnel_paths": (lambda v: jl.funnel_paths(v, from_step="view", to_step="buy"), "events", WRONG_FRAME),
    "time_to_convert": (lambda v: jl.time_to_convert(v, steps=["view", "buy"]), "events", WRONG_FRAME),
    "compare_periods": (lambda v: jl.compare_periods(v, steps=["view", "buy"], change_date="2024-01-02"), "events",
                        WRONG_FRAME),
    "change_design": (lambda v: jl.change_design(v), "study", WRONG_FRAME),
    "read_events_parquet": (lambda v: jl.read_events_parquet(v, "events.parquet"), "study", WRONG_FRAME),
    "ab_test": (lambda v: jl.ab_test(v, steps=["view", "buy"]), "events", WRONG_FRAME),
    "compare_rates": (lambda v: jl.compare_rates(v, 100, 12, 100), "conversions_control", WRONG_NUMBER),
    "sample_size": (lambda v: jl.sample_size(v, lift=0.1), "baseline", WRONG_NUMBER),
    "minimum_detectable_effect": (lambda v: jl.minimum_detectable_effect(v, n_control=1000), "baseline",
                                  WRONG_NUMBER),
    "key_drivers": (lambda v: jl.key_drivers(v), "data", WRONG_FRAME),
    "plot_drivers": (lambda v: jl.plot_drivers(v), "result", WRONG_FRAME),
    "evidence_table": (lambda v: jl.evidence_table(v, COD), "study", WRONG),
    "GradingRules": (lambda v: jl.GradingRules(v), "min_participants", ["3", None, ["a", "list"]]),
    "grade_claims": (lambda v: jl.grade_claims(v), "evidence", WRONG_FRAME),
    "touchpoint_metrics": (lambda v: jl.touchpoint_metrics(v), "study", WRONG),
    "theme_nps": (lambda v: jl.theme_nps(v, COD), "survey", WRONG_FRAME),
    "study_between": (lambda v: jl.study_between(v, "2024-01-01"), "study", WRONG),
    "JourneyMap": (lambda v: jl.JourneyMap.build(v, EVID), "study", WRONG),
    "compare_maps": (lambda v: jl.compare_maps(v, jl.JourneyMap()), "old", WRONG_FRAME),
    "compare_personas": (lambda v: jl.compare_personas(v), "maps", WRONG_FRAME),
    "prioritise": (lambda v: jl.prioritise(v), "evidence", WRONG_FRAME),
    "plot_evidence": (lambda v: jl.plot_evidence(v), "evidence", WRONG_FRAME),
    "plot_map": (lambda v: jl.plot_map(v), "jmap", WRONG_FRAME),
    "save_map": (lambda v: jl.save_map(v, "map.png"), "jmap_or_fig", WRONG_FRAME),
}

# Frame (and other object) keyword arguments: (name, argument, call taking the bad value).
# Each gets WRONG_KW; the message must name the argument.
KEYWORD_ROWS = [
    ("autocode", "codebook", lambda v: jl.autocode(SEG, v)),
    ("code_frequencies", "segments", lambda v: jl.code_frequencies(COD, v)),
    ("code_frequencies", "participants", lambda v: jl.code_frequencies(COD, SEG, v, coder="any")),
    ("co_occurrence", "segments", lambda v: jl.co_occurrence(COD, v)),
    ("exemplar_quotes", "segments", lambda v: jl.exemplar_quotes(COD, v)),
    ("saturation", "segments", lambda v: jl.saturation(COD, v)),
    ("suggest_codes", "codings", lambda v: jl.suggest_codes(SEG, v)),
    ("evaluate_codings", "reference", lambda v: jl.evaluate_codings(COD, v, SEG)),
    ("evaluate_codings", "segments", lambda v: jl.evaluate_codings(COD, COD, v)),
    ("CodingSession", "participants", lambda v: jl.CodingSession(SEG, CB, _store(), "ann", participants=v)),
    ("code_sentiment", "codings", lambda v: jl.code_sentiment(SENT, v, SEG)),
    ("code_sentiment", "segments", lambda v: jl.code_sentiment(SENT, COD, v)),
    ("emotion_curve", "segments", lambda v: jl.emotion_curve(SENT, v, COD, stages=["delivery"], code_stages=STAGES)),
    ("emotion_curve", "codings", lambda v: jl.emotion_curve(SENT, SEG, v, stages=["delivery"], code_stages=STAGES)),
    ("emotion_curve", "participants",
     lambda v: jl.emotion_curve(SENT, SEG, COD, stages=["delivery"], code_stages=STAGES, participants=v)),
    ("sentiment_vs_scores", "survey", lambda v: jl.sentiment_vs_scores(SENT.assign(respondent_id=["r1", "r2"]), v)),
    ("agreement", "segments", lambda v: jl.agreement(COD, segments=v)),
    ("coder_pair", "segments", lambda v: jl.coder_pair(COD, v)),
    ("disagreements", "segments", lambda v: jl.disagreements(COD, v)),
    ("compare_coders", "segments", lambda v: jl.compare_coders(COD, v)),
    ("LearnedCoder", "codings", lambda v: jl.LearnedCoder().fit(SEG, v)),
    ("ReconcileSession", "segments", lambda v: jl.ReconcileSession(COD, segments=v)),
    ("theme_nps", "comment_codings", lambda v: jl.theme_nps(SURVEY, v)),
    ("evidence_table", "codings", lambda v: jl.evidence_table(_study(), v)),
    ("evidence_table", "sentiment", lambda v: jl.evidence_table(_study(), COD, sentiment=v)),
    ("export_qdpx", "codings", lambda v: jl.export_qdpx(_study(), v, "out.qdpx")),
    ("JourneyMap", "evidence", lambda v: jl.JourneyMap.build(_study(), v)),
    ("compare_maps", "new", lambda v: jl.compare_maps(jl.JourneyMap(), v)),
]

# Not functions of data, or not callable with one argument by design.
EXEMPT = {
    "Code": "a dataclass of one code (validated by Codebook)",
    "Study": "a dataclass built by load_study/import_*; not constructed by users",
    "FunnelResult": "a result container returned by funnel()",
    "KeyDrivers": "a result container returned by key_drivers()",
    "ChangeDesign": "a result container returned by change_design()",
    "CoderPair": "a result container returned by coder_pair()",
}

# Public names whose wrong-type rows are not written yet.
PENDING: set = set()


def _public_names() -> list[str]:
    def exception(obj):  # error classes are not functions of data
        return inspect.isclass(obj) and issubclass(obj, BaseException)

    return sorted(n for n in dir(jl) if not n.startswith("_") and callable(getattr(jl, n))
                  and not isinstance(getattr(jl, n), types.ModuleType) and not exception(getattr(jl, n)))


def test_every_public_name_has_a_row():
    names = set(_public_names())
    missing = names - set(ROWS) - set(EXEMPT) - PENDING
    assert not missing, f"public names without a row in tests/test_public_api_types.py: {sorted(missing)}"
    stale = (set(ROWS) | set(EXEMPT) | PENDING) - names
    assert not stale, f"rows for names that are no longer public: {sorted(stale)}"
    assert not (set(ROWS) & PENDING), "a name with a row is no longer pending"


@pytest.mark.parametrize("name, value", [(n, v) for n, (_, _, vals) in ROWS.items() for v in vals],
                         ids=lambda x: x if isinstance(x, str) else type(x).__name__)
def test_wrong_type_of_first_argument_is_a_journeylab_error_naming_it(name, value):
    call, arg, _ = ROWS[name]
    with pytest.raises(JourneylabError) as info:
        call(value)
    message = str(info.value)
    assert name in message or arg in message, message
    if arg:
        assert f"`{arg}`" in message, f"{name}(): message does not name `{arg}`: {message}"
    assert inspect.isfunction(getattr(jl, name)) or inspect.isclass(getattr(jl, name))


@pytest.mark.parametrize("name, arg, value", [(n, a, v) for n, a, _ in KEYWORD_ROWS for v in WRONG_KW],
                         ids=lambda x: x if isinstance(x, str) else type(x).__name__)
def test_wrong_type_of_a_frame_keyword_is_a_journeylab_error_naming_it(name, arg, value):
    call = next(c for n, a, c in KEYWORD_ROWS if (n, a) == (name, arg))
    with pytest.raises(JourneylabError, match=f"`{arg}`"):
        call(value)
