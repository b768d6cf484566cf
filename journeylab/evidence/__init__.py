"""The evidence layer: codings and metrics joined into claims, each graded by how interviews and
numbers agree (:func:`~journeylab.evidence_table`, :func:`~journeylab.grade_claims`,
:func:`~journeylab.touchpoint_metrics`, :func:`~journeylab.theme_nps`) in
:mod:`~journeylab.evidence.claims`.
"""
