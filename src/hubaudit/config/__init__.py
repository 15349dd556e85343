"""Reading and checking ``hubaudit.toml``: the typed schema (:mod:`.schema`), the loader that
reports every mistake with its file, line and key (:mod:`.loader`, :mod:`.toml`), and the
secrets a portal's sources point to (:mod:`.secrets`).

Tokens never live in the file: a portal names the environment variable (``token_env``) or the
file (``token_file``) that holds its private-app token — or, for a portal that installed an
OAuth app, the variables or files of the app's client id, client secret and refresh token — and
:func:`resolve_token` reads them when a run needs them.

Names are loaded when first used (PEP 562): reading the config's essentials, as every read
command does, imports no pydantic and builds no schema.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from hubaudit.config.essentials import (
        CONFIG_ENV,
        DATABASE_URL_ENV,
        DEFAULT_CONFIG_NAME,
        DEFAULT_DATABASE_URL,
        Essentials,
        LogFormat,
        LogLevel,
        find_config_path,
        read_essentials,
        unknown_name,
    )
    from hubaudit.config.loader import (
        load_config,
        parse_config,
    )
    from hubaudit.config.schema import (
        API_RESOURCES,
        CHANNELS,
        DATED_RESOURCES,
        DEFAULT_ASSOCIATION_OBJECT_TYPES,
        DEFAULT_BASE_URL,
        DEFAULT_PIPELINE_OBJECT_TYPES,
        DEFAULT_PROPERTY_OBJECT_TYPES,
        KINDS,
        REPORT_FORMATS,
        SEVERITIES,
        AuditConfig,
        Channel,
        Config,
        ImpactConfig,
        LoggingConfig,
        NotifyConfig,
        PolicySettings,
        PortalConfig,
        ReportFormat,
        ReportsConfig,
        RetentionPolicy,
        ScheduleConfig,
        SignOff,
        WebSection,
    )
    from hubaudit.config.secrets import (
        OAUTH_SECRETS,
        OAuthApp,
        OAuthSources,
        PortalCredentials,
        Secret,
        SecretSource,
        resolve_secret,
        resolve_token,
    )
    from hubaudit.config.severity import (
        SeverityOverride,
    )
    from hubaudit.config.toml import (
        ConfigErrors,
        TomlReader,
        Where,
        read_toml_text,
    )
    from hubaudit.policies.catalog import (
        MANUAL_AREAS,
        POLICY_OPTIONS,
    )

_HOMES = {
    "API_RESOURCES": "hubaudit.config.schema",
    "CHANNELS": "hubaudit.config.schema",
    "CONFIG_ENV": "hubaudit.config.essentials",
    "DATABASE_URL_ENV": "hubaudit.config.essentials",
    "DATED_RESOURCES": "hubaudit.config.schema",
    "DEFAULT_ASSOCIATION_OBJECT_TYPES": "hubaudit.config.schema",
    "DEFAULT_BASE_URL": "hubaudit.config.schema",
    "DEFAULT_CONFIG_NAME": "hubaudit.config.essentials",
    "DEFAULT_DATABASE_URL": "hubaudit.config.essentials",
    "DEFAULT_PIPELINE_OBJECT_TYPES": "hubaudit.config.schema",
    "DEFAULT_PROPERTY_OBJECT_TYPES": "hubaudit.config.schema",
    "KINDS": "hubaudit.config.schema",
    "MANUAL_AREAS": "hubaudit.policies.catalog",
    "OAUTH_SECRETS": "hubaudit.config.secrets",
    "POLICY_OPTIONS": "hubaudit.policies.catalog",
    "REPORT_FORMATS": "hubaudit.config.schema",
    "SEVERITIES": "hubaudit.config.schema",
    "AuditConfig": "hubaudit.config.schema",
    "Channel": "hubaudit.config.schema",
    "Config": "hubaudit.config.schema",
    "ConfigErrors": "hubaudit.config.toml",
    "Essentials": "hubaudit.config.essentials",
    "ImpactConfig": "hubaudit.config.schema",
    "LogFormat": "hubaudit.config.essentials",
    "LogLevel": "hubaudit.config.essentials",
    "LoggingConfig": "hubaudit.config.schema",
    "NotifyConfig": "hubaudit.config.schema",
    "OAuthApp": "hubaudit.config.secrets",
    "OAuthSources": "hubaudit.config.secrets",
    "PolicySettings": "hubaudit.config.schema",
    "PortalConfig": "hubaudit.config.schema",
    "PortalCredentials": "hubaudit.config.secrets",
    "ReportFormat": "hubaudit.config.schema",
    "ReportsConfig": "hubaudit.config.schema",
    "RetentionPolicy": "hubaudit.config.schema",
    "ScheduleConfig": "hubaudit.config.schema",
    "Secret": "hubaudit.config.secrets",
    "SecretSource": "hubaudit.config.secrets",
    "SeverityOverride": "hubaudit.config.severity",
    "SignOff": "hubaudit.config.schema",
    "TomlReader": "hubaudit.config.toml",
    "WebSection": "hubaudit.config.schema",
    "Where": "hubaudit.config.toml",
    "find_config_path": "hubaudit.config.essentials",
    "load_config": "hubaudit.config.loader",
    "parse_config": "hubaudit.config.loader",
    "read_essentials": "hubaudit.config.essentials",
    "read_toml_text": "hubaudit.config.toml",
    "resolve_secret": "hubaudit.config.secrets",
    "resolve_token": "hubaudit.config.secrets",
    "unknown_name": "hubaudit.config.essentials",
}
"""Where each name is defined."""

__all__ = [
    "API_RESOURCES",
    "CHANNELS",
    "CONFIG_ENV",
    "DATABASE_URL_ENV",
    "DATED_RESOURCES",
    "DEFAULT_ASSOCIATION_OBJECT_TYPES",
    "DEFAULT_BASE_URL",
    "DEFAULT_CONFIG_NAME",
    "DEFAULT_DATABASE_URL",
    "DEFAULT_PIPELINE_OBJECT_TYPES",
    "DEFAULT_PROPERTY_OBJECT_TYPES",
    "KINDS",
    "MANUAL_AREAS",
    "OAUTH_SECRETS",
    "POLICY_OPTIONS",
    "REPORT_FORMATS",
    "SEVERITIES",
    "AuditConfig",
    "Channel",
    "Config",
    "ConfigErrors",
    "Essentials",
    "ImpactConfig",
    "LogFormat",
    "LogLevel",
    "LoggingConfig",
    "NotifyConfig",
    "OAuthApp",
    "OAuthSources",
    "PolicySettings",
    "PortalConfig",
    "PortalCredentials",
    "ReportFormat",
    "ReportsConfig",
    "RetentionPolicy",
    "ScheduleConfig",
    "Secret",
    "SecretSource",
    "SeverityOverride",
    "SignOff",
    "TomlReader",
    "WebSection",
    "Where",
    "find_config_path",
    "load_config",
    "parse_config",
    "read_essentials",
    "read_toml_text",
    "resolve_secret",
    "resolve_token",
    "unknown_name",
]


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value
    return value
