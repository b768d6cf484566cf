"""The map layer: a journey map built from the evidence, drawn and written as a report.

- :mod:`~journeylab.map.journey_map`: :class:`~journeylab.JourneyMap` (stages, touchpoints,
  graded claims, emotion curve, opportunities), :func:`~journeylab.prioritise`,
  :func:`~journeylab.compare_maps`, :func:`~journeylab.compare_personas`;
- :mod:`~journeylab.map.render`: :func:`~journeylab.plot_map`, :func:`~journeylab.save_map`,
  :func:`~journeylab.plot_evidence` (matplotlib);
- :mod:`~journeylab.map.report`: the standalone HTML report (``JourneyMap.to_html``).

``render`` and ``report`` import ``journey_map`` and register the functions behind
``JourneyMap.plot`` and ``JourneyMap.to_html`` (:func:`~journeylab.map.journey_map.register_view`);
importing this package imports both, so every JourneyMap can draw itself.
"""
from . import journey_map, render, report  # noqa: F401  (render and report register JourneyMap's views)
