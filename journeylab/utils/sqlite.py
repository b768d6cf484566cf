"""SQLite helpers shared by the coding store and the Taguette reader (private)."""
from __future__ import annotations

import urllib.parse
from pathlib import Path


def file_uri(path, **params: str) -> str:
    """A SQLite ``file:`` URI of ``path`` with every special character escaped, and ``params``.

    ``file:{path}?mode=ro`` is wrong for a path holding ``?``, ``#`` or ``%``: SQLite would cut
    the path there (``t13 odd#name?.sqlite3`` opens, and creates, ``t13 odd``). Here the path is
    percent-encoded, so any file name works.

    Examples
    --------
    >>> file_uri("/data/t13 odd#name?.sqlite3", mode="ro")
    'file:/data/t13%20odd%23name%3F.sqlite3?mode=ro'
    """
    uri = "file:" + urllib.parse.quote(str(Path(path).resolve()), safe="/")
    if params:
        uri += "?" + urllib.parse.urlencode(params)
    return uri
