"""The Markdown report: for a pull request, a wiki page or a ticket.

Laid out by ``templates/report.md.j2`` from the report's view model. Every value a template
prints goes through :func:`markdown_safe` (the environment's ``finalize``), so no emphasis, link,
table cell or HTML tag of a portal user's making survives into the page. Markdown on purpose
is either a link to the item in HubSpot, built here by escaping code, or hubaudit's own
constant words (:class:`~hubaudit.report.view.Prose`)."""

from __future__ import annotations

from urllib.parse import quote

from hubaudit.model.audit_result import AuditResult
from hubaudit.report.escape import markdown_safe
from hubaudit.report.templating import MarkdownFragment, markdown_environment, render_template
from hubaudit.report.view import ReportView, build

VALUE_WIDTH = 80
DEPENDENTS_SHOWN = 10


# What a link's address keeps as it is; anything else (spaces, brackets, parentheses, "|", "<",
# control characters) is percent-encoded, so it can neither end the link nor a table cell.
_URL_SAFE = ":/?#&=%+,;@!$"


def link(text: str, url: str | None) -> MarkdownFragment:
    """``text`` escaped, as a link to ``url`` (built by :mod:`hubaudit.report.links` on a
    checked HubSpot host) when there is one."""
    if url is None:
        return MarkdownFragment(markdown_safe(text))
    return MarkdownFragment(f"[{markdown_safe(text)}]({quote(url, safe=_URL_SAFE)})")


def render(result: AuditResult) -> str:
    return render_view(build(result))


def render_view(view: ReportView) -> str:
    text = render_template(
        markdown_environment(),
        "report.md.j2",
        view=view,
        link=link,
        value_width=VALUE_WIDTH,
        dependents_shown=DEPENDENTS_SHOWN,
    )
    return text.rstrip("\n") + "\n"
