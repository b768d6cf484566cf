"""The run layer: the notebooks run on a study, with a manifest of what went in and came out.

- :mod:`~journeylab.run.sections`: :func:`~journeylab.section` — which notebook sections apply to
  a study, and why one is skipped;
- :mod:`~journeylab.run.pipeline`: ``run`` / ``demo`` execute the numbered notebooks;
- :mod:`~journeylab.run.manifest`: the run manifest (``manifest.json``);
- :mod:`~journeylab.run.cli`: the ``journeylab`` command.
"""
