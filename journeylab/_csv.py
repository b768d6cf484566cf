"""Writing CSV that spreadsheets cannot execute (private).

A cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is read by Excel,
LibreOffice and Google Sheets as a formula: a participant's comment ``=HYPERLINK("http://evil",
"click")`` would become a live link, and ``=cmd|...`` has been used to run programs (CSV or
formula injection; OWASP). Every CSV journeylab writes goes through :func:`write_csv` or
:func:`neutralise`, which put a single quote ``'`` before such a *text* cell — the spreadsheet
then shows the text as typed. Numbers (``-0.5`` in a numeric column) are left alone; readers of
journeylab's own CSVs remove the quote again (:func:`unneutralise`).
"""
from __future__ import annotations

import csv
from pathlib import Path

import pandas as pd

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value):
    """``"'" + value`` when ``value`` is a str a spreadsheet would read as a formula; else ``value``."""
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS):
        return "'" + value
    return value


def unneutralise(value):
    """Undo :func:`neutralise` (for reading journeylab's own CSVs back)."""
    if isinstance(value, str) and len(value) > 1 and value[0] == "'" and value[1] in "=+-@\t\r":
        return value[1:]
    return value


def neutralise_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` whose text cells (object/string columns, and column names) are neutralised."""
    out = frame.copy()
    for name in out.columns:
        col = out[name]
        if col.dtype == object or pd.api.types.is_string_dtype(col.dtype):
            out[name] = col.map(neutralise, na_action="ignore")
    out.columns = [neutralise(c) for c in out.columns]
    return out


def write_csv(frame: pd.DataFrame, path, **kwargs) -> Path:
    """Write ``frame`` as CSV (no index) with formula-like text cells neutralised; return the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    kwargs.setdefault("index", False)
    out = neutralise_frame(frame)
    if "quoting" not in kwargs and needs_quoting(out):
        kwargs["quoting"] = csv.QUOTE_ALL
    out.to_csv(path, **kwargs)
    return path


def needs_quoting(frame: pd.DataFrame) -> bool:
    """True when a text cell holds a bare carriage return.

    Python's csv writer (and pandas) quote a cell only for the characters of the line terminator
    ("\n"), so ``"x\ry"`` would be written unquoted and every reader that takes "\r" as a line end
    (Excel, the csv module) would split the row; such files are written with every cell quoted.
    """
    for name in frame.columns:
        col = frame[name]
        if (col.dtype == object or pd.api.types.is_string_dtype(col.dtype)) and \
                col.map(lambda v: isinstance(v, str) and "\r" in v, na_action="ignore").fillna(False).any():
            return True
    return False
