"""Every public function fed a wrong type (and an empty frame where a frame is expected) raises a
JourneylabError naming the argument (issue 10, section 2).

The public names are enumerated from the ``journeylab`` namespace; each must have a row in ROWS
or a reason in EXEMPT / PENDING, so a new public function without a row fails
``test_every_public_name_has_a_row``.

- ROWS: the first (data) argument given str, int, float, None, a list and a column-less frame.
- KEYWORD_ROWS: frame (and object) keyword arguments (``segments=``, ``participants=``, ...).
- EMPTY_RAISES / EMPTY_OK: an empty frame *with* the right columns either raises naming the
  argument, or, where empty input is legitimate, gives the documented empty result.

Every check runs at the function's entry, so the other arguments only need to be plausible:
small inline frames, and an unfilled ``Study`` where a study is not read before the check.
"""
from __future__ import annotations

import inspect
import tempfile
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
TASKS = pd.DataFrame({"participant_id": ["p1", "p2"], "task": ["T1", "T1"], "outcome": ["success", "failed"],
                      "time_s": [30.0, 45.0]})
SUS = pd.DataFrame({"respondent_id": ["r1", "r2"], **{f"q{k}": [3, 4] for k in range(1, 11)}})
SUS_SCORES = pd.DataFrame({"respondent_id": ["r1", "r2"], "sus": [50.0, 75.0]})
EVID = pd.DataFrame({"claim_id": ["c1"], "code": ["late"], "stage": ["delivery"], "kind": ["pain_point"],
                     "persona": ["all"], "grade": ["strong"], "n_participants": [1]})
STAGES = {"late": "delivery", "easy": "delivery"}
CB = jl.Codebook([jl.Code("late"), jl.Code("easy")])
KINDS = {"late": "pain_point", "easy": "delight"}
CURVE = pd.DataFrame({"stage": ["delivery"], "mean": [0.2], "ci_low": [0.1], "ci_high": [0.3]})
CODED = pd.DataFrame({"stage": ["delivery"], "balance": [-0.5], "ci_low": [-0.9], "ci_high": [-0.1]})
DOCS = pd.DataFrame({"doc_id": ["d1"], "text": ["The delivery was late. Checkout was easy enough"]})


def _study():
    # An unfilled Study: the checks of the other arguments run before the study is read.
    return object.__new__(jl.Study)


_STORE_DIR = tempfile.TemporaryDirectory(prefix="jl-types-")  # removed at exit; stays empty if checks hold


def _store():
    return str(Path(_STORE_DIR.name) / "codings.db")


