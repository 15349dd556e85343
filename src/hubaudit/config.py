"""Reading and checking ``hubaudit.toml``.

Every problem is a :class:`ConfigError` that names the file, the line and the key. Tokens never
live in the file: a portal names the environment variable (``token_env``) or the file
(``token_file``) that holds its private-app token — or, for a portal that installed an OAuth
app, the variables or files of the app's client id, client secret and refresh token — and
:func:`resolve_token` reads them when a run needs them.
"""

from __future__ import annotations

import difflib
import os
import re
import string
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from hubaudit.errors import ConfigError, UsageError
from hubaudit.model import Kind
from hubaudit.secrets import remember_secret

CONFIG_ENV = "HUBAUDIT_CONFIG"
DATABASE_URL_ENV = "HUBAUDIT_DATABASE_URL"
DEFAULT_CONFIG_NAME = "hubaudit.toml"
DEFAULT_DATABASE_URL = "sqlite:///hubaudit.db"
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

_PORTAL_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$")
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_API_VERSION = re.compile(r"^(v[1-9][0-9]*|[0-9]{4}-[0-9]{2}(-beta)?)$")
_OBJECT_TYPE = re.compile(r"^[A-Za-z0-9_-]+$")


class Secret:
    """A token that refuses to show itself in reprs, logs and tracebacks, and that the
    scrubber (:mod:`hubaudit.secrets`) takes out of every text leaving an edge from now on."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value
        remember_secret(value)

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('********')"

    __str__ = __repr__


@dataclass(frozen=True)
class SecretSource:
    """Where one secret is read from: an environment variable, or a file of one line."""

    env: str | None = None
    file: Path | None = None


@dataclass(frozen=True)
class OAuthSources:
    """A portal that installed an OAuth (public) app: where its app's secrets are read from."""

    client_id: SecretSource
    client_secret: SecretSource
    refresh_token: SecretSource


@dataclass(frozen=True)
class OAuthApp:
    """An OAuth app's credentials for one portal, read for one run and kept in memory only:
    hubaudit exchanges them for short-lived access tokens (:mod:`hubaudit.hubspot.oauth`)."""

    client_id: str
    client_secret: Secret
    refresh_token: Secret


PortalCredentials = Secret | OAuthApp
"""A private-app token, or an OAuth app's credentials."""

OAUTH_SECRETS = ("client_id", "client_secret", "refresh_token")


@dataclass(frozen=True)
class PortalConfig:
    name: str
    token_env: str | None = None
    token_file: Path | None = None
    base_url: str = DEFAULT_BASE_URL
    property_object_types: tuple[str, ...] = DEFAULT_PROPERTY_OBJECT_TYPES
    pipeline_object_types: tuple[str, ...] = DEFAULT_PIPELINE_OBJECT_TYPES
    association_object_types: tuple[str, ...] = DEFAULT_ASSOCIATION_OBJECT_TYPES
    include_custom_objects: bool = True
    concurrency: int = 4
    rate_limit_per_10s: int = 100
    timeout_seconds: float = 30.0
    max_retries: int = 5
    max_response_mb: float = 64.0
    """A HubSpot answer larger than this is not read: its part of the portal is not verified."""
    api_versions: Mapping[str, str] = field(default_factory=lambda: dict(API_RESOURCES))
    schedule: str | None = None
    """A crontab line (``30 1 * * *``) for the nightly audit; ``None``: ``[schedule] cron``."""
    timezone: str | None = None
    """The IANA zone the schedule is read in; ``None``: ``[schedule] timezone``."""
    ignore_file: Path | None = None
    """This portal's ignore rules; ``None``: ``[governance] ignore_file``."""
    oauth: OAuthSources | None = None
    """An OAuth app instead of a private-app token (``client_id_env``…)."""


@dataclass(frozen=True)
class ScheduleConfig:
    """``[schedule]``: when and how the nightly job runs every portal."""

    cron: str = "0 2 * * *"
    timezone: str = "UTC"
    misfire_grace_minutes: int = 120
    """A run that could not start on time (the service was down) still starts this late."""
    parallel_portals: int = 4
    """Portals one worker process audits at the same time (each paced by its own limit)."""
    lease_seconds: int = 300
    """A worker renews its claim on a run every third of this; a claim not renewed for this
    long (its worker died) is taken over by another worker."""


@dataclass(frozen=True)
class SeverityOverride:
    """A ``[[severity]]`` rule from the config: it wins over the built-in severity table."""

    severity: str
    kind: str | None = None
    key: str = "*"
    field: str = "**"
    op: str | None = None


POLICY_OPTIONS: Mapping[str, frozenset[str]] = {
    "property-description": frozenset({"object_types"}),
    "property-naming": frozenset({"object_types", "patterns"}),
    "property-duplicates": frozenset({"object_types"}),
    "group-empty": frozenset({"object_types"}),
    "group-missing": frozenset({"object_types"}),
    "pipeline-closed-stages": frozenset({"object_types"}),
    "pipeline-probability-order": frozenset({"object_types"}),
    "pipeline-open-probability": frozenset({"object_types"}),
    "lifecycle-order": frozenset({"stages"}),
    "workflow-off": frozenset({"max_days"}),
    "workflow-conflicting-setters": frozenset(),
    "super-admins": frozenset({"max"}),
}
"""Every built-in policy's id and the options its ``[policies.<id>]`` table may set besides
``enabled``, ``severity`` and ``reason`` (the policies themselves live in ``policies/``)."""

