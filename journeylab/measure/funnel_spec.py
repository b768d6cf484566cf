"""A funnel's definition, written once: :class:`FunnelSpec` and the docs of its keywords.

:func:`journeylab.funnel`, :func:`journeylab.time_to_convert`, :func:`journeylab.funnel_paths`,
:func:`journeylab.compare_periods`, :func:`journeylab.ab_test` and the Dask funnel take the same
keywords (``steps``, ``user``, ``time``, ``event``, ``window``, ``order``, ``entry``,
``exclude``, ``count``, ``session``). Each turns them into one :class:`FunnelSpec` with
:meth:`FunnelSpec.parse` (which checks them and says what is wrong) and hands that on; their
docstrings take the keywords' documentation from :data:`FUNNEL_PARAMETERS` through
:func:`funnel_docs`.
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import JourneylabError
from ..utils.checks import check_choice

__all__ = ["FunnelSpec", "FUNNEL_PARAMETERS", "FUNNEL_HINT", "funnel_docs", "step_label"]

FUNNEL_HINT = ("Name your columns with user=, time= and event= (e.g. funnel(df, steps=..., user='visitor', "
               "time='ts', event='action')).")

FUNNEL_PARAMETERS = """\
user, time, event : str
    Columns holding the user id, the timestamp (datetime64, or text in ISO 8601) and the
    event name.
window : str, Timedelta or None, default "7D"
    Conversion window, measured from the time of step 1: a user reaches step k only if
    steps 1..k all happen within ``window`` of their step 1. ``None``: no window (any time
    later in the log counts).
order : {"closed", "strict", "any"}, default "closed"
    ``"closed"``: steps in order, other events allowed in between. ``"strict"``: each step
    must be the user's very next event after the previous step (any other event breaks the
    funnel). ``"any"``: unordered, as PostHog defines it — the steps may happen in any order,
    step 1 included; row *k* of the result counts users who did *k* distinct steps within the
    window of the first of them (rows are labelled "k of n steps"; no exclusions). Earlier
    versions kept step 1 first and counted step k once steps 2..k had all followed it.
entry : {"first", "furthest"}, default "first"
    ``"first"``: the window starts at the user's first step-1 event. ``"furthest"``: every
    step-1 event is tried as an entry and the one that gets furthest is kept (ties: the
    earliest), so a user who gives up and completes the funnel on a later attempt converts.
exclude : str, list of str or dict, optional
    Exclusion events. A name or list of names: applies between any two consecutive steps;
    ``{event: (from_step, to_step)}`` (1-based step numbers) limits it to between those steps.
    An exclusion event that never occurs in the log excludes nobody (a warning says so).
