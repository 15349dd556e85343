"""A generic JSON webhook, signed with HMAC-SHA256.

The receiver checks ``X-Hubaudit-Signature: sha256=<hex>``: the HMAC-SHA256, keyed with the
shared secret, of ``<X-Hubaudit-Timestamp>.<raw body>``; signing the timestamp too lets it
refuse a replayed delivery. The body is the digest as JSON: the portal, the run, the report's
address, and the new defects, expired waivers and new findings in the report's own forms."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Callable
from typing import Any

import httpx

from hubaudit.config import Secret
from hubaudit.notify.base import Digest, NotifyError, answer_excerpt
from hubaudit.report.json_report import (
    SCHEMA_VERSION,
    change_document,
    defect_document,
    finding_document,
)
from hubaudit.secrets import remember_secret

SIGNATURE_HEADER = "X-Hubaudit-Signature"
TIMESTAMP_HEADER = "X-Hubaudit-Timestamp"


def sign(secret: Secret, timestamp: str, body: bytes) -> str:
    mac = hmac.new(
        secret.reveal().encode("utf-8"), timestamp.encode("ascii") + b"." + body, hashlib.sha256
    )
    return "sha256=" + mac.hexdigest()


def webhook_payload(digest: Digest) -> dict[str, Any]:
    result = digest.result
    return {
        "event": "hubaudit.services.audit_run",
        "schema_version": SCHEMA_VERSION,
        "portal": result.portal,
        "run_id": result.run_id,
        "snapshot_id": result.snapshot.id,
        "baseline_version": result.baseline.version,
        "subject": digest.subject,
        "report_url": digest.report_url,
        "new_defects": [
            change_document(c) | {"reopened": c.defect_id in digest.reopened}
            for c in digest.new_defects
        ],
        "expired_waivers": [defect_document(d) for d in digest.expired_waivers],
        "new_findings": [finding_document(f, new=True) for f in digest.new_findings],
        "summary_line": digest.summary_line,
        "expiring_waivers": [
            {
                "subject": row.subject,
                "key": row.key,
                "by": row.by,
                "until": row.until.isoformat(),
                "reason": row.reason,
                "days_left": row.days_left,
            }
            for row in digest.expiring
        ],
        "not_verified": [p.scope for p in result.not_verified],
    }


class WebhookNotifier:
    channel = "webhook"

    def __init__(
        self,
        url: str,
        secret: Secret,
        timeout: float = 10.0,
        transport: httpx.BaseTransport | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._url = url
        remember_secret(url)  # it may carry a key in its path, as many receivers' URLs do
        self._secret = secret
        self._timeout = timeout
        self._transport = transport
        self._clock = clock

    def send(self, digest: Digest) -> None:
        body = json.dumps(webhook_payload(digest), ensure_ascii=False).encode("utf-8")
        timestamp = str(int(self._clock()))
        headers = {
            "Content-Type": "application/json",
            TIMESTAMP_HEADER: timestamp,
            SIGNATURE_HEADER: sign(self._secret, timestamp, body),
            "User-Agent": "hubaudit",
        }
        try:
            with httpx.Client(timeout=self._timeout, transport=self._transport) as http:
                response = http.post(self._url, content=body, headers=headers)
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            raise NotifyError(f"webhook: {type(exc).__name__}") from None
        if not 200 <= response.status_code < 300:
            answer = answer_excerpt(response.text)
            said = f": {answer}" if answer else ""
            raise NotifyError(f"webhook: HTTP {response.status_code}{said}")
