"""The study layer: read a study folder into tidy frames, checked and redacted.

- :mod:`~journeylab.study.transcripts`: :func:`~journeylab.read_transcript` (txt, WebVTT, SRT,
  docx, odt → segments with character offsets);
- :mod:`~journeylab.study.codebook`: :class:`~journeylab.Code`, :class:`~journeylab.Codebook`;
- :mod:`~journeylab.study.pii`, :mod:`~journeylab.study.redact`: personal details found and
  replaced (:func:`~journeylab.redact`);
- :mod:`~journeylab.study.units`: which codings count for participants;
- :mod:`~journeylab.study.load`: :class:`~journeylab.Study`, :func:`~journeylab.load_study`,
  :func:`~journeylab.validate_study`, :func:`~journeylab.redaction_review`;
- :mod:`~journeylab.study.load_dask`: :func:`~journeylab.read_events_parquet` (a log too large
  for memory, as a Dask frame).
"""
