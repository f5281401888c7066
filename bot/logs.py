"""Private logs: no names, notes, message texts or tokens in any log line, at any level.

Our own code logs through structlog, with ids and counts only. The libraries log through the
standard library, and some of them dump request and response bodies at DEBUG (``slack_sdk``
prints every API call's parameters and every answer, which carry contact names and notes in
message blocks); SQLAlchemy prints bound parameters and result rows when its loggers are on.
So, on the root handler:

* ``slack_sdk``'s request and response lines are reduced to the HTTP method, the API method
  and the status;
* any other library line below WARNING keeps its format string, with each argument shown only
  if it looks like an id (no spaces, no quotes or braces; names and texts become ``"…"``); a
  line with no arguments but with braces or quotes (an interpolated body) becomes
  ``(details hidden)``;
* SQLAlchemy's engine and pool loggers are capped at WARNING (engines also run with
  ``hide_parameters=True``, see ``storage.db``);
* every library line is written in our ``key=value`` format, with its logger's name.
"""

from __future__ import annotations

import logging
import re
from typing import Any

import structlog

#: Loggers that never log below WARNING: at INFO/DEBUG they print SQL with rows.
CAPPED = ("sqlalchemy.engine", "sqlalchemy.pool", "sqlalchemy.orm", "aiosqlite")
HIDDEN = "(details hidden)"
#: An argument shown as is: an id, a number, a method name or a URL without spaces.
_ID_LIKE = re.compile(r"[\w:@./;=+-]{0,200}")
_SENDING = re.compile(r"^Sending a request - url: (?P<verb>[A-Z]+) (?P<url>\S+?),")
_RECEIVED = re.compile(r"^Received the following response - status: (?P<status>\d+)")
_UNSAFE = re.compile(r"[{}\[\]'\"]")
MAX_MESSAGE = 500


class PrivateRecords(logging.Filter):
    """Rewrites library log records so they carry no personal data (see the module doc)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg, record.args = safe_message(record)
        return True


def safe_message(record: logging.LogRecord) -> tuple[str, tuple[Any, ...]]:
    """``(msg, args)`` for ``record`` with anything that could be personal data removed."""
    raw = record.msg if isinstance(record.msg, str) else type(record.msg).__name__
    if record.name.startswith("slack_sdk"):
        sending = _SENDING.match(raw)
        if sending:
            api = sending.group("url").rstrip("/").rpartition("/")[2]
            return "slack api request: %s %s", (sending.group("verb"), api[:80])
        received = _RECEIVED.match(raw)
        if received:
            return "slack api response: status %s", (received.group("status"),)
    args = record.args if isinstance(record.args, tuple) else ()
    if isinstance(record.args, dict):
        return (HIDDEN, ())
    if not args and _UNSAFE.search(raw) and record.levelno < logging.WARNING:
        return HIDDEN, ()
    shown = tuple(_arg(a) for a in args)
    return raw[:MAX_MESSAGE], shown


def _arg(value: Any) -> Any:
    if isinstance(value, bool | int | float) or value is None:
        return value
    text = str(value)
    return text if _ID_LIKE.fullmatch(text) else "…"


def install() -> None:
    """Make every handler on the root logger private and ``key=value`` formatted."""
    for name in CAPPED:
        logging.getLogger(name).setLevel(logging.WARNING)
    formatter = structlog.stdlib.ProcessorFormatter(
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.KeyValueRenderer(
                key_order=["timestamp", "level", "event", "logger"], sort_keys=True
            ),
        ],
        foreign_pre_chain=[
            structlog.stdlib.add_log_level,
            structlog.stdlib.add_logger_name,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
        ],
    )
    for handler in logging.getLogger().handlers:
        handler.setFormatter(formatter)
        if not any(isinstance(f, PrivateRecords) for f in handler.filters):
            handler.addFilter(PrivateRecords())
