"""Renderers: one pure function per format, ``render(result) -> str``, registered by name."""

from __future__ import annotations

from collections.abc import Callable

from hubaudit.model import AuditResult
from hubaudit.report import csv_report, html, json_report, markdown, sarif, text

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
        return text.render_coloured(result)
    return RENDERERS[fmt](result)
