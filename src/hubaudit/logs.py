"""Structured logs: events with fields, JSON for the nightly job, console for a person.

A last processor scrubs anything shaped like a HubSpot token or an Authorization header, and
every secret the process has read (:mod:`hubaudit.secrets`), so a secret that slipped into an
event (it should never) still does not reach the log; the rendered line is scrubbed once more,
so that a traceback or a nested value cannot carry one either.

structlog is loaded on the first event, not at import: a read command that logs nothing never
loads it. :func:`configure_logging` takes effect at once when structlog is loaded already, and
otherwise when the first event is logged; :func:`get_logger` returns a logger that loads it then.
"""

from __future__ import annotations

import logging
import re
import sys
import threading
from collections.abc import MutableMapping
from typing import Any, TextIO, cast

from hubaudit.secrets import scrub

_TOKEN_SHAPES = re.compile(r"(pat-[a-z]{2}[0-9]-[0-9a-f-]{8,}|Bearer\s+\S+)", re.IGNORECASE)
_SECRET_FIELDS = frozenset({"token", "authorization", "access_token", "password"})
_LEVELS = {
    "debug": logging.DEBUG,
    "info": logging.INFO,
    "warning": logging.WARNING,
    "error": logging.ERROR,
}

_pending: tuple[str, str, TextIO | None] | None = None
"""The set-up :func:`configure_logging` asked for while structlog was not loaded yet."""
_setting_up = threading.Lock()
"""Held while a set-up is applied: no thread logs through structlog's defaults meanwhile."""


def scrub_secrets(
    _logger: Any, _method: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    for key in list(event_dict):
        value = event_dict[key]
        if key.lower() in _SECRET_FIELDS:
            event_dict[key] = "********"
        elif isinstance(value, str):
            event_dict[key] = scrub(_TOKEN_SHAPES.sub("********", value))
    return event_dict


class _ScrubbedRenderer:
    """The renderer's line, scrubbed: the console renderer formats a traceback itself, after
    every processor, and a value may hold a secret inside a list or a dict."""

    def __init__(self, renderer: Any) -> None:
        self._renderer = renderer

    def __call__(self, logger: Any, method: str, event_dict: MutableMapping[str, Any]) -> str:
        return scrub(str(self._renderer(logger, method, event_dict)))


class _CurrentStderr:
    """Whatever ``sys.stderr`` is at the moment of writing (it may be replaced after set-up)."""

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()


def configure_logging(
    fmt: str = "console", level: str = "info", stream: TextIO | None = None
) -> None:
    """Log as ``fmt`` (``console`` or ``json``) from ``level`` up, to ``stream`` (stderr)."""
    global _pending
    if level not in _LEVELS:
        raise ValueError(f"unknown log level {level!r}")
    with _setting_up:
        if "structlog" in sys.modules:
            _apply(fmt, level, stream)
            _pending = None
        else:
            _pending = (fmt, level, stream)


def _apply(fmt: str, level: str, stream: TextIO | None) -> None:
    import structlog

    renderer: Any = (
        structlog.processors.JSONRenderer()
        if fmt == "json"
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    structlog.configure(
        processors=[
            # run id and portal, bound by the worker for everything one audit logs
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            # JSON keeps a crash's traceback as text (and scrubbed, like every field)
            *([structlog.processors.format_exc_info] if fmt == "json" else []),
            scrub_secrets,
            _ScrubbedRenderer(renderer),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(_LEVELS[level]),
        logger_factory=structlog.PrintLoggerFactory(file=stream or cast(TextIO, _CurrentStderr())),
        cache_logger_on_first_use=False,
    )


def _structlog_logger(name: str) -> Any:
    """structlog's logger for ``name``, loading structlog and the pending set-up first."""
    global _pending
    import structlog

    if _pending is not None:  # the first event: apply the set-up before anyone logs
        with _setting_up:
            if _pending is not None:
                _apply(*_pending)
                _pending = None
    return structlog.get_logger(name)


class _Logger:
    """A module's logger: structlog's, looked up on each event (so it follows the current
    set-up, as structlog's own unconfigured loggers do), loading structlog on the first."""

    def __init__(self, name: str) -> None:
        self._name = name

    def __getattr__(self, method: str) -> Any:
        return getattr(_structlog_logger(self._name), method)


def get_logger(name: str) -> Any:
    return _Logger(name)
