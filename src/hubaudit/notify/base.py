"""What a notification says, and what a notifier is.

A digest holds only what is new since the last audit: defects opened or reopened, waivers that
ran out, and (unless a target says otherwise) findings opened or reopened. Drift that was
already known sends nothing. A notifier turns a digest into one message on its channel and
raises :class:`NotifyError` when it cannot; the dispatcher retries, logs and records it."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Protocol

from hubaudit.errors import HubauditError
from hubaudit.governance.triage import Standing, TriageFacts, triage_order
from hubaudit.model.audit_result import AuditResult
from hubaudit.model.changes import Change, Classification, Severity
from hubaudit.model.defects import Defect
from hubaudit.model.findings import Finding
from hubaudit.report.view import ExpiringRow, expiring_of, summary_line
from hubaudit.secrets import scrub

ANSWER_EXCERPT = 200


class NotifyError(HubauditError):
    """A notification could not be sent (the message never names a secret)."""


def answer_excerpt(text: str, limit: int = ANSWER_EXCERPT) -> str:
    """The start of a server's answer for an error message: on one line, and scrubbed first
    (a Slack endpoint may echo its own path, which is the webhook's secret; cutting first
    could leave half a secret that no longer matches)."""
    text = " ".join(scrub(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


@dataclass(frozen=True)
class Digest:
    result: AuditResult
    new_defects: tuple[Change, ...]
    reopened: frozenset[int]
    expired_waivers: tuple[Defect, ...]
    new_findings: tuple[Finding, ...]
    report_url: str | None = None
    expiring: tuple[ExpiringRow, ...] = ()
    """Waivers ending soon: told when a digest is sent, never a reason to send one (a
    waiver a week from its end would otherwise notify every night of that week)."""
    summary_line: str = ""

    @property
    def empty(self) -> bool:
        return not (self.new_defects or self.expired_waivers or self.new_findings)

    @property
    def subject(self) -> str:
        parts = []
        if self.new_defects:
            # one defect per item: its changes count once
            defects = {c.defect_id for c in self.new_defects}
            reopened = len(defects & self.reopened)
            text = f"{len(defects)} new defects"
            parts.append(text + (f" ({reopened} reopened)" if reopened else ""))
        if self.expired_waivers:
            parts.append(f"{len(self.expired_waivers)} waivers expired")
        if self.new_findings:
            parts.append(f"{len(self.new_findings)} new findings")
        return f"hubaudit: {self.result.portal}: " + (", ".join(parts) or "nothing new")

    def severity_line(self) -> str:
        """New defects by severity, each as bad as its worst change."""
        worst: dict[int | None, Severity] = {}
        for c in self.new_defects:
            known = worst.get(c.defect_id)
            if known is None or c.severity.rank > known.rank:
                worst[c.defect_id] = c.severity
        counts = Counter(worst.values())
        return ", ".join(f"{counts[s]} {s.value}" for s in Severity if counts[s])


def build_digest(result: AuditResult, report_url: str | None, findings: bool = True) -> Digest:
    fresh = set(result.defects.opened) | set(result.defects.reopened)
    new = triage_order(
        (
            c
            for c in result.changes
            if c.classification is Classification.DEFECT and c.defect_id in fresh
        ),
        lambda c: TriageFacts(Standing.NEW, c.severity, c.attribution.at, c.key),
    )
    new_severities = [(s, n) for s in Severity if (n := sum(c.severity is s for c in new))]
    fresh_findings = set(result.finding_update.opened) | set(result.finding_update.reopened)
    return Digest(
        result=result,
        new_defects=tuple(new),
        reopened=frozenset(result.defects.reopened),
        expired_waivers=result.expired_waivers,
        new_findings=tuple(f for f in result.findings if f.id in fresh_findings)
        if findings
        else (),
        report_url=report_url,
        expiring=expiring_of(result),
        summary_line=summary_line(result, new_severities),
    )


class Notifier(Protocol):
    @property
    def channel(self) -> str: ...

    def send(self, digest: Digest) -> None: ...
