"""The Jinja2 environments of the HTML and Markdown reports, escaping every ``{{ }}`` by default.

Jinja2 is imported only when a report is rendered in one of these formats, so a command that
never writes HTML or Markdown does not pay for it.

HTML: autoescape on; ``finalize`` passes every value through :func:`html_safe` first (control
characters shown, ``<>&"'`` escaped exactly as the reports always did), so markupsafe's escaping
behind it has nothing left to do. Markdown: ``finalize`` passes every value through
:func:`markdown_safe`. In both, the only way to print markup is a value built by an escaping
function in this package and wrapped as such (``Markup`` / :class:`MarkdownFragment`);
``tests/test_report_templates.py`` holds the allowlist of where that happens."""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Any

from hubaudit.report.escape import html_safe, markdown_safe
from hubaudit.report.sections import cut, percent, plural, pretty_json, value_json
from hubaudit.report.view import Prose, when

if TYPE_CHECKING:
    import jinja2


class MarkdownFragment(str):
    """Markdown already made safe by escaping code: printed as it is by the Markdown templates."""

    __slots__ = ()


def _finalize_html(value: Any) -> Any:
    from markupsafe import Markup

    if hasattr(value, "__html__"):
        return value
    return Markup(html_safe(str(value)))  # noqa: S704 - html_safe escaped it


def _finalize_markdown(value: Any) -> str:
    if isinstance(value, MarkdownFragment | Prose):
        return str(value)
    return markdown_safe(str(value))


def _environment(finalize: Any, autoescape: bool) -> jinja2.Environment:
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("hubaudit.report", "templates"),
        # Markdown's escaping is markdown_safe in finalize, not HTML's: no autoescape there
        autoescape=autoescape,  # noqa: S701
        finalize=finalize,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
    )
    env.filters["json"] = value_json
    env.filters["when"] = when
    env.filters["percent"] = percent
    env.filters["plural"] = plural
    env.filters["cut"] = cut
    env.filters["pretty"] = pretty_json
    env.filters["day"] = lambda moment: f"{moment:%Y-%m-%d}"
    env.filters["decimal"] = lambda number, places=1: f"{number:.{places}f}"
    return env


@cache
def html_environment() -> jinja2.Environment:
    return _environment(_finalize_html, autoescape=True)


@cache
def markdown_environment() -> jinja2.Environment:
    return _environment(_finalize_markdown, autoescape=False)


def render_template(env: jinja2.Environment, name: str, **context: Any) -> str:
    return env.get_template(name).render(**context)
