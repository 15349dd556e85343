"""The web app's Jinja2 environment: autoescape on, and every value passed through
:func:`~hubaudit.report.escape.html_safe` first, as the HTML report does, so a HubSpot label
holding markup or control characters is shown as text."""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Any

from hubaudit.report.escape import html_safe
from hubaudit.report.sections import value_json

if TYPE_CHECKING:
    import jinja2


def _finalize(value: Any) -> Any:
    from markupsafe import Markup

    if hasattr(value, "__html__"):
        return value
    if value is None:
        return ""
    return Markup(html_safe(str(value)))  # noqa: S704 - html_safe escaped it


def _moment(value: Any) -> str:
    from datetime import UTC

    if value is None:
        return "—"
    return f"{value.astimezone(UTC):%Y-%m-%d %H:%M} UTC"


def _day(value: Any) -> str:
    return "—" if value is None else f"{value:%Y-%m-%d}"


@cache
def environment() -> jinja2.Environment:
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("hubaudit.web", "templates"),
        autoescape=True,
        finalize=_finalize,
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
    )
    env.filters["json"] = value_json
    env.filters["moment"] = _moment
    env.filters["day"] = _day
    return env


def render(name: str, **context: Any) -> str:
    return environment().get_template(name).render(**context)
