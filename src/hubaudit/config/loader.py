"""Reading ``hubaudit.toml``: parse, check every key against the schema and every rule that
ties keys together, and report ALL the file's mistakes at once, each with its file, line and
key. Tokens never live in the file (:mod:`hubaudit.config.secrets` reads them)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter, ValidationError
from pydantic_core import ErrorDetails

from hubaudit.config import checks
from hubaudit.config.essentials import database_url
from hubaudit.config.schema import (
    ARRAYS,
    OAUTH_KEYS,
    Config,
    ConfigFile,
    known_keys,
    table_rules,
)
from hubaudit.config.secrets import OAUTH_SECRETS
from hubaudit.config.toml import Problem, TomlReader, Where, dotted, read_toml_text, unknown_key
from hubaudit.policies.catalog import POLICY_OPTIONS

_FILE = TypeAdapter(ConfigFile)
_TYPE_ERRORS = ("_type", "_parsing")
"""Pydantic's error types for a value of the wrong shape end so (``dataclass_type``…)."""


def load_config(path: Path, environ: Mapping[str, str] | None = None) -> Config:
    return parse_config(read_toml_text(path, "config file"), path=path, environ=environ)


def parse_config(
    text: str, *, path: Path | None = None, environ: Mapping[str, str] | None = None
) -> Config:
    """The config in ``text``; every mistake in it is reported by one :class:`ConfigErrors`."""
    env = os.environ if environ is None else environ
    reader = TomlReader(text, str(path) if path else "<config>")
    data = reader.loads()
    problems: list[Problem] = list(table_rules(data))
    parsed: ConfigFile | None = None
    try:
        parsed = _FILE.validate_python(
            _as_schema(data), context={"base": path.parent if path else None}
        )
    except ValidationError as exc:
        problems += [_problem(error, data) for error in exc.errors(include_url=False)]
    if problems or parsed is None:
        raise reader.all_of(problems)
    url = database_url(parsed.database.url, path, env)
    return Config(
        database_url=url,
        portals=parsed.portals,
        logging=parsed.logging,
        path=path,
        severity_overrides=parsed.severity,
        retention=parsed.retention if "retention" in data else None,
        schedule=parsed.schedule,
        ignore_file=parsed.governance.ignore_file,
        policies=dict(parsed.policies),
        impact=parsed.impact,
        signoffs=parsed.signoff,
        reports=parsed.reports,
        notify=parsed.notify,
        vendor_governed=parsed.governance.vendor_governed,
        max_import_mb=parsed.governance.max_import_mb,
        audit=parsed.audit,
        single_approver=parsed.governance.single_approver,
        web=parsed.web,
    )


def _as_schema(data: Mapping[str, Any]) -> dict[str, Any]:
    """The file's data in the schema's shape: a portal's flat OAuth keys become its ``oauth``,
    a policy table gets its id, a notify target without a name gets ``<channel>-<n>``. Unknown
    policy ids are left out (:func:`table_rules` names them)."""
    shaped = dict(data)
    portals = data.get("portals")
    if isinstance(portals, list):
        shaped["portals"] = [_portal(raw) if isinstance(raw, dict) else raw for raw in portals]
    targets = data.get("notify")
    if isinstance(targets, list):
        shaped["notify"] = [
            {"name": f"{raw.get('channel')}-{index + 1}", **raw} if isinstance(raw, dict) else raw
            for index, raw in enumerate(targets)
        ]
    policies = data.get("policies")
    if isinstance(policies, dict):
        shaped["policies"] = {
            policy_id: {**raw, "id": policy_id} if isinstance(raw, dict) else raw
            for policy_id, raw in policies.items()
            if policy_id in POLICY_OPTIONS
        }
    return shaped


def _portal(raw: dict[str, Any]) -> dict[str, Any]:
    if not any(key in raw for key in OAUTH_KEYS):
        return raw
    portal = {key: value for key, value in raw.items() if key not in OAUTH_KEYS}
    portal["oauth"] = {
        secret: {
            source: raw[f"{secret}_{source}"]
            for source in ("env", "file")
            if f"{secret}_{source}" in raw
        }
        for secret in OAUTH_SECRETS
    }
    return portal


def _problem(error: ErrorDetails, data: Mapping[str, Any]) -> Problem:
    """Where a schema error is (table and key) and what it says, in the file's words."""
    loc = tuple(error["loc"])
    context = error.get("ctx") or {}
    kind = error["type"]
    table_depth = 2 if loc and (loc[0] in ARRAYS or loc[0] == "policies") else 1
    where: Where = loc[:table_depth] if len(loc) > table_depth else loc[:-1]
    rest = loc[len(where) :]
    key = str(rest[0]) if rest else None
    if len(loc) >= 4 and loc[0] == "portals" and loc[2] == "oauth":  # the flat OAuth keys
        where, key = loc[:2], f"{loc[3]}_{loc[4]}" if len(loc) >= 5 else OAUTH_KEYS[0]
    if isinstance(context.get(checks.KEY), str):
        key = context[checks.KEY]
    if kind == checks.PROBLEM:
        return where, key, error["msg"]
    if kind == "missing":
        return where, key, "is required"
    if kind in ("unexpected_keyword_argument", "extra_forbidden"):
        return where, key, unknown_key(str(key), known_keys(where, data))
    if kind.endswith(_TYPE_ERRORS) and len(rest) == 1:
        return where, key, _shape(where, str(key))
    if kind.endswith(_TYPE_ERRORS) and not rest and where:
        name = str(where[0])
        if name in ARRAYS:
            return where, None, f"each [[{name}]] entry must be a table"
        return where[:-1], str(where[-1]), f"must be a table: write [{dotted(where, None)}]"
    return where, key, error["msg"]


def _shape(where: Where, key: str) -> str:
    """What a top-level table, or a policy's table, must look like."""
    if not where and key in ARRAYS:
        return f"must be an array of tables: write [[{key}]]"
    if not where or where == ("policies",):
        return f"must be a table: write [{dotted(where, key)}]"
    return "has the wrong type"
