"""Making HubSpot-provided strings inert. Labels and descriptions are written by portal users."""

from __future__ import annotations

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