MANUAL_AREAS: Mapping[str, tuple[str, str]] = {
    "conditional-stage-properties": (
        "Conditional stage properties",
        "properties a deal or ticket must have to enter a stage: no public API returns them",
    ),
    "pipeline-rules": (
        "Pipeline rules and stage edit permissions",
        "only a beta API (crm/pipelines-rules/2026-09-beta), not read by hubaudit",
    ),
    "dedupe-rules": (
        "Duplicate management rules",
        "HubSpot exposes no API for the duplicate-matching settings",
    ),
    "lead-scoring": (
        "Lead scoring criteria",
        "score properties are read, but not the criteria that compute them",
    ),
    "field-permissions": (
        "Field-level permissions",
        "who may view or edit each property (Enterprise): no public API",
    ),
    "permission-sets": (
        "Permission sets inside roles",
        "roles are read by name and id; the permissions they grant are not exposed",
    ),
    "record-layouts": (
        "Record page layouts and cards",
        "record page customisation has no public read API",
    ),
}
"""The parts of a portal's architecture HubSpot exposes no API for: governed by a periodic
manual sign-off (``[[signoff]]``) instead of nightly reads."""


@dataclass(frozen=True)
class PolicySettings:
    """A ``[policies.<id>]`` table: the council's choices for one built-in policy."""

    id: str
    enabled: bool = True
    severity: str | None = None
    reason: str | None = None
    object_types: tuple[str, ...] | None = None
    patterns: Mapping[str, str] = field(default_factory=dict)
    """``property-naming``: a regex per object type (``"*"`` for the others)."""
    max_days: int | None = None
    max: int | None = None
    stages: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    """``lifecycle-order``: the approved lifecycle stage values, in order, per object type."""


@dataclass(frozen=True)
class ImpactConfig:
    """``[impact]``: a change's severity rises one step for each threshold of dependent
    workflows its item reaches (capped at critical)."""

    raise_at: tuple[int, ...] = (10, 40)


@dataclass(frozen=True)
class SignOff:
    """A ``[[signoff]]`` entry: someone reviewed a part of the portal that has no API."""

    area: str
    by: str
    on: date
    every_days: int = 90
    portal: str | None = None
    note: str = ""


REPORT_FORMATS = ("text", "md", "html", "json", "csv", "sarif")
CHANNELS = ("slack", "webhook", "email")


@dataclass(frozen=True)
class ReportsConfig:
    """``[reports]``: where every run (scheduled or not) writes its reports, and the address a
    notification links to."""

    folder: Path | None = None
    formats: tuple[str, ...] = ("html", "json")
    url: str | None = None
    """A template for a report's address: ``{portal}``, ``{run}`` and ``{file}`` are filled in."""


@dataclass(frozen=True)
class NotifyConfig:
    """A ``[[notify]]`` entry: one target a run's digest goes to when something new happened.

    Secrets (a Slack webhook's URL, the webhook's signing key, the SMTP password) come from
    the environment (``*_env``) or a file (``*_file``), never from the config."""

    name: str
    channel: str
    portal: str | None = None
    url: str | None = None
    url_env: str | None = None
    url_file: Path | None = None
    secret_env: str | None = None
    secret_file: Path | None = None
    smtp_host: str | None = None
    smtp_port: int = 587
    starttls: bool = True
    username: str | None = None
    password_env: str | None = None
    password_file: Path | None = None
    sender: str | None = None
    recipients: tuple[str, ...] = ()
    findings: bool = True
    """Also notify when a policy finding is new or reopened."""
    timeout_seconds: float = 10.0
    retries: int = 3


@dataclass(frozen=True)
class LoggingConfig:
    format: str = "console"
    level: str = "info"


@dataclass(frozen=True)
class RetentionPolicy:
    """Which snapshots ``db prune`` keeps: every one of the last ``daily_days`` days, the last
    of each week for ``weekly_weeks`` weeks, the last of each month for ``monthly_months``
    months, and with ``yearly`` the last of every year for ever. A portal's newest snapshot,
    a baseline's source and every snapshot a defect points to are always kept."""

    daily_days: int = 30
    weekly_weeks: int = 26
    monthly_months: int = 24
    yearly: bool = True


@dataclass(frozen=True)
class AuditConfig:
    """``[audit]``: when a run has read too little to be an audit."""

    min_read_share: float = 0.5
    """A run that reads fewer items in the parts its baseline governs than this share of the
    baseline's items fails and stores nothing (an outage is not a portal that lost its
    configuration); 0 turns the check off."""


@dataclass(frozen=True)
class Config:
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
    max_import_mb: float = 32.0
    """``[governance] max_import_mb``: the most YAML ``baseline import`` reads."""
    audit: AuditConfig = field(default_factory=AuditConfig)

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


def unknown_name(what: str, name: str, known: Sequence[str], where: str) -> str:
    """``unknown portal 'dmeo': the config names acme-prod, demo (did you mean 'demo'?)``."""
    listed = ", ".join(sorted(known)[:_LISTED]) + (" …" if len(known) > _LISTED else "")
    names = f"names {listed}" if known else f"names no {what}s"
    close = difflib.get_close_matches(name, known, n=3, cutoff=0.6)
    guess = " or ".join(repr(c) for c in close)
    return f"unknown {what} {name!r}: the {where} {names}" + (
        f" (did you mean {guess}?)" if close else ""
    )


_LISTED = 20


def resolve_token(
    portal: PortalConfig, environ: Mapping[str, str] | None = None
) -> PortalCredentials:
    """Read the portal's private-app token, or its OAuth app's credentials, from their
    environment variables or files, never from the config."""
    env = os.environ if environ is None else environ
    if portal.oauth is not None:
        sources = portal.oauth
        return OAuthApp(
            client_id=_read_secret(
                portal, sources.client_id, "the OAuth app's client id", env
            ).reveal(),
            client_secret=_read_secret(
                portal, sources.client_secret, "the OAuth app's client secret", env
            ),
            refresh_token=_read_secret(
                portal, sources.refresh_token, "the portal's OAuth refresh token", env
            ),
        )
    if portal.token_env is None and portal.token_file is None:
        raise ConfigError(f"portal {portal.name!r} has neither token_env nor token_file")
    return _read_secret(
        portal, SecretSource(portal.token_env, portal.token_file), "the private-app token", env
    )


