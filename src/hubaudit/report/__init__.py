"""Renderers: one pure function per format, ``render(result) -> str``, registered by name."""

from __future__ import annotations

from collections.abc import Callable

from hubaudit.model import AuditResult
from hubaudit.report import json_report, text

Renderer = Callable[[AuditResult], str]

RENDERERS: dict[str, Renderer] = {
    "text": text.render,
    "json": json_report.render,
}


def render(result: AuditResult, fmt: str) -> str:
    return RENDERERS[fmt](result)
