"""Errors raised by journeylab.

Every error a user can cause is a :class:`JourneylabError` (a ``ValueError``) whose message says
where the problem is (file, line, row, column or argument), what was expected and what was found.
"""
from __future__ import annotations

__all__ = ["JourneylabError", "StudyError", "NotFittedError", "StoreBusyError", "Problem"]

from dataclasses import dataclass


class JourneylabError(ValueError):
    """Base class of every error journeylab raises on bad input."""


@dataclass(frozen=True)
class Problem:
    """One problem found while validating a study folder.

    Attributes
    ----------
    file : str
        Path of the file, relative to the study folder.
    line : int or None
        1-based line (text files) or CSV line number (header is line 1), when known.
    column : str or None
        Column name, when the problem concerns one.
    message : str
        What was expected and what was found.
    severity : {"error", "warning", "info"}
        Errors make :func:`journeylab.load_study` raise; warnings are reported only; info says
        how something was read (e.g. the encoding detected in a CSV) and needs no action.
    """

    file: str
    line: int | None
    column: str | None
    message: str
    severity: str = "error"

    def __str__(self) -> str:
        where = self.file
        if self.line is not None:
            where += f", line {self.line}"
        if self.column is not None:
            where += f", column '{self.column}'"
        return f"{where}: {self.message}"


class StudyError(JourneylabError):
    """A study folder has one or more problems; ``.problems`` lists every one of them."""

    def __init__(self, problems: list[Problem], path: str = ""):
        self.problems = list(problems)
        errors = [p for p in self.problems if p.severity == "error"]
        head = f"{len(errors)} problem(s) in study folder {path}:" if path else f"{len(errors)} problem(s):"
        super().__init__("\n".join([head] + [f"  - {p}" for p in errors]))


class NotFittedError(JourneylabError):
    """A model method was called before ``fit``."""


class StoreBusyError(JourneylabError):
    """A coding store stayed locked by another process's write for longer than the timeout.

    Nothing was written by the call that raised it; retrying later is safe.
    """