def _read_secret(
    portal: PortalConfig, source: SecretSource, what: str, env: Mapping[str, str]
) -> Secret:
    if source.env is not None:
        value = env.get(source.env, "").strip()
        if not value:
            raise ConfigError(
                f"portal {portal.name!r}: environment variable {source.env} is not set "
                f"(it must hold {what})"
            )
        return _checked_token(portal, value, f"environment variable {source.env}")
    if source.file is None:
        raise ConfigError(f"portal {portal.name!r}: no environment variable or file holds {what}")
    try:
        value = source.file.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
        raise ConfigError(f"portal {portal.name!r}: cannot read {source.file}: {reason}") from exc
    if not value:
        raise ConfigError(f"portal {portal.name!r}: {source.file} is empty (it must hold {what})")
    return _checked_token(portal, value, str(source.file))


def _checked_token(portal: PortalConfig, value: str, source: str) -> Secret:
    if not value.isascii() or any(c.isspace() for c in value):
        raise ConfigError(
            f"portal {portal.name!r}: {source} does not hold a token (it has spaces or "
            "non-ASCII characters; was something pasted with it?)"
        )
    return Secret(value)


def find_config_path(explicit: str | None, environ: Mapping[str, str] | None = None) -> Path:
    env = os.environ if environ is None else environ
    if explicit:
        return Path(explicit)
    if env.get(CONFIG_ENV):
        return Path(env[CONFIG_ENV])
    default = Path(DEFAULT_CONFIG_NAME)
    if default.exists():
        return default
    raise UsageError(
        f"no config file: pass --config PATH, set {CONFIG_ENV}, or create ./{DEFAULT_CONFIG_NAME} "
        "(config.example.toml shows every key)"
    )


def load_config(path: Path, environ: Mapping[str, str] | None = None) -> Config:
    env = os.environ if environ is None else environ
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise ConfigError("config file not found", file=str(path)) from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read config file: {exc}", file=str(path)) from exc
    return parse_config(text, path=path, environ=env)


def parse_config(
    text: str, *, path: Path | None = None, environ: Mapping[str, str] | None = None
) -> Config:
    env = os.environ if environ is None else environ
    reader = TomlReader(text, str(path) if path else "<config>")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        # Python 3.11's TOMLDecodeError has the position only in its text: "… (at line 3, column 7)"
        found = re.search(r"^(.*?)\s*\(at line (\d+), column \d+\)$", str(exc))
        message, line = (found.group(1), int(found.group(2))) if found else (str(exc), None)
        raise ConfigError(f"not valid TOML: {message}", file=reader.file, line=line) from exc

    reader.only_keys(
        data,
        (),
        {
            "database",
            "portals",
            "logging",
            "severity",
            "retention",
            "schedule",
            "governance",
            "policies",
            "impact",
            "signoff",
            "reports",
            "notify",
            "audit",
        },
    )
    governance = reader.table(data, "governance")
    reader.only_keys(
        governance, ("governance",), {"ignore_file", "max_import_mb", "vendor_governed"}
    )
    ignore_file = _ignore_file(reader, governance, ("governance",), path)
    max_import_mb = reader.number(governance, ("governance",), "max_import_mb", 32.0, 0.01, 4096.0)
    vendor_governed = _vendor_governed(reader, governance, ("governance",))
    database = reader.table(data, "database")
    reader.only_keys(database, ("database",), {"url"})
    url = reader.string(database, ("database",), "url", DEFAULT_DATABASE_URL)
    url = env.get(DATABASE_URL_ENV) or _anchor_sqlite_path(url, path)

    logging_table = reader.table(data, "logging")
    reader.only_keys(logging_table, ("logging",), {"format", "level"})
    log_format = reader.choice(
        logging_table, ("logging",), "format", "console", ("console", "json")
    )
    log_level = reader.choice(
        logging_table, ("logging",), "level", "info", ("debug", "info", "warning", "error")
    )

    retention = None
    if "retention" in data:
        table = reader.table(data, "retention")
        where: Where = ("retention",)
        reader.only_keys(table, where, {"daily_days", "weekly_weeks", "monthly_months", "yearly"})
        default = RetentionPolicy()
        retention = RetentionPolicy(
            daily_days=reader.integer(table, where, "daily_days", default.daily_days, 1, 36500),
            weekly_weeks=reader.integer(
                table, where, "weekly_weeks", default.weekly_weeks, 0, 5200
            ),
            monthly_months=reader.integer(
                table, where, "monthly_months", default.monthly_months, 0, 1200
            ),
            yearly=reader.boolean(table, where, "yearly", default.yearly),
        )

    schedule_table = reader.table(data, "schedule")
    where = ("schedule",)
    reader.only_keys(
        schedule_table,
        where,
        {"cron", "timezone", "misfire_grace_minutes", "parallel_portals", "lease_seconds"},
    )
    defaults = ScheduleConfig()
    schedule = ScheduleConfig(
        cron=reader.crontab(schedule_table, where, "cron", defaults.cron),
        timezone=reader.timezone(schedule_table, where, "timezone", defaults.timezone),
        misfire_grace_minutes=reader.integer(
            schedule_table, where, "misfire_grace_minutes", defaults.misfire_grace_minutes, 1, 1440
        ),
        parallel_portals=reader.integer(
            schedule_table, where, "parallel_portals", defaults.parallel_portals, 1, 256
        ),
        lease_seconds=reader.integer(
            schedule_table, where, "lease_seconds", defaults.lease_seconds, 10, 86_400
        ),
    )

    raw_portals = data.get("portals", [])
    if not isinstance(raw_portals, list):
        raise reader.error("must be an array of tables: write [[portals]]", (), "portals")
    portals = tuple(
        _parse_portal(reader, raw, index, path) for index, raw in enumerate(raw_portals)
    )
    seen: set[str] = set()
    for index, portal in enumerate(portals):
        if portal.name in seen:
            raise reader.error(f"duplicate portal name {portal.name!r}", ("portals", index), "name")
        seen.add(portal.name)
    raw_rules = data.get("severity", [])
    if not isinstance(raw_rules, list):
        raise reader.error("must be an array of tables: write [[severity]]", (), "severity")
    overrides = tuple(_parse_severity(reader, raw, index) for index, raw in enumerate(raw_rules))
    policies = _parse_policies(reader, reader.table(data, "policies"))
    impact_table = reader.table(data, "impact")
    reader.only_keys(impact_table, ("impact",), {"raise_at"})
    impact = ImpactConfig(
        raise_at=reader.thresholds(impact_table, ("impact",), "raise_at", ImpactConfig().raise_at)
    )
    raw_signoffs = data.get("signoff", [])
    if not isinstance(raw_signoffs, list):
        raise reader.error("must be an array of tables: write [[signoff]]", (), "signoff")
    names = {p.name for p in portals}
    signoffs = tuple(
        _parse_signoff(reader, raw, index, names) for index, raw in enumerate(raw_signoffs)
    )
    reports = _parse_reports(reader, reader.table(data, "reports"), path)
    raw_notify = data.get("notify", [])
    if not isinstance(raw_notify, list):
        raise reader.error("must be an array of tables: write [[notify]]", (), "notify")
    notify = tuple(
        _parse_notify(reader, raw, index, names, path) for index, raw in enumerate(raw_notify)
    )
    seen_targets: set[str] = set()
    for index, target in enumerate(notify):
        if target.name in seen_targets:
            raise reader.error(f"duplicate notify name {target.name!r}", ("notify", index), "name")
        seen_targets.add(target.name)
    audit_table = reader.table(data, "audit")
    reader.only_keys(audit_table, ("audit",), {"min_read_share"})
    audit = AuditConfig(
        min_read_share=reader.number(
            audit_table, ("audit",), "min_read_share", AuditConfig().min_read_share, 0.0, 1.0
        )
    )
    return Config(
        database_url=url,
        portals=portals,
        logging=LoggingConfig(format=log_format, level=log_level),
        path=path,
        severity_overrides=overrides,
        retention=retention,
        schedule=schedule,
        ignore_file=ignore_file,
        policies=policies,
        impact=impact,
        signoffs=signoffs,
        reports=reports,
        notify=notify,
        vendor_governed=vendor_governed,
        max_import_mb=max_import_mb,
        audit=audit,
    )