# name -> (call taking the bad value, the argument its message must name, bad values)
ROWS = {
    "read_transcript": (lambda v: jl.read_transcript(v), "path", WRONG_PATH),
    "read_document": (lambda v: jl.read_document(v), "path", WRONG_PATH),
    "load_study": (lambda v: jl.load_study(v), "path", WRONG_PATH),
    "validate_study": (lambda v: jl.validate_study(v), "path", WRONG_PATH),
    "import_qdpx": (lambda v: jl.import_qdpx(v), "path", WRONG_PATH),
    "import_taguette": (lambda v: jl.import_taguette(v), "path", WRONG_PATH),
    "import_project": (lambda v: jl.import_project(v, out_dir=Path(_STORE_DIR.name) / "imported"), "source", WRONG_PATH),
    "participant_codings": (lambda v: jl.participant_codings(v, segments=SEG, what="a test"), "codings", WRONG_FRAME),
    "read_codings": (lambda v: jl.read_codings(v), "path", WRONG_PATH),
    "CodingStore": (lambda v: jl.CodingStore(v), "path", WRONG_PATH),
    "load_notes": (lambda v: jl.load_notes(v), "source", [3.5, ["a", "list"], pd.DataFrame(), ""]),  # None: no notes
    "load_lexicon": (lambda v: jl.load_lexicon(v), "source", [3.5, 7, ["a", "list"], ""]),  # None: no terms, {}
    "export_qdpx": (lambda v: jl.export_qdpx(v, codings=COD, path="out.qdpx"), "study", WRONG),
    "unitizing_alpha": (lambda v: jl.unitizing_alpha(v, documents=pd.DataFrame({"doc_id": ["d1"], "text": ["x"]})),
                        "codings", WRONG_FRAME),
    "fingerprint_codings": (lambda v: jl.fingerprint_codings(v, documents=pd.DataFrame({"doc_id": [], "text": []}),
                                                             segments=SEG), "codings", WRONG_FRAME),
    "redact": (lambda v: jl.redact(v), "segments", WRONG_FRAME),
    "redact_text": (lambda v: jl.redact_text(v), "text", [3.5, 7, None, ["a", "list"], pd.DataFrame()]),
    "redaction_review": (lambda v: jl.redaction_review(v), "study", WRONG + [pd.DataFrame()]),
    "redact_study": (lambda v: jl.redact_study(v), "study", WRONG + [pd.DataFrame()]),
    "split_sentences": (lambda v: jl.split_sentences(v), "text", [3.5, 7, None, ["a", "list"], pd.DataFrame()]),
    "Codebook": (lambda v: jl.Codebook(v), "codes", ["not a code", 7, 3.5, ["a", "list"], pd.DataFrame()]),
    "autocode": (lambda v: jl.autocode(v, codebook=CB), "segments", WRONG_FRAME),
    "CodingSession": (lambda v: jl.CodingSession(v, codebook=CB, store=_store(), coder="ann"), "segments", WRONG_FRAME),
    "SpanCodingSession": (lambda v: jl.SpanCodingSession(v, documents=DOCS, codebook=CB, store=_store(), coder="ann"),
                          "segments", WRONG_FRAME),
    "code_frequencies": (lambda v: jl.code_frequencies(v, segments=SEG), "codings", WRONG_FRAME),
    "co_occurrence": (lambda v: jl.co_occurrence(v, segments=SEG), "codings", WRONG_FRAME),
    "exemplar_quotes": (lambda v: jl.exemplar_quotes(v, segments=SEG), "codings", WRONG_FRAME),
    "saturation": (lambda v: jl.saturation(v, segments=SEG), "codings", WRONG_FRAME),
    "suggest_codes": (lambda v: jl.suggest_codes(v, segments=SEG), "codings", WRONG_FRAME),
    "evaluate_codings": (lambda v: jl.evaluate_codings(v, reference=COD, segments=SEG), "predicted", WRONG_FRAME),
    "plot_saturation": (lambda v: jl.plot_saturation(v), "sat", WRONG_FRAME),
    "plot_co_occurrence": (lambda v: jl.plot_co_occurrence(v), "co", WRONG_FRAME),
    # a list of texts is valid; a single str is refused (a list of its characters is never meant)
    "sentiment": (lambda v: jl.sentiment(v), "data", ["one text", 3.5, 7, None, pd.DataFrame()]),
    "sentiment_terms": (lambda v: jl.sentiment_terms(v), "data", ["one text", 3.5, 7, None, pd.DataFrame()]),
    "code_sentiment": (lambda v: jl.code_sentiment(v, sentiment=SENT, segments=SEG), "codings", WRONG_FRAME),
    "emotion_curve": (lambda v: jl.emotion_curve(v, segments=SEG, codings=COD, stages=["delivery"], code_stages=STAGES),
                      "sentiment_frame", WRONG_FRAME),
    "plot_emotion_curve": (lambda v: jl.plot_emotion_curve(v), "curve", WRONG_FRAME),
    "coded_emotion": (lambda v: jl.coded_emotion(v, segments=SEG, stages=["delivery"], code_kinds=KINDS,
                                                 code_stages=STAGES), "codings", WRONG_FRAME),
    "compare_emotion": (lambda v: jl.compare_emotion(v, coded=CODED), "curve", WRONG_FRAME),
    "sentiment_vs_scores": (lambda v: jl.sentiment_vs_scores(v, survey=SURVEY), "sentiment_frame", WRONG_FRAME),
    "nps": (lambda v: jl.nps(v), "survey", WRONG_FRAME),
    "csat": (lambda v: jl.csat(v), "survey", WRONG_FRAME),
    "task_metrics": (lambda v: jl.task_metrics(v), "tasks", WRONG_FRAME),
    "score_questionnaire": (lambda v: jl.score_questionnaire(v, instrument="sus"), "responses", WRONG_FRAME),
    "questionnaire_summary": (lambda v: jl.questionnaire_summary(v, instrument="sus"), "scores", WRONG_FRAME),
    "questionnaire_comments": (lambda v: jl.questionnaire_comments(v, instrument="sus"), "responses", WRONG_FRAME),
    # a number or a list of numbers is valid
    "sus_grade": (lambda v: jl.sus_grade(v), "scores", ["not a score", None, ["a", "list"], pd.DataFrame()]),
    "agreement": (lambda v: jl.agreement(v), "codings", WRONG_FRAME),
    "krippendorff_alpha": (lambda v: jl.krippendorff_alpha(v), "data", ["not a matrix", 7, 3.5, None, pd.DataFrame()]),
    "coder_pair": (lambda v: jl.coder_pair(v), "codings", WRONG_FRAME),
    "disagreements": (lambda v: jl.disagreements(v, segments=SEG), "codings", WRONG_FRAME),
    "compare_coders": (lambda v: jl.compare_coders(v, segments=SEG), "codings", WRONG_FRAME),
    "merge_codings": (lambda v: jl.merge_codings(v), "sources", [7, 3.5, None, ["a", "list"], ""]),
    "merge_report": (lambda v: jl.merge_report(v), "sources", [7, 3.5, None, ["a", "list"], ""]),
    "LearnedCoder": (lambda v: jl.LearnedCoder().fit(v, COD), "segments", WRONG_FRAME),
    "ReconcileSession": (lambda v: jl.ReconcileSession(v, segments=SEG), "data", WRONG_FRAME),
    "funnel": (lambda v: jl.funnel(v, steps=["view", "buy"]), "events", WRONG_FRAME),
    "plot_funnel": (lambda v: jl.plot_funnel(v), "result", WRONG_FRAME),
    "plot_agreement": (lambda v: jl.plot_agreement(v), "table", WRONG_FRAME),
    "qdpx_contents": (lambda v: jl.qdpx_contents(v), "path", WRONG_PATH),
    "verify_qdpx_round_trip": (lambda v: jl.verify_qdpx_round_trip(v, path="out.qdpx"), "study", WRONG),
    "write_taguette_codebook": (lambda v: jl.write_taguette_codebook(v, path="never.csv"), "codebook", WRONG),
    "funnel_paths": (lambda v: jl.funnel_paths(v, from_step="view", to_step="buy"), "events", WRONG_FRAME),
    "time_to_convert": (lambda v: jl.time_to_convert(v, steps=["view", "buy"]), "events", WRONG_FRAME),
    "compare_periods": (lambda v: jl.compare_periods(v, steps=["view", "buy"], change_date="2024-01-02"), "events",
                        WRONG_FRAME),
    "change_design": (lambda v: jl.change_design(v), "study", WRONG_FRAME),
    "study_part": (lambda v: jl.study_part(v, part="survey"), "study", WRONG_FRAME),
    "section": (lambda v: jl.section(v, key="05.nps"), "study", WRONG_FRAME),
    "section_plan": (lambda v: jl.section_plan(v), "study", WRONG_FRAME),
    "event_property": (lambda v: jl.event_property(v), "study", WRONG_FRAME),
    "taguette_reference": (lambda v: jl.taguette_reference(v), "study", WRONG_FRAME),
    "lexicon_file": (lambda v: jl.lexicon_file(v), "study", WRONG_FRAME),
    "analysis_codings": (lambda v: jl.analysis_codings(v), "study", WRONG_FRAME),
    "study_sentiment": (lambda v: jl.study_sentiment(v), "study", WRONG_FRAME),
    # a column-less frame is a legitimate (empty) CSV, so not WRONG_FRAME
    "write_csv": (lambda v: jl.write_csv(v, path=Path(_STORE_DIR.name) / "never.csv"), "frame", WRONG),
    "read_events_parquet": (lambda v: jl.read_events_parquet(v, path="events.parquet"), "study", WRONG_FRAME),
    "ab_test": (lambda v: jl.ab_test(v, steps=["view", "buy"]), "events", WRONG_FRAME),
    "compare_rates": (lambda v: jl.compare_rates(conversions_control=v, n_control=100, conversions_treatment=12, n_treatment=100), "conversions_control", WRONG_NUMBER),
    "sample_size": (lambda v: jl.sample_size(v, lift=0.1), "baseline", WRONG_NUMBER),
    "minimum_detectable_effect": (lambda v: jl.minimum_detectable_effect(v, n_control=1000), "baseline",
                                  WRONG_NUMBER),
    "key_drivers": (lambda v: jl.key_drivers(v), "data", WRONG_FRAME),
    "plot_drivers": (lambda v: jl.plot_drivers(v), "result", WRONG_FRAME),
    "evidence_table": (lambda v: jl.evidence_table(v, codings=COD), "study", WRONG),
    "coding_stages": (lambda v: jl.coding_stages(v, codings=COD), "study", WRONG),
    "stage_reach": (lambda v: jl.stage_reach(v), "study", WRONG),
    "study_questionnaire": (lambda v: jl.study_questionnaire(v), "study", WRONG),
    "GradingRules": (lambda v: jl.GradingRules(v), "min_participants", ["3", None, ["a", "list"]]),
    "grade_claims": (lambda v: jl.grade_claims(v), "evidence", WRONG_FRAME),
    "touchpoint_metrics": (lambda v: jl.touchpoint_metrics(v), "study", WRONG),
    "theme_nps": (lambda v: jl.theme_nps(v, comment_codings=COD), "survey", WRONG_FRAME),
    "theme_csat": (lambda v: jl.theme_csat(v, comment_codings=COD, column="nps"), "survey", WRONG_FRAME),
    "study_between": (lambda v: jl.study_between(v, start="2024-01-01"), "study", WRONG),
    "study_targets": (lambda v: jl.study_targets(v), "study", WRONG),
    "questionnaire_signals": (lambda v: jl.questionnaire_signals(v), "summary", WRONG_FRAME),
    "JourneyMap": (lambda v: jl.JourneyMap.build(v, EVID), "study", WRONG),
    "compare_maps": (lambda v: jl.compare_maps(v, new=jl.JourneyMap()), "old", WRONG_FRAME),
    "compare_personas": (lambda v: jl.compare_personas(v), "maps", WRONG_FRAME),
    "prioritise": (lambda v: jl.prioritise(v), "evidence", WRONG_FRAME),
    "plot_evidence": (lambda v: jl.plot_evidence(v), "evidence", WRONG_FRAME),
    "plot_map": (lambda v: jl.plot_map(v), "jmap", WRONG_FRAME),
    "save_map": (lambda v: jl.save_map(v, path="map.png"), "jmap_or_fig", WRONG_FRAME),
}

