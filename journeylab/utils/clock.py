"""The clock that stamps coding decisions, reproducible on request.

When ``SOURCE_DATE_EPOCH`` is set (seconds since 1970, the reproducible-builds convention;
``journeylab run`` sets it for every notebook), every timestamp is that instant, so the tables a
run exports (coding stores as CSV, with their ``decided_at``) are the same bytes on every run.
Order never depends on timestamps: stores keep decisions in insertion order (their ids).
"""
from __future__ import annotations

import os
from datetime import datetime, timezone


def now_iso(timespec: str = "microseconds") -> str:
    """UTC now (or ``SOURCE_DATE_EPOCH``) as ISO 8601.

    Examples
    --------
    >>> import os
    >>> os.environ["SOURCE_DATE_EPOCH"] = "0"
    >>> now_iso("seconds")
    '1970-01-01T00:00:00+00:00'
    >>> del os.environ["SOURCE_DATE_EPOCH"]
    """
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if epoch.isdigit():
        return datetime.fromtimestamp(int(epoch), timezone.utc).isoformat(timespec=timespec)
    return datetime.now(timezone.utc).isoformat(timespec=timespec)
