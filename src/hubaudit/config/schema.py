"""The typed schema of ``hubaudit.toml``: one frozen (pydantic) dataclass per table, each key
with its type, its check and its default, written once.

The same classes are what the rest of hubaudit reads (``config.portals[0].concurrency``) and
what tests build by hand. Rules that tie keys of a table together, or tables together (a portal
needs a token source, a sign-off names a known portal), are :func:`table_rules`; the loader
(:mod:`hubaudit.config.loader`) runs both and reports every problem with its file, line and key.

No ``from __future__ import annotations`` here: pydantic reads every field's annotation when the
class is created, and annotations Python has already evaluated cost it less than strings it must
resolve (every command pays for this module when it loads the config).
"""

import re
import string
from collections.abc import Iterator, Mapping
from dataclasses import field
from dataclasses import fields as dataclass_fields
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

from pydantic import Field
from pydantic.dataclasses import dataclass

from hubaudit.config import checks
from hubaudit.config.essentials import (
    DEFAULT_DATABASE_URL,
    Essentials,
    LogFormat,
    LogLevel,
    unknown_name,
)
from hubaudit.config.secrets import OAUTH_SECRETS, SCHEMA, OAuthSources
from hubaudit.config.severity import SeverityOverride
from hubaudit.config.toml import Problem, Where
from hubaudit.errors import UsageError
from hubaudit.model.changes import Severity
from hubaudit.model.items import Kind
from hubaudit.policies.catalog import MANUAL_AREAS, POLICY_OPTIONS

DEFAULT_BASE_URL = "https://api.hubapi.com"
# The standard CRM objects with properties; one a portal's tier lacks is read as `unsupported`.
DEFAULT_PROPERTY_OBJECT_TYPES = (
    "contacts",
    "companies",
    "deals",
    "tickets",
    "products",
    "line_items",
    "quotes",
    "calls",
    "emails",
    "meetings",
    "notes",
    "tasks",
    "leads",
)
# Every standard object that can have pipelines (custom objects are added when read); one the
# portal's subscription lacks is read as `unsupported`.
DEFAULT_PIPELINE_OBJECT_TYPES = (
    "deals",
    "tickets",
    "tasks",
    "leads",
    "appointments",
    "courses",
    "listings",
    "services",
    "orders",
)
DEFAULT_ASSOCIATION_OBJECT_TYPES = ("contacts", "companies", "deals", "tickets")
API_RESOURCES = {
    "properties": "v3",
    "pipelines": "v3",
    "schemas": "v3",
    "associations": "v4",
    "users": "v3",
    "automation": "v4",
    "account": "v3",
}
"""Each resource's path version (configurable per portal) and its default."""
DATED_RESOURCES = frozenset({"properties", "pipelines", "account"})
"""Resources with a known date-versioned path (``/crm/properties/2026-03/…``)."""
DEFAULT_MAX_IMPORT_MB = 32.0
"""``[governance] max_import_mb``: the most YAML ``baseline import`` reads."""

_API_VERSION = re.compile(r"^(v[1-9][0-9]*|[0-9]{4}-[0-9]{2}(-beta)?)$")


class Channel(StrEnum):
    """Where a ``[[notify]]`` digest goes."""

    SLACK = "slack"
    WEBHOOK = "webhook"
    EMAIL = "email"


class ReportFormat(StrEnum):
    TEXT = "text"
    MD = "md"
    HTML = "html"
    JSON = "json"
    CSV = "csv"
    SARIF = "sarif"


REPORT_FORMATS = tuple(f.value for f in ReportFormat)
CHANNELS = tuple(c.value for c in Channel)
SEVERITIES = tuple(s.value for s in Severity)
KINDS = tuple(k.value for k in Kind)


def _api_versions(value: Any) -> dict[str, str]:
    if not isinstance(value, Mapping):
        checks.fail('must be a table such as { properties = "v3" }')
    for resource, version in value.items():
        if resource not in API_RESOURCES:
            checks.fail(f"unknown resource {resource!r} (known: {', '.join(API_RESOURCES)})")
        if not isinstance(version, str) or not _API_VERSION.match(version):
            checks.fail(f"{resource}: version must look like 'v3' or '2026-03'")
        if not version.startswith("v") and resource not in DATED_RESOURCES:
            checks.fail(f"{resource}: no date-versioned path is known yet; use a 'vN' version")
    return {**API_RESOURCES, **value}