def _vendor_governed(reader: TomlReader, table: Mapping[str, Any], where: Where) -> tuple[str, ...]:
    """Key globs (``property:contacts:*``) or kinds (``association_label``) of HubSpot-defined
    items the team governs: HubSpot's own changes to them are defects, not ``vendor``."""
    value = table.get("vendor_governed", [])
    kinds = {kind.value for kind in Kind}
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise reader.error(
            'must be a list of item keys or globs such as ["property:contacts:*"]',
            where,
            "vendor_governed",
        )
    for pattern in value:
        if pattern.split(":", 1)[0] not in kinds:
            raise reader.error(
                f"{pattern!r} does not start with a kind ({', '.join(sorted(kinds))})",
                where,
                "vendor_governed",
            )
    return tuple(value)


def _parse_reports(
    reader: TomlReader, table: Mapping[str, Any], config_path: Path | None
) -> ReportsConfig:
    where: Where = ("reports",)
    reader.only_keys(table, where, {"folder", "formats", "url"})
    folder_text = reader.optional_string(table, where, "folder")
    folder = None
    if folder_text is not None:
        folder = Path(folder_text).expanduser()
        if not folder.is_absolute() and config_path is not None:
            folder = config_path.parent / folder
    formats = table.get("formats", list(ReportsConfig().formats))
    if (
        not isinstance(formats, list)
        or not formats
        or not all(isinstance(f, str) and f in REPORT_FORMATS for f in formats)
    ):
        raise reader.error(
            f"must be a list of formats from {', '.join(REPORT_FORMATS)}", where, "formats"
        )
    url = reader.optional_string(table, where, "url")
    if url is not None and not url.startswith(("https://", "http://")):
        raise reader.error("must start with https:// or http://", where, "url")
    if url is not None:
        try:
            fields = {name for _text, name, _spec, _conv in string.Formatter().parse(url) if name}
        except ValueError as exc:
            raise reader.error(f"not a template: {exc}", where, "url") from exc
        unknown = fields - {"portal", "run", "file"}
        if unknown:
            raise reader.error(
                f"unknown placeholder {{{sorted(unknown)[0]}}}: use {{portal}}, {{run}}, {{file}}",
                where,
                "url",
            )
    return ReportsConfig(folder=folder, formats=tuple(dict.fromkeys(formats)), url=url)


_NOTIFY_KEYS = {
    "slack": {"url_env", "url_file"},
    "webhook": {"url", "secret_env", "secret_file"},
    "email": {
        "smtp_host",
        "smtp_port",
        "starttls",
        "username",
        "password_env",
        "password_file",
        "from",
        "to",
    },
}


