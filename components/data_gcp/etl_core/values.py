"""The value conventions every connector shares: UTC timestamps and hashed e-mails.

Why one place: five connectors parsed timestamps and four hashed e-mails, each slightly differently
(one kept a naive timestamp naive, one dropped the offset by slicing the text), so the same instant
or the same address could land as two different values in two raw tables.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

_UTC_TYPE = pa.timestamp("us", tz="UTC")


def utc_timestamp(value: Any) -> dt.datetime | None:
    """An ISO-8601 text (or datetime) -> an aware UTC datetime; empty -> None.

    A value with an offset (`+01:00`, `Z`) is converted to UTC; a naive value (no offset) is taken
    as UTC already (the platform's convention, and what vendors answering naive times document).
    """
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        parsed = value
    else:
        text = str(value).strip()
        if text.endswith(("Z", "z")):
            text = text[:-1] + "+00:00"
        parsed = dt.datetime.fromisoformat(text)
    return parsed.astimezone(dt.UTC) if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def utc_timestamp_column(texts: pa.Array | pa.ChunkedArray) -> pa.ChunkedArray:
    """Vectorised `utc_timestamp` for ISO-8601 text columns (Arrow, no Python loop when uniform)."""
    texts = pc.cast(texts, pa.string())
    try:
        out = pc.cast(texts, _UTC_TYPE)  # values carrying an offset or Z
    except pa.ArrowInvalid:
        try:
            out = pc.assume_timezone(pc.cast(texts, pa.timestamp("us")), "UTC")  # all naive: UTC
        except pa.ArrowInvalid:  # mixed forms: value by value
            out = pa.array([utc_timestamp(v) for v in texts.to_pylist()], _UTC_TYPE)
    return out if isinstance(out, pa.ChunkedArray) else pa.chunked_array([out])


def email_hash(email: str | None) -> str | None:
    """How every connector stores an e-mail: sha256 hex of the trimmed lower-case address; empty -> None."""
    if email is None:
        return None
    normalised = email.strip().lower()
    return hashlib.sha256(normalised.encode()).hexdigest() if normalised else None


def email_hash_column(emails: pa.Array | pa.ChunkedArray) -> pa.Array:
    """Vectorised `email_hash`: each distinct address hashed once (large event listings)."""
    normalised = pc.utf8_lower(pc.utf8_trim_whitespace(pc.cast(emails, pa.string())))
    distinct = pc.unique(normalised)
    digests = pa.array([email_hash(e) for e in distinct.to_pylist()], pa.string())
    return pc.take(digests, pc.index_in(normalised, value_set=distinct))
