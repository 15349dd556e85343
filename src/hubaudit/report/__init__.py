"""Renderers: one pure function per format, ``render(result) -> str``, registered by name.

:func:`render` is the one way out for a report (terminal, files, stored runs, email), and
scrubs it of every secret the process has read: the renderers show what HubSpot and the
notifiers said (coverage reasons, notes), and those are scrubbed where they come in, but a
report is where a missed one would be read by most people."""

from __future__ import annotations

from collections.abc import Callable

from hubaudit.model import AuditResult
from hubaudit.report import csv_report, html, json_report, markdown, sarif, text
from hubaudit.secrets import scrub

Renderer = Callable[[AuditResult], str]

RENDERERS: dict[str, Renderer] = {
    "text": text.render,
    "md": markdown.render,
    "html": html.render,
    "json": json_report.render,
    "csv": csv_report.render,
    "sarif": sarif.render,
}
FORMATS = tuple(RENDERERS)
EXTENSIONS = {
    "text": "txt",
    "md": "md",
    "html": "html",
    "json": "json",
    "csv": "csv",
    "sarif": "sarif",
}


def render(result: AuditResult, fmt: str, *, colour: bool = False) -> str:
    """The report in one format; ``colour`` (text only) for a terminal."""
    if fmt == "text" and colour:
        return scrub(text.render_coloured(result))
    return scrub(RENDERERS[fmt](result))
