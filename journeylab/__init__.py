"""journeylab: evidence-backed customer journey maps.

Load a study folder, code qualitative feedback, measure sentiment, agreement and journey
metrics, and build a journey map in which every claim points at its evidence.
"""
from __future__ import annotations

from . import datasets
from .errors import JourneylabError, NotFittedError, Problem, StoreBusyError, StudyError
from .utils import provenance as _provenance

__version__ = _provenance.JOURNEYLAB_VERSION

# --- public API (each capability adds its line here) ---
from .study.transcripts import read_transcript, read_document, Document
from .study.redact import redact, redact_text, Redaction
from .study.load import Study, StudyPart, load_study, redact_study, redaction_review, study_part, validate_study
from .study.stages import coding_stages, stage_reach
from .study.anchor import fingerprint_codings
from .study.units import participant_codings, ParticipantCodings, InterviewerCodingsWarning
from .utils.tables import write_csv
from .study.codebook import Code, Codebook, Rules
from .coding.rules import autocode
from .coding.choice import analysis_codings
from .coding.store import CodingStore, StoreMigratedWarning, read_codings
from .coding.span_widget import SpanCodingSession
from .coding.widget import CodingSession
from .coding.analysis import (code_frequencies, co_occurrence, exemplar_quotes, saturation, plot_saturation,
                     plot_co_occurrence, suggest_codes, evaluate_codings)
from .interop.qdpx import (export_qdpx, import_qdpx, contents as qdpx_contents,
                           verify_round_trip as verify_qdpx_round_trip)
from .interop.taguette import import_taguette, write_codebook as write_taguette_codebook
from .interop.project import import_project, ImportReport
from .measure.sentiment import (sentiment, load_lexicon, split_sentences, sentiment_terms, code_sentiment,
                        emotion_curve, plot_emotion_curve, sentiment_vs_scores, study_sentiment)
from .measure.coded_emotion import coded_emotion, compare_emotion
from .coding.reliability import (agreement, krippendorff_alpha, unitizing_alpha, disagreements, compare_coders,
                                 merge_codings, merge_report, coder_pair, CoderPair, CoderComparison,
                                 plot_agreement, OVERALL)
from .coding.learned import LearnedCoder
from .coding.reconcile import ReconcileSession, ReconcileView
from .measure.funnel import funnel, FunnelResult, plot_funnel, funnel_paths, time_to_convert
from .study.load_dask import read_events_parquet  # Dask is imported only when it is called
from .measure.funnel import DaskFunnel
from .measure.survey import nps, csat
from .measure.tasks import task_metrics
from .measure.questionnaires import (score_questionnaire, questionnaire_summary, questionnaire_comments, sus_grade,
                                     study_questionnaire)
from .measure.experiments import (compare_periods, ab_test, compare_rates, sample_size, minimum_detectable_effect,
                          change_design, ChangeDesign)
from .measure.drivers import key_drivers, plot_drivers, KeyDrivers
from .evidence.claims import (evidence_table, GradingRules, grade_claims, touchpoint_metrics, theme_nps, theme_csat,
                              study_between,
                              study_targets, questionnaire_signals)
from .map.journey_map import JourneyMap, compare_maps, compare_personas, prioritise, load_notes
from .map.render import plot_map, save_map, plot_evidence
from .run.sections import (section, plan as section_plan, SectionStatus, event_property, taguette_reference,
                           lexicon_file, file_name)
from .course import prose  # jl.prose: sentences about a study's findings, rendered from its results
from .course import exercises  # jl.exercises.check_...: self-checks for the notebooks' exercises
from .course.exercises import CheckResult

__all__ = [
    'ChangeDesign', 'CheckResult', 'Code', 'Codebook', 'CoderComparison', 'CoderPair', 'CodingSession',
    'CodingStore', 'DaskFunnel', 'Document', 'FunnelResult', 'GradingRules', 'ImportReport',
    'InterviewerCodingsWarning', 'JourneyMap', 'JourneylabError', 'KeyDrivers', 'LearnedCoder',
    'NotFittedError', 'OVERALL', 'ParticipantCodings', 'Problem', 'ReconcileSession', 'ReconcileView',
    'Redaction', 'Rules', 'SectionStatus', 'SpanCodingSession', 'StoreBusyError', 'StoreMigratedWarning', 'Study',
    'StudyError', 'StudyPart', 'ab_test',
    'agreement', 'analysis_codings', 'autocode', 'change_design', 'co_occurrence', 'code_frequencies', 'code_sentiment',
    'coded_emotion', 'coder_pair', 'coding_stages', 'compare_coders', 'compare_emotion', 'compare_maps',
    'compare_periods', 'compare_personas',
    'compare_rates', 'csat', 'datasets', 'disagreements', 'emotion_curve', 'evaluate_codings',
    'event_property', 'evidence_table', 'exemplar_quotes', 'exercises', 'export_qdpx', 'file_name',
    'fingerprint_codings', 'funnel', 'funnel_paths', 'grade_claims', 'import_project', 'import_qdpx',
    'import_taguette', 'key_drivers', 'krippendorff_alpha', 'lexicon_file', 'load_lexicon', 'load_notes',
    'load_study', 'merge_codings', 'merge_report', 'minimum_detectable_effect', 'nps', 'participant_codings',
    'plot_agreement', 'plot_co_occurrence', 'plot_drivers', 'plot_emotion_curve', 'plot_evidence',
    'plot_funnel', 'plot_map', 'plot_saturation', 'prioritise', 'prose', 'qdpx_contents',
    'questionnaire_comments', 'questionnaire_summary', 'read_codings', 'read_document', 'read_events_parquet',
    'read_transcript', 'redact', 'redact_study', 'redact_text', 'redaction_review', 'sample_size',
    'saturation', 'save_map', 'score_questionnaire', 'section', 'section_plan', 'sentiment',
    'sentiment_terms', 'sentiment_vs_scores', 'split_sentences', 'stage_reach', 'study_between', 'study_part',
    'study_questionnaire', 'study_sentiment', 'study_targets', 'questionnaire_signals', 'suggest_codes', 'sus_grade',
    'taguette_reference',
    'task_metrics', 'theme_csat', 'theme_nps', 'time_to_convert', 'touchpoint_metrics', 'unitizing_alpha',
    'validate_study',
    'verify_qdpx_round_trip', 'write_csv', 'write_taguette_codebook',
]