# Frame (and other object) keyword arguments: (name, argument, call taking the bad value).
# Each gets WRONG_KW; the message must name the argument.
KEYWORD_ROWS = [
    ("autocode", "codebook", lambda v: jl.autocode(SEG, codebook=v)),
    ("code_frequencies", "segments", lambda v: jl.code_frequencies(COD, segments=v)),
    ("code_frequencies", "participants", lambda v: jl.code_frequencies(COD, segments=SEG, participants=v, coder="any")),
    ("co_occurrence", "segments", lambda v: jl.co_occurrence(COD, segments=v)),
    ("exemplar_quotes", "segments", lambda v: jl.exemplar_quotes(COD, segments=v)),
    ("saturation", "segments", lambda v: jl.saturation(COD, segments=v)),
    ("suggest_codes", "segments", lambda v: jl.suggest_codes(COD, segments=v)),
    ("evaluate_codings", "reference", lambda v: jl.evaluate_codings(COD, reference=v, segments=SEG)),
    ("evaluate_codings", "segments", lambda v: jl.evaluate_codings(COD, reference=COD, segments=v)),
    ("CodingSession", "participants", lambda v: jl.CodingSession(SEG, codebook=CB, store=_store(), coder="ann", participants=v)),
    ("SpanCodingSession", "documents", lambda v: jl.SpanCodingSession(SEG, documents=v, codebook=CB, store=_store(),
                                                                      coder="ann")),
    ("code_sentiment", "sentiment", lambda v: jl.code_sentiment(COD, sentiment=v, segments=SEG)),
    ("code_sentiment", "segments", lambda v: jl.code_sentiment(COD, sentiment=SENT, segments=v)),
    ("emotion_curve", "segments", lambda v: jl.emotion_curve(SENT, segments=v, codings=COD, stages=["delivery"], code_stages=STAGES)),
    ("emotion_curve", "codings", lambda v: jl.emotion_curve(SENT, segments=SEG, codings=v, stages=["delivery"], code_stages=STAGES)),
    ("coded_emotion", "segments",
     lambda v: jl.coded_emotion(COD, segments=v, stages=["delivery"], code_kinds=KINDS, code_stages=STAGES)),
    ("compare_emotion", "coded", lambda v: jl.compare_emotion(CURVE, coded=v)),
    ("emotion_curve", "participants",
     lambda v: jl.emotion_curve(SENT, segments=SEG, codings=COD, stages=["delivery"], code_stages=STAGES, participants=v)),
    ("sentiment_vs_scores", "survey", lambda v: jl.sentiment_vs_scores(SENT.assign(respondent_id=["r1", "r2"]), survey=v)),
    ("agreement", "segments", lambda v: jl.agreement(COD, segments=v)),
    ("participant_codings", "segments", lambda v: jl.participant_codings(COD, segments=v, what="a test")),
    ("coder_pair", "segments", lambda v: jl.coder_pair(COD, segments=v)),
    ("disagreements", "segments", lambda v: jl.disagreements(COD, segments=v)),
    ("compare_coders", "segments", lambda v: jl.compare_coders(COD, segments=v)),
    ("LearnedCoder", "codings", lambda v: jl.LearnedCoder().fit(SEG, v)),
    ("ReconcileSession", "segments", lambda v: jl.ReconcileSession(COD, segments=v)),
    ("theme_nps", "comment_codings", lambda v: jl.theme_nps(SURVEY, comment_codings=v)),
    ("theme_csat", "comment_codings", lambda v: jl.theme_csat(SURVEY, comment_codings=v, column="nps")),
    ("evidence_table", "codings", lambda v: jl.evidence_table(_study(), codings=v)),
    ("coding_stages", "codings", lambda v: jl.coding_stages(_study(), codings=v)),
    ("evidence_table", "sentiment", lambda v: jl.evidence_table(_study(), codings=COD, sentiment=v)),
    ("export_qdpx", "codings", lambda v: jl.export_qdpx(_study(), codings=v, path="out.qdpx")),
    ("JourneyMap", "evidence", lambda v: jl.JourneyMap.build(_study(), v)),
    ("compare_maps", "new", lambda v: jl.compare_maps(jl.JourneyMap(), new=v)),
]