def _base_url(value: Any) -> str:
    return str(checks.url(value)).rstrip("/")


@dataclass(frozen=True, config=SCHEMA)
class PortalConfig:
    """A ``[[portals]]`` entry: one HubSpot account."""

    name: Annotated[str, checks.checked(checks.portal_name)]
    token_env: Annotated[str | None, checks.env_name("the token")] = None
    token_file: Annotated[Path | None, checks.PATH] = None
    base_url: Annotated[str, checks.Check(_base_url)] = DEFAULT_BASE_URL
    property_object_types: Annotated[tuple[str, ...], checks.OBJECT_TYPES] = (
        DEFAULT_PROPERTY_OBJECT_TYPES
    )
    pipeline_object_types: Annotated[tuple[str, ...], checks.OBJECT_TYPES] = (
        DEFAULT_PIPELINE_OBJECT_TYPES
    )
    association_object_types: Annotated[tuple[str, ...], checks.OBJECT_TYPES] = (
        DEFAULT_ASSOCIATION_OBJECT_TYPES
    )
    include_custom_objects: Annotated[bool, checks.FLAG] = True
    concurrency: Annotated[int, checks.whole(1, 32)] = 8
    """Parts of the portal read at the same time (all paced by one limiter). Eight answers, at
    HubSpot's usual latency, send a first window's burst in about a second: a rolling window
    reopens as long after as its first calls were spread, so a slow burst delays the rest."""
    rate_limit_per_10s: Annotated[int, checks.whole(1, 10_000)] = 100
    timeout_seconds: Annotated[float, checks.number(0.1, 600.0)] = 30.0
    max_retries: Annotated[int, checks.whole(0, 20)] = 5
    max_response_mb: Annotated[float, checks.number(0.01, 4096.0)] = 64.0
    """A HubSpot answer larger than this is not read: its part of the portal is not verified."""
    api_versions: Annotated[Mapping[str, str], checks.Check(_api_versions)] = field(
        default_factory=lambda: dict(API_RESOURCES)
    )
    schedule: Annotated[str | None, checks.CRONTAB] = None
    """A crontab line (``30 1 * * *``) for the nightly audit; ``None``: ``[schedule] cron``."""
    timezone: Annotated[str | None, checks.TIMEZONE] = None
    """The IANA zone the schedule is read in; ``None``: ``[schedule] timezone``."""
    ignore_file: Annotated[Path | None, checks.EXISTING_FILE] = None
    """This portal's ignore rules; ``None``: ``[governance] ignore_file``."""
    oauth: OAuthSources | None = None
    """An OAuth app instead of a private-app token (``client_id_env``… in the file)."""
    sandbox_of: Annotated[str | None, checks.TEXT] = None
    """The production portal this one is a sandbox of: ``compare``, ``promote`` and the
    production portal's reports pair them (another portal of the config, never itself)."""


OAUTH_KEYS = tuple(f"{secret}_{source}" for secret in OAUTH_SECRETS for source in ("env", "file"))
"""How a portal's OAuth app is written in the file: flat keys, read into ``oauth``."""


@dataclass(frozen=True, config=SCHEMA)
class ScheduleConfig:
    """``[schedule]``: when and how the nightly job runs every portal."""

    cron: Annotated[str, checks.CRONTAB] = "0 2 * * *"
    timezone: Annotated[str, checks.TIMEZONE] = "UTC"
    misfire_grace_minutes: Annotated[int, checks.whole(1, 1440)] = 120
    """A run that could not start on time (the service was down) still starts this late."""
    parallel_portals: Annotated[int, checks.whole(1, 256)] = 4
    """Portals one worker process audits at the same time (each paced by its own limit)."""
    lease_seconds: Annotated[int, checks.whole(10, 86_400)] = 300
    """A worker renews its claim on a run every third of this; a claim not renewed for this
    long (its worker died) is taken over by another worker."""


