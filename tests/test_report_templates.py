"""The HTML and Markdown reports escape by default: whatever string a portal user wrote, in any
field, stays text; markup is printed only where escaping code built it (an allowlist); and the
template engine is imported only when one of these reports is rendered."""

from __future__ import annotations

import ast
import dataclasses
import enum
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from hubaudit.model.audit_result import AuditResult
from hubaudit.report import render
from hubaudit.report.view import build

from .report_fixture import rich_result

REPORT = Path(__file__).resolve().parents[1] / "src" / "hubaudit" / "report"
TEMPLATES = REPORT / "templates"
EVIL = "<script>alert(1)</script> | * _ [x](y) \x00 end"


def hostile_everywhere(value: Any) -> Any:
    """``value`` with EVIL appended to every string in it (not to enum members, which are
    hubaudit's own words), through dataclasses, tuples, lists and dicts."""
    if isinstance(value, enum.Enum):
        return value
    if isinstance(value, str):
        return value + EVIL
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        changes = {
            f.name: hostile_everywhere(getattr(value, f.name))
            for f in dataclasses.fields(value)
            if f.init
        }
        return dataclasses.replace(value, **changes)
    if isinstance(value, tuple):
        return tuple(hostile_everywhere(v) for v in value)
    if isinstance(value, list):
        return [hostile_everywhere(v) for v in value]
    if isinstance(value, dict):
        return {hostile_everywhere(k): hostile_everywhere(v) for k, v in value.items()}
    return value


@pytest.fixture(scope="module")
def evil_result() -> AuditResult:
    result = hostile_everywhere(rich_result(EVIL))
    assert isinstance(result, AuditResult)
    return result


def test_a_label_with_a_script_markdown_and_a_nul_stays_text_in_html(
    evil_result: AuditResult,
) -> None:
    html = render(rich_result(EVIL), "html")
    assert "<script>alert(1)" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; | * _ [x](y) \\x00 end" in html
    assert "\x00" not in html
    everywhere = render(evil_result, "html")
    assert "<script>alert" not in everywhere and "\x00" not in everywhere
    # every string of the result carries EVIL, and each one shown is shown escaped
    assert everywhere.count("&lt;script&gt;alert(1)") > 40
    assert len(re.findall(r"<script", everywhere, re.IGNORECASE)) == 0


def test_a_label_with_a_script_markdown_and_a_nul_stays_text_in_markdown(
    evil_result: AuditResult,
) -> None:
    # the NUL shown as \x00, whose backslash Markdown escapes in turn
    escaped = "&lt;script&gt;alert(1)&lt;/script&gt; \\| \\* \\_ \\[x\\](y) \\\\x00 end"
    md = render(rich_result(EVIL), "md")
    assert escaped in md
    everywhere = render(evil_result, "md")
    for text in (md, everywhere):
        assert "<script" not in text and "\x00" not in text
        assert "| * _ [x](y)" not in text
    assert everywhere.count(escaped) > 40
    # the table rows keep their column count: no portal user's "|" opens a cell
    for line in everywhere.splitlines():
        if line.startswith("| ") and "Item" not in line:
            cells = re.split(r"(?<!\\)\|", line)
            assert len(cells) in (4, 5, 6, 8, 11), line


def test_text_shows_the_same_strings_inert(evil_result: AuditResult) -> None:
    text = render(evil_result, "text")
    assert "\x00" not in text
    assert "<script>alert(1)</script> | * _ [x](y) \\x00 end" in text


def test_the_view_model_keeps_hubspots_strings_raw() -> None:
    """Escaping is the layout's job: the view holds the strings exactly as read."""
    view = build(rich_result(EVIL))
    labels = [item.label for item in view.unplanned.items]
    assert EVIL in labels


# what may print markup unescaped: (module, function) -> why it is safe
MARKUP_ALLOWLIST = {
    ("templating", "_finalize_html"): "wraps html_safe's output",
    ("markdown", "link"): "markdown_safe'd text and a URL from links.record_url",
}


def markup_calls() -> set[tuple[str, str]]:
    """Every place in report/ that makes a string count as already escaped."""
    found: set[tuple[str, str]] = set()
    for path in REPORT.glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for function in ast.walk(tree):
            if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            for node in ast.walk(function):
                if (
                    isinstance(node, ast.Call)
                    and isinstance(node.func, ast.Name)
                    and node.func.id in ("Markup", "MarkdownFragment", "Prose")
                ):
                    found.add((path.stem, function.name))
    return found


def test_markup_is_made_only_on_the_allowlist_of_escaping_code() -> None:
    assert markup_calls() == set(MARKUP_ALLOWLIST)
    for path in REPORT.glob("*.py"):
        source = path.read_text(encoding="utf-8")
        assert "|safe" not in source and "markupsafe.Markup(" not in source, path
        if path.stem != "view":
            assert "def __html__" not in source, path


def test_prose_is_only_ever_a_constant_of_the_view_module() -> None:
    """Prose prints unescaped in Markdown: it must never hold a HubSpot string."""
    tree = ast.parse((REPORT / "view.py").read_text(encoding="utf-8"))
    at_module_level = 0
    for statement in tree.body:
        if isinstance(statement, ast.FunctionDef | ast.ClassDef):
            continue
        for node in ast.walk(statement):
            if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "Prose":
                (argument,) = node.args
                assert isinstance(argument, ast.Constant | ast.Name), ast.dump(argument)
                at_module_level += 1
    assert at_module_level >= 8
    for path in REPORT.glob("*.py"):
        if path.stem != "view":
            assert "Prose(" not in path.read_text(encoding="utf-8"), path


def test_templates_never_switch_escaping_off() -> None:
    templates = sorted(TEMPLATES.glob("*.j2"))
    assert {t.name for t in templates} >= {"report.html.j2", "report.md.j2"}
    for template in templates:
        source = template.read_text(encoding="utf-8")
        for forbidden in ("|safe", "| safe", "Markup(", "autoescape false", "{% raw"):
            assert forbidden not in source, (template.name, forbidden)


def test_jinja2_is_imported_only_when_html_or_markdown_is_rendered() -> None:
    program = (
        "import sys\n"
        "from hubaudit.report import render\n"
        "from tests.report_fixture import rich_result\n"
        "result = rich_result()\n"
        "for fmt in ('text', 'json', 'csv', 'sarif'):\n"
        "    render(result, fmt)\n"
        "print('jinja2' in sys.modules)\n"
        "render(result, 'md')\n"
        "print('jinja2' in sys.modules)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", program],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parents[1],
        timeout=120,
    )
    assert done.stdout.split() == ["False", "True"]


def test_the_email_digest_html_escapes_each_line() -> None:
    from hubaudit.report.html import digest_html

    page = digest_html(["New defects (1 critical):", "- " + EVIL, "", EVIL])
    assert page.startswith('<!doctype html><html><body style="font-family:sans-serif')
    assert ">New defects (1 critical):</h3><ul>" in page  # a line ending in ":" heads a list
    assert '<li style="overflow-wrap:anywhere">&lt;script&gt;alert(1)' in page
    assert "</ul><p>&lt;script&gt;alert(1)" in page
    assert "<script" not in page and "\x00" not in page and "\\x00" in page
