"""The interop layer: coded projects in and out of other tools.

- :mod:`~journeylab.interop.qdpx`: REFI-QDA projects (NVivo, ATLAS.ti, MAXQDA):
  :func:`~journeylab.export_qdpx`, :func:`~journeylab.import_qdpx`;
- :mod:`~journeylab.interop.taguette`: :func:`~journeylab.import_taguette`;
- :mod:`~journeylab.interop.project`: :func:`~journeylab.import_project` (a whole project into a
  study folder, with an :class:`~journeylab.ImportReport`).
"""
