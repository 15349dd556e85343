"""Email over SMTP: a plain-text digest with an HTML alternative, and the full HTML report
attached. STARTTLS by default; the password comes from the environment or a file."""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage

from hubaudit.config import Secret
from hubaudit.notify.base import Digest, NotifyError, answer_excerpt
from hubaudit.report import render
from hubaudit.report.escape import terminal_safe
from hubaudit.report.html import digest_html
from hubaudit.report.sections import plural, value_json
from hubaudit.secrets import remember_smtp_login

VALUE_WIDTH = 80


def digest_lines(digest: Digest) -> list[str]:
    result = digest.result
    lines = [
        f"Portal {result.portal}: snapshot #{result.snapshot.id} against baseline "
        f"v{result.baseline.version}.",
        digest.summary_line,
    ]
    if digest.new_defects:
        lines += ["", f"New defects ({digest.severity_line()}):"]
        for change in digest.new_defects:
            where = change.key + (f" {change.field}" if change.field else f" ({change.op.value})")
            who = change.attribution.user_email or change.attribution.user_id
            again = " (reopened)" if change.defect_id in digest.reopened else ""
            lines.append(
                f"- [{change.severity.value}] {where}: {value_json(change.before, VALUE_WIDTH)} -> "
                f"{value_json(change.after, VALUE_WIDTH)}{' by ' + who if who else ''}{again}"
            )
    if digest.expired_waivers:
        lines += ["", "Waivers expired (open again):"]
        lines += [f"- defect #{d.id} {d.key} {d.field or ''}" for d in digest.expired_waivers]
    if digest.expiring:
        lines += ["", f"Waivers expiring within {plural(result.expiring_days, 'day')}:"]
        lines += [
            f"- {row.subject} {row.key}: waived by {row.by} until {row.until:%Y-%m-%d} "
            f"({row.reason}), {row.left}"
            for row in digest.expiring
        ]
    if digest.new_findings:
        lines += ["", "New policy findings:"]
        lines += [
            f"- [{f.severity.value}] {f.policy} {f.key}: {f.message}" for f in digest.new_findings
        ]
    if result.not_verified:
        lines += ["", "Not verified: " + ", ".join(p.scope for p in result.not_verified)]
    if digest.report_url:
        lines += ["", f"Report: {digest.report_url}"]
    return lines


def email_message(digest: Digest, sender: str, recipients: tuple[str, ...]) -> EmailMessage:
    lines = digest_lines(digest)
    message = EmailMessage()
    message["Subject"] = terminal_safe(digest.subject)
    message["From"] = sender
    message["To"] = ", ".join(recipients)
    message.set_content("\n".join(terminal_safe(line) for line in lines) + "\n")
    message.add_alternative(digest_html(lines), subtype="html")
    message.add_attachment(
        render(digest.result, "html").encode("utf-8"),
        maintype="text",
        subtype="html",
        filename=f"hubaudit-{digest.result.portal}-snapshot-{digest.result.snapshot.id}.html",
    )
    return message


class EmailNotifier:
    channel = "email"

    def __init__(
        self,
        host: str,
        port: int,
        sender: str,
        recipients: tuple[str, ...],
        *,
        starttls: bool = True,
        username: str | None = None,
        password: Secret | None = None,
        timeout: float = 10.0,
    ) -> None:
        self._host, self._port = host, port
        self._sender, self._recipients = sender, recipients
        self._starttls, self._username, self._password = starttls, username, password
        if username is not None and password is not None:
            remember_smtp_login(username, password.reveal())
        self._timeout = timeout

    def send(self, digest: Digest) -> None:
        message = email_message(digest, self._sender, self._recipients)
        try:
            with smtplib.SMTP(self._host, self._port, timeout=self._timeout) as smtp:
                if self._starttls:
                    smtp.starttls(context=ssl.create_default_context())
                if self._username is not None and self._password is not None:
                    smtp.login(self._username, self._password.reveal())
                smtp.send_message(message)
        except (OSError, UnicodeError, smtplib.SMTPException) as exc:
            # the server's reply helps ("535 authentication failed"), scrubbed: a server may
            # quote what it was sent, and the login's base64 holds the password
            code = getattr(exc, "smtp_code", None)
            reply = getattr(exc, "smtp_error", b"")
            if isinstance(reply, bytes):
                reply = reply.decode("utf-8", "replace")
            said = answer_excerpt(reply) if isinstance(reply, str) else ""
            raise NotifyError(
                f"email via {self._host}:{self._port}: {type(exc).__name__}"
                + (f" {code}" if code else "")
                + (f": {said}" if said else "")
            ) from None