def _parse_notify(
    reader: TomlReader, raw: Any, index: int, portals: set[str], config_path: Path | None
) -> NotifyConfig:
    where = ("notify", index)
    if not isinstance(raw, dict):
        raise reader.error("each [[notify]] entry must be a table", where, None)
    channel = reader.string(raw, where, "channel", None)
    if channel not in CHANNELS:
        raise reader.error(f"must be one of {', '.join(CHANNELS)}", where, "channel")
    common = {"channel", "name", "portal", "findings", "timeout_seconds", "retries"}
    reader.only_keys(raw, where, common | _NOTIFY_KEYS[channel])
    portal = reader.optional_string(raw, where, "portal")
    if portal is not None and portal not in portals:
        raise reader.error("no [[portals]] entry has this name", where, "portal")

    def env_name(key: str) -> str | None:
        value = reader.optional_string(raw, where, key)
        if value is not None and not _ENV_NAME.match(value):
            raise reader.error(
                "must be the name of an environment variable, not the secret itself", where, key
            )
        return value

    def file_path(key: str) -> Path | None:
        value = reader.optional_string(raw, where, key)
        if value is None:
            return None
        found = Path(value).expanduser()
        return config_path.parent / found if not found.is_absolute() and config_path else found

    def one_secret(env_key: str, file_key: str, what: str) -> tuple[str | None, Path | None]:
        env, file = env_name(env_key), file_path(file_key)
        if env is None and file is None:
            raise reader.error(f"{channel} needs {env_key} or {file_key} ({what})", where, env_key)
        if env is not None and file is not None:
            raise reader.error(f"give {env_key} or {file_key}, not both", where, file_key)
        return env, file

    target = NotifyConfig(
        name=reader.string(raw, where, "name", f"{channel}-{index + 1}"),
        channel=channel,
        portal=portal,
        findings=reader.boolean(raw, where, "findings", True),
        timeout_seconds=reader.number(raw, where, "timeout_seconds", 10.0, 0.1, 300.0),
        retries=reader.integer(raw, where, "retries", 3, 0, 10),
    )
    if channel == "slack":
        url_env, url_file = one_secret("url_env", "url_file", "the incoming webhook's URL")
        return replace(target, url_env=url_env, url_file=url_file)
    if channel == "webhook":
        url = reader.string(raw, where, "url", None)
        if not url.startswith(("https://", "http://")):
            raise reader.error("must start with https:// or http://", where, "url")
        secret_env, secret_file = one_secret("secret_env", "secret_file", "the signing key")
        return replace(target, url=url, secret_env=secret_env, secret_file=secret_file)
    recipients = raw.get("to")
    if (
        not isinstance(recipients, list)
        or not recipients
        or not all(isinstance(r, str) and "@" in r for r in recipients)
    ):
        raise reader.error(
            'must be a list of addresses such as ["revops@example.com"]', where, "to"
        )
    sender = reader.string(raw, where, "from", None)
    if "@" not in sender:
        raise reader.error("must be an email address", where, "from")
    password_env, password_file = env_name("password_env"), file_path("password_file")
    username = reader.optional_string(raw, where, "username")
    if username is not None and password_env is None and password_file is None:
        raise reader.error(
            "a username needs password_env or password_file (the SMTP password)", where, "username"
        )
    return replace(
        target,
        smtp_host=reader.string(raw, where, "smtp_host", None),
        smtp_port=reader.integer(raw, where, "smtp_port", 587, 1, 65535),
        starttls=reader.boolean(raw, where, "starttls", True),
        username=username,
        password_env=password_env,
        password_file=password_file,
        sender=sender,
        recipients=tuple(recipients),
    )


def resolve_secret(env: str | None, file: Path | None, what: str) -> Secret:
    """A notification's secret from its environment variable or file: one line."""
    if env is not None:
        value, source = os.environ.get(env, "").strip(), f"environment variable {env}"
        if not value:
            raise ConfigError(f"{what}: {source} is not set")
    elif file is not None:
        try:
            value, source = file.read_text(encoding="utf-8").strip(), str(file)
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{what}: cannot read {file}: {exc}") from exc
        if not value:
            raise ConfigError(f"{what}: {file} is empty")
    else:
        raise ConfigError(f"{what}: no secret configured")
    if not value.isprintable():
        raise ConfigError(f"{what}: {source} holds more than one line (a comment?) or a tab")
    return Secret(value)


def _parse_policies(reader: TomlReader, table: Mapping[str, Any]) -> dict[str, PolicySettings]:
    result: dict[str, PolicySettings] = {}
    for policy_id, raw in table.items():
        where: Where = ("policies", policy_id)
        if policy_id not in POLICY_OPTIONS:
            raise reader.error(
                f"unknown policy; known policies: {', '.join(POLICY_OPTIONS)}",
                ("policies",),
                policy_id,
            )
        if not isinstance(raw, dict):
            raise reader.error(f"must be a table: write [policies.{policy_id}]", where, None)
        reader.only_keys(raw, where, {"enabled", "severity", "reason"} | POLICY_OPTIONS[policy_id])
        severity = reader.optional_string(raw, where, "severity")
        if severity is not None and severity not in SEVERITIES:
            raise reader.error(f"must be one of {', '.join(SEVERITIES)}", where, "severity")
        patterns = reader.string_table(raw, where, "patterns")
        for object_type, pattern in patterns.items():
            try:
                re.compile(pattern)
            except re.error as exc:
                raise reader.error(
                    f"{object_type}: not a regular expression ({exc})", where, "patterns"
                ) from exc
        stages: dict[str, tuple[str, ...]] = {}
        raw_stages = raw.get("stages", {})
        if not isinstance(raw_stages, dict) or not all(
            isinstance(v, list) and v and all(isinstance(x, str) and x for x in v)
            for v in raw_stages.values()
        ):
            raise reader.error(
                'must be a table of stage lists such as { contacts = ["lead", "customer"] }',
                where,
                "stages",
            )
        for object_type, values in raw_stages.items():
            if len(set(values)) != len(values):
                raise reader.error(f"{object_type}: lists a stage twice", where, "stages")
            stages[object_type] = tuple(values)
        result[policy_id] = PolicySettings(
            id=policy_id,
            enabled=reader.boolean(raw, where, "enabled", True),
            severity=severity,
            reason=reader.optional_string(raw, where, "reason"),
            object_types=reader.object_types(raw, where, "object_types", ())
            if "object_types" in raw
            else None,
            patterns=patterns,
            max_days=reader.integer(raw, where, "max_days", 90, 1, 36_500)
            if "max_days" in raw
            else None,
            max=reader.integer(raw, where, "max", 0, 0, 100_000) if "max" in raw else None,
            stages=stages,
        )
    return result