exclusion : {"funnel", "step"}, default "funnel"
    What an exclusion event does. ``"funnel"`` (PostHog's definition): a user who does it
    after their step *k* − 1 and before their step *k* — or, not reaching step *k*, within
    their window — is removed from the whole funnel, step 1 included. ``"step"``: the user
    drops out there and still counts at the steps reached before it.
count : {"user", "session"}, default "user"
    Count unique users, or sessions (steps must then happen within one session; rows with a
    blank ``session`` are ignored, counted in ``definition['rows_ignored']``).
session : str, default "session_id"
    Session id column (used with ``count="session"``)."""

_PLACEHOLDER = "%(funnel_parameters)s"


def funnel_docs(func):
    """Put :data:`FUNNEL_PARAMETERS` where ``func``'s docstring has the line ``%(funnel_parameters)s``.

    The text is indented like the placeholder line, so it works whether or not the interpreter
    strips docstring indentation (Python 3.13 does).
    """
    doc = func.__doc__ or ""
    for line in doc.splitlines():
        if line.strip() == _PLACEHOLDER:
            indent = line[: len(line) - len(line.lstrip())]
            text = "\n".join(indent + row if row else row for row in FUNNEL_PARAMETERS.splitlines())
            func.__doc__ = doc.replace(line, text, 1)
            return func
    raise ValueError(f"{func.__name__}'s docstring has no line {_PLACEHOLDER!r}")  # a programming error


def step_label(step) -> str:
    """A step's label: the event name, or the names joined by `` | ``."""
    return step if isinstance(step, str) else " | ".join(map(str, step))


@dataclass(frozen=True)
class FunnelSpec:
    """A funnel's definition, checked: steps, window, order, entry, exclusions, unit and columns.

    Build it with :meth:`parse` from the keywords the public functions take.

    Attributes
    ----------
    labels : tuple of str
        Display label of each step.
    sets : tuple of frozenset
        The event names that count as each step.
    window : Timedelta or None
        The conversion window (None: no window).
    order, entry, count, exclusion : str
        As the keywords (documented in :data:`FUNNEL_PARAMETERS`).
    exclude : tuple
        ``((frozenset of events, from_index, to_index), ...)``, 0-based step indices.
    user, time, event, session : str
        The event log's columns.

    Examples
    --------
    >>> from journeylab.measure.funnel_spec import FunnelSpec
    >>> spec = FunnelSpec.parse(["view", ["cart", "quick_buy"], "pay"], window="1D", exclude="refund")
    >>> spec.labels, spec.names
    (('view', 'cart | quick_buy', 'pay'), ['cart', 'pay', 'quick_buy', 'refund', 'view'])
    """

    labels: tuple
    sets: tuple
    window: pd.Timedelta | None
    order: str = "closed"
    entry: str = "first"
    exclude: tuple = ()
    count: str = "user"
    user: str = "user_id"
    time: str = "timestamp"
    event: str = "event"
    session: str = "session_id"
    exclusion: str = "funnel"    # "funnel": an excluded user leaves the whole funnel; "step": stops there

    @classmethod
    def parse(cls, steps, *, window="7D", order: str = "closed", entry: str = "first", exclude=None,
              count: str = "user", user: str = "user_id", time: str = "timestamp", event: str = "event",
              session: str = "session_id", func: str = "funnel", min_steps: int = 2,
              exclusion: str = "funnel") -> FunnelSpec:
        """Check the keywords of a funnel function and return its spec (errors name ``func``)."""
        labels, sets = _parse_steps(steps, func, min_steps=min_steps)
        check_choice(order, arg="order", func=func, choices=("closed", "strict", "any"))
        check_choice(entry, arg="entry", func=func, choices=("first", "furthest"))
        check_choice(count, arg="count", func=func, choices=("user", "session"))
        check_choice(exclusion, arg="exclusion", func=func, choices=("funnel", "step"))
        if window is None:
            win = None   # no conversion window
        else:
            try:
                win = pd.Timedelta(window)
            except (ValueError, TypeError):
                raise JourneylabError(f"{func}(): `window` must be a duration like '7D', '12h' or "
                                      f"pd.Timedelta(days=7), or None for no window; got {window!r}.") from None
            if pd.isna(win) or win <= pd.Timedelta(0):
                raise JourneylabError(f"{func}(): `window` must be a positive duration (or None); got {window!r}.")
        if order == "any":
            for (i, a), (j, b) in itertools.combinations(enumerate(sets, 1), 2):
                if a & b:
                    raise JourneylabError(
                        f"{func}(): with order='any', steps {i} and {j} share event(s) {sorted(a & b)}; an event "
                        "could then fill either step. Use distinct events or order='closed'.")
            if exclude:
                raise JourneylabError(f"{func}(): exclusion steps need an order of steps; with order='any' "
                                      "(unordered, as PostHog defines it) there is no 'between two steps'. "
                                      "Use order='closed'.")
        return cls(labels, sets, win, order, entry, _parse_exclude(exclude, len(sets), func), count,
                   user, time, event, session, exclusion)

    @property
    def display_labels(self) -> list:
        """Row labels of the step tables: the steps, or for an unordered funnel 'k of n steps'."""
        if self.order == "any":
            n = len(self.sets)
            return [f"{k} of {n} steps" for k in range(1, n + 1)]
        return list(self.labels)

    @property
    def names(self) -> list:
        """Every event name the funnel looks at (steps and exclusions), sorted."""
        out = set().union(*self.sets)
        for ev, _, _ in self.exclude:
            out |= ev
        return sorted(out)

    @property
    def columns(self) -> dict:
        """The log's columns: ``{"user": ..., "time": ..., "event": ..., "session": ...}``."""
        return dict(user=self.user, time=self.time, event=self.event, session=self.session)

    @property
    def required(self) -> list:
        """The columns the log must have (``session`` only when counting sessions)."""
        cols = [self.user, self.time, self.event] + ([self.session] if self.count == "session" else [])
        return list(dict.fromkeys(cols))

    def excluded_between(self, k: int) -> frozenset:
        """Exclusion events that apply between step k-1 and step k (0-based k >= 1)."""
        out: set = set()
        for ev, a, b in self.exclude:
            if a <= k - 1 and k <= b:
                out |= ev
        return frozenset(out)


def _parse_steps(steps, func: str, *, min_steps: int = 2) -> tuple[tuple, tuple]:
    """Steps as (labels, sets). A step is an event name or a list of names; a dict maps labels to steps."""
    if isinstance(steps, str) or steps is None:
        raise JourneylabError(f"{func}(): `steps` must be a list of event names (or lists of names), "
                              f"e.g. ['signed_up', 'first_order']; got {steps!r}.")
    items = list(steps.items()) if isinstance(steps, dict) else [(None, s) for s in steps]
    if len(items) < min_steps:
        raise JourneylabError(f"{func}(): `steps` needs at least {min_steps} step(s); got {len(items)}.")
    labels, sets = [], []
    for i, (label, step) in enumerate(items, 1):
        if isinstance(step, str):
            events = [step]
        elif isinstance(step, (list, tuple, set, frozenset)) and step and all(isinstance(x, str) for x in step):
            events = sorted(step) if isinstance(step, (set, frozenset)) else list(step)
        else:
            raise JourneylabError(f"{func}(): step {i} of `steps` must be an event name or a non-empty list of "
                                  f"event names; got {step!r}.")
        labels.append(str(label) if label is not None else step_label(events if len(events) > 1 else events[0]))
        sets.append(frozenset(events))
    seen: dict = {}
    for i, lbl in enumerate(labels):          # a repeated step ("view", "view") gets "view (2)"
        seen[lbl] = seen.get(lbl, 0) + 1
        if seen[lbl] > 1:
            labels[i] = f"{lbl} ({seen[lbl]})"
    return tuple(labels), tuple(sets)


def _parse_exclude(exclude, n_steps: int, func: str) -> tuple:
    if exclude is None:
        return ()
    if isinstance(exclude, str):
        return ((frozenset([exclude]), 0, n_steps - 1),)
    if isinstance(exclude, dict):
        out = []
        for ev, rng in exclude.items():
            evs = frozenset([ev]) if isinstance(ev, str) else frozenset(ev)
            if (not isinstance(rng, (tuple, list)) or len(rng) != 2
                    or not all(isinstance(x, (int, np.integer)) for x in rng)
                    or not 1 <= rng[0] < rng[1] <= n_steps):
                raise JourneylabError(
                    f"{func}(): `exclude[{ev!r}]` must be a pair (from_step, to_step) of 1-based step numbers with "
                    f"1 <= from_step < to_step <= {n_steps}; got {rng!r}.")
            out.append((evs, int(rng[0]) - 1, int(rng[1]) - 1))
        return tuple(out)
    if isinstance(exclude, (list, tuple, set)) and all(isinstance(x, str) for x in exclude):
        return ((frozenset(exclude), 0, n_steps - 1),) if exclude else ()
    raise JourneylabError(f"{func}(): `exclude` must be an event name, a list of names, or a dict "
                          f"{{event: (from_step, to_step)}}; got {exclude!r}.")
