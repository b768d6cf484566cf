"""The measure layer: the numbers beside the interviews.

- :mod:`~journeylab.measure.sentiment` (engines in :mod:`~journeylab.measure.vader`): sentiment
  of turns, of codes, the emotion curve;
- :mod:`~journeylab.measure.coded_emotion`: :func:`~journeylab.coded_emotion`, the emotion the
  codes give (delights minus pain points per stage), and :func:`~journeylab.compare_emotion`;
- :mod:`~journeylab.measure.survey`: :func:`~journeylab.nps`, :func:`~journeylab.csat`;
- :mod:`~journeylab.measure.tasks`, :mod:`~journeylab.measure.questionnaires`: usability tasks
  and standard questionnaires (SUS, ...);
- :mod:`~journeylab.measure.funnel_spec`: ``FunnelSpec``, a funnel's definition written once;
- :mod:`~journeylab.measure.funnel`: :func:`~journeylab.funnel` (pandas and Dask), paths, time to
  convert, :func:`~journeylab.plot_funnel`;
- :mod:`~journeylab.measure.experiments`: before/after and A/B comparisons, sample sizes;
- :mod:`~journeylab.measure.drivers`: :func:`~journeylab.key_drivers`.
"""