def _parse_signoff(reader: TomlReader, raw: Any, index: int, portals: set[str]) -> SignOff:
    where = ("signoff", index)
    if not isinstance(raw, dict):
        raise reader.error("each [[signoff]] entry must be a table", where, None)
    reader.only_keys(raw, where, {"area", "by", "on", "every_days", "portal", "note"})
    area = reader.string(raw, where, "area", None)
    if area not in MANUAL_AREAS:
        raise reader.error(f"must be one of {', '.join(MANUAL_AREAS)}", where, "area")
    portal = reader.optional_string(raw, where, "portal")
    if portal is not None and portal not in portals:
        raise reader.error("no [[portals]] entry has this name", where, "portal")
    on = raw.get("on")
    if isinstance(on, str):
        try:
            on = date.fromisoformat(on)
        except ValueError:
            on = None
    if isinstance(on, datetime):
        on = on.date()
    if not isinstance(on, date):
        raise reader.error("must be a date such as 2026-10-01", where, "on")
    return SignOff(
        area=area,
        by=reader.string(raw, where, "by", None),
        on=on,
        every_days=reader.integer(raw, where, "every_days", 90, 1, 3650),
        portal=portal,
        note=raw.get("note", "") if isinstance(raw.get("note", ""), str) else "",
    )


SEVERITIES = ("critical", "high", "medium", "low", "info")
KINDS = (
    "property",
    "property_group",
    "pipeline",
    "workflow",
    "lifecycle_stage",
    "object_schema",
    "association_label",
    "user",
    "team",
    "role",
)


def _parse_severity(reader: TomlReader, raw: Any, index: int) -> SeverityOverride:
    where = ("severity", index)
    if not isinstance(raw, dict):
        raise reader.error("each [[severity]] entry must be a table", where, None)
    reader.only_keys(raw, where, {"severity", "kind", "key", "field", "op"})
    kind = reader.optional_string(raw, where, "kind")
    if kind is not None and kind not in KINDS:
        raise reader.error(f"must be one of {', '.join(KINDS)}", where, "kind")
    op = reader.optional_string(raw, where, "op")
    if op is not None and op not in ("added", "removed", "modified"):
        raise reader.error("must be one of added, removed, modified", where, "op")
    field_pattern = raw.get("field", "**")
    if not isinstance(field_pattern, str):
        raise reader.error('must be a field path pattern such as "options.*.label"', where, "field")
    severity = reader.string(raw, where, "severity", None)
    if severity not in SEVERITIES:
        raise reader.error(f"must be one of {', '.join(SEVERITIES)}", where, "severity")
    return SeverityOverride(
        severity=severity,
        kind=kind,
        key=reader.string(raw, where, "key", "*"),
        field=field_pattern,
        op=op,
    )


_PORTAL_KEYS = {
    "name",
    "base_url",
    "token_env",
    "token_file",
    "property_object_types",
    "pipeline_object_types",
    "association_object_types",
    "include_custom_objects",
    "concurrency",
    "rate_limit_per_10s",
    "timeout_seconds",
    "max_retries",
    "max_response_mb",
    "api_versions",
    "schedule",
    "timezone",
    "ignore_file",
    *(f"{secret}_{where}" for secret in OAUTH_SECRETS for where in ("env", "file")),
}


