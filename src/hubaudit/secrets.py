"""Every secret this process has read, and the scrubber that takes them out of text.

A secret is remembered the moment it is read (:class:`hubaudit.config.Secret` does it for
portal tokens, Slack webhook URLs, webhook signing keys and SMTP passwords; notifiers add the
webhook URL and the SMTP login's encoded forms). Text that comes from outside or may quote a
request — a notifier's error, HubSpot's error body, a log line, a report, an error column —
passes :func:`scrub` at the edge where it leaves, so a server that echoes its path or a
header cannot put a secret in a log, an exception, the database or a report.

What is removed: each secret as it is, and the forms a server or a serializer may echo it in
(percent-encoded, JSON-escaped, HTML-escaped); for a URL also its path and query, and the
trailing parts of its path that carry the key (``/services/T…/B…/xyz``); for an SMTP login the
base64 that ``AUTH PLAIN`` and ``AUTH LOGIN`` send. A percent-encoding matches in any case
(``%2F``, ``%2f``).

Scrubbing a text costs one substring search per form while no secret is in it (a log line a
few microseconds, a 6 MB report about a quarter of a second); only the forms found go into a
pattern.
"""

from __future__ import annotations

import base64
import html
import json
import re
import threading
from urllib.parse import quote, quote_plus, unquote, urlsplit

REDACTED = "[redacted]"

# A part of a URL is scrubbed on its own only when it is long enough to be a key: the path
# ``/hubaudit`` of a webhook is no secret, and removing every "hubaudit" would garble the logs.
MIN_URL_PART = 12
# A secret shorter than this (a weak SMTP password, a test's "x") is scrubbed only where it
# stands alone, not inside a longer word: "exception" keeps its x, "password x" loses it.
MIN_INSIDE_WORDS = 8


def _url_parts(url: str) -> set[str]:
    """The parts of a URL that may carry its secret, each of which a server may echo alone."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return set()
    if not parts.scheme or not parts.netloc:
        return set()
    found = {url.split("://", 1)[1]}
    if parts.password:
        found.add(parts.password)
        found.add(unquote(parts.password))
    found.add(parts.path)
    if parts.query:
        found.add(f"{parts.path}?{parts.query}")
    segments = [s for s in parts.path.split("/") if s]
    for start in range(len(segments)):  # services/T0/B0/xyz, T0/B0/xyz, B0/xyz, xyz
        found.add("/".join(segments[start:]))
    for pair in parts.query.split("&"):
        found.add(pair.partition("=")[2])
    return {part for part in found if len(part) >= MIN_URL_PART} | {url}


_PERCENT = re.compile("%([0-9A-F])([0-9A-F])")


def _encodings(form: str) -> set[str]:
    """``form`` as servers and serializers may write it back."""
    json_escaped = json.dumps(form)[1:-1]
    return {
        form,
        quote(form, safe=""),
        quote(form, safe="/"),
        quote_plus(form),
        json_escaped,
        json_escaped.replace("/", "\\/"),
        json.dumps(form, ensure_ascii=False)[1:-1],
        html.escape(form, quote=True),
    }


def _pattern(form: str) -> str:
    """A regular expression for ``form``: its percent-escapes in any case; a short one only
    where it stands alone."""
    pattern = _PERCENT.sub(
        lambda m: "%" + "".join(f"[{d}{d.lower()}]" for d in m.groups()), re.escape(form)
    )
    if len(form) >= MIN_INSIDE_WORDS:
        return pattern
    return rf"(?<![0-9A-Za-z]){pattern}(?![0-9A-Za-z])"


class SecretScrubber:
    """A set of secrets and one pattern matching every form of them. Thread-safe."""

    def __init__(self) -> None:
        self._forms: set[str] = set()
        self._ordered: tuple[tuple[str, str], ...] = ()  # (form, its lower case), longest first
        self._lock = threading.Lock()

    def remember(self, secret: str) -> None:
        """Scrub ``secret`` (and, if it is a URL, its key-bearing parts) from now on."""
        secret = secret.strip()
        if not secret:
            return
        self._add({secret} | _url_parts(secret))

    def remember_smtp_login(self, username: str, password: str) -> None:
        """An SMTP password, and the base64 its login sends: ``AUTH PLAIN`` sends
        ``\\0user\\0password`` as one base64 word, ``AUTH LOGIN`` the password alone."""
        forms = {password}
        for sent in (password, f"\0{username}\0{password}"):
            forms.add(base64.b64encode(sent.encode("utf-8")).decode("ascii"))
        self._add(forms)

    def forget(self, secret: str) -> None:
        """Stop scrubbing a short-lived secret that nothing can echo any more (an OAuth access
        token whose transport is closed): a worker that runs for months, renewing tokens for
        hundreds of portals, must not search every text for every token it ever had."""
        encoded = {e for e in _encodings(secret.strip()) if e}
        with self._lock:
            if not encoded & self._forms:
                return
            self._forms -= encoded
            self._order()

    def _add(self, forms: set[str]) -> None:
        encoded = {e for form in forms if form for e in _encodings(form) if e}
        with self._lock:
            if encoded <= self._forms:
                return
            self._forms |= encoded
            self._order()

    def _order(self) -> None:
        # longest first: a whole URL goes as one, not as its path and a stray host
        ordered = sorted(self._forms, key=lambda f: (-len(f), f))
        self._ordered = tuple((form, form.lower()) for form in ordered)

    def scrub(self, text: str) -> str:
        if not text:
            return text
        # one pass of C substring searches; case folded, so "%2f" finds "%2F" (the pattern
        # then decides what really matches)
        lowered = text.lower()
        found = [form for form, folded in self._ordered if folded in lowered]
        if not found:
            return text
        return re.sub("|".join(map(_pattern, found)), REDACTED, text)

    def forget_all(self) -> None:
        """For tests: start again with no secret known."""
        with self._lock:
            self._forms.clear()
            self._ordered = ()


# The process's secrets: every portal, notifier and worker of a process shares one set, since a
# log line or a report may come from any of them. Empty until a secret is read.
KNOWN_SECRETS = SecretScrubber()


def remember_secret(secret: str) -> None:
    KNOWN_SECRETS.remember(secret)


def forget_secret(secret: str) -> None:
    KNOWN_SECRETS.forget(secret)


def remember_smtp_login(username: str, password: str) -> None:
    KNOWN_SECRETS.remember_smtp_login(username, password)


def scrub(text: str) -> str:
    """``text`` without any secret this process has read (each replaced by ``[redacted]``)."""
    return KNOWN_SECRETS.scrub(text)