def _patterns(value: Any) -> dict[str, str]:
    if not isinstance(value, Mapping) or not all(isinstance(v, str) and v for v in value.values()):
        checks.fail('must be a table of strings such as { "*" = "^[a-z_]+$" }')
    for object_type, pattern in value.items():
        try:
            re.compile(pattern)
        except re.error as exc:
            checks.fail(f"{object_type}: not a regular expression ({exc})")
    return dict(value)


def _stages(value: Any) -> dict[str, tuple[str, ...]]:
    if not isinstance(value, Mapping) or not all(
        isinstance(v, list | tuple) and v and all(isinstance(x, str) and x for x in v)
        for v in value.values()
    ):
        checks.fail('must be a table of stage lists such as { contacts = ["lead", "customer"] }')
    for object_type, values in value.items():
        if len(set(values)) != len(values):
            checks.fail(f"{object_type}: lists a stage twice")
    return {object_type: tuple(values) for object_type, values in value.items()}


@dataclass(frozen=True, config=SCHEMA)
class PolicySettings:
    """A ``[policies.<id>]`` table: the council's choices for one built-in policy."""

    id: Annotated[str, checks.one_of(tuple(POLICY_OPTIONS))]
    enabled: Annotated[bool, checks.FLAG] = True
    severity: Annotated[Severity | None, checks.choice(Severity)] = None
    reason: Annotated[str | None, checks.TEXT] = None
    object_types: Annotated[tuple[str, ...] | None, checks.OBJECT_TYPES] = None
    patterns: Annotated[Mapping[str, str], checks.Check(_patterns)] = field(default_factory=dict)
    """``property-naming``: a regex per object type (``"*"`` for the others)."""
    max_days: Annotated[int | None, checks.whole(1, 36_500)] = None
    max: Annotated[int | None, checks.whole(0, 100_000)] = None
    stages: Annotated[Mapping[str, tuple[str, ...]], checks.Check(_stages)] = field(
        default_factory=dict
    )
    """``lifecycle-order``: the approved lifecycle stage values, in order, per object type."""


POLICY_COMMON_KEYS = frozenset({"enabled", "severity", "reason"})


def _thresholds(value: Any) -> tuple[int, ...]:
    if (
        not isinstance(value, list | tuple)
        or not all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in value)
        or list(value) != sorted(set(value))
    ):
        checks.fail("must be rising whole numbers such as [10, 40] (or [] for never)")
    return tuple(value)


@dataclass(frozen=True, config=SCHEMA)
class ImpactConfig:
    """``[impact]``: a change's severity rises one step for each threshold of dependent
    workflows its item reaches (capped at critical)."""

    raise_at: Annotated[tuple[int, ...], checks.Check(_thresholds)] = (10, 40)


@dataclass(frozen=True, config=SCHEMA)
class SignOff:
    """A ``[[signoff]]`` entry: someone reviewed a part of the portal that has no API."""

    area: Annotated[str, checks.one_of(tuple(MANUAL_AREAS))]
    by: Annotated[str, checks.TEXT]
    on: Annotated[date, checks.DATE]
    every_days: Annotated[int, checks.whole(1, 3650)] = 90
    portal: Annotated[str | None, checks.TEXT] = None
    note: Annotated[str, checks.Check(lambda v: v if isinstance(v, str) else "")] = ""


def _formats(value: Any) -> tuple[ReportFormat, ...]:
    if (
        not isinstance(value, list | tuple)
        or not value
        or not all(isinstance(f, str) and f in REPORT_FORMATS for f in value)
    ):
        checks.fail(f"must be a list of formats from {', '.join(REPORT_FORMATS)}")
    return tuple(ReportFormat(f) for f in dict.fromkeys(value))


def _report_url(value: Any) -> str:
    url = str(checks.url(value))
    try:
        fields = {name for _text, name, _spec, _conv in string.Formatter().parse(url) if name}
    except ValueError as exc:
        checks.fail(f"not a template: {exc}")
    unknown = fields - {"portal", "run", "file"}
    if unknown:
        checks.fail(
            f"unknown placeholder {{{sorted(unknown)[0]}}}: use {{portal}}, {{run}}, {{file}}"
        )
    return url


