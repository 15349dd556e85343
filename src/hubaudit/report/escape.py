"""Making HubSpot-provided strings inert. Labels and descriptions are written by portal users."""

from __future__ import annotations

import html
import re

# C0 and C1 control characters (ESC starts terminal escape sequences), DEL, and the Unicode
# bidirectional overrides that can make text display in another order than it reads.
_UNSAFE_IN_TERMINAL = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]"
)


def terminal_safe(text: str) -> str:
    """Show control characters as visible escapes (``\\x1b``) instead of obeying them."""

    def visible(match: re.Match[str]) -> str:
        code = ord(match.group())
        return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"

    return _UNSAFE_IN_TERMINAL.sub(visible, text).replace("\n", "\\n").replace("\t", "\\t")


def html_safe(text: str) -> str:
    """Inert in HTML, text or attribute: control characters shown, then ``<>&"'`` escaped."""
    return html.escape(terminal_safe(text), quote=True)


# What makes Markdown out of text in the middle of a line (a portal user's string never starts
# one of ours): emphasis, code, links and images, table cells, strikethrough, math. Each is
# escaped with a backslash (CommonMark); <, > and & become entities, since a Markdown renderer
# passes raw HTML through; and bare addresses are broken so that none becomes a link.
_MARKDOWN_PUNCTUATION = frozenset("\\`*_[]|~$")
# "@" too: GitHub links an address (a@b.example) and pings a team (@org/team) from it
_MARKDOWN_ENTITIES = {"<": "&lt;", ">": "&gt;", "&": "&amp;", "@": "&#64;"}
_AUTOLINK = re.compile(r"(://|www\.)", re.IGNORECASE)


def markdown_safe(text: str) -> str:
    """Inert in Markdown (and the HTML it becomes): no emphasis, link, table cell or tag of
    the portal user's making survives, and control characters are shown."""
    out = []
    for char in terminal_safe(text):
        if char in _MARKDOWN_ENTITIES:
            out.append(_MARKDOWN_ENTITIES[char])
        elif char in _MARKDOWN_PUNCTUATION:
            out.append("\\" + char)
        else:
            out.append(char)
    return _AUTOLINK.sub(lambda m: m.group(1)[:-1] + "\\" + m.group(1)[-1], "".join(out))
