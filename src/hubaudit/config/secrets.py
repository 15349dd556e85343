"""Secrets: where they are read from (never the config file) and the type that holds them.

A :class:`Secret` refuses to show itself in reprs, logs and tracebacks, and is registered with
the scrubber (:mod:`hubaudit.secrets`) the moment it is read, so it is taken out of every text
leaving an edge from then on.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass as plain_dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, cast

from pydantic import ConfigDict
from pydantic.dataclasses import dataclass

from hubaudit.config import checks
from hubaudit.errors import ConfigError
from hubaudit.secrets import remember_secret

if TYPE_CHECKING:
    from hubaudit.config.schema import PortalConfig

SCHEMA = cast(ConfigDict, checks.TABLE_SETTINGS)
"""Every table of the config: unknown keys are mistakes."""

OAUTH_SECRETS = ("client_id", "client_secret", "refresh_token")


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


@dataclass(frozen=True, config=SCHEMA)
class SecretSource:
    """Where one secret is read from: an environment variable, or a file of one line."""

    env: Annotated[str | None, checks.env_name("the secret")] = None
    file: Annotated[Path | None, checks.PATH] = None


@dataclass(frozen=True, config=SCHEMA)
class OAuthSources:
    """A portal that installed an OAuth (public) app: where its app's secrets are read from."""

    client_id: SecretSource
    client_secret: SecretSource
    refresh_token: SecretSource


@plain_dataclass(frozen=True)
class OAuthApp:
    """An OAuth app's credentials for one portal, read for one run and kept in memory only:
    hubaudit exchanges them for short-lived access tokens (:mod:`hubaudit.hubspot.oauth`)."""

    client_id: str
    client_secret: Secret
    refresh_token: Secret


PortalCredentials = Secret | OAuthApp
"""A private-app token, or an OAuth app's credentials."""


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
                portal.name, sources.client_id, "the OAuth app's client id", env
            ).reveal(),
            client_secret=_read_secret(
                portal.name, sources.client_secret, "the OAuth app's client secret", env
            ),
            refresh_token=_read_secret(
                portal.name, sources.refresh_token, "the portal's OAuth refresh token", env
            ),
        )
    if portal.token_env is None and portal.token_file is None:
        raise ConfigError(f"portal {portal.name!r} has neither token_env nor token_file")
    return _read_secret(
        portal.name,
        SecretSource(portal.token_env, portal.token_file),
        "the private-app token",
        env,
    )


def _read_secret(portal: str, source: SecretSource, what: str, env: Mapping[str, str]) -> Secret:
    if source.env is not None:
        value = env.get(source.env, "").strip()
        if not value:
            raise ConfigError(
                f"portal {portal!r}: environment variable {source.env} is not set "
                f"(it must hold {what})"
            )
        return _checked_token(portal, value, f"environment variable {source.env}")
    if source.file is None:
        raise ConfigError(f"portal {portal!r}: no environment variable or file holds {what}")
    try:
        value = source.file.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
        raise ConfigError(f"portal {portal!r}: cannot read {source.file}: {reason}") from exc
    if not value:
        raise ConfigError(f"portal {portal!r}: {source.file} is empty (it must hold {what})")
    return _checked_token(portal, value, str(source.file))


def _checked_token(portal: str, value: str, source: str) -> Secret:
    if not value.isascii() or any(c.isspace() for c in value):
        raise ConfigError(
            f"portal {portal!r}: {source} does not hold a token (it has spaces or "
            "non-ASCII characters; was something pasted with it?)"
        )
    return Secret(value)


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