@dataclass(frozen=True, config=SCHEMA)
class ReportsConfig:
    """``[reports]``: where every run (scheduled or not) writes its reports, and the address a
    notification links to."""

    folder: Annotated[Path | None, checks.PATH] = None
    formats: Annotated[tuple[ReportFormat, ...], checks.Check(_formats)] = (
        ReportFormat.HTML,
        ReportFormat.JSON,
    )
    url: Annotated[str | None, checks.checked(_report_url)] = None
    """A template for a report's address: ``{portal}``, ``{run}`` and ``{file}`` are filled in."""
    expiring_days: Annotated[int, checks.whole(0, 365)] = 7
    """A waiver ending within this many days of an audit is listed as expiring soon (in the
    report and the notification digest); 0 lists none."""


def _recipients(value: Any) -> tuple[str, ...]:
    if (
        not isinstance(value, list | tuple)
        or not value
        or not all(isinstance(r, str) and "@" in r for r in value)
    ):
        checks.fail('must be a list of addresses such as ["revops@example.com"]')
    return tuple(value)


def _address(value: Any) -> str:
    if "@" not in checks.text(value):
        checks.fail("must be an email address")
    return str(value)


@dataclass(frozen=True, config=SCHEMA)
class NotifyConfig:
    """A ``[[notify]]`` entry: one target a run's digest goes to when something new happened.

    Secrets (a Slack webhook's URL, the webhook's signing key, the SMTP password) come from
    the environment (``*_env``) or a file (``*_file``), never from the config."""

    name: Annotated[str, checks.TEXT]
    channel: Annotated[Channel, checks.choice(Channel)]
    portal: Annotated[str | None, checks.TEXT] = None
    url: Annotated[str | None, checks.URL] = None
    url_env: Annotated[str | None, checks.env_name("the secret")] = None
    url_file: Annotated[Path | None, checks.PATH] = None
    secret_env: Annotated[str | None, checks.env_name("the secret")] = None
    secret_file: Annotated[Path | None, checks.PATH] = None
    smtp_host: Annotated[str | None, checks.TEXT] = None
    smtp_port: Annotated[int, checks.whole(1, 65535)] = 587
    starttls: Annotated[bool, checks.FLAG] = True
    username: Annotated[str | None, checks.TEXT] = None
    password_env: Annotated[str | None, checks.env_name("the secret")] = None
    password_file: Annotated[Path | None, checks.PATH] = None
    sender: Annotated[str | None, Field(validation_alias="from"), checks.checked(_address)] = None
    recipients: Annotated[
        tuple[str, ...], Field(validation_alias="to"), checks.Check(_recipients)
    ] = ()
    findings: Annotated[bool, checks.FLAG] = True
    """Also notify when a policy finding is new or reopened."""
    timeout_seconds: Annotated[float, checks.number(0.1, 300.0)] = 10.0
    retries: Annotated[int, checks.whole(0, 10)] = 3


NOTIFY_COMMON_KEYS = frozenset(
    {"channel", "name", "portal", "findings", "timeout_seconds", "retries"}
)
NOTIFY_CHANNEL_KEYS: Mapping[Channel, frozenset[str]] = {
    Channel.SLACK: frozenset({"url_env", "url_file"}),
    Channel.WEBHOOK: frozenset({"url", "secret_env", "secret_file"}),
    Channel.EMAIL: frozenset(
        {"smtp_host", "smtp_port", "starttls", "username", "password_env", "password_file"}
        | {"from", "to"}
    ),
}
"""The keys a ``[[notify]]`` table of each channel may hold besides the common ones."""


@dataclass(frozen=True, config=SCHEMA)
class LoggingConfig:
    format: Annotated[LogFormat, checks.choice(LogFormat)] = LogFormat.CONSOLE
    level: Annotated[LogLevel, checks.choice(LogLevel)] = LogLevel.INFO


@dataclass(frozen=True, config=SCHEMA)
class RetentionPolicy:
    """Which snapshots ``db prune`` keeps: every one of the last ``daily_days`` days, the last
    of each week for ``weekly_weeks`` weeks, the last of each month for ``monthly_months``
    months, and with ``yearly`` the last of every year for ever. A portal's newest snapshot,
    a baseline's source and every snapshot a defect points to are always kept."""

    daily_days: Annotated[int, checks.whole(1, 36500)] = 30
    weekly_weeks: Annotated[int, checks.whole(0, 5200)] = 26
    monthly_months: Annotated[int, checks.whole(0, 1200)] = 24
    yearly: Annotated[bool, checks.FLAG] = True


