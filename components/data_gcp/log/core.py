"""Structured one-line logging with redaction of every secret value the process has read.

Why a registry of values rather than a list of names: a secret leaks through the value (an URL with a
token, an exception repr), so the filter rewrites any message that contains a registered value.
"""

from __future__ import annotations

import json
import logging
import sys
import threading

_MASK = "***"
_sensitive: set[str] = set()
_lock = threading.Lock()


def encoded_forms(value: str) -> set[str]:
    """The forms a secret takes once it is in a URL, a query string or a JSON text.

    Why: a key with URL-special characters (`+`, `/`, `=`, `&`) shows up percent-encoded in a logged
    URL or an error, where a plain `replace` of the raw value would not find it: encoded whole, as a
    query value (`+` for a space), as a path segment (sub-delimiters left as is), with lower-case
    escapes, encoded twice, or escaped in a JSON text or a Python repr.
    """
    import json
    import re
    from urllib.parse import quote, quote_plus

    path_safe = "!$&'()*+,;=:@~"  # what RFC 3986 (and httpx) leave as is in a path segment
    forms = {
        value,
        quote(value, safe=""),
        quote(value),
        quote_plus(value),
        quote(value, safe=path_safe),
        quote(value, safe=path_safe + "/"),
        json.dumps(value)[1:-1],
        repr(value)[1:-1],
    }
    # percent-escapes in lower case (some clients and servers write `%2f`)
    forms |= {re.sub(r"%[0-9A-F]{2}", lambda m: m.group(0).lower(), f) for f in forms if "%" in f}
    forms |= {f.replace("%", "%25") for f in forms if "%" in f}  # encoded twice (a URL in a URL)
    return {f for f in forms if len(f) >= 4}


def register_sensitive(value: str | None) -> None:
    """Remember a secret value so that it never reaches a log line (values shorter than 4 are ignored).

    Every encoded form of the value (`encoded_forms`) is masked too.
    """
    if value and len(value) >= 4:
        with _lock:
            _sensitive.update(encoded_forms(value))


def redact(text: str) -> str:
    """Replace every registered secret value in `text` by `***`."""
    if not _sensitive or not text:
        return text
    with _lock:
        values = sorted(_sensitive, key=len, reverse=True)
    for value in values:
        if value in text:
            text = text.replace(value, _MASK)
    return text


class RedactingFilter(logging.Filter):
    """Rewrites the record's message (args merged in) and exception text with secrets masked."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a bad format string must not kill logging
            message = str(record.msg)
        record.msg = redact(message)
        record.args = None
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        return True


class OneLineFormatter(logging.Formatter):
    """`time level logger message key=value...`: one event a line, extra fields as JSON values."""

    _std = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}

    def format(self, record: logging.LogRecord) -> str:
        base = f"{self.formatTime(record, '%Y-%m-%dT%H:%M:%S')} {record.levelname:<7} {record.name} {record.getMessage()}"
        extras = {k: v for k, v in vars(record).items() if k not in self._std and not k.startswith("_")}
        if extras:
            base += " " + " ".join(f"{k}={json.dumps(v, default=str)}" for k, v in sorted(extras.items()))
        if record.exc_text:
            base += " | " + record.exc_text.replace("\n", " \\n ")
        return redact(base)


def setup_logging(level: int | str = logging.INFO, stream=None) -> None:
    """Install the one-line, redacting handler on the root logger (idempotent)."""
    root = logging.getLogger()
    for handler in root.handlers:
        if getattr(handler, "_data_gcp", False):
            root.setLevel(level)
            return
    handler = logging.StreamHandler(stream or sys.stderr)
    handler._data_gcp = True  # type: ignore[attr-defined]
    handler.setFormatter(OneLineFormatter())
    handler.addFilter(RedactingFilter())
    root.addHandler(handler)
    root.setLevel(level)


def get_logger(name: str) -> logging.Logger:
    """A logger whose records are redacted even when another handler (Airflow's, pytest's) prints them."""
    logger = logging.getLogger(name)
    if not any(isinstance(f, RedactingFilter) for f in logger.filters):
        logger.addFilter(RedactingFilter())
    return logger
