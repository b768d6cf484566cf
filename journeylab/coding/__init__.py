"""The coding layer: put codes on a study's turns and check how well coders agree.

- :mod:`~journeylab.coding.rules`: :func:`~journeylab.autocode` (the codebook's rules);
- :mod:`~journeylab.coding.choice`: :func:`~journeylab.analysis_codings` (the one set of codings a
  run's analyses use: gold, else people, else rules, per transcript);
- :mod:`~journeylab.coding.store`: the SQLite :class:`~journeylab.CodingStore` of decisions and
  ``normalize_coder`` (one coder identity for the store and reliability);
- :mod:`~journeylab.coding.widget`: :class:`~journeylab.CodingSession` (coding whole turns in a notebook);
- :mod:`~journeylab.coding.span_widget`: :class:`~journeylab.SpanCodingSession` (coding selected spans of
  text in JupyterLab; an anywidget);
- :mod:`~journeylab.coding.analysis`: frequencies, co-occurrence, exemplar quotes, saturation,
  suggested codes (with their Dask twins);
- :mod:`~journeylab.coding.reliability`: :func:`~journeylab.agreement`,
  :func:`~journeylab.krippendorff_alpha`, :func:`~journeylab.merge_codings`, ...;
- :mod:`~journeylab.coding.reconcile`: :class:`~journeylab.ReconcileSession`;
- :mod:`~journeylab.coding.learned`: :class:`~journeylab.LearnedCoder`.
"""