@dataclass(frozen=True, config=SCHEMA)
class AuditConfig:
    """``[audit]``: when a run has read too little to be an audit."""

    min_read_share: Annotated[float, checks.number(0.0, 1.0)] = 0.5
    """A run that reads fewer items in the parts its baseline governs than this share of the
    baseline's items fails and stores nothing (an outage is not a portal that lost its
    configuration); 0 turns the check off."""


def _vendor_governed(value: Any) -> tuple[str, ...]:
    """Key globs (``property:contacts:*``) or kinds (``association_label``) of HubSpot-defined
    items the team governs: HubSpot's own changes to them are defects, not ``vendor``."""
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) and v for v in value):
        checks.fail('must be a list of item keys or globs such as ["property:contacts:*"]')
    for pattern in value:
        if pattern.split(":", 1)[0] not in KINDS:
            checks.fail(f"{pattern!r} does not start with a kind ({', '.join(sorted(KINDS))})")
    return tuple(value)


@dataclass(frozen=True, config=SCHEMA)
class DatabaseSection:
    """``[database]``; ``HUBAUDIT_DATABASE_URL`` in the environment wins over ``url``."""

    url: Annotated[str, checks.TEXT] = DEFAULT_DATABASE_URL


@dataclass(frozen=True, config=SCHEMA)
class GovernanceSection:
    """``[governance]``: ignore rules, the import limit and the HubSpot-defined items governed."""

    ignore_file: Annotated[Path | None, checks.EXISTING_FILE] = None
    max_import_mb: Annotated[float, checks.number(0.01, 4096.0)] = DEFAULT_MAX_IMPORT_MB
    vendor_governed: Annotated[tuple[str, ...], checks.Check(_vendor_governed)] = ()
    single_approver: Annotated[bool, checks.FLAG] = False
    """A one-person team: whoever proposed a baseline version or created a change request may
    approve it too (the governance log says so). Off: four eyes, on the CLI and the web."""


def _addresses(value: Any) -> tuple[str, ...]:
    """IP addresses or networks (``10.0.0.0/8``) of reverse proxies."""
    import ipaddress

    if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
        checks.fail('must be a list of addresses such as ["127.0.0.1", "10.0.0.0/8"]')
    for address in value:
        try:
            ipaddress.ip_network(address, strict=False)
        except ValueError:
            checks.fail(f"{address!r} is not an IP address or network")
    return tuple(value)


def _header_name(value: Any) -> str:
    if not re.fullmatch(r"[A-Za-z0-9-]+", checks.text(value)):
        checks.fail("must be an HTTP header name such as X-Forwarded-Email")
    return str(value)


@dataclass(frozen=True, config=SCHEMA)
class WebSection:
    """``[web]``: the web app (``hubaudit serve``): its session secret, sign-in and proxies."""

    secret_key_env: Annotated[str | None, checks.env_name("the secret")] = None
    secret_key_file: Annotated[Path | None, checks.PATH] = None
    session_idle_minutes: Annotated[int, checks.whole(1, 7 * 24 * 60)] = 60
    login_max_failures: Annotated[int, checks.whole(1, 1000)] = 5
    login_lockout_minutes: Annotated[int, checks.whole(1, 24 * 60)] = 15
    trusted_proxies: Annotated[tuple[str, ...], checks.Check(_addresses)] = ()
    proxy_header: Annotated[str | None, checks.Check(_header_name)] = None
    secure_cookies: Annotated[bool, checks.FLAG] = False


