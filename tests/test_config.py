from __future__ import annotations

from pathlib import Path

import pytest

from hubaudit.config import (
    OAuthApp,
    Secret,
    load_config,
    parse_config,
    resolve_token,
)
from hubaudit.errors import ConfigError, UsageError

GOOD = """\
[database]
url = "sqlite:///data/hubaudit.db"

[[portals]]
name = "acme-prod"
token_env = "ACME_PROD_TOKEN"

[[portals]]
name = "acme-sandbox"
base_url = "http://127.0.0.1:8089"
token_env = "ACME_SANDBOX_TOKEN"
rate_limit_per_10s = 190
api_versions = { properties = "2026-03" }
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "hubaudit.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_good_config_gives_every_value_and_defaults(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, GOOD), environ={})
    assert config.database_url == f"sqlite:///{(tmp_path / 'data' / 'hubaudit.db').resolve()}"
    prod, sandbox = config.portals
    assert prod.base_url == "https://api.hubapi.com"
    assert prod.rate_limit_per_10s == 100
    assert prod.property_object_types[:4] == ("contacts", "companies", "deals", "tickets")
    assert "leads" in prod.property_object_types
    assert dict(prod.api_versions) == {
        "properties": "v3",
        "pipelines": "v3",
        "schemas": "v3",
        "associations": "v4",
        "users": "v3",
        "automation": "v4",
        "account": "v3",
    }
    assert sandbox.rate_limit_per_10s == 190
    assert sandbox.api_versions["properties"] == "2026-03"
    assert config.portal("acme-sandbox") is sandbox
    with pytest.raises(UsageError, match="acme-prod, acme-sandbox"):
        config.portal("nope")


def test_database_url_from_the_environment_wins(tmp_path: Path) -> None:
    config = load_config(
        write(tmp_path, GOOD), environ={"HUBAUDIT_DATABASE_URL": "postgresql://db/hubaudit"}
    )
    assert config.database_url == "postgresql://db/hubaudit"


def test_the_example_config_is_valid() -> None:
    example = Path(__file__).resolve().parents[1] / "config.example.toml"
    config = load_config(example, environ={})
    assert [p.name for p in config.portals] == ["acme-prod", "acme-sandbox"]


@pytest.mark.parametrize(
    ("text", "line", "key", "reason"),
    [
        (GOOD.replace('name = "acme-prod"', 'name = "acme prod"'), 5, "portals[0].name", "letters"),
        (
            GOOD.replace("rate_limit_per_10s = 190", 'rate_limit_per_10s = "fast"'),
            12,
            "portals[1].rate_limit_per_10s",
            "whole number",
        ),
        (
            GOOD.replace('token_env = "ACME_PROD_TOKEN"', 'token = "pat-na1-x"'),
            6,
            "portals[0].token",
            "tokens never live in the config",
        ),
        (
            GOOD.replace('token_env = "ACME_PROD_TOKEN"', 'token_env = "pat-na1-123"'),
            6,
            "portals[0].token_env",
            "not the token itself",
        ),
        (GOOD.replace('url = "sqlite', 'urll = "sqlite'), 2, "database.urll", "unknown key"),
        (GOOD.replace('"2026-03"', '"march"'), 13, "portals[1].api_versions", "version"),
        (
            GOOD + '\n[[portals]]\nname = "acme-prod"\ntoken_env = "X"\n',
            16,
            "portals[2].name",
            "duplicate",
        ),
    ],
)
def test_a_broken_config_names_file_line_and_key(
    tmp_path: Path, text: str, line: int, key: str, reason: str
) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_config(path, environ={})
    error = caught.value
    assert (error.file, error.line, error.key) == (str(path), line, key)
    assert reason in str(error)
    assert str(error).startswith(f"{path}:{line}: [{key}]")


def test_invalid_toml_names_the_line(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD.replace("rate_limit_per_10s = 190", "rate_limit_per_10s = "))
    with pytest.raises(ConfigError) as caught:
        load_config(path, environ={})
    assert caught.value.line == 12
    assert "not valid TOML: Invalid value" in str(caught.value)


def test_a_missing_config_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="config file not found"):
        load_config(tmp_path / "nope.toml")


def test_tokens_come_from_the_environment_or_a_file_and_never_show(tmp_path: Path) -> None:
    config = parse_config(GOOD, path=tmp_path / "c.toml", environ={})
    prod = config.portals[0]
    token = resolve_token(prod, {"ACME_PROD_TOKEN": "pat-na1-0000-secret"})
    assert token.reveal() == "pat-na1-0000-secret"
    assert "secret" not in repr(token) and "secret" not in str(token) and "secret" not in f"{token}"
    with pytest.raises(ConfigError, match="ACME_PROD_TOKEN is not set") as caught:
        resolve_token(prod, {})
    assert "pat-" not in str(caught.value)
    (tmp_path / "token").write_text("from-a-file\n", encoding="utf-8")
    with_file = parse_config(
        '[[portals]]\nname = "p"\ntoken_file = "token"\n', path=tmp_path / "c.toml", environ={}
    )
    assert resolve_token(with_file.portals[0], {}).reveal() == "from-a-file"
    assert isinstance(resolve_token(with_file.portals[0], {}), Secret)


def test_a_portal_without_a_token_source_is_refused() -> None:
    with pytest.raises(ConfigError, match="token_env") as caught:
        parse_config('[[portals]]\nname = "p"\n', environ={})
    assert caught.value.line == 1


def test_a_token_with_spaces_or_non_ascii_is_refused_without_showing_it(tmp_path: Path) -> None:
    config = parse_config(GOOD, path=tmp_path / "c.toml", environ={})
    with pytest.raises(ConfigError, match="does not hold a token") as caught:
        resolve_token(config.portals[0], {"ACME_PROD_TOKEN": "pat-na1-abc… (copied)"})
    assert "pat-na1" not in str(caught.value)


def test_a_misspelt_table_is_located_at_its_header(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD.replace("[database]", "[databse]"))
    with pytest.raises(ConfigError) as caught:
        load_config(path, environ={})
    assert (caught.value.line, caught.value.key) == (1, "databse")


def test_severity_rules_are_read_in_order_and_checked(tmp_path: Path) -> None:
    text = GOOD + '\n[[severity]]\nkind = "user"\nfield = "superAdmin"\nseverity = "low"\n'
    config = load_config(write(tmp_path, text), environ={})
    (rule,) = config.severity_overrides
    assert (rule.kind, rule.key, rule.field, rule.severity) == ("user", "*", "superAdmin", "low")
    with pytest.raises(ConfigError) as caught:
        load_config(write(tmp_path, text.replace('"low"', '"urgent"')), environ={})
    assert (caught.value.line, caught.value.key) == (18, "severity[0].severity")
    with pytest.raises(ConfigError, match="must be one of property"):
        load_config(write(tmp_path, text.replace('"user"', '"users"')), environ={})


OAUTH = """\
[[portals]]
name = "client-a"
client_id_env = "AGENCY_APP_CLIENT_ID"
client_secret_file = "secrets/client-secret"
refresh_token_env = "CLIENT_A_REFRESH_TOKEN"
"""


def test_an_oauth_portal_reads_its_app_from_the_environment_and_files(tmp_path: Path) -> None:
    (tmp_path / "secrets").mkdir()
    (tmp_path / "secrets" / "client-secret").write_text("cs-0000-secret\n", encoding="utf-8")
    portal = parse_config(OAUTH, path=tmp_path / "c.toml", environ={}).portals[0]
    app = resolve_token(
        portal, {"AGENCY_APP_CLIENT_ID": "cid-1", "CLIENT_A_REFRESH_TOKEN": "na1-rt-secret"}
    )
    assert isinstance(app, OAuthApp)
    assert app.client_id == "cid-1"
    assert (app.client_secret.reveal(), app.refresh_token.reveal()) == (
        "cs-0000-secret",
        "na1-rt-secret",
    )
    assert "cs-0000" not in repr(app) and "na1-rt" not in repr(app)
    with pytest.raises(ConfigError, match="CLIENT_A_REFRESH_TOKEN is not set") as caught:
        resolve_token(portal, {"AGENCY_APP_CLIENT_ID": "cid-1"})
    assert "refresh token" in str(caught.value)


@pytest.mark.parametrize(
    ("text", "key", "reason"),
    [
        (OAUTH.replace('refresh_token_env = "CLIENT_A_REFRESH_TOKEN"\n', ""), "refresh_token_env",
         "needs refresh_token_env or refresh_token_file too"),
        (OAUTH + 'token_env = "CLIENT_A_TOKEN"\n', "token_env", "not both"),
        (OAUTH + 'client_id_file = "id"\n', "client_id_file", "not both"),
        (OAUTH.replace('"CLIENT_A_REFRESH_TOKEN"', '"na1-abc-123"'), "refresh_token_env",
         "not the secret itself"),
        (OAUTH.replace('client_secret_file = "secrets/client-secret"',
                       'client_secret = "cs-0000"'), "client_secret",
         "use client_secret_env or client_secret_file"),
    ],
)  # fmt: skip
def test_a_half_or_mixed_oauth_portal_names_the_key(text: str, key: str, reason: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config(text, environ={})
    assert caught.value.key == f"portals[0].{key}"
    assert reason in str(caught.value)
