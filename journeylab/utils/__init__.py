"""Helpers every layer may use (the lowest layer; it imports only :mod:`journeylab.errors`).

- :mod:`~journeylab.utils.checks`: argument checks of the public functions (``check_frame``,
  ``check_choice``, ``check_path``, ``check_alpha``, ``check_correction``);
- :mod:`~journeylab.utils.tables`: CSV reading and :func:`~journeylab.write_csv` (formula-safe);
- :mod:`~journeylab.utils.limits`: size limits for untrusted files (zip, XML, YAML, gzip);
- :mod:`~journeylab.utils.provenance`: package versions and file hashes for manifests;
- :mod:`~journeylab.utils.clock`, :mod:`~journeylab.utils.sqlite`: reproducible times, SQLite URIs;
- :mod:`~journeylab.utils.dask`: what the Dask routes share (the routes sit beside their pandas code).
"""