@dataclass(frozen=True, config=SCHEMA)
class Config:
    """A whole config, as the rest of hubaudit reads it."""

    database_url: str
    portals: tuple[PortalConfig, ...]
    logging: LoggingConfig = field(default_factory=LoggingConfig)
    path: Path | None = None
    severity_overrides: tuple[SeverityOverride, ...] = ()
    retention: RetentionPolicy | None = None
    """``None`` when the config has no ``[retention]`` table: nothing is ever pruned."""
    schedule: ScheduleConfig = field(default_factory=ScheduleConfig)
    ignore_file: Path | None = None
    """``[governance] ignore_file``: the ignore rules of portals without their own."""
    policies: Mapping[str, PolicySettings] = field(default_factory=dict)
    """The ``[policies.<id>]`` tables given; a policy not named runs with its defaults."""
    impact: ImpactConfig = field(default_factory=ImpactConfig)
    signoffs: tuple[SignOff, ...] = ()
    reports: ReportsConfig = field(default_factory=ReportsConfig)
    notify: tuple[NotifyConfig, ...] = ()
    vendor_governed: tuple[str, ...] = ()
    """``[governance] vendor_governed``: HubSpot-defined items the team governs (key globs or
    kinds); HubSpot's own changes to them are defects rather than ``vendor``."""
    max_import_mb: float = DEFAULT_MAX_IMPORT_MB
    """``[governance] max_import_mb``: the most YAML ``baseline import`` reads."""
    audit: AuditConfig = field(default_factory=AuditConfig)
    single_approver: bool = False
    """``[governance] single_approver``: the proposer may approve (the log says so)."""
    web: WebSection = field(default_factory=WebSection)

    def essentials(self) -> Essentials:
        """What a read command takes from this config (:mod:`hubaudit.config.essentials`)."""
        return Essentials(
            database_url=self.database_url,
            portal_names=tuple(portal.name for portal in self.portals),
            log_format=self.logging.format,
            log_level=self.logging.level,
            path=self.path,
        )

    def notify_of(self, portal: str) -> tuple[NotifyConfig, ...]:
        return tuple(n for n in self.notify if n.portal in (None, portal))

    def signoffs_of(self, portal: str) -> tuple[SignOff, ...]:
        return tuple(s for s in self.signoffs if s.portal in (None, portal))

    def ignore_file_of(self, portal: PortalConfig) -> Path | None:
        return portal.ignore_file or self.ignore_file

    def schedule_of(self, portal: PortalConfig) -> tuple[str, str]:
        """The portal's crontab line and time zone, its own or the defaults."""
        return (portal.schedule or self.schedule.cron, portal.timezone or self.schedule.timezone)

    def portal(self, name: str) -> PortalConfig:
        """The portal of that name; an unknown name is an error naming the nearest known ones."""
        for portal in self.portals:
            if portal.name == name:
                return portal
        raise UsageError(unknown_name("portal", name, [p.name for p in self.portals], "config"))


@dataclass(frozen=True, config=SCHEMA)
class ConfigFile:
    """The file as written: its tables, each read with its own class above."""

    database: DatabaseSection = field(default_factory=DatabaseSection)
    portals: tuple[PortalConfig, ...] = ()
    logging: LoggingConfig = field(default_factory=LoggingConfig)
    severity: tuple[SeverityOverride, ...] = ()
    retention: RetentionPolicy = field(default_factory=RetentionPolicy)
    schedule: ScheduleConfig = field(default_factory=ScheduleConfig)
    governance: GovernanceSection = field(default_factory=GovernanceSection)
    policies: Mapping[str, PolicySettings] = field(default_factory=dict)
    impact: ImpactConfig = field(default_factory=ImpactConfig)
    signoff: tuple[SignOff, ...] = ()
    reports: ReportsConfig = field(default_factory=ReportsConfig)
    notify: tuple[NotifyConfig, ...] = ()
    audit: AuditConfig = field(default_factory=AuditConfig)
    web: WebSection = field(default_factory=WebSection)


TABLE_CLASSES: Mapping[str, type] = {
    "database": DatabaseSection,
    "portals": PortalConfig,
    "logging": LoggingConfig,
    "severity": SeverityOverride,
    "retention": RetentionPolicy,
    "schedule": ScheduleConfig,
    "governance": GovernanceSection,
    "policies": PolicySettings,
    "impact": ImpactConfig,
    "signoff": SignOff,
    "reports": ReportsConfig,
    "notify": NotifyConfig,
    "audit": AuditConfig,
    "web": WebSection,
}
"""Each top-level table of the file and the class that reads it (one entry of an array)."""
ARRAYS = frozenset({"portals", "severity", "signoff", "notify"})
"""The tables written as arrays of tables (``[[portals]]``)."""


