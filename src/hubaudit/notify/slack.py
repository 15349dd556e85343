"""Slack: an incoming webhook, one Block Kit message per run.

Within Slack's limits: at most 50 blocks, a header of at most 150 characters, section text of
at most 3000. Portal users' strings are escaped as Slack asks (``&``, ``<``, ``>``), so no
mention, link or channel ping of theirs gets through. The webhook's URL is a secret: it comes
from the environment or a file and never appears in a log or an error (Slack's answer is
quoted in an error only scrubbed: it may echo the URL's path)."""

from __future__ import annotations

import json
from typing import Any

import httpx

from hubaudit.config import Secret
from hubaudit.notify.base import Digest, NotifyError, answer_excerpt
from hubaudit.report.sections import value_json

MAX_BLOCKS = 50
MAX_HEADER = 150
MAX_SECTION = 3000
VALUE_WIDTH = 60


def slack_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def slack_message(digest: Digest) -> dict[str, Any]:
    result = digest.result
    blocks: list[dict[str, Any]] = [
        {
            "type": "header",
            "text": {"type": "plain_text", "text": _cut(digest.subject, MAX_HEADER)},
        },
    ]
    summary = [
        f"*Portal* {slack_escape(result.portal)} · snapshot #{result.snapshot.id} against "
        f"baseline v{result.baseline.version}",
    ]
    if digest.summary_line:
        summary.append(slack_escape(digest.summary_line))
    if digest.new_defects:
        summary.append(f"*New defects:* {digest.severity_line()}")
    if result.not_verified:
        parts = ", ".join(slack_escape(p.scope) for p in result.not_verified)
        summary.append(f"*Not verified:* {parts}")
    blocks.append(
        {
            "type": "section",
            "text": {"type": "mrkdwn", "text": _cut("\n".join(summary), MAX_SECTION)},
        }
    )
    lines = []
    for change in digest.new_defects:
        where = change.key + (f" {change.field}" if change.field else f" ({change.op.value})")
        who = change.attribution.user_email or change.attribution.user_id
        by = f" — by {slack_escape(who)}" if who else ""
        again = " (reopened)" if change.defect_id in digest.reopened else ""
        lines.append(
            f"• *{change.severity.value}* {slack_escape(where)}: "
            f"{slack_escape(value_json(change.before, VALUE_WIDTH))} → "
            f"{slack_escape(value_json(change.after, VALUE_WIDTH))}{by}{again}"
        )
    for defect in digest.expired_waivers:
        lines.append(f"• waiver expired: defect #{defect.id} {slack_escape(defect.key)}")
    for row in digest.expiring:
        lines.append(
            f"• waiver ends {row.until:%Y-%m-%d} ({row.left}): {slack_escape(row.subject)} "
            f"{slack_escape(row.key)}, waived by {slack_escape(row.by)}: "
            f"{slack_escape(_cut(row.reason, 300))}"
        )
    for finding in digest.new_findings:
        lines.append(
            f"• *{finding.severity.value}* finding {slack_escape(finding.policy)}: "
            f"{slack_escape(_cut(finding.message, 300))}"
        )
    room = MAX_BLOCKS - len(blocks) - 2  # keep two for "and more" and the link
    sections: list[str] = []
    current = ""
    shown = 0
    for line in lines:
        line = _cut(line, MAX_SECTION)
        if current and len(current) + 1 + len(line) > MAX_SECTION:
            if len(sections) + 1 >= room:
                break
            sections.append(current)
            current = ""
        current = f"{current}\n{line}" if current else line
        shown += 1
    if current:
        sections.append(current)
    blocks += [{"type": "section", "text": {"type": "mrkdwn", "text": text}} for text in sections]
    if shown < len(lines):
        blocks.append(
            {
                "type": "context",
                "elements": [
                    {"type": "mrkdwn", "text": f"… and {len(lines) - shown} more in the report"}
                ],
            }
        )
    if digest.report_url:
        link = digest.report_url.replace(">", "%3E").replace("|", "%7C")
        blocks.append(
            {"type": "section", "text": {"type": "mrkdwn", "text": f"<{link}|Open the report>"}}
        )
    return {"text": digest.subject, "blocks": blocks}


class SlackNotifier:
    channel = "slack"

    def __init__(
        self, url: Secret, timeout: float = 10.0, transport: httpx.BaseTransport | None = None
    ) -> None:
        self._url = url
        self._timeout = timeout
        self._transport = transport

    def send(self, digest: Digest) -> None:
        body = json.dumps(slack_message(digest), ensure_ascii=False).encode("utf-8")
        try:
            with httpx.Client(timeout=self._timeout, transport=self._transport) as http:
                response = http.post(
                    self._url.reveal(), content=body, headers={"Content-Type": "application/json"}
                )
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            # the exception's text may hold the URL, which is the secret: name its type only
            raise NotifyError(f"slack: {type(exc).__name__}") from None
        if response.status_code != 200:
            answer = answer_excerpt(response.text)
            raise NotifyError(f"slack: HTTP {response.status_code}: {answer}")