# Not functions of data, or not callable with one argument by design.
EXEMPT = {
    "Code": "a dataclass of one code (validated by Codebook)",
    "Study": "a dataclass built by load_study/import_*; not constructed by users",
    "FunnelResult": "a result container returned by funnel()",
    "KeyDrivers": "a result container returned by key_drivers()",
    "ChangeDesign": "a result container returned by change_design()",
    "CoderPair": "a result container returned by coder_pair()",
    "StudyPart": "a result container returned by study_part()",
    "ImportReport": "a result container returned by import_project()",
    "ParticipantCodings": "a result container returned by participant_codings()",
    "SectionStatus": "a result container returned by section()",
    "CheckResult": "a result container returned by the exercises' checks",
    "CoderComparison": "a result container returned by compare_coders()",
    "DaskFunnel": "a result container returned by funnel() on a Dask frame",
    "Document": "a result container returned by read_document()",
    "Problem": "a result container returned by validate_study()",
    "ReconcileView": "the widget of a ReconcileSession (ReconcileSession.view)",
    "Redaction": "a result container returned by redact()",
    "Rules": "a dataclass of one code's rules (validated by Codebook)",
    "file_name": "joins any values (a folder name, a step, a change's name) into a file name",
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
    tables = {n for n, _, _ in KEYWORD_ROWS + EMPTY_RAISES + EMPTY_OK}
    stale = (set(ROWS) | set(EXEMPT) | PENDING | tables) - names
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


def _empty(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.iloc[:0]


SURVEY_CSAT = SURVEY.assign(csat_payment=[5, 2])

# An empty frame that has the right columns, where there is nothing to compute: the message names
# the argument and says it is empty. (name, argument, call)
EMPTY_RAISES = [
    ("code_frequencies", "segments", lambda: jl.code_frequencies(COD, segments=_empty(SEG), coder="any")),
    ("suggest_codes", "segments", lambda: jl.suggest_codes(COD, segments=_empty(SEG))),
    ("agreement", "codings", lambda: jl.agreement(_empty(COD))),
    ("disagreements", "codings", lambda: jl.disagreements(_empty(COD), segments=SEG)),
    ("compare_coders", "codings", lambda: jl.compare_coders(_empty(COD), segments=SEG)),
    ("merge_codings", "sources", lambda: jl.merge_codings(_empty(COD))),
    ("LearnedCoder", "segments", lambda: jl.LearnedCoder().fit(_empty(SEG), COD)),
    ("ReconcileSession", "data", lambda: jl.ReconcileSession(_empty(COD), segments=SEG)),
    ("funnel", "events", lambda: jl.funnel(_empty(EV), steps=["view", "buy"])),
    ("funnel_paths", "events", lambda: jl.funnel_paths(_empty(EV), from_step="view", to_step="buy")),
    ("time_to_convert", "events", lambda: jl.time_to_convert(_empty(EV), steps=["view", "buy"])),
    ("compare_periods", "events",
     lambda: jl.compare_periods(_empty(EV), steps=["view", "buy"], change_date="2024-01-02")),
    ("ab_test", "events", lambda: jl.ab_test(_empty(EV), steps=["view", "buy"])),
    ("key_drivers", "data", lambda: jl.key_drivers(_empty(SURVEY))),
    ("plot_evidence", "evidence", lambda: jl.plot_evidence(_empty(EVID))),
]


@pytest.mark.parametrize("name, arg", [(n, a) for n, a, _ in EMPTY_RAISES], ids=str)
def test_empty_frame_with_columns_is_a_journeylab_error_naming_it(name, arg):
    call = next(c for n, a, c in EMPTY_RAISES if (n, a) == (name, arg))
    with pytest.raises(JourneylabError, match=f"`{arg}`") as info:
        call()
    assert "empty" in str(info.value) or "no " in str(info.value), str(info.value)


# Empty input that is legitimately allowed: the documented empty result. (name, call, check)
EMPTY_OK = [
    # No segments to redact: nothing replaced.
    ("redact", lambda: jl.redact(_empty(SEG)), lambda r: len(r.segments) == 0),
    # Nothing to code / score: an empty frame with the documented columns (Dask meta relies on it).
    ("autocode", lambda: jl.autocode(_empty(SEG), codebook=CB),
     lambda r: len(r) == 0 and {"segment_id", "code", "coder", "origin"} <= set(r.columns)),
    ("sentiment", lambda: jl.sentiment(_empty(SEG)),
     lambda r: len(r) == 0 and {"segment_id", "compound", "label"} <= set(r.columns)),
    ("sentiment_terms", lambda: jl.sentiment_terms(_empty(SEG)), lambda r: len(r) == 0 and "term" in r.columns),
    # No codings (a coder who applied no code yet): empty frequency / co-occurrence / quote tables.
    ("code_frequencies", lambda: jl.code_frequencies(_empty(COD), segments=SEG, coder="any"),
     lambda r: len(r) == 0 and "n_participants" in r.columns),
    ("co_occurrence", lambda: jl.co_occurrence(_empty(COD), segments=SEG, coder="any"),
     lambda r: len(r) == 0 and "jaccard" in r.columns),
    ("exemplar_quotes", lambda: jl.exemplar_quotes(_empty(COD), segments=SEG), lambda r: len(r) == 0),
    # Saturation of no codes: one row per document, every count 0.
    ("saturation", lambda: jl.saturation(_empty(COD), segments=SEG, coder="any"),
     lambda r: r["cumulative_codes"].tolist() == [0] and r["doc_id"].tolist() == ["d1"]),
    # Statistics of no data: one row per group/score with n = 0 and NaN estimates.
    ("nps", lambda: jl.nps(_empty(SURVEY)), lambda r: r.loc[0, "n"] == 0 and pd.isna(r.loc[0, "nps"])),
    ("csat", lambda: jl.csat(_empty(SURVEY_CSAT)),
     lambda r: r.loc[0, "n"] == 0 and pd.isna(r.loc[0, "top_box_share"])),
    ("code_sentiment", lambda: jl.code_sentiment(COD, sentiment=_empty(SENT), segments=SEG),
     lambda r: r["n_segments"].tolist() == [0, 0] and r["mean"].isna().all()),
    ("emotion_curve", lambda: jl.emotion_curve(_empty(SENT), segments=SEG, codings=COD, stages=["delivery"], code_stages=STAGES),
     lambda r: r["n_segments"].tolist() == [0] and not r["enough_data"].any()),
    # No codings: every stage has a row, nobody at it, no balance.
    ("coded_emotion", lambda: jl.coded_emotion(_empty(COD), segments=SEG, stages=["delivery"], code_kinds=KINDS,
                                               code_stages=STAGES),
     lambda r: r["n_participants"].tolist() == [0] and r["balance"].isna().all()),
    ("compare_emotion", lambda: jl.compare_emotion(_empty(CURVE), coded=CODED),
     lambda r: r["lexicon_side"].tolist() == ["unclear"] and not r["disagree"].any()),
    ("sentiment_vs_scores",
     lambda: jl.sentiment_vs_scores(_empty(SENT.assign(respondent_id=["r1", "r2"])), survey=SURVEY_CSAT),
     lambda r: r["n"].tolist() == [0, 0] and r["r"].isna().all()),
    # Krippendorff (2011): alpha is undefined (NaN) without pairable values.
    ("krippendorff_alpha", lambda: jl.krippendorff_alpha(pd.DataFrame(index=["ann", "bob"])), lambda r: pd.isna(r)),
    # No coders: coder_pair says why there is no pair instead of failing the notebook.
    ("coder_pair", lambda: jl.coder_pair(_empty(COD)), lambda r: not r and "two coders" in r.reason),
    # An evidence table without claims grades / ranks nothing.
    ("grade_claims", lambda: jl.grade_claims(_empty(EVID)), lambda r: len(r) == 0),
    ("prioritise", lambda: jl.prioritise(_empty(EVID)), lambda r: len(r) == 0),
    ("theme_nps", lambda: jl.theme_nps(_empty(SURVEY), comment_codings=COD), lambda r: len(r) == 0),
    ("theme_csat", lambda: jl.theme_csat(_empty(SURVEY), comment_codings=COD, column="nps"), lambda r: len(r) == 0),
    # No task attempts / questionnaire responses: no rows, the documented columns.
    ("task_metrics", lambda: jl.task_metrics(_empty(TASKS)),
     lambda r: len(r) == 0 and {"success_rate", "ci_low", "time_geomean_s"} <= set(r.columns)),
    ("score_questionnaire", lambda: jl.score_questionnaire(_empty(SUS), instrument="sus"),
     lambda r: len(r) == 0 and list(r.columns) == ["respondent_id", "sus"]),
    ("questionnaire_comments", lambda: jl.questionnaire_comments(_empty(SUS), instrument="umux_lite", items=["q1", "q3"]),
     lambda r: len(r) == 0 and list(r.columns) == ["respondent_id", "item", "column", "comment"]),
    # A summary of no scores: one row per scale with n = 0 and NaN estimates, as nps() / csat().
    ("questionnaire_summary", lambda: jl.questionnaire_summary(_empty(SUS_SCORES), instrument="sus"),
     lambda r: r["n"].tolist() == [0] and r["mean"].isna().all()),
]


@pytest.mark.parametrize("name", [n for n, _, _ in EMPTY_OK])
def test_empty_frame_where_allowed_gives_the_documented_empty_result(name):
    call, check = next((c, k) for n, c, k in EMPTY_OK if n == name)
    result = call()
    assert check(result), result


def test_all_lists_every_public_name():
    # `from journeylab import *` and the API docs follow __all__: an export missing from it is a bug
    assert set(_public_names()) <= set(jl.__all__), sorted(set(_public_names()) - set(jl.__all__))
    assert all(hasattr(jl, n) for n in jl.__all__)