def file_keys(cls: type) -> frozenset[str]:
    """The keys a table read by ``cls`` may hold, as written in the file."""
    fields: Mapping[str, Any] | None = getattr(cls, "__pydantic_fields__", None)
    if fields is None:  # a plain dataclass pydantic validates (``SeverityOverride``)
        names: set[Any] = {dc_field.name for dc_field in dataclass_fields(cls)}
    else:
        names = {info.validation_alias or name for name, info in fields.items()}
    if cls is PortalConfig:
        names = (names - {"oauth"}) | set(OAUTH_KEYS)
    if cls is PolicySettings:
        names -= {"id"}
    return frozenset(str(name) for name in names)


def table_rules(data: Mapping[str, Any]) -> Iterator[Problem]:
    """The rules that tie keys or tables together, over the parsed file (before or beside the
    per-key checks, so a file's every mistake is found in one read)."""
    portals = [raw for raw in _entries(data, "portals")]
    for index, raw in enumerate(portals):
        yield from _portal_rules(raw, ("portals", index))
    names = {raw.get("name") for raw in portals}
    yield from _duplicates(data, "portals", "name")
    for index, raw in enumerate(portals):
        sandbox_of = raw.get("sandbox_of")
        if not isinstance(sandbox_of, str):
            continue
        if sandbox_of == raw.get("name"):
            yield ("portals", index), "sandbox_of", "a portal is not a sandbox of itself"
        elif sandbox_of not in names:
            known = ", ".join(sorted(str(n) for n in names if isinstance(n, str)))
            yield (
                ("portals", index),
                "sandbox_of",
                f"no portal is named {sandbox_of!r} (the config names {known})",
            )
    yield from _duplicates(data, "notify", "name")
    for array in ("signoff", "notify"):
        for index, raw in enumerate(_entries(data, array)):
            portal = raw.get("portal")
            if isinstance(portal, str) and portal not in names:
                yield (array, index), "portal", "no [[portals]] entry has this name"
    for index, raw in enumerate(_entries(data, "notify")):
        yield from _notify_rules(raw, ("notify", index))
    policies = data.get("policies", {})
    if isinstance(policies, Mapping):
        for policy_id, raw in policies.items():
            yield from _policy_rules(policy_id, raw)
    web = data.get("web")
    if isinstance(web, Mapping):
        yield from _web_rules(web)


def _web_rules(raw: Mapping[str, Any]) -> Iterator[Problem]:
    if raw.get("secret_key_env") is not None and raw.get("secret_key_file") is not None:
        yield ("web",), "secret_key_file", "give secret_key_env or secret_key_file, not both"
    if raw.get("proxy_header") and not raw.get("trusted_proxies"):
        yield (
            ("web",),
            "proxy_header",
            "a proxy header is believed only from trusted_proxies; list the proxy's addresses",
        )


def _entries(data: Mapping[str, Any], array: str) -> list[Mapping[str, Any]]:
    found = data.get(array, [])
    if not isinstance(found, list):
        return []
    return [raw if isinstance(raw, Mapping) else {} for raw in found]


def _duplicates(data: Mapping[str, Any], array: str, key: str) -> Iterator[Problem]:
    seen: set[Any] = set()
    for index, raw in enumerate(_entries(data, array)):
        name = raw.get(key)
        if isinstance(name, str) and name in seen:
            yield (array, index), key, f"duplicate {array.removesuffix('s')} name {name!r}"
        seen.add(name)


