"""Sending a run's digest to every target: once per run and target, only when something new
happened, retried with backoff, logged, recorded, and never failing the audit itself."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from hubaudit.config import NotifyConfig, resolve_secret
from hubaudit.errors import HubauditError
from hubaudit.logs import get_logger
from hubaudit.model.audit_result import AuditResult
from hubaudit.notify.base import Notifier, NotifyError, build_digest
from hubaudit.notify.email import EmailNotifier
from hubaudit.notify.slack import SlackNotifier
from hubaudit.notify.webhook import WebhookNotifier
from hubaudit.secrets import scrub
from hubaudit.store.reports import ReportStore
from hubaudit.store.repository import Store

log = get_logger(__name__)
MAX_BACKOFF = 30.0


@dataclass(frozen=True)
class Delivery:
    target: str
    status: str  # sent | failed | nothing new | already sent
    attempts: int = 0
    error: str | None = None


def notifier_for(target: NotifyConfig) -> Notifier:
    """The target's notifier, its secret read now (a missing one is a ConfigError)."""
    what = f"notify {target.name!r}"
    if target.channel == "slack":
        url = resolve_secret(target.url_env, target.url_file, what)
        return SlackNotifier(url, target.timeout_seconds)
    if target.channel == "webhook":
        assert target.url is not None
        secret = resolve_secret(target.secret_env, target.secret_file, what)
        return WebhookNotifier(target.url, secret, target.timeout_seconds)
    assert target.smtp_host is not None and target.sender is not None
    password = None
    if target.password_env is not None or target.password_file is not None:
        password = resolve_secret(target.password_env, target.password_file, what)
    return EmailNotifier(
        target.smtp_host,
        target.smtp_port,
        target.sender,
        target.recipients,
        starttls=target.starttls,
        username=target.username,
        password=password,
        timeout=target.timeout_seconds,
    )


def notify_run(
    store: Store,
    run_id: int,
    targets: Sequence[NotifyConfig],
    result: AuditResult,
    report_url: str | None,
    *,
    factory: Callable[[NotifyConfig], Notifier] = notifier_for,
    sleep: Callable[[float], None] = time.sleep,
) -> list[Delivery]:
    reports = ReportStore(store)
    deliveries = []
    for target in targets:
        digest = build_digest(result, report_url, findings=target.findings)
        if digest.empty:
            deliveries.append(Delivery(target.name, "nothing new"))
            continue
        if reports.notified(run_id, target.name):
            deliveries.append(Delivery(target.name, "already sent"))
            continue
        attempts, error = 0, None
        try:
            notifier = factory(target)
        except HubauditError as exc:
            error = scrub(str(exc))
        except Exception as exc:  # a secret that is no URL, say: never its text, which holds it
            error = f"{target.channel}: {type(exc).__name__}"
        else:
            for attempt in range(target.retries + 1):
                attempts = attempt + 1
                try:
                    notifier.send(digest)
                    error = None
                    break
                except NotifyError as exc:
                    error = scrub(str(exc))  # a notifier's own message, and the last check
                except Exception as exc:  # one target's surprise must not silence the others
                    error = f"{target.channel}: {type(exc).__name__}"
                log.warning(
                    "notify.retry" if attempt < target.retries else "notify.gave_up",
                    target=target.name,
                    channel=target.channel,
                    attempt=attempts,
                    error=error,
                )
                if attempt < target.retries:
                    sleep(min(MAX_BACKOFF, 2.0**attempt))
        status = "sent" if error is None else "failed"
        reports.record_notification(
            run_id, target.name, target.channel, status, attempts, error, datetime.now(UTC)
        )
        if error is None:
            log.info("notify.sent", target=target.name, channel=target.channel, attempts=attempts)
        else:
            log.error("notify.failed", target=target.name, channel=target.channel, error=error)
        deliveries.append(Delivery(target.name, status, attempts, error))
    return deliveries
