"""Parameter descriptions shared by many public functions, written once.

The same argument (``codings``, ``segments``, ``ax``, ``random_state``, ...) means the same thing
in every function that takes it, so its numpydoc entry is written here once, as seaborn's
``DocstringComponents`` and statsmodels' ``Appender`` do. A docstring names a shared entry with a
line that holds only ``{name}``, indented like a parameter entry; :func:`shared_docs` replaces that
line with the entry, re-indented. Lines indented under the placeholder stay and continue the
entry's description, for what is particular to one function::

    @shared_docs
    def co_occurrence(codings, *, segments, ...):
        '''...

        Parameters
        ----------
        {codings}
        {segments}
            Needs ``participant_id`` for ``level="participant"``.
        '''

Only whole-line placeholders are replaced, so braces elsewhere in a docstring (a dict in an
example, an f-string) are left alone. An unknown name raises at import time.
"""
from __future__ import annotations

import re
from typing import Callable, TypeVar

__all__ = ["PARAMS", "shared_docs"]

F = TypeVar("F", bound=Callable)

PARAMS: dict[str, str] = {
    "codings": """\
codings : DataFrame
    The codings frame (``study.codings``, :func:`journeylab.autocode`,
    :func:`journeylab.merge_codings`): ``segment_id``, ``code``, and ``coder`` when several
    coders coded; one row per decision (docs/study-format.md).""",
    "segments": """\
segments : DataFrame
    The segments frame the codings were made on (``study.segments``; its columns are listed in
    docs/study-format.md). Only the columns named below are needed.""",
    "participants": """\
participants : DataFrame, optional
    The participants frame (``study.participants``): ``participant_id``, then attributes
    (``persona``, ...).""",
    "coder": """\
coder : str, optional
    Which coder's codings to use when ``codings`` has several coders; ``"any"``: a code counts on
    a segment when any coder applied it. Without it, several coders in ``codings`` raise an
    error that lists them.""",
    "study": """\
study : Study
    A loaded study (:func:`journeylab.load_study`, :func:`journeylab.import_qdpx`).""",
    "ax": """\
ax : matplotlib Axes, optional
    Where to draw (keyword-only); a new figure when omitted.""",
    "random_state": """\
random_state : int, numpy Generator or None, default 0
    Seed of the random draws (``numpy.random.default_rng``): the same seed gives the same
    numbers, run after run; None draws fresh entropy.""",
}

_PLACEHOLDER = re.compile(r"^([ \t]*)\{([a-z_]+)\}[ \t]*$", re.M)


def _fill(doc: str, where: str) -> str:
    def repl(m: re.Match) -> str:
        indent, name = m.group(1), m.group(2)
        if name not in PARAMS:
            raise KeyError(f"{where}: no shared parameter doc {{{name}}} in journeylab/utils/docstrings.py; "
                           f"known: {', '.join(sorted(PARAMS))}")
        return "\n".join(indent + line if line else line for line in PARAMS[name].split("\n"))

    return _PLACEHOLDER.sub(repl, doc)


def shared_docs(func: F) -> F:
    """Fill the ``{name}`` placeholder lines of ``func``'s docstring from :data:`PARAMS`.

    Parameters
    ----------
    func : callable
        A function or class whose docstring has placeholder lines.

    Returns
    -------
    callable
        ``func`` itself, with the filled docstring.

    Examples
    --------
    >>> @shared_docs
    ... def f(data, *, ax=None):
    ...     '''Draw.
    ...
    ...     Parameters
    ...     ----------
    ...     data : DataFrame
    ...         What to draw.
    ...     {ax}
    ...     '''
    >>> print(f.__doc__.splitlines()[6].strip())
    ax : matplotlib Axes, optional
    """
    if func.__doc__:  # None under python -OO
        func.__doc__ = _fill(func.__doc__, getattr(func, "__qualname__", repr(func)))
    return func