def _portal_rules(raw: Mapping[str, Any], where: Where) -> Iterator[Problem]:
    token_env, token_file = raw.get("token_env"), raw.get("token_file")
    has_oauth = any(key in raw for key in (*OAUTH_KEYS, *OAUTH_SECRETS[1:]))
    if has_oauth and (token_env is not None or token_file is not None):
        yield (
            where,
            "token_env" if token_env is not None else "token_file",
            "give a private-app token (token_env or token_file) or an OAuth app "
            "(client_id_env, client_secret_env, refresh_token_env), not both",
        )
    elif not has_oauth and token_env is None and token_file is None and "token" not in raw:
        # (a ``token`` written into the file is refused as an unknown key, saying where it goes)
        yield (
            where,
            "token_env",
            "each portal needs token_env (the environment variable that holds its "
            "private-app token) or token_file, or an OAuth app's client_id_env, "
            "client_secret_env and refresh_token_env",
        )
    if token_env is not None and token_file is not None:
        yield where, "token_file", "give token_env or token_file, not both"
    if has_oauth:
        for secret in OAUTH_SECRETS:
            env_key, file_key = f"{secret}_env", f"{secret}_file"
            if env_key not in raw and file_key not in raw and secret not in raw:
                yield (
                    where,
                    env_key,
                    f"an OAuth app needs {env_key} or {file_key} too "
                    "(client id, client secret and refresh token)",
                )
            elif env_key in raw and file_key in raw:
                yield where, file_key, f"give {env_key} or {file_key}, not both"


def _notify_rules(raw: Mapping[str, Any], where: Where) -> Iterator[Problem]:
    channel = raw.get("channel")
    if channel not in CHANNELS:
        return  # the channel's own check says so
    allowed = NOTIFY_COMMON_KEYS | NOTIFY_CHANNEL_KEYS[Channel(channel)]
    all_keys = file_keys(NotifyConfig)
    for key in raw:
        if key in all_keys and key not in allowed:
            yield (
                where,
                key,
                f"unknown key for a {channel} target; known keys: " + ", ".join(sorted(allowed)),
            )
    required = {
        "slack": [("url_env", "url_file", "the incoming webhook's URL")],
        "webhook": [("secret_env", "secret_file", "the signing key")],
        "email": [],
    }[channel]
    for env_key, file_key, what in required:
        if env_key not in raw and file_key not in raw:
            yield where, env_key, f"{channel} needs {env_key} or {file_key} ({what})"
    for env_key, file_key in (
        ("url_env", "url_file"),
        ("secret_env", "secret_file"),
        ("password_env", "password_file"),
    ):
        if env_key in raw and file_key in raw:
            yield where, file_key, f"give {env_key} or {file_key}, not both"
    needed = {"webhook": ("url",), "email": ("smtp_host", "from", "to"), "slack": ()}[channel]
    for key in needed:
        if key not in raw:
            yield where, key, "is required"
    if (
        channel == "email"
        and "username" in raw
        and "password_env" not in raw
        and "password_file" not in raw
    ):
        yield (
            where,
            "username",
            "a username needs password_env or password_file (the SMTP password)",
        )


def _policy_rules(policy_id: str, raw: Any) -> Iterator[Problem]:
    where: Where = ("policies", policy_id)
    if policy_id not in POLICY_OPTIONS:
        yield (
            ("policies",),
            policy_id,
            f"unknown policy; known policies: {', '.join(POLICY_OPTIONS)}",
        )
        return
    if not isinstance(raw, Mapping):
        return  # the table's own check says so
    allowed = POLICY_COMMON_KEYS | POLICY_OPTIONS[policy_id]
    all_keys = file_keys(PolicySettings)
    for key in raw:
        if key in all_keys and key not in allowed:
            yield where, key, f"unknown key; known keys: {', '.join(sorted(allowed))}"


def known_keys(where: Where, data: Mapping[str, Any]) -> frozenset[str]:
    """The keys the table at ``where`` may hold (for an unknown key's message)."""
    if not where:
        return frozenset(TABLE_CLASSES)
    cls = TABLE_CLASSES.get(str(where[0]))
    if cls is None:
        return frozenset()
    if cls is PolicySettings and len(where) > 1 and where[1] in POLICY_OPTIONS:
        return POLICY_COMMON_KEYS | POLICY_OPTIONS[str(where[1])]
    if cls is NotifyConfig and len(where) > 1 and isinstance(where[1], int):
        entries = _entries(data, "notify")
        channel = entries[where[1]].get("channel") if where[1] < len(entries) else None
        if channel in CHANNELS:
            return NOTIFY_COMMON_KEYS | NOTIFY_CHANNEL_KEYS[Channel(channel)]
    return file_keys(cls)
