"""Renderers: one pure function per format, ``render(result) -> str``, registered by name.

:func:`render` is the one way out for a report (terminal, files, stored runs, email), and
scrubs it of every secret the process has read: the renderers show what HubSpot and the
notifiers said (coverage reasons, notes), and those are scrubbed where they come in, but a
report is where a missed one would be read by most people.

A renderer's module is imported when its format is first rendered (templates cost an import that
a JSON or text report does not need)."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import TYPE_CHECKING

from hubaudit.secrets import scrub

if TYPE_CHECKING:
    from hubaudit.model.audit_result import AuditResult

Renderer = Callable[["AuditResult"], str]

RENDERERS: dict[str, str] = {
    "text": "hubaudit.report.text",
    "md": "hubaudit.report.markdown",
    "html": "hubaudit.report.html",
    "json": "hubaudit.report.json_report",
    "csv": "hubaudit.report.csv_report",
    "sarif": "hubaudit.report.sarif",
}
"""Each format's renderer module; its ``render(result) -> str`` is the renderer."""
FORMATS = tuple(RENDERERS)
EXTENSIONS = {
    "text": "txt",
    "md": "md",
    "html": "html",
    "json": "json",
    "csv": "csv",
    "sarif": "sarif",
}


def renderer(fmt: str) -> Renderer:
    """The renderer of one format, its module imported now."""
    function: Renderer = importlib.import_module(RENDERERS[fmt]).render
    return function


def render(result: AuditResult, fmt: str, *, colour: bool = False) -> str:
    """The report in one format; ``colour`` (text only) for a terminal."""
    if fmt == "text" and colour:
        from hubaudit.report import text

        return scrub(text.render_coloured(result))
    return scrub(renderer(fmt)(result))
