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
import io
from pathlib import Path

import pandas as pd

from ..errors import JourneylabError
from .checks import check_frame, check_path

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value):
    """``"'" + value`` when ``value`` is a str a spreadsheet would read as a formula; else ``value``."""
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS):
        return "'" + value
    return value


def unneutralise(value):
    """Undo :func:`neutralise` (for reading journeylab's own CSVs back)."""
    if isinstance(value, str) and value.startswith("'") and value[1:].startswith(FORMULA_TRIGGERS):
        return value[1:]
    return value


def read_rows(path, *, what: str) -> list[list[str]]:
    """The rows of a CSV file (a list of cells each), with :func:`neutralise`'s quotes removed.

    The reader for journeylab's own small CSVs (codebooks); ``what`` names the file in the error
    raised when it cannot be read ("the codebook CSV").
    """
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise JourneylabError(f"{path}: cannot read {what}: {exc}") from None
    return [[unneutralise(cell) for cell in row] for row in csv.reader(io.StringIO(text))]


def _text_like(dtype) -> bool:
    """True for the dtypes that can hold text: object, string and categorical."""
    types = pd.api.types
    return types.is_object_dtype(dtype) or types.is_string_dtype(dtype) or isinstance(dtype, pd.CategoricalDtype)


def _neutralise_values(values) -> list:
    return [neutralise(v) for v in values]


def neutralise_index(index: pd.Index) -> pd.Index:
    """A copy of ``index`` (flat or MultiIndex, its names too) with text labels neutralised.

    A categorical or text level becomes an object level (its neutralised labels may no longer be
    valid categories); numeric and datetime levels are kept as they are.
    """
    if isinstance(index, pd.MultiIndex):
        arrays = []
        for i in range(index.nlevels):
            level = index.get_level_values(i)
            arrays.append(pd.Index(_neutralise_values(level), dtype=object) if _text_like(level.dtype) else level)
        return pd.MultiIndex.from_arrays(arrays, names=_neutralise_values(index.names))
    out = pd.Index(_neutralise_values(index), dtype=object) if _text_like(index.dtype) else index.copy()
    out.name = neutralise(index.name)
    return out


def neutralise_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` whose text cells are neutralised.

    Text cells are those of object, string and categorical columns (a categorical column becomes
    object), the column names and the index labels and names (flat or MultiIndex).
    """
    out = frame.copy()
    for i in range(out.shape[1]):
        col = out.iloc[:, i]
        if _text_like(col.dtype):
            values = col.astype(object).map(neutralise, na_action="ignore")
            out.isetitem(i, values.astype(object))
    out.columns = neutralise_index(out.columns)
    out.index = neutralise_index(out.index)
    return out


def write_csv(frame: pd.DataFrame, *, path, **kwargs) -> Path:
    """Write ``frame`` as a CSV that spreadsheets cannot execute; return the path.

    Use it instead of ``frame.to_csv(path, index=False)`` for every table you share: a cell typed
    by a participant or survey respondent such as ``=HYPERLINK("http://evil.example","click")``
    would otherwise become a live formula when the file is opened in Excel, LibreOffice or
    Google Sheets (CSV or formula injection).

    Parameters
    ----------
    frame : DataFrame
        Any table; it is not changed.
    path : str or Path
        Where to write; missing parent folders are created.
    **kwargs
        Passed to :meth:`pandas.DataFrame.to_csv` (``index`` defaults to False).

    Returns
    -------
    Path
        ``path``.

    Notes
    -----
    A *text* cell — of an object, string or categorical column, a column name, an index label
    or index name (flat or MultiIndex, written when ``index=True``) — that starts with ``=``,
    ``+``, ``-``, ``@``, a tab or a carriage return gets a single quote ``'`` in front, which
    spreadsheets show as the text typed (OWASP's advice). Numbers are left alone, so ``-0.5`` in
    a numeric column stays a number. A text cell (or index label) holding a bare carriage return
    makes every cell quoted, so no reader splits the row.
    journeylab's own readers (codings, lexicons) remove the quote again; other readers see it.

    Examples
    --------
    >>> import tempfile, pandas as pd, journeylab as jl
    >>> frame = pd.DataFrame({"comment": ['=HYPERLINK("http://evil.example","click")', "fine"],
    ...                       "compound": [-0.5, 0.4]})
    >>> path = jl.write_csv(frame, path=tempfile.mkdtemp() + "/comments.csv")
    >>> print(path.read_text(), end="")
    comment,compound
    "'=HYPERLINK(""http://evil.example"",""click"")",-0.5
    fine,0.4
    """
    check_frame(frame, func="write_csv", arg="frame", allow_empty=True)
    path = Path(check_path(path, arg="path", func="write_csv"))
    path.parent.mkdir(parents=True, exist_ok=True)
    kwargs.setdefault("index", False)
    out = neutralise_frame(frame)
    if "quoting" not in kwargs and needs_quoting(out):
        kwargs["quoting"] = csv.QUOTE_ALL
    out.to_csv(path, **kwargs)
    return path


def needs_quoting(frame: pd.DataFrame) -> bool:
    """True when a text cell (or an index label) holds a bare carriage return.

    Python's csv writer (and pandas) quote a cell only for the characters of the line terminator
    ("\n"), so ``"x\ry"`` would be written unquoted and every reader that takes "\r" as a line end
    (Excel, the csv module) would split the row; such files are written with every cell quoted.
    """
    def has_cr(values) -> bool:
        return any(isinstance(v, str) and "\r" in v for v in values)

    for i in range(frame.shape[1]):
        col = frame.iloc[:, i]
        if _text_like(col.dtype) and has_cr(col.astype(object)):
            return True
    index = frame.index
    levels = [index.get_level_values(i) for i in range(index.nlevels)]
    return any(_text_like(level.dtype) and has_cr(level) for level in levels) or has_cr(frame.columns.names) \
        or has_cr(index.names) or any(has_cr(frame.columns.get_level_values(i)) for i in range(frame.columns.nlevels))
