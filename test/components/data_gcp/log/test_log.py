import io
import logging

from data_gcp.log import get_logger, redact, register_sensitive, setup_logging


def test_redact_replaces_registered_values():
    register_sensitive("tok-ABCDEFGH")
    assert redact("Authorization: Bearer tok-ABCDEFGH") == "Authorization: Bearer ***"
    assert redact("nothing here") == "nothing here"


def test_short_values_are_not_registered():
    register_sensitive("ab")
    assert redact("abc abd") == "abc abd"


def test_one_line_per_event_with_extras_and_redaction():
    stream = io.StringIO()
    root = logging.getLogger()
    saved = list(root.handlers)
    try:
        for h in saved:
            if getattr(h, "_data_gcp", False):
                root.removeHandler(h)
        setup_logging(logging.INFO, stream=stream)
        register_sensitive("very-secret-key-123")
        log = get_logger("data_gcp.test")
        log.info("loaded %s rows with very-secret-key-123", 42, extra={"table": "raw.x"})
        try:
            raise ValueError("multi\nline very-secret-key-123")
        except ValueError:
            log.exception("failed")
    finally:
        for h in list(root.handlers):
            if getattr(h, "_data_gcp", False):
                root.removeHandler(h)
        for h in saved:
            if h not in root.handlers:
                root.addHandler(h)
    lines = stream.getvalue().splitlines()
    assert len(lines) == 2
    assert "loaded 42 rows with ***" in lines[0] and 'table="raw.x"' in lines[0]
    assert "very-secret-key-123" not in stream.getvalue()
    assert "ValueError" in lines[1]