def _parse_portal(reader: TomlReader, raw: Any, index: int, path: Path | None) -> PortalConfig:
    where = ("portals", index)
    if not isinstance(raw, dict):
        raise reader.error("each [[portals]] entry must be a table", where, None)
    reader.only_keys(raw, where, _PORTAL_KEYS)
    if "token" in raw:  # pragma: no cover - only_keys already refuses it; kept as a clear reason
        raise reader.error("tokens never live in the config", where, "token")
    name = reader.string(raw, where, "name", None)
    if not _PORTAL_NAME.match(name):
        raise reader.error(
            "must be letters, digits, '.', '_' or '-' (at most 63 characters)", where, "name"
        )
    base_url = reader.string(raw, where, "base_url", DEFAULT_BASE_URL).rstrip("/")
    if not base_url.startswith(("https://", "http://")):
        raise reader.error("must start with https:// or http://", where, "base_url")
    token_env = reader.optional_string(raw, where, "token_env")
    token_file_text = reader.optional_string(raw, where, "token_file")
    oauth = _oauth_sources(reader, raw, where, path)
    if oauth is not None and (token_env is not None or token_file_text is not None):
        raise reader.error(
            "give a private-app token (token_env or token_file) or an OAuth app "
            "(client_id_env, client_secret_env, refresh_token_env), not both",
            where,
            "token_env" if token_env is not None else "token_file",
        )
    if oauth is None and token_env is None and token_file_text is None:
        raise reader.error(
            "each portal needs token_env (the environment variable that holds its "
            "private-app token) or token_file, or an OAuth app's client_id_env, "
            "client_secret_env and refresh_token_env",
            where,
            "token_env",
        )
    if token_env is not None and token_file_text is not None:
        raise reader.error("give token_env or token_file, not both", where, "token_file")
    if token_env is not None and not _ENV_NAME.match(token_env):
        raise reader.error(
            "must be the name of an environment variable, not the token itself", where, "token_env"
        )
    token_file = None
    if token_file_text is not None:
        token_file = Path(token_file_text).expanduser()
        if not token_file.is_absolute() and path is not None:
            token_file = path.parent / token_file
    versions = dict(API_RESOURCES)
    raw_versions = raw.get("api_versions", {})
    if not isinstance(raw_versions, dict):
        raise reader.error('must be a table such as { properties = "v3" }', where, "api_versions")
    for resource, version in raw_versions.items():
        if resource not in API_RESOURCES:
            raise reader.error(
                f"unknown resource {resource!r} (known: {', '.join(API_RESOURCES)})",
                where,
                "api_versions",
            )
        if not isinstance(version, str) or not _API_VERSION.match(version):
            raise reader.error(
                f"{resource}: version must look like 'v3' or '2026-03'", where, "api_versions"
            )
        if not version.startswith("v") and resource not in DATED_RESOURCES:
            raise reader.error(
                f"{resource}: no date-versioned path is known yet; use a 'vN' version",
                where,
                "api_versions",
            )
        versions[resource] = version
    return PortalConfig(
        name=name,
        base_url=base_url,
        token_env=token_env,
        token_file=token_file,
        property_object_types=reader.object_types(
            raw, where, "property_object_types", DEFAULT_PROPERTY_OBJECT_TYPES
        ),
        pipeline_object_types=reader.object_types(
            raw, where, "pipeline_object_types", DEFAULT_PIPELINE_OBJECT_TYPES
        ),
        association_object_types=reader.object_types(
            raw, where, "association_object_types", DEFAULT_ASSOCIATION_OBJECT_TYPES
        ),
        include_custom_objects=reader.boolean(raw, where, "include_custom_objects", True),
        concurrency=reader.integer(raw, where, "concurrency", 4, 1, 32),
        rate_limit_per_10s=reader.integer(raw, where, "rate_limit_per_10s", 100, 1, 10_000),
        timeout_seconds=reader.number(raw, where, "timeout_seconds", 30.0, 0.1, 600.0),
        max_retries=reader.integer(raw, where, "max_retries", 5, 0, 20),
        max_response_mb=reader.number(raw, where, "max_response_mb", 64.0, 0.01, 4096.0),
        api_versions=versions,
        schedule=reader.crontab(raw, where, "schedule", None) if "schedule" in raw else None,
        timezone=reader.timezone(raw, where, "timezone", None) if "timezone" in raw else None,
        ignore_file=_ignore_file(reader, raw, where, path),
        oauth=oauth,
    )


def _oauth_sources(
    reader: TomlReader, raw: Mapping[str, Any], where: Where, path: Path | None
) -> OAuthSources | None:
    """A portal's OAuth app: each of its three secrets from ``*_env`` or ``*_file``."""
    if not any(f"{secret}_{kind}" in raw for secret in OAUTH_SECRETS for kind in ("env", "file")):
        return None
    sources: dict[str, SecretSource] = {}
    for secret in OAUTH_SECRETS:
        env_key, file_key = f"{secret}_env", f"{secret}_file"
        env = reader.optional_string(raw, where, env_key)
        file_text = reader.optional_string(raw, where, file_key)
        if env is None and file_text is None:
            raise reader.error(
                f"an OAuth app needs {env_key} or {file_key} too "
                "(client id, client secret and refresh token)",
                where,
                env_key,
            )
        if env is not None and file_text is not None:
            raise reader.error(f"give {env_key} or {file_key}, not both", where, file_key)
        if env is not None and not _ENV_NAME.match(env):
            raise reader.error(
                "must be the name of an environment variable, not the secret itself",
                where,
                env_key,
            )
        file = None
        if file_text is not None:
            file = Path(file_text).expanduser()
            if not file.is_absolute() and path is not None:
                file = path.parent / file
        sources[secret] = SecretSource(env, file)
    return OAuthSources(**sources)


def _ignore_file(
    reader: TomlReader, table: Mapping[str, Any], where: Where, config_path: Path | None
) -> Path | None:
    """A path to an ignore-rules file, relative to the config file; it must exist."""
    text = reader.optional_string(table, where, "ignore_file")
    if text is None:
        return None
    found = Path(text).expanduser()
    if not found.is_absolute() and config_path is not None:
        found = config_path.parent / found
    if not found.is_file():
        raise reader.error(f"no such file: {found}", where, "ignore_file")
    return found


def _anchor_sqlite_path(url: str, config_path: Path | None) -> str:
    """A relative SQLite path is relative to the config file, so cron and a shell agree."""
    prefix = "sqlite:///"
    if config_path is None or not url.startswith(prefix):
        return url
    rest = url[len(prefix) :]
    if not rest or rest.startswith("/") or rest.startswith(":memory:"):
        return url
    return prefix + str((config_path.parent / rest).resolve())


Where = tuple[str | int, ...]


class TomlReader:
    """Typed access to the parsed TOML that turns every mistake into file:line [key] errors."""

    def __init__(self, text: str, file: str) -> None:
        self.lines = text.splitlines()
        self.file = file

    def error(self, message: str, where: Where, key: str | None) -> ConfigError:
        parts: list[str] = []
        for part in where:
            if isinstance(part, int):
                parts[-1] += f"[{part}]"
            else:
                parts.append(part)
        dotted = ".".join([*parts, key] if key else parts)
        return ConfigError(
            message, file=self.file, line=self.locate(where, key), key=dotted or None
        )

    def locate(self, where: Where, key: str | None) -> int | None:
        """The line of ``key`` inside the table at ``where`` (or of the table header)."""
        table = tuple(part for part in where if isinstance(part, str))
        wanted_index = next((part for part in where if isinstance(part, int)), 0)
        array_counts: dict[tuple[str, ...], int] = {}
        current: tuple[str, ...] = ()
        current_index = 0
        header_line: int | None = None
        for number, line in enumerate(self.lines, start=1):
            stripped = line.strip()
            array_header = re.match(r"^\[\[\s*([^\]]+?)\s*\]\]", stripped)
            table_header = None if array_header else re.match(r"^\[\s*([^\]]+?)\s*\]", stripped)
            if array_header:
                current = tuple(p.strip().strip('"') for p in array_header.group(1).split("."))
                current_index = array_counts.get(current, 0)
                array_counts[current] = current_index + 1
            elif table_header:
                current = tuple(p.strip().strip('"') for p in table_header.group(1).split("."))
                current_index = 0
            if (
                (array_header or table_header)
                and current == table
                and current_index == wanted_index
            ):
                header_line = number
                if key is None:
                    return number
                continue
            if key is not None and current == table and current_index == wanted_index:
                match = re.match(r'^\s*"?([A-Za-z0-9_-]+)"?\s*=', line)
                if match and match.group(1) == key:
                    return number
        if key is not None:
            # The key may be a table of its own: [key], [[key]] or [table.key].
            wanted = ".".join((*table, key))
            for number, line in enumerate(self.lines, start=1):
                header = re.match(r"^\s*\[\[?\s*([^\]]+?)\s*\]\]?", line)
                if header and header.group(1).replace('"', "").replace(" ", "") == wanted:
                    return number
        return header_line

    def only_keys(self, table: Mapping[str, Any], where: Where, allowed: set[str]) -> None:
        for key in table:
            if key not in allowed:
                hint = ""
                if key == "token":
                    hint = " (tokens never live in the config: use token_env or token_file)"
                elif key in OAUTH_SECRETS:
                    hint = f" (secrets never live in the config: use {key}_env or {key}_file)"
                known = ", ".join(sorted(allowed))
                raise self.error(f"unknown key{hint}; known keys: {known}", where, key)

    def table(self, data: Mapping[str, Any], name: str) -> Mapping[str, Any]:
        value = data.get(name, {})
        if not isinstance(value, dict):
            raise self.error(f"must be a table: write [{name}]", (), name)
        return value

    def string(self, table: Mapping[str, Any], where: Where, key: str, default: str | None) -> str:
        if key not in table:
            if default is None:
                raise self.error("is required", where, key)
            return default
        value = table[key]
        if not isinstance(value, str) or not value.strip():
            raise self.error("must be a non-empty string", where, key)
        return value

    def optional_string(self, table: Mapping[str, Any], where: Where, key: str) -> str | None:
        if key not in table:
            return None
        return self.string(table, where, key, None)

    def choice(
        self,
        table: Mapping[str, Any],
        where: Where,
        key: str,
        default: str,
        options: tuple[str, ...],
    ) -> str:
        value = self.string(table, where, key, default)
        if value not in options:
            raise self.error(f"must be one of {', '.join(options)}", where, key)
        return value

    def integer(
        self, table: Mapping[str, Any], where: Where, key: str, default: int, low: int, high: int
    ) -> int:
        value = table.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise self.error(f"must be a whole number from {low} to {high}", where, key)
        return value

    def number(
        self,
        table: Mapping[str, Any],
        where: Where,
        key: str,
        default: float,
        low: float,
        high: float,
    ) -> float:
        value = table.get(key, default)
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not low <= value <= high
        ):
            raise self.error(f"must be a number from {low:g} to {high:g}", where, key)
        return float(value)

    def crontab(self, table: Mapping[str, Any], where: Where, key: str, default: str | None) -> str:
        """A five-field crontab line: minute hour day-of-month month day-of-week."""
        text = self.string(table, where, key, default)
        if text == default:
            return text  # the built-in default is valid: no need to load the scheduler to see
        from apscheduler.triggers.cron import CronTrigger  # only a config that sets a schedule

        try:
            CronTrigger.from_crontab(text, timezone="UTC")
        except ValueError as exc:
            raise self.error(
                f"not a crontab line such as '0 2 * * *' (minute hour day month weekday): {exc}",
                where,
                key,
            ) from exc
        return text

    def timezone(
        self, table: Mapping[str, Any], where: Where, key: str, default: str | None
    ) -> str:
        text = self.string(table, where, key, default)
        try:
            ZoneInfo(text)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise self.error(
                "not a time zone name such as 'Europe/Paris' or 'UTC'", where, key
            ) from exc
        return text

    def string_table(self, table: Mapping[str, Any], where: Where, key: str) -> dict[str, str]:
        value = table.get(key, {})
        if not isinstance(value, dict) or not all(isinstance(v, str) and v for v in value.values()):
            raise self.error('must be a table of strings such as { "*" = "^[a-z_]+$" }', where, key)
        return dict(value)

    def thresholds(
        self, table: Mapping[str, Any], where: Where, key: str, default: tuple[int, ...]
    ) -> tuple[int, ...]:
        value = table.get(key, list(default))
        if (
            not isinstance(value, list)
            or not all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in value)
            or value != sorted(set(value))
        ):
            raise self.error(
                "must be rising whole numbers such as [10, 40] (or [] for never)", where, key
            )
        return tuple(value)

    def boolean(self, table: Mapping[str, Any], where: Where, key: str, default: bool) -> bool:
        value = table.get(key, default)
        if not isinstance(value, bool):
            raise self.error("must be true or false", where, key)
        return value

    def object_types(
        self, table: Mapping[str, Any], where: Where, key: str, default: tuple[str, ...]
    ) -> tuple[str, ...]:
        value = table.get(key, list(default))
        if not isinstance(value, list) or not all(
            isinstance(item, str) and _OBJECT_TYPE.match(item) for item in value
        ):
            raise self.error(
                'must be a list of object type names such as ["contacts", "deals"]', where, key
            )
        if len(set(value)) != len(value):
            raise self.error("lists an object type twice", where, key)
        return tuple(value)
